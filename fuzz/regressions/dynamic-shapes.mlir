// Valid but with dynamic or rank-0 shapes: the pipelines decline them with a diagnostic.
func.func @rank0(%x: tensor<si4>, %s: tensor<1xf32>) -> tensor<f32> {
  %0 = quantkv.dequantize %x scale(%s : tensor<1xf32>) granularity(#quantkv.per_tensor) : tensor<si4> -> tensor<f32>
  return %0 : tensor<f32>
}
func.func @dyn(%q: tensor<?x2x?x16xf32>, %k: tensor<?x1x?x16xsi4>, %ks: tensor<?x1x?x1xf32>, %v: tensor<?x1x?x16xf32>, %m: tensor<?x?xf32>, %o: tensor<?x2x?x16xf32>) -> tensor<?x2x?x16xf32> {
  %0 = quantkv.sdpa q(%q : tensor<?x2x?x16xf32>) k(%k : tensor<?x1x?x16xsi4>) k_scale(%ks : tensor<?x1x?x1xf32>) v(%v : tensor<?x1x?x16xf32>) mask(%m : tensor<?x?xf32>) outs(%o : tensor<?x2x?x16xf32>) {key_quant = #quantkv.per_group<[1, 1, 1, 16]>, causal = #quantkv.causal<bottom_right>} : tensor<?x2x?x16xf32>
  return %0 : tensor<?x2x?x16xf32>
}
func.func @dynh(%q: tensor<1x?x1x16xf32>, %k: tensor<1x?x4x16xf32>, %v: tensor<1x?x4x16xf32>, %o: tensor<1x?x1x16xf32>) -> tensor<1x?x1x16xf32> {
  %0 = quantkv.sdpa q(%q : tensor<1x?x1x16xf32>) k(%k : tensor<1x?x4x16xf32>) v(%v : tensor<1x?x4x16xf32>) outs(%o : tensor<1x?x1x16xf32>) : tensor<1x?x1x16xf32>
  return %0 : tensor<1x?x1x16xf32>
}
func.func @pg_dyn(%x: tensor<?x?xui4>, %s: tensor<?x?xbf16>, %z: tensor<?x?xf32>) -> tensor<?x?xf16> {
  %0 = quantkv.dequantize %x scale(%s : tensor<?x?xbf16>) zero_point(%z : tensor<?x?xf32>) granularity(#quantkv.per_group<[3, 5]>) : tensor<?x?xui4> -> tensor<?x?xf16>
  return %0 : tensor<?x?xf16>
}
func.func @q_dyn(%x: tensor<?x7xf16>, %s: tensor<1xf32>, %z: tensor<1xsi32>) -> tensor<?x7xsi4> {
  %0 = quantkv.quantize %x scale(%s : tensor<1xf32>) zero_point(%z : tensor<1xsi32>) granularity(#quantkv.per_tensor) : tensor<?x7xf16> -> tensor<?x7xsi4>
  return %0 : tensor<?x7xsi4>
}
func.func @tc(%x: tensor<?xbf16>) -> tensor<?xf32> {
  %0 = quantkv.typecast %x : tensor<?xbf16> to tensor<?xf32>
  return %0 : tensor<?xf32>
}
func.func @pc_dyn(%x: tensor<4x?xsi8>, %s: tensor<?xf32>) -> tensor<4x?xf32> {
  %0 = quantkv.dequantize %x scale(%s : tensor<?xf32>) granularity(#quantkv.per_channel<axis = 1>) : tensor<4x?xsi8> -> tensor<4x?xf32>
  return %0 : tensor<4x?xf32>
}
