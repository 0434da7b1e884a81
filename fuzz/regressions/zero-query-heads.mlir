// Made the reference lowering divide by the group size Hq / Hkv = 0 and
// leave invalid IR; now a verifier error.
func.func @zero_hq(%q: tensor<1x0x1x16xf32>, %k: tensor<1x1x4x16xf32>, %v: tensor<1x1x4x16xf32>, %o: tensor<1x0x1x16xf32>) -> tensor<1x0x1x16xf32> {
  %0 = quantkv.sdpa q(%q : tensor<1x0x1x16xf32>) k(%k : tensor<1x1x4x16xf32>) v(%v : tensor<1x1x4x16xf32>) outs(%o : tensor<1x0x1x16xf32>) : tensor<1x0x1x16xf32>
  return %0 : tensor<1x0x1x16xf32>
}
