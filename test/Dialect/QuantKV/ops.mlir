// RUN: quantkv-opt %s --split-input-file | FileCheck %s
// Round trip: the printed form parses back to the same printed form.
// RUN: quantkv-opt %s --split-input-file | quantkv-opt --split-input-file | FileCheck %s
// Generic form round trip.
// RUN: quantkv-opt %s --split-input-file --mlir-print-op-generic | quantkv-opt --split-input-file | FileCheck %s

// CHECK-LABEL: func.func @dequantize_per_group_s4
//       CHECK:   quantkv.dequantize %{{.*}} scale(%{{.*}} : tensor<1x8x16x2xf32>) granularity(#quantkv.per_group<[1, 1, 1, 32]>) : tensor<1x8x16x64xsi4> -> tensor<1x8x16x64xf32>
func.func @dequantize_per_group_s4(%x: tensor<1x8x16x64xsi4>, %s: tensor<1x8x16x2xf32>) -> tensor<1x8x16x64xf32> {
  %0 = quantkv.dequantize %x scale(%s : tensor<1x8x16x2xf32>) granularity(#quantkv.per_group<[1, 1, 1, 32]>) : tensor<1x8x16x64xsi4> -> tensor<1x8x16x64xf32>
  return %0 : tensor<1x8x16x64xf32>
}

// -----

// Batch dim of the scale broadcasts (the RFC review's extension); u4 zero
// points of the same shape; f16 scales; bf16 result.
// CHECK-LABEL: func.func @dequantize_u4_zp_broadcast_batch
//       CHECK:   quantkv.dequantize %{{.*}} scale(%{{.*}} : tensor<1x8x16x2xf16>) zero_point(%{{.*}} : tensor<1x8x16x2xui4>) granularity(#quantkv.per_group<[1, 1, 1, 32]>) : tensor<4x8x16x64xui4> -> tensor<4x8x16x64xbf16>
func.func @dequantize_u4_zp_broadcast_batch(%x: tensor<4x8x16x64xui4>, %s: tensor<1x8x16x2xf16>, %z: tensor<1x8x16x2xui4>) -> tensor<4x8x16x64xbf16> {
  %0 = quantkv.dequantize %x scale(%s : tensor<1x8x16x2xf16>) zero_point(%z : tensor<1x8x16x2xui4>) granularity(#quantkv.per_group<[1, 1, 1, 32]>) : tensor<4x8x16x64xui4> -> tensor<4x8x16x64xbf16>
  return %0 : tensor<4x8x16x64xbf16>
}

// -----

// KIVI: K per-channel with groups along S, 2-d blocks over S x D.
// CHECK-LABEL: func.func @dequantize_groups_along_s
//       CHECK:   granularity(#quantkv.per_group<[1, 1, 64, 1]>)
//       CHECK:   granularity(#quantkv.per_group<[1, 1, 16, 32]>)
func.func @dequantize_groups_along_s(%x: tensor<1x8x128x64xsi8>, %s: tensor<1x8x2x64xbf16>, %s2: tensor<1x8x8x2xf32>) -> (tensor<1x8x128x64xf32>, tensor<1x8x128x64xf32>) {
  %0 = quantkv.dequantize %x scale(%s : tensor<1x8x2x64xbf16>) granularity(#quantkv.per_group<[1, 1, 64, 1]>) : tensor<1x8x128x64xsi8> -> tensor<1x8x128x64xf32>
  %1 = quantkv.dequantize %x scale(%s2 : tensor<1x8x8x2xf32>) granularity(#quantkv.per_group<[1, 1, 16, 32]>) : tensor<1x8x128x64xsi8> -> tensor<1x8x128x64xf32>
  return %0, %1 : tensor<1x8x128x64xf32>, tensor<1x8x128x64xf32>
}

// -----

// CHECK-LABEL: func.func @dequantize_per_tensor_and_channel
//       CHECK:   quantkv.dequantize %{{.*}} scale(%{{.*}} : tensor<1xf32>) zero_point(%{{.*}} : tensor<1xsi32>) granularity(#quantkv.per_tensor) : tensor<16x64xui8> -> tensor<16x64xf32>
//       CHECK:   quantkv.dequantize %{{.*}} scale(%{{.*}} : tensor<64xf32>) zero_point(%{{.*}} : tensor<64xf32>) granularity(#quantkv.per_channel<axis = 1>) : tensor<16x64xui8> -> tensor<16x64xf16>
func.func @dequantize_per_tensor_and_channel(%x: tensor<16x64xui8>, %s: tensor<1xf32>, %z: tensor<1xsi32>, %sc: tensor<64xf32>, %zc: tensor<64xf32>) -> (tensor<16x64xf32>, tensor<16x64xf16>) {
  %0 = quantkv.dequantize %x scale(%s : tensor<1xf32>) zero_point(%z : tensor<1xsi32>) granularity(#quantkv.per_tensor) : tensor<16x64xui8> -> tensor<16x64xf32>
  %1 = quantkv.dequantize %x scale(%sc : tensor<64xf32>) zero_point(%zc : tensor<64xf32>) granularity(#quantkv.per_channel<axis = 1>) : tensor<16x64xui8> -> tensor<16x64xf16>
  return %0, %1 : tensor<16x64xf32>, tensor<16x64xf16>
}

// -----

// CHECK-LABEL: func.func @quantize
//       CHECK:   quantkv.quantize %{{.*}} scale(%{{.*}} : tensor<16x2xf32>) granularity(#quantkv.per_group<[1, 4]>) : tensor<16x8xf32> -> tensor<16x8xsi4>
//       CHECK:   quantkv.quantize %{{.*}} scale(%{{.*}} : tensor<16x2xf32>) zero_point(%{{.*}} : tensor<16x2xui4>) granularity(#quantkv.per_group<[1, 4]>) : tensor<16x8xbf16> -> tensor<16x8xui4>
func.func @quantize(%x: tensor<16x8xf32>, %h: tensor<16x8xbf16>, %s: tensor<16x2xf32>, %z: tensor<16x2xui4>) -> (tensor<16x8xsi4>, tensor<16x8xui4>) {
  %0 = quantkv.quantize %x scale(%s : tensor<16x2xf32>) granularity(#quantkv.per_group<[1, 4]>) : tensor<16x8xf32> -> tensor<16x8xsi4>
  %1 = quantkv.quantize %h scale(%s : tensor<16x2xf32>) zero_point(%z : tensor<16x2xui4>) granularity(#quantkv.per_group<[1, 4]>) : tensor<16x8xbf16> -> tensor<16x8xui4>
  return %0, %1 : tensor<16x8xsi4>, tensor<16x8xui4>
}

// -----

// CHECK-LABEL: func.func @typecast
//       CHECK:   quantkv.typecast %{{.*}} : tensor<4x8xf32> to tensor<4x8xbf16>
//       CHECK:   quantkv.typecast %{{.*}} : tensor<4x8xf16> to tensor<4x8xf32>
func.func @typecast(%x: tensor<4x8xf32>, %h: tensor<4x8xf16>) -> (tensor<4x8xbf16>, tensor<4x8xf32>) {
  %0 = quantkv.typecast %x : tensor<4x8xf32> to tensor<4x8xbf16>
  %1 = quantkv.typecast %h : tensor<4x8xf16> to tensor<4x8xf32>
  return %0, %1 : tensor<4x8xbf16>, tensor<4x8xf32>
}

// -----

// K s4 per-group along D, V u8 per-channel with zero point (independent
// schemes), GQA 32/8, bottom-right causal, bf16 math.
// CHECK-LABEL: func.func @sdpa_decode_gqa
//       CHECK:   quantkv.sdpa q(%{{.*}} : tensor<1x32x1x128xf32>) k(%{{.*}} : tensor<1x8x256x128xsi4>) k_scale(%{{.*}} : tensor<1x8x256x4xf32>) v(%{{.*}} : tensor<1x8x256x128xui8>) v_scale(%{{.*}} : tensor<128xf32>) v_zero_point(%{{.*}} : tensor<128xui8>) outs(%{{.*}} : tensor<1x32x1x128xf32>)
//  CHECK-SAME:     causal = #quantkv.causal<bottom_right>
//  CHECK-SAME:     key_quant = #quantkv.per_group<[1, 1, 1, 32]>
//  CHECK-SAME:     math_mode = #quantkv.math_mode<bf16>
//  CHECK-SAME:     value_quant = #quantkv.per_channel<axis = 3>
func.func @sdpa_decode_gqa(%q: tensor<1x32x1x128xf32>, %k: tensor<1x8x256x128xsi4>, %ks: tensor<1x8x256x4xf32>,
                           %v: tensor<1x8x256x128xui8>, %vs: tensor<128xf32>, %vz: tensor<128xui8>,
                           %init: tensor<1x32x1x128xf32>) -> tensor<1x32x1x128xf32> {
  %o = quantkv.sdpa q(%q : tensor<1x32x1x128xf32>)
      k(%k : tensor<1x8x256x128xsi4>) k_scale(%ks : tensor<1x8x256x4xf32>)
      v(%v : tensor<1x8x256x128xui8>) v_scale(%vs : tensor<128xf32>)
      v_zero_point(%vz : tensor<128xui8>)
      outs(%init : tensor<1x32x1x128xf32>)
      {key_quant = #quantkv.per_group<[1, 1, 1, 32]>,
       value_quant = #quantkv.per_channel<axis = 3>,
       causal = #quantkv.causal<bottom_right>, math_mode = #quantkv.math_mode<bf16>}
      : tensor<1x32x1x128xf32>
  return %o : tensor<1x32x1x128xf32>
}

// -----

// K in [B, H, D, S] layout with zero points and an explicit mask broadcast
// over batch and heads, a dynamic scale, int8 math.
// CHECK-LABEL: func.func @sdpa_bds_mask_dynamic_scale
//       CHECK:   quantkv.sdpa q(%{{.*}} : tensor<2x4x8x64xbf16>) k(%{{.*}} : tensor<2x4x64x32xui4>) k_scale(%{{.*}} : tensor<1x4x64x1xf32>) k_zero_point(%{{.*}} : tensor<1x4x64x1xui4>) v(%{{.*}} : tensor<2x4x32x64xsi8>) v_scale(%{{.*}} : tensor<1xf32>) mask(%{{.*}} : tensor<8x32xbf16>) dynamic_scale(%{{.*}}) outs(%{{.*}} : tensor<2x4x8x64xbf16>)
//  CHECK-SAME:     key_layout = #quantkv.k_layout<bds>
//  CHECK-SAME:     math_mode = #quantkv.math_mode<int8>
//  CHECK-SAME:     value_quant = #quantkv.per_tensor
func.func @sdpa_bds_mask_dynamic_scale(%q: tensor<2x4x8x64xbf16>, %k: tensor<2x4x64x32xui4>, %ks: tensor<1x4x64x1xf32>, %kz: tensor<1x4x64x1xui4>,
                                       %v: tensor<2x4x32x64xsi8>, %vs: tensor<1xf32>, %m: tensor<8x32xbf16>, %sc: f32,
                                       %init: tensor<2x4x8x64xbf16>) -> tensor<2x4x8x64xbf16> {
  %o = quantkv.sdpa q(%q : tensor<2x4x8x64xbf16>)
      k(%k : tensor<2x4x64x32xui4>) k_scale(%ks : tensor<1x4x64x1xf32>) k_zero_point(%kz : tensor<1x4x64x1xui4>)
      v(%v : tensor<2x4x32x64xsi8>) v_scale(%vs : tensor<1xf32>)
      mask(%m : tensor<8x32xbf16>) dynamic_scale(%sc)
      outs(%init : tensor<2x4x8x64xbf16>)
      {key_quant = #quantkv.per_group<[1, 1, 1, 32]>, value_quant = #quantkv.per_tensor,
       key_layout = #quantkv.k_layout<bds>, math_mode = #quantkv.math_mode<int8>}
      : tensor<2x4x8x64xbf16>
  return %o : tensor<2x4x8x64xbf16>
}

// -----

// Uncompressed f16 K/V (no scales), explicit constant scale, top-left causal,
// the default strict math mode is not printed.
// CHECK-LABEL: func.func @sdpa_float_cache
//       CHECK:   quantkv.sdpa q(%{{.*}} : tensor<1x2x5x16xf16>) k(%{{.*}} : tensor<1x2x7x16xf16>) v(%{{.*}} : tensor<1x2x7x8xf16>) outs(%{{.*}} : tensor<1x2x5x8xf32>) {causal = #quantkv.causal<top_left>, scale = 2.500000e-01 : f32} : tensor<1x2x5x8xf32>
func.func @sdpa_float_cache(%q: tensor<1x2x5x16xf16>, %k: tensor<1x2x7x16xf16>, %v: tensor<1x2x7x8xf16>, %init: tensor<1x2x5x8xf32>) -> tensor<1x2x5x8xf32> {
  %o = quantkv.sdpa q(%q : tensor<1x2x5x16xf16>) k(%k : tensor<1x2x7x16xf16>) v(%v : tensor<1x2x7x8xf16>)
      outs(%init : tensor<1x2x5x8xf32>)
      {causal = #quantkv.causal<top_left>, scale = 0.25 : f32, math_mode = #quantkv.math_mode<strict>}
      : tensor<1x2x5x8xf32>
  return %o : tensor<1x2x5x8xf32>
}
