// Differential test: the module as written and after --quantkv-fuse-sdpa
// run through the reference pipeline on the same seeded inputs.
// REQUIRES: quantkv-run
// RUN: quantkv-opt %s --quantkv-fuse-sdpa | FileCheck %s --check-prefix=FUSED
// RUN: quantkv-run %s --entry up_4d_int4_group_floordiv --pipeline "quantkv-fuse-sdpa" --against "" | FileCheck %s

// FUSED-LABEL: func.func @up_4d_int4_group_floordiv
// FUSED-NOT: linalg.
// FUSED: quantkv.sdpa
// FUSED-NOT: linalg.
// CHECK: outputs match
// 4-d, K i4 with an i4 zero point and a scale per 4 channels read through a
// floordiv map, V i8 per-channel (uitofp) with an i8 zero point, both
// contractions as linalg.generic, an additive mask read at (0, 0, i, j).
#qk = affine_map<(b, h, m, n, k) -> (b, h, m, k)>
#kk = affine_map<(b, h, m, n, k) -> (b, h, n, k)>
#vk = affine_map<(b, h, m, n, k) -> (b, h, k, n)>
#ok = affine_map<(b, h, m, n, k) -> (b, h, m, n)>
#id = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
#grp = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3 floordiv 4)>
#chan = affine_map<(d0, d1, d2, d3) -> (d3)>
#bmask = affine_map<(d0, d1, d2, d3) -> (0, 0, d2, d3)>
func.func @up_4d_int4_group_floordiv(%q: tensor<1x2x4x16xf32>, %k: tensor<1x2x8x16xi4>, %ks: tensor<1x2x8x4xf32>, %kz: tensor<1x2x8x4xi4>, %v: tensor<1x2x8x16xi8>, %vs: tensor<16xf32>, %vz: tensor<16xi8>, %mask: tensor<1x1x4x8xf32>) -> tensor<1x2x4x16xf32> {
  %zero = arith.constant 0.0 : f32
  %c = arith.constant 0.25 : f32
  %ek = tensor.empty() : tensor<1x2x8x16xf32>
  %kd = linalg.generic {indexing_maps = [#id, #grp, #grp, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%k, %ks, %kz : tensor<1x2x8x16xi4>, tensor<1x2x8x4xf32>, tensor<1x2x8x4xi4>) outs(%ek : tensor<1x2x8x16xf32>) {
  ^bb0(%x: i4, %sc: f32, %zp: i4, %o: f32):
    %xw = arith.extsi %x : i4 to i32
    %xf = arith.sitofp %xw : i32 to f32
    %zw = arith.extsi %zp : i4 to i32
    %zf = arith.sitofp %zw : i32 to f32
    %d = arith.subf %xf, %zf : f32
    %m = arith.mulf %d, %sc : f32
    linalg.yield %m : f32
  } -> tensor<1x2x8x16xf32>
  %s0 = tensor.empty() : tensor<1x2x4x8xf32>
  %sz = linalg.fill ins(%zero : f32) outs(%s0 : tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32>
  %s = linalg.generic {indexing_maps = [#qk, #kk, #ok], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%q, %kd : tensor<1x2x4x16xf32>, tensor<1x2x8x16xf32>) outs(%sz : tensor<1x2x4x8xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %m = arith.mulf %a, %b : f32
    %r = arith.addf %acc, %m : f32
    linalg.yield %r : f32
  } -> tensor<1x2x4x8xf32>
  %sm = linalg.generic {indexing_maps = [#id, #bmask, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%s, %mask : tensor<1x2x4x8xf32>, tensor<1x1x4x8xf32>) outs(%s0 : tensor<1x2x4x8xf32>) {
  ^bb0(%x: f32, %mk: f32, %out: f32):
    %y = arith.mulf %x, %c : f32
    %r = arith.addf %mk, %y : f32
    linalg.yield %r : f32
  } -> tensor<1x2x4x8xf32>
  %p = linalg.softmax dimension(3) ins(%sm : tensor<1x2x4x8xf32>) outs(%s0 : tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32>
  %vd = linalg.generic {indexing_maps = [#id, #chan, #chan, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%v, %vs, %vz : tensor<1x2x8x16xi8>, tensor<16xf32>, tensor<16xi8>) outs(%ek : tensor<1x2x8x16xf32>) {
  ^bb0(%x: i8, %sc: f32, %zp: i8, %o: f32):
    %xf = arith.uitofp %x : i8 to f32
    %zf = arith.uitofp %zp : i8 to f32
    %d = arith.subf %xf, %zf : f32
    %m = arith.mulf %sc, %d : f32
    linalg.yield %m : f32
  } -> tensor<1x2x8x16xf32>
  %o0 = tensor.empty() : tensor<1x2x4x16xf32>
  %oz = linalg.fill ins(%zero : f32) outs(%o0 : tensor<1x2x4x16xf32>) -> tensor<1x2x4x16xf32>
  %o = linalg.generic {indexing_maps = [#qk, #vk, #ok], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%p, %vd : tensor<1x2x4x8xf32>, tensor<1x2x8x16xf32>) outs(%oz : tensor<1x2x4x16xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %m = arith.mulf %a, %b : f32
    %r = arith.addf %acc, %m : f32
    linalg.yield %r : f32
  } -> tensor<1x2x4x16xf32>
  return %o : tensor<1x2x4x16xf32>
}
