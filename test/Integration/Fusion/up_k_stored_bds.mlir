// Differential test: the module as written and after --quantkv-fuse-sdpa
// run through the reference pipeline on the same seeded inputs.
// REQUIRES: quantkv-run
// RUN: quantkv-opt %s --quantkv-fuse-sdpa | FileCheck %s --check-prefix=FUSED
// RUN: quantkv-run %s --entry up_k_stored_bds --pipeline "quantkv-fuse-sdpa" --against "" | FileCheck %s

// FUSED-LABEL: func.func @up_k_stored_bds
// FUSED-NOT: linalg.
// FUSED: quantkv.sdpa
// FUSED-NOT: linalg.
// CHECK: outputs match
// K stored transposed ([B, H, D, S], as some caches keep it): read without
// a transpose by the contraction, it becomes key_layout = bds.
#qk = affine_map<(b, h, m, n, k) -> (b, h, m, k)>
#kt = affine_map<(b, h, m, n, k) -> (b, h, k, n)>
#ok = affine_map<(b, h, m, n, k) -> (b, h, m, n)>
#id = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
func.func @up_k_stored_bds(%q: tensor<1x2x4x16xf32>, %k: tensor<1x2x16x8xi8>, %v: tensor<1x2x8x16xi8>) -> tensor<1x2x4x16xf32> {
  %zero = arith.constant 0.0 : f32
  %c = arith.constant 0.25 : f32
  %sck = arith.constant 0.03 : f32
  %ek = tensor.empty() : tensor<1x2x16x8xf32>
  %kd = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%k : tensor<1x2x16x8xi8>) outs(%ek : tensor<1x2x16x8xf32>) {
  ^bb0(%x: i8, %o: f32):
    %xf = arith.sitofp %x : i8 to f32
    %m = arith.mulf %xf, %sck : f32
    linalg.yield %m : f32
  } -> tensor<1x2x16x8xf32>
  %s0 = tensor.empty() : tensor<1x2x4x8xf32>
  %sz = linalg.fill ins(%zero : f32) outs(%s0 : tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32>
  %s = linalg.contract indexing_maps = [#qk, #kt, #ok] ins(%q, %kd : tensor<1x2x4x16xf32>, tensor<1x2x16x8xf32>) outs(%sz : tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32>
  %sm = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%s : tensor<1x2x4x8xf32>) outs(%s0 : tensor<1x2x4x8xf32>) {
  ^bb0(%x: f32, %out: f32):
    %y = arith.mulf %x, %c : f32
    linalg.yield %y : f32
  } -> tensor<1x2x4x8xf32>
  %p = linalg.softmax dimension(3) ins(%sm : tensor<1x2x4x8xf32>) outs(%s0 : tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32>
  %ev = tensor.empty() : tensor<1x2x8x16xf32>
  %vd = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%v : tensor<1x2x8x16xi8>) outs(%ev : tensor<1x2x8x16xf32>) {
  ^bb0(%x: i8, %o: f32):
    %xf = arith.sitofp %x : i8 to f32
    %m = arith.mulf %xf, %sck : f32
    linalg.yield %m : f32
  } -> tensor<1x2x8x16xf32>
  %o0 = tensor.empty() : tensor<1x2x4x16xf32>
  %oz = linalg.fill ins(%zero : f32) outs(%o0 : tensor<1x2x4x16xf32>) -> tensor<1x2x4x16xf32>
  %o = linalg.contract indexing_maps = [#qk, #kt, #ok] ins(%p, %vd : tensor<1x2x4x8xf32>, tensor<1x2x8x16xf32>) outs(%oz : tensor<1x2x4x16xf32>) -> tensor<1x2x4x16xf32>
  return %o : tensor<1x2x4x16xf32>
}
