// RUN: quantkv-opt %s --quantkv-lower-to-linalg --split-input-file | FileCheck %s

// Packed s4 with an odd last dim: the signature takes ceil(5/2) = 3 bytes per
// row, one generic unpacks (byte d1 floordiv 2, shift 4 * (d1 mod 2), sign
// extend), one generic computes (x - zp) * scale with the zero point read
// through the same per-group map as the scale.

// CHECK-DAG: #[[PACKED:.*]] = affine_map<(d0, d1) -> (d0, d1 floordiv 2)>
// CHECK-DAG: #[[ID:.*]] = affine_map<(d0, d1) -> (d0, d1)>
// CHECK-DAG: #[[GROUP:.*]] = affine_map<(d0, d1) -> (d0, 0)>
// CHECK-LABEL: func.func @dequantize_s4_zp
// CHECK-SAME: (%[[X:.*]]: tensor<2x3xi8>, %[[S:.*]]: tensor<2x1xf32>, %[[Z:.*]]: tensor<2x1xi8>) -> tensor<2x5xf32>
// CHECK: %[[XI:.*]] = linalg.generic {indexing_maps = [#[[PACKED]], #[[ID]]]
// CHECK-SAME: ins(%[[X]] : tensor<2x3xi8>) outs(%{{.*}} : tensor<2x5xi8>)
// CHECK:   %[[N:.*]] = linalg.index 1
// CHECK:   %[[ODD:.*]] = arith.andi %[[N]], %{{.*}} : index
// CHECK:   %[[SH:.*]] = arith.shrui
// CHECK:   %[[UP:.*]] = arith.shli %[[SH]]
// CHECK:   arith.shrsi %[[UP]]
// CHECK: %[[ZI:.*]] = linalg.generic {{.*}} ins(%[[Z]] : tensor<2x1xi8>)
// CHECK:   arith.andi %{{.*}}, %{{.*}} : i8
// CHECK: linalg.generic {indexing_maps = [#[[ID]], #[[GROUP]], #[[GROUP]], #[[ID]]]
// CHECK-SAME: ins(%[[XI]], %[[S]], %[[ZI]] : tensor<2x5xi8>, tensor<2x1xf32>, tensor<2x1xi8>)
// CHECK: ^bb0(%[[XV:.*]]: i8, %[[SV:.*]]: f32, %[[ZV:.*]]: i8, %{{.*}}: f32):
// CHECK:   %[[XF:.*]] = arith.sitofp %[[XV]] : i8 to f32
// CHECK:   %[[ZF:.*]] = arith.uitofp %[[ZV]] : i8 to f32
// CHECK:   %[[D:.*]] = arith.subf %[[XF]], %[[ZF]]
// CHECK:   %[[Y:.*]] = arith.mulf %[[D]], %[[SV]]
// CHECK:   linalg.yield %[[Y]]
func.func @dequantize_s4_zp(%x: tensor<2x5xsi4>, %s: tensor<2x1xf32>,
                            %z: tensor<2x1xui4>) -> tensor<2x5xf32> {
  %y = quantkv.dequantize %x scale(%s : tensor<2x1xf32>)
      zero_point(%z : tensor<2x1xui4>) granularity(#quantkv.per_group<[1, 5]>)
      : tensor<2x5xsi4> -> tensor<2x5xf32>
  return %y : tensor<2x5xf32>
}

// -----

// u8 per channel: no unpack, uitofp, the scale indexed by the channel, an f16
// scale widened and an f16 result rounded with truncf.

// CHECK-DAG: #[[ID:.*]] = affine_map<(d0, d1) -> (d0, d1)>
// CHECK-DAG: #[[CH:.*]] = affine_map<(d0, d1) -> (d1)>
// CHECK-LABEL: func.func @dequantize_u8_per_channel
// CHECK-SAME: (%[[X:.*]]: tensor<4x8xi8>, %[[S:.*]]: tensor<8xf16>)
// CHECK-NOT: arith.shrui
// CHECK: linalg.generic {indexing_maps = [#[[ID]], #[[CH]], #[[ID]]]
// CHECK-SAME: ins(%[[X]], %[[S]] : tensor<4x8xi8>, tensor<8xf16>)
// CHECK:   %[[XF:.*]] = arith.uitofp %{{.*}} : i8 to f32
// CHECK:   %[[SF:.*]] = arith.extf %{{.*}} : f16 to f32
// CHECK:   %[[Y:.*]] = arith.mulf %[[XF]], %[[SF]]
// CHECK:   %[[H:.*]] = arith.truncf %[[Y]] : f32 to f16
// CHECK:   linalg.yield %[[H]] : f16
func.func @dequantize_u8_per_channel(%x: tensor<4x8xui8>, %s: tensor<8xf16>)
    -> tensor<4x8xf16> {
  %y = quantkv.dequantize %x scale(%s : tensor<8xf16>)
      granularity(#quantkv.per_channel<axis = 1>)
      : tensor<4x8xui8> -> tensor<4x8xf16>
  return %y : tensor<4x8xf16>
}

// -----

// Per tensor: the scale is read at index 0 for every element; an s32 zero
// point stays i32 and converts with sitofp.

// CHECK-DAG: #[[ZERO:.*]] = affine_map<(d0, d1, d2) -> (0)>
// CHECK-LABEL: func.func @dequantize_s8_per_tensor
// CHECK-SAME: (%{{.*}}: tensor<2x3x4xi8>, %{{.*}}: tensor<1xf32>, %{{.*}}: tensor<1xi32>)
// CHECK: linalg.generic {indexing_maps = [#{{.*}}, #[[ZERO]], #[[ZERO]], #{{.*}}]
// CHECK:   arith.sitofp %{{.*}} : i8 to f32
// CHECK:   arith.sitofp %{{.*}} : i32 to f32
func.func @dequantize_s8_per_tensor(%x: tensor<2x3x4xsi8>, %s: tensor<1xf32>,
                                    %z: tensor<1xsi32>) -> tensor<2x3x4xf32> {
  %y = quantkv.dequantize %x scale(%s : tensor<1xf32>)
      zero_point(%z : tensor<1xsi32>) granularity(#quantkv.per_tensor)
      : tensor<2x3x4xsi8> -> tensor<2x3x4xf32>
  return %y : tensor<2x3x4xf32>
}

// -----

// 2-d blocks (4 tokens x 8 channels) with a broadcast batch dim of 1.

// CHECK-DAG: #[[BLOCK:.*]] = affine_map<(d0, d1, d2) -> (0, d1 floordiv 4, d2 floordiv 8)>
// CHECK-LABEL: func.func @dequantize_2d_blocks
// CHECK: linalg.generic {indexing_maps = [#{{.*}}, #[[BLOCK]], #{{.*}}]
func.func @dequantize_2d_blocks(%x: tensor<2x8x16xsi8>, %s: tensor<1x2x2xf32>)
    -> tensor<2x8x16xf32> {
  %y = quantkv.dequantize %x scale(%s : tensor<1x2x2xf32>)
      granularity(#quantkv.per_group<[1, 4, 8]>)
      : tensor<2x8x16xsi8> -> tensor<2x8x16xf32>
  return %y : tensor<2x8x16xf32>
}
