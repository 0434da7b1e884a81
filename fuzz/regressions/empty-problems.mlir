// Empty problems stay valid: Skv = 0 (every row masked: zeros), Dv = 0, B = 0.
func.func @zero(%q: tensor<1x1x1x16xf32>, %k: tensor<1x1x0x16xsi8>, %ks: tensor<16xf32>, %v: tensor<1x1x0x16xsi8>, %vs: tensor<16xf32>, %o: tensor<1x1x1x16xf32>) -> tensor<1x1x1x16xf32> {
  %0 = quantkv.sdpa q(%q : tensor<1x1x1x16xf32>) k(%k : tensor<1x1x0x16xsi8>) k_scale(%ks : tensor<16xf32>) v(%v : tensor<1x1x0x16xsi8>) v_scale(%vs : tensor<16xf32>) outs(%o : tensor<1x1x1x16xf32>) {key_quant = #quantkv.per_channel<axis = 3>, value_quant = #quantkv.per_channel<axis = 3>} : tensor<1x1x1x16xf32>
  return %0 : tensor<1x1x1x16xf32>
}
func.func @zero_dv(%q: tensor<1x1x1x16xf32>, %k: tensor<1x1x4x16xsi4>, %ks: tensor<1xf32>, %v: tensor<1x1x4x0xf32>, %o: tensor<1x1x1x0xf32>) -> tensor<1x1x1x0xf32> {
  %0 = quantkv.sdpa q(%q : tensor<1x1x1x16xf32>) k(%k : tensor<1x1x4x16xsi4>) k_scale(%ks : tensor<1xf32>) v(%v : tensor<1x1x4x0xf32>) outs(%o : tensor<1x1x1x0xf32>) {key_quant = #quantkv.per_tensor} : tensor<1x1x1x0xf32>
  return %0 : tensor<1x1x1x0xf32>
}
func.func @zero_b(%q: tensor<0x1x1x16xf32>, %k: tensor<0x1x4x16xf32>, %v: tensor<0x1x4x16xf32>, %o: tensor<0x1x1x16xf32>) -> tensor<0x1x1x16xf32> {
  %0 = quantkv.sdpa q(%q : tensor<0x1x1x16xf32>) k(%k : tensor<0x1x4x16xf32>) v(%v : tensor<0x1x4x16xf32>) outs(%o : tensor<0x1x1x16xf32>) : tensor<0x1x1x16xf32>
  return %0 : tensor<0x1x1x16xf32>
}
