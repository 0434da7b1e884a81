// RUN: quantkv-opt %s --quantkv-lower-to-linalg --split-input-file | FileCheck %s

// GQA 4 (Hq = 8, Hkv = 2) over an s4 K with per-group scales along D and a u8
// V with per-channel zero points, bottom-right causal (Sq = 2, Skv = 6: key j
// is dropped for query i when j > i + 4).

// CHECK-DAG: #[[QMAP:.*]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d4)>
// CHECK-DAG: #[[KV:.*]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1 floordiv 4, d3, d4)>
// CHECK-DAG: #[[PV:.*]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1 floordiv 4, d4, d3)>
// CHECK-DAG: #[[OUT:.*]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3)>
// CHECK-DAG: #[[ROW:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>
// CHECK-LABEL: func.func @sdpa_gqa_causal
// CHECK-SAME: (%[[Q:.*]]: tensor<1x8x2x16xf32>, %[[K:.*]]: tensor<1x2x6x8xi8>, %[[KS:.*]]: tensor<1x2x6x2xf32>, %[[V:.*]]: tensor<1x2x6x16xi8>, %[[VS:.*]]: tensor<16xf32>, %[[VZ:.*]]: tensor<16xi8>)
// The packed K is unpacked and dequantized, V dequantized with its zero point.
// CHECK: %[[KI:.*]] = linalg.generic {{.*}} ins(%[[K]] : tensor<1x2x6x8xi8>) outs(%{{.*}} : tensor<1x2x6x16xi8>)
// CHECK: %[[KF:.*]] = linalg.generic {{.*}} ins(%[[KI]], %[[KS]] :
// CHECK: %[[VF:.*]] = linalg.generic {{.*}} ins(%[[V]], %[[VS]], %[[VZ]] :
// CHECK:   arith.subf
// S = Q K^T, K indexed by the K/V head of each query head.
// CHECK: %[[S:.*]] = linalg.generic {indexing_maps = [#[[QMAP]], #[[KV]], #[[OUT]]], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%[[Q]], %[[KF]] : {{.*}}) outs(%{{.*}} : tensor<1x8x2x6xf32>)
// Scale, then -inf where j > i + (6 - 2).
// CHECK: %[[S2:.*]] = linalg.generic {{.*}} ins(%[[S]] :
// CHECK:   %[[SC:.*]] = arith.mulf %{{.*}}, %{{.*}} : f32
// CHECK:   %[[I:.*]] = linalg.index 2
// CHECK:   %[[J:.*]] = linalg.index 3
// CHECK:   %[[C4:.*]] = arith.constant 4 : index
// CHECK:   %[[LIM:.*]] = arith.addi %[[I]], %[[C4]]
// CHECK:   %[[DROP:.*]] = arith.cmpi sgt, %[[J]], %[[LIM]]
// CHECK:   %[[NINF:.*]] = arith.constant 0xFF800000 : f32
// CHECK:   arith.select %[[DROP]], %[[NINF]], %[[SC]]
// Row max from -inf, exp(s - max) with max := 0 on fully masked rows.
// CHECK: %[[M0:.*]] = linalg.fill ins(%{{.*}} : f32) outs(%{{.*}} : tensor<1x8x2xf32>)
// CHECK: %[[M:.*]] = linalg.generic {indexing_maps = [#{{.*}}, #[[ROW]]], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%[[S2]] : {{.*}}) outs(%[[M0]] :
// CHECK:   arith.maximumf
// CHECK: %[[E:.*]] = linalg.generic {{.*}} ins(%[[S2]], %[[M]] :
// CHECK:   %[[ALL:.*]] = arith.cmpf oeq
// CHECK:   %[[MAX:.*]] = arith.select %[[ALL]]
// CHECK:   %[[SH:.*]] = arith.subf %{{.*}}, %[[MAX]]
// CHECK:   math.exp %[[SH]]
// CHECK: %[[L:.*]] = linalg.generic {{.*}} ins(%[[E]] :
// CHECK:   arith.addf
// P = E / L, 0 where L = 0.
// CHECK: %[[P:.*]] = linalg.generic {{.*}} ins(%[[E]], %[[L]] :
// CHECK:   arith.divf
// CHECK:   arith.select
// O = P V.
// CHECK: %[[O:.*]] = linalg.generic {indexing_maps = [#[[QMAP]], #[[PV]], #[[OUT]]], {{.*}} ins(%[[P]], %[[VF]] :
// CHECK: %[[R:.*]] = linalg.generic {{.*}} ins(%[[O]] :
// CHECK: return %[[R]]
func.func @sdpa_gqa_causal(%q: tensor<1x8x2x16xf32>, %k: tensor<1x2x6x16xsi4>,
                           %ks: tensor<1x2x6x2xf32>, %v: tensor<1x2x6x16xui8>,
                           %vs: tensor<16xf32>, %vz: tensor<16xui8>)
    -> tensor<1x8x2x16xf32> {
  %init = tensor.empty() : tensor<1x8x2x16xf32>
  %o = quantkv.sdpa q(%q : tensor<1x8x2x16xf32>)
      k(%k : tensor<1x2x6x16xsi4>) k_scale(%ks : tensor<1x2x6x2xf32>)
      v(%v : tensor<1x2x6x16xui8>) v_scale(%vs : tensor<16xf32>)
      v_zero_point(%vz : tensor<16xui8>)
      outs(%init : tensor<1x8x2x16xf32>)
      {key_quant = #quantkv.per_group<[1, 1, 1, 8]>,
       value_quant = #quantkv.per_channel<axis = 3>,
       causal = #quantkv.causal<bottom_right>}
      : tensor<1x8x2x16xf32>
  return %o : tensor<1x8x2x16xf32>
}

// -----

// K in [B, Hkv, D, Skv] (bds), a broadcast [Sq, Skv] mask, bf16 math (Q, K'
// and P rounded to bf16 before their contraction), an explicit scale, an f16
// result, top-left causal (no offset).

// CHECK-DAG: #[[KBDS:.*]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1 floordiv 2, d4, d3)>
// CHECK-DAG: #[[MASK:.*]] = affine_map<(d0, d1, d2, d3) -> (d2, d3)>
// CHECK-LABEL: func.func @sdpa_bds_mask_bf16
// CHECK: linalg.generic {indexing_maps = [#{{.*}}, #[[KBDS]], #{{.*}}]
// CHECK:   arith.truncf %{{.*}} : f32 to bf16
// CHECK:   arith.truncf %{{.*}} : f32 to bf16
// CHECK: linalg.generic {indexing_maps = [#{{.*}}, #[[MASK]], #{{.*}}]
// CHECK:   %[[SCALE:.*]] = arith.constant 5.000000e-01 : f32
// CHECK:   %[[SC:.*]] = arith.mulf %{{.*}}, %[[SCALE]]
// CHECK:   arith.addf %[[SC]], %{{.*}}
// CHECK:   %[[C0:.*]] = arith.constant 0 : index
// CHECK:   arith.addi %{{.*}}, %[[C0]]
// CHECK: arith.divf
// CHECK-NEXT: arith.truncf %{{.*}} : f32 to bf16
// CHECK: arith.truncf %{{.*}} : f32 to f16
func.func @sdpa_bds_mask_bf16(%q: tensor<1x4x2x8xf32>, %k: tensor<1x2x8x6xsi8>,
                              %ks: tensor<1x2x1x6xf32>, %v: tensor<1x2x6x8xbf16>,
                              %mask: tensor<2x6xf32>) -> tensor<1x4x2x8xf16> {
  %init = tensor.empty() : tensor<1x4x2x8xf16>
  %o = quantkv.sdpa q(%q : tensor<1x4x2x8xf32>)
      k(%k : tensor<1x2x8x6xsi8>) k_scale(%ks : tensor<1x2x1x6xf32>)
      v(%v : tensor<1x2x6x8xbf16>) mask(%mask : tensor<2x6xf32>)
      outs(%init : tensor<1x4x2x8xf16>)
      {key_quant = #quantkv.per_group<[1, 1, 8, 1]>,
       key_layout = #quantkv.k_layout<bds>, causal = #quantkv.causal<top_left>,
       math_mode = #quantkv.math_mode<bf16>, scale = 0.5 : f32}
      : tensor<1x4x2x8xf16>
  return %o : tensor<1x4x2x8xf16>
}

// -----

// int8 math: each Q row is quantized symmetrically to [-127, 127] with scale
// max|q| / 127 before the contraction; the dynamic scale operand replaces the
// constant.

// CHECK-LABEL: func.func @sdpa_int8_dynamic_scale
// CHECK-SAME: %[[DS:[^:]*]]: f32
// CHECK: linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "parallel", "reduction"]
// CHECK:   math.absf
// CHECK:   arith.maximumf
// CHECK: linalg.generic
// CHECK:   arith.constant 1.270000e+02 : f32
// CHECK:   math.roundeven
// CHECK:   arith.constant -1.270000e+02 : f32
// CHECK:   arith.maxnumf
// CHECK:   arith.minnumf
// CHECK: arith.mulf %{{.*}}, %[[DS]] : f32
func.func @sdpa_int8_dynamic_scale(%q: tensor<1x1x1x8xf32>, %k: tensor<1x1x4x8xsi8>,
                                   %ks: tensor<1xf32>, %v: tensor<1x1x4x8xf32>,
                                   %s: f32) -> tensor<1x1x1x8xf32> {
  %init = tensor.empty() : tensor<1x1x1x8xf32>
  %o = quantkv.sdpa q(%q : tensor<1x1x1x8xf32>)
      k(%k : tensor<1x1x4x8xsi8>) k_scale(%ks : tensor<1xf32>)
      v(%v : tensor<1x1x4x8xf32>) dynamic_scale(%s)
      outs(%init : tensor<1x1x1x8xf32>)
      {key_quant = #quantkv.per_tensor, math_mode = #quantkv.math_mode<int8>}
      : tensor<1x1x1x8xf32>
  return %o : tensor<1x1x1x8xf32>
}
