// RUN: quantkv-opt %s --split-input-file --quantkv-lower-to-linalg | FileCheck %s
// The x86 lowering falls back to the same patterns and must configure its
// conversion target the same way.
// RUN: quantkv-opt %s --split-input-file --quantkv-lower-to-x86 | FileCheck %s

// Reshapes and signedness bitcasts on quantized storage are retypes of the
// same (packed) bytes under the storage ABI.

// CHECK-LABEL: func.func @expand_si8
//  CHECK-SAME:   (%[[K:.*]]: tensor<4x8x16xi8>) -> tensor<1x4x8x16xi8>
//       CHECK:   %[[E:.*]] = tensor.expand_shape %[[K]] {{\[}}[0, 1], [2], [3]] output_shape [1, 4, 8, 16] : tensor<4x8x16xi8> into tensor<1x4x8x16xi8>
//       CHECK:   return %[[E]]
func.func @expand_si8(%k: tensor<4x8x16xsi8>) -> tensor<1x4x8x16xsi8> {
  %0 = tensor.expand_shape %k [[0, 1], [2], [3]] output_shape [1, 4, 8, 16] : tensor<4x8x16xsi8> into tensor<1x4x8x16xsi8>
  return %0 : tensor<1x4x8x16xsi8>
}

// -----

// CHECK-LABEL: func.func @bitcast_i4
//  CHECK-SAME:   (%[[K:.*]]: tensor<2x8xi8>) -> tensor<2x8xi8>
//   CHECK-NOT:   tensor.bitcast
//       CHECK:   return %[[K]]
func.func @bitcast_i4(%k: tensor<2x16xi4>) -> tensor<2x16xsi4> {
  %0 = tensor.bitcast %k : tensor<2x16xi4> to tensor<2x16xsi4>
  return %0 : tensor<2x16xsi4>
}

// -----

// CHECK-LABEL: func.func @collapse_ui4
//  CHECK-SAME:   (%[[K:.*]]: tensor<2x3x4xi8>) -> tensor<6x4xi8>
//       CHECK:   %[[C:.*]] = tensor.collapse_shape %[[K]] {{\[}}[0, 1], [2]] : tensor<2x3x4xi8> into tensor<6x4xi8>
//       CHECK:   return %[[C]]
func.func @collapse_ui4(%k: tensor<2x3x8xui4>) -> tensor<6x8xui4> {
  %0 = tensor.collapse_shape %k [[0, 1], [2]] : tensor<2x3x8xui4> into tensor<6x8xui4>
  return %0 : tensor<6x8xui4>
}
