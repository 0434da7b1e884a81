// Differential test: the module as written and after --quantkv-fuse-sdpa
// run through the reference pipeline on the same seeded inputs.
// The fused op rounds every contraction input (Q, K', P, V') to bf16, as
// this IR does, so the outputs agree to f32 tolerance (measured: equal).
// REQUIRES: quantkv-run
// RUN: quantkv-opt %s --quantkv-fuse-sdpa | FileCheck %s --check-prefix=FUSED
// RUN: quantkv-run %s --entry op_4d_bf16_int4_k_int8_v --pipeline "quantkv-fuse-sdpa" --against "" | FileCheck %s

// FUSED-LABEL: func.func @op_4d_bf16_int4_k_int8_v
// FUSED-NOT: linalg.
// FUSED: quantkv.sdpa
// FUSED-NOT: linalg.
// CHECK: outputs match
// 4-d bf16: s4 K per-channel with an s4 zero point, s8 V with a scale per 4
// tokens (per_group along S), both typecast to bf16, P typecast to bf16, a
// rank-2 additive mask [Sq, Skv] read at (i, j).
#qk = affine_map<(b, h, m, n, k) -> (b, h, m, k)>
#kk = affine_map<(b, h, m, n, k) -> (b, h, n, k)>
#vk = affine_map<(b, h, m, n, k) -> (b, h, k, n)>
#ok = affine_map<(b, h, m, n, k) -> (b, h, m, n)>
#id = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
#ij = affine_map<(d0, d1, d2, d3) -> (d2, d3)>
func.func @op_4d_bf16_int4_k_int8_v(%q: tensor<1x2x4x16xbf16>, %k: tensor<1x2x8x16xsi4>, %ks: tensor<16xf32>, %kz: tensor<16xsi4>, %v: tensor<1x2x8x16xsi8>, %vs: tensor<1x2x2x1xf32>, %mask: tensor<4x8xf32>) -> tensor<1x2x4x16xf32> {
  %zero = arith.constant 0.0 : f32
  %c = arith.constant 0.25 : f32
  %kd = quantkv.dequantize %k scale(%ks : tensor<16xf32>) zero_point(%kz : tensor<16xsi4>) granularity(#quantkv.per_channel<axis = 3>) : tensor<1x2x8x16xsi4> -> tensor<1x2x8x16xf32>
  %kh = quantkv.typecast %kd : tensor<1x2x8x16xf32> to tensor<1x2x8x16xbf16>
  %s0 = tensor.empty() : tensor<1x2x4x8xf32>
  %sz = linalg.fill ins(%zero : f32) outs(%s0 : tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32>
  %s = linalg.contract indexing_maps = [#qk, #kk, #ok] ins(%q, %kh : tensor<1x2x4x16xbf16>, tensor<1x2x8x16xbf16>) outs(%sz : tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32>
  %sm = linalg.generic {indexing_maps = [#id, #ij, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%s, %mask : tensor<1x2x4x8xf32>, tensor<4x8xf32>) outs(%s0 : tensor<1x2x4x8xf32>) {
  ^bb0(%x: f32, %mk: f32, %out: f32):
    %y = arith.mulf %x, %c : f32
    %r = arith.addf %y, %mk : f32
    linalg.yield %r : f32
  } -> tensor<1x2x4x8xf32>
  %p = linalg.softmax dimension(3) ins(%sm : tensor<1x2x4x8xf32>) outs(%s0 : tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32>
  %ph = quantkv.typecast %p : tensor<1x2x4x8xf32> to tensor<1x2x4x8xbf16>
  %vd = quantkv.dequantize %v scale(%vs : tensor<1x2x2x1xf32>) granularity(#quantkv.per_group<[1, 1, 4, 16]>) : tensor<1x2x8x16xsi8> -> tensor<1x2x8x16xf32>
  %vh = quantkv.typecast %vd : tensor<1x2x8x16xf32> to tensor<1x2x8x16xbf16>
  %o0 = tensor.empty() : tensor<1x2x4x16xf32>
  %oz = linalg.fill ins(%zero : f32) outs(%o0 : tensor<1x2x4x16xf32>) -> tensor<1x2x4x16xf32>
  %o = linalg.contract indexing_maps = [#qk, #vk, #ok] ins(%ph, %vh : tensor<1x2x4x8xbf16>, tensor<1x2x8x16xbf16>) outs(%oz : tensor<1x2x4x16xf32>) -> tensor<1x2x4x16xf32>
  return %o : tensor<1x2x4x16xf32>
}
