// RUN: quantkv-opt %s --quantkv-lower-to-linalg --split-input-file | FileCheck %s

// CHECK-LABEL: func.func @narrow
// CHECK: linalg.generic
// CHECK:   %[[T:.*]] = arith.truncf %{{.*}} : f32 to bf16
// CHECK:   linalg.yield %[[T]] : bf16
func.func @narrow(%x: tensor<8x4xf32>) -> tensor<8x4xbf16> {
  %h = quantkv.typecast %x : tensor<8x4xf32> to tensor<8x4xbf16>
  return %h : tensor<8x4xbf16>
}

// -----

// CHECK-LABEL: func.func @widen
// CHECK: linalg.generic
// CHECK:   %[[E:.*]] = arith.extf %{{.*}} : f16 to f32
// CHECK:   linalg.yield %[[E]] : f32
func.func @widen(%x: tensor<8xf16>) -> tensor<8xf32> {
  %f = quantkv.typecast %x : tensor<8xf16> to tensor<8xf32>
  return %f : tensor<8xf32>
}

// -----

// Dynamic dims are read from the input.
// CHECK-LABEL: func.func @dynamic
// CHECK-SAME: (%[[X:.*]]: tensor<?x4xf32>)
// CHECK: %[[D:.*]] = tensor.dim %[[X]], %{{.*}}
// CHECK: tensor.empty(%[[D]]) : tensor<?x4xf16>
func.func @dynamic(%x: tensor<?x4xf32>) -> tensor<?x4xf16> {
  %h = quantkv.typecast %x : tensor<?x4xf32> to tensor<?x4xf16>
  return %h : tensor<?x4xf16>
}
