// Differential test: the module as written and after --quantkv-fuse-sdpa
// run through the reference pipeline on the same seeded inputs.
// REQUIRES: quantkv-run
// RUN: quantkv-opt %s --quantkv-fuse-sdpa | FileCheck %s --check-prefix=FUSED
// RUN: quantkv-run %s --entry up_torch_math_sqrt_scale --pipeline "quantkv-fuse-sdpa" --against "" | FileCheck %s

// FUSED-LABEL: func.func @up_torch_math_sqrt_scale
// FUSED: quantkv.sdpa
// FUSED-NOT: linalg.
// CHECK: outputs match
// torch's math SDPA: Q and K^T each multiplied by sqrt(scale) = 0.5 (Q in
// its own generic, kept as the query; K's factor folded into the scale),
// no scale on the scores.
#id = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
#chan = affine_map<(d0, d1, d2, d3) -> (d3)>
#tr = affine_map<(d0, d1, d2, d3) -> (d0, d1, d3, d2)>
#qk = affine_map<(b, h, m, n, k) -> (b, h, m, k)>
#kk = affine_map<(b, h, m, n, k) -> (b, h, k, n)>
#ok = affine_map<(b, h, m, n, k) -> (b, h, m, n)>
func.func @up_torch_math_sqrt_scale(%q: tensor<1x2x4x16xf32>, %k: tensor<1x2x8x16xi8>, %ks: tensor<16xf32>, %v: tensor<1x2x8x16xi8>, %vs: tensor<16xf32>) -> tensor<1x2x4x16xf32> {
  %zero = arith.constant 0.0 : f32
  %sqrt_scale = arith.constant 0.5 : f32
  %eq = tensor.empty() : tensor<1x2x4x16xf32>
  %qs = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%q : tensor<1x2x4x16xf32>) outs(%eq : tensor<1x2x4x16xf32>) {
  ^bb0(%x: f32, %o: f32):
    %m = arith.mulf %x, %sqrt_scale : f32
    linalg.yield %m : f32
  } -> tensor<1x2x4x16xf32>
  %ek = tensor.empty() : tensor<1x2x8x16xf32>
  %kd = linalg.generic {indexing_maps = [#id, #chan, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%k, %ks : tensor<1x2x8x16xi8>, tensor<16xf32>) outs(%ek : tensor<1x2x8x16xf32>) {
  ^bb0(%x: i8, %sc: f32, %o: f32):
    %xf = arith.sitofp %x : i8 to f32
    %m = arith.mulf %xf, %sc : f32
    linalg.yield %m : f32
  } -> tensor<1x2x8x16xf32>
  %et = tensor.empty() : tensor<1x2x16x8xf32>
  %kt = linalg.generic {indexing_maps = [#tr, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%kd : tensor<1x2x8x16xf32>) outs(%et : tensor<1x2x16x8xf32>) {
  ^bb0(%x: f32, %o: f32):
    %m = arith.mulf %x, %sqrt_scale : f32
    linalg.yield %m : f32
  } -> tensor<1x2x16x8xf32>
  %s0 = tensor.empty() : tensor<1x2x4x8xf32>
  %sz = linalg.fill ins(%zero : f32) outs(%s0 : tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32>
  %s = linalg.contract indexing_maps = [#qk, #kk, #ok] ins(%qs, %kt : tensor<1x2x4x16xf32>, tensor<1x2x16x8xf32>) outs(%sz : tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32>
  %p = linalg.softmax dimension(3) ins(%s : tensor<1x2x4x8xf32>) outs(%s0 : tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32>
  %vd = linalg.generic {indexing_maps = [#id, #chan, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%v, %vs : tensor<1x2x8x16xi8>, tensor<16xf32>) outs(%ek : tensor<1x2x8x16xf32>) {
  ^bb0(%x: i8, %sc: f32, %o: f32):
    %xf = arith.sitofp %x : i8 to f32
    %m = arith.mulf %xf, %sc : f32
    linalg.yield %m : f32
  } -> tensor<1x2x8x16xf32>
  %o0 = tensor.empty() : tensor<1x2x4x16xf32>
  %oz = linalg.fill ins(%zero : f32) outs(%o0 : tensor<1x2x4x16xf32>) -> tensor<1x2x4x16xf32>
  %o = linalg.contract indexing_maps = [#qk, affine_map<(b, h, m, n, k) -> (b, h, k, n)>, #ok] ins(%p, %vd : tensor<1x2x4x8xf32>, tensor<1x2x8x16xf32>) outs(%oz : tensor<1x2x4x16xf32>) -> tensor<1x2x4x16xf32>
  return %o : tensor<1x2x4x16xf32>
}

//===----------------------------------------------------------------------===//
// Negative cases: the computation is not (this) attention; nothing fuses.
//===----------------------------------------------------------------------===//
