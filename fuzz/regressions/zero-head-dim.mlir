// Crashed the x86 kernel emitter (D = 0); now a verifier error.
func.func @zero_d(%q: tensor<1x1x1x0xf32>, %k: tensor<1x1x4x0xsi4>, %ks: tensor<1xf32>, %v: tensor<1x1x4x0xf32>, %o: tensor<1x1x1x0xf32>) -> tensor<1x1x1x0xf32> {
  %0 = quantkv.sdpa q(%q : tensor<1x1x1x0xf32>) k(%k : tensor<1x1x4x0xsi4>) k_scale(%ks : tensor<1xf32>) v(%v : tensor<1x1x4x0xf32>) outs(%o : tensor<1x1x1x0xf32>) {key_quant = #quantkv.per_tensor} : tensor<1x1x1x0xf32>
  return %0 : tensor<1x1x1x0xf32>
}
