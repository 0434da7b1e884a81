// Differential test: the module as written and after --quantkv-fuse-sdpa
// run through the reference pipeline on the same seeded inputs.
// REQUIRES: quantkv-run
// RUN: quantkv-opt %s --quantkv-fuse-sdpa | FileCheck %s --check-prefix=FUSED
// RUN: quantkv-run %s --entry up_gqa_expand_iota_mask --pipeline "quantkv-fuse-sdpa" --against "" | FileCheck %s

// FUSED-LABEL: func.func @up_gqa_expand_iota_mask
// FUSED-NOT: linalg.
// FUSED: quantkv.sdpa
// FUSED-NOT: linalg.
// CHECK: outputs match
// GQA as torch expands it: dequantized K/V [1, 2, 8, 16] -> expand_shape
// [1, 2, 1, 8, 16] -> generic broadcast [1, 2, 4, 8, 16] -> collapse
// [1, 8, 8, 16]; per-channel K scale; decode-style bottom-right causal mask
// as an i1 tensor built from iotas by its own generic.
#qk = affine_map<(b, h, m, n, k) -> (b, h, m, k)>
#kk = affine_map<(b, h, m, n, k) -> (b, h, n, k)>
#vk = affine_map<(b, h, m, n, k) -> (b, h, k, n)>
#ok = affine_map<(b, h, m, n, k) -> (b, h, m, n)>
#id = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
#chan = affine_map<(d0, d1, d2, d3) -> (d3)>
#ij = affine_map<(d0, d1, d2, d3) -> (d2, d3)>
#id2 = affine_map<(d0, d1) -> (d0, d1)>
#bc5 = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, 0, d3, d4)>
#id5 = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3, d4)>
func.func @up_gqa_expand_iota_mask(%q: tensor<1x8x2x16xf32>, %k: tensor<1x2x8x16xi8>, %ks: tensor<16xf32>, %v: tensor<1x2x8x16xi8>) -> tensor<1x8x2x16xf32> {
  %zero = arith.constant 0.0 : f32
  %ninf = arith.constant 0xFF800000 : f32
  %c = arith.constant 0.25 : f32
  %c6 = arith.constant 6 : i64
  %vsc = arith.constant 0.5 : f32
  %ek = tensor.empty() : tensor<1x2x8x16xf32>
  %kd = linalg.generic {indexing_maps = [#id, #chan, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%k, %ks : tensor<1x2x8x16xi8>, tensor<16xf32>) outs(%ek : tensor<1x2x8x16xf32>) {
  ^bb0(%x: i8, %sc: f32, %o: f32):
    %xf = arith.sitofp %x : i8 to f32
    %m = arith.mulf %xf, %sc : f32
    linalg.yield %m : f32
  } -> tensor<1x2x8x16xf32>
  %k5 = tensor.expand_shape %kd [[0], [1, 2], [3], [4]] output_shape [1, 2, 1, 8, 16] : tensor<1x2x8x16xf32> into tensor<1x2x1x8x16xf32>
  %eb = tensor.empty() : tensor<1x2x4x8x16xf32>
  %kb = linalg.generic {indexing_maps = [#bc5, #id5], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel"]} ins(%k5 : tensor<1x2x1x8x16xf32>) outs(%eb : tensor<1x2x4x8x16xf32>) {
  ^bb0(%x: f32, %o: f32):
    linalg.yield %x : f32
  } -> tensor<1x2x4x8x16xf32>
  %kg = tensor.collapse_shape %kb [[0], [1, 2], [3], [4]] : tensor<1x2x4x8x16xf32> into tensor<1x8x8x16xf32>
  %s0 = tensor.empty() : tensor<1x8x2x8xf32>
  %sz = linalg.fill ins(%zero : f32) outs(%s0 : tensor<1x8x2x8xf32>) -> tensor<1x8x2x8xf32>
  %s = linalg.contract indexing_maps = [#qk, #kk, #ok] ins(%q, %kg : tensor<1x8x2x16xf32>, tensor<1x8x8x16xf32>) outs(%sz : tensor<1x8x2x8xf32>) -> tensor<1x8x2x8xf32>
  %em = tensor.empty() : tensor<2x8xi1>
  %future = linalg.generic {indexing_maps = [#id2], iterator_types = ["parallel", "parallel"]} outs(%em : tensor<2x8xi1>) {
  ^bb0(%o: i1):
    %i = linalg.index 0 : index
    %j = linalg.index 1 : index
    %i64 = arith.index_cast %i : index to i64
    %j64 = arith.index_cast %j : index to i64
    %last = arith.addi %i64, %c6 : i64
    %f = arith.cmpi sgt, %j64, %last : i64
    linalg.yield %f : i1
  } -> tensor<2x8xi1>
  %sm = linalg.generic {indexing_maps = [#id, #ij, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%s, %future : tensor<1x8x2x8xf32>, tensor<2x8xi1>) outs(%s0 : tensor<1x8x2x8xf32>) {
  ^bb0(%x: f32, %f: i1, %out: f32):
    %y = arith.mulf %x, %c : f32
    %r = arith.select %f, %ninf, %y : f32
    linalg.yield %r : f32
  } -> tensor<1x8x2x8xf32>
  %p = linalg.softmax dimension(3) ins(%sm : tensor<1x8x2x8xf32>) outs(%s0 : tensor<1x8x2x8xf32>) -> tensor<1x8x2x8xf32>
  %vd = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%v : tensor<1x2x8x16xi8>) outs(%ek : tensor<1x2x8x16xf32>) {
  ^bb0(%x: i8, %o: f32):
    %xf = arith.uitofp %x : i8 to f32
    %m = arith.mulf %xf, %vsc : f32
    linalg.yield %m : f32
  } -> tensor<1x2x8x16xf32>
  %v5 = tensor.expand_shape %vd [[0], [1, 2], [3], [4]] output_shape [1, 2, 1, 8, 16] : tensor<1x2x8x16xf32> into tensor<1x2x1x8x16xf32>
  %vb = linalg.generic {indexing_maps = [#bc5, #id5], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel"]} ins(%v5 : tensor<1x2x1x8x16xf32>) outs(%eb : tensor<1x2x4x8x16xf32>) {
  ^bb0(%x: f32, %o: f32):
    linalg.yield %x : f32
  } -> tensor<1x2x4x8x16xf32>
  %vg = tensor.collapse_shape %vb [[0], [1, 2], [3], [4]] : tensor<1x2x4x8x16xf32> into tensor<1x8x8x16xf32>
  %o0 = tensor.empty() : tensor<1x8x2x16xf32>
  %oz = linalg.fill ins(%zero : f32) outs(%o0 : tensor<1x8x2x16xf32>) -> tensor<1x8x2x16xf32>
  %o = linalg.contract indexing_maps = [#qk, #vk, #ok] ins(%p, %vg : tensor<1x8x2x8xf32>, tensor<1x8x8x16xf32>) outs(%oz : tensor<1x8x2x16xf32>) -> tensor<1x8x2x16xf32>
  return %o : tensor<1x8x2x16xf32>
}

//===----------------------------------------------------------------------===//
// Negative cases: the computation is not (this) attention; nothing fuses.
//===----------------------------------------------------------------------===//
