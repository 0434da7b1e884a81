// RUN: quantkv-opt %s --canonicalize --split-input-file | FileCheck %s

// CHECK-LABEL: func.func @typecast_same_type_folds
//  CHECK-SAME:   (%[[X:.*]]: tensor<4xf32>)
//   CHECK-NOT:   quantkv.typecast
//       CHECK:   return %[[X]]
func.func @typecast_same_type_folds(%x: tensor<4xf32>) -> tensor<4xf32> {
  %0 = quantkv.typecast %x : tensor<4xf32> to tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

// bf16 -> f32 is exact, so casting back is the identity.
// CHECK-LABEL: func.func @widen_then_narrow_back
//  CHECK-SAME:   (%[[X:.*]]: tensor<4xbf16>)
//   CHECK-NOT:   quantkv.typecast
//       CHECK:   return %[[X]]
func.func @widen_then_narrow_back(%x: tensor<4xbf16>) -> tensor<4xbf16> {
  %0 = quantkv.typecast %x : tensor<4xbf16> to tensor<4xf32>
  %1 = quantkv.typecast %0 : tensor<4xf32> to tensor<4xbf16>
  return %1 : tensor<4xbf16>
}

// -----

// f32 -> bf16 rounds: the pair is not the identity and must stay.
// CHECK-LABEL: func.func @narrow_then_widen_stays
//       CHECK:   %[[A:.*]] = quantkv.typecast %{{.*}} : tensor<4xf32> to tensor<4xbf16>
//       CHECK:   %[[B:.*]] = quantkv.typecast %[[A]] : tensor<4xbf16> to tensor<4xf32>
//       CHECK:   return %[[B]]
func.func @narrow_then_widen_stays(%x: tensor<4xf32>) -> tensor<4xf32> {
  %0 = quantkv.typecast %x : tensor<4xf32> to tensor<4xbf16>
  %1 = quantkv.typecast %0 : tensor<4xbf16> to tensor<4xf32>
  return %1 : tensor<4xf32>
}

// -----

// f16 -> f32 -> f16 folds even though f16 -> bf16 would not be expressible.
// CHECK-LABEL: func.func @f16_round_trip
//  CHECK-SAME:   (%[[X:.*]]: tensor<2x3xf16>)
//   CHECK-NOT:   quantkv.typecast
//       CHECK:   return %[[X]]
func.func @f16_round_trip(%x: tensor<2x3xf16>) -> tensor<2x3xf16> {
  %0 = quantkv.typecast %x : tensor<2x3xf16> to tensor<2x3xf32>
  %1 = quantkv.typecast %0 : tensor<2x3xf32> to tensor<2x3xf16>
  return %1 : tensor<2x3xf16>
}

// -----

// f16 -> f32 -> bf16 has no direct cast: both casts stay.
// CHECK-LABEL: func.func @f16_to_bf16_stays
//       CHECK:   quantkv.typecast %{{.*}} : tensor<4xf16> to tensor<4xf32>
//       CHECK:   quantkv.typecast %{{.*}} : tensor<4xf32> to tensor<4xbf16>
func.func @f16_to_bf16_stays(%x: tensor<4xf16>) -> tensor<4xbf16> {
  %0 = quantkv.typecast %x : tensor<4xf16> to tensor<4xf32>
  %1 = quantkv.typecast %0 : tensor<4xf32> to tensor<4xbf16>
  return %1 : tensor<4xbf16>
}

// -----

// Unused dequantize/quantize/typecast are pure and disappear.
// CHECK-LABEL: func.func @dead_ops_erased
//   CHECK-NOT:   quantkv.
//       CHECK:   return
func.func @dead_ops_erased(%x: tensor<4x8xsi8>, %s: tensor<1xf32>) {
  %0 = quantkv.dequantize %x scale(%s : tensor<1xf32>) granularity(#quantkv.per_tensor) : tensor<4x8xsi8> -> tensor<4x8xf32>
  %1 = quantkv.typecast %0 : tensor<4x8xf32> to tensor<4x8xbf16>
  return
}
