// Differential test: the module as written and after --quantkv-fuse-sdpa
// run through the reference pipeline on the same seeded inputs.
// The fused op rounds every contraction input (Q, K', P, V') to f16, as
// this IR does, so the outputs agree to f32 tolerance (measured: equal).
// REQUIRES: quantkv-run
// RUN: quantkv-opt %s --quantkv-fuse-sdpa | FileCheck %s --check-prefix=FUSED
// RUN: quantkv-run %s --entry op_f16_mask_div --pipeline "quantkv-fuse-sdpa" --against "" | FileCheck %s

// FUSED-LABEL: func.func @op_f16_mask_div
// FUSED-NOT: linalg.
// FUSED: quantkv.sdpa
// FUSED-NOT: linalg.
// CHECK: outputs match
// f16: the dequantize result is already f16 (Q f16, P typecast to f16), an
// additive 4-d mask broadcast over heads, and the scores divided by sqrt(D).
#qmap = affine_map<(b, h, m, n, k) -> (b, h, m, k)>
#kmap = affine_map<(b, h, m, n, k) -> (b, h, n, k)>
#vmap = affine_map<(b, h, m, n, k) -> (b, h, k, n)>
#omap = affine_map<(b, h, m, n, k) -> (b, h, m, n)>
#id = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
#bmask = affine_map<(d0, d1, d2, d3) -> (0, 0, d2, d3)>
func.func @op_f16_mask_div(%q: tensor<1x2x4x16xf16>, %k: tensor<1x2x8x16xsi8>, %ks: tensor<1x2x8x1xf16>, %v: tensor<1x2x8x16xsi8>, %vs: tensor<1xf32>, %mask: tensor<1x1x4x8xf32>) -> tensor<1x2x4x16xf32> {
  %zero = arith.constant 0.0 : f32
  %sqrt_d = arith.constant 4.0 : f32
  %kd = quantkv.dequantize %k scale(%ks : tensor<1x2x8x1xf16>) granularity(#quantkv.per_group<[1, 1, 1, 16]>) : tensor<1x2x8x16xsi8> -> tensor<1x2x8x16xf16>
  %s0 = tensor.empty() : tensor<1x2x4x8xf32>
  %sz = linalg.fill ins(%zero : f32) outs(%s0 : tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32>
  %s = linalg.contract indexing_maps = [#qmap, #kmap, #omap] ins(%q, %kd : tensor<1x2x4x16xf16>, tensor<1x2x8x16xf16>) outs(%sz : tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32>
  %sm = linalg.generic {indexing_maps = [#id, #bmask, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%s, %mask : tensor<1x2x4x8xf32>, tensor<1x1x4x8xf32>) outs(%s0 : tensor<1x2x4x8xf32>) {
  ^bb0(%x: f32, %m: f32, %out: f32):
    %d = arith.divf %x, %sqrt_d : f32
    %r = arith.addf %d, %m : f32
    linalg.yield %r : f32
  } -> tensor<1x2x4x8xf32>
  %p = linalg.softmax dimension(3) ins(%sm : tensor<1x2x4x8xf32>) outs(%s0 : tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32>
  %ph = quantkv.typecast %p : tensor<1x2x4x8xf32> to tensor<1x2x4x8xf16>
  %vd = quantkv.dequantize %v scale(%vs : tensor<1xf32>) granularity(#quantkv.per_tensor) : tensor<1x2x8x16xsi8> -> tensor<1x2x8x16xf16>
  %o0 = tensor.empty() : tensor<1x2x4x16xf32>
  %oz = linalg.fill ins(%zero : f32) outs(%o0 : tensor<1x2x4x16xf32>) -> tensor<1x2x4x16xf32>
  %o = linalg.contract indexing_maps = [#qmap, #vmap, #omap] ins(%ph, %vd : tensor<1x2x4x8xf16>, tensor<1x2x8x16xf16>) outs(%oz : tensor<1x2x4x16xf32>) -> tensor<1x2x4x16xf32>
  return %o : tensor<1x2x4x16xf32>
}

//===----------------------------------------------------------------------===//
// Upstream-only form: no quantkv op, as a framework lowering emits it.
//===----------------------------------------------------------------------===//
