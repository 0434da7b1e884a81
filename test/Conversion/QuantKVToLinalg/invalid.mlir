// RUN: quantkv-opt %s --quantkv-lower-to-linalg --split-input-file -verify-diagnostics

// The reference lowering needs static shapes: a dynamic dequantize is left
// illegal and the conversion reports it rather than crashing.
func.func @dynamic(%x: tensor<?x8xsi8>, %s: tensor<8xf32>) -> tensor<?x8xf32> {
  // expected-error @+1 {{failed to legalize operation 'quantkv.dequantize'}}
  %y = quantkv.dequantize %x scale(%s : tensor<8xf32>)
      granularity(#quantkv.per_channel<axis = 1>)
      : tensor<?x8xsi8> -> tensor<?x8xf32>
  return %y : tensor<?x8xf32>
}
