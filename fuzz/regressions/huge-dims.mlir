// 2^62 keys: compiles (nothing is allocated at compile time).
func.func @huge(%q: tensor<1x1x1x16xf32>, %k: tensor<1x1x4611686018427387904x16xsi4>, %ks: tensor<16xf32>, %v: tensor<1x1x4611686018427387904x16xf32>, %o: tensor<1x1x1x16xf32>) -> tensor<1x1x1x16xf32> {
  %0 = quantkv.sdpa q(%q : tensor<1x1x1x16xf32>) k(%k : tensor<1x1x4611686018427387904x16xsi4>) k_scale(%ks : tensor<16xf32>) v(%v : tensor<1x1x4611686018427387904x16xf32>) outs(%o : tensor<1x1x1x16xf32>) {key_quant = #quantkv.per_channel<axis = 3>} : tensor<1x1x1x16xf32>
  return %0 : tensor<1x1x1x16xf32>
}
