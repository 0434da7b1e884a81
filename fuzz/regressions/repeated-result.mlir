// A function returning one tensor twice: buffer-results-to-out-params
// {hoist-static-allocs} reused the allocation it had erased at the first
// result (MLIR 22) and both CPU pipelines crashed; quantkv-distinct-result-
// buffers now gives the second result its own buffer. Found by quantkv-fuzz.
func.func @dequantize_groups_along_s(%x: tensor<1x8x128x64xsi8>, %s: tensor<1x8x2x64xbf16>, %s2: tensor<1x8x8x2xf32>) -> (tensor<1x8x128x64xf32>, tensor<1x8x128x64xf32>) {
  %0 = quantkv.dequantize %x scale(%s : tensor<1x8x2x64xbf16>) granularity(#quantkv.per_group<[1, 1, 64, 1]>) : tensor<1x8x128x64xsi8> -> tensor<1x8x128x64xf32>
  %1 = quantkv.dequantize %x scale(%s2 : tensor<1x8x8x2xf32>) granularity(#quantkv.per_group<[1, 1, 16, 32]>) : tensor<1x8x128x64xsi8> -> tensor<1x8x128x64xf32>
  return %0, %0 : tensor<1x8x128x64xf32>, tensor<1x8x128x64xf32>
}
