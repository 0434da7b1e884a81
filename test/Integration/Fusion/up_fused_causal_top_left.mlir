// Differential test: the module as written and after --quantkv-fuse-sdpa
// run through the reference pipeline on the same seeded inputs.
// REQUIRES: quantkv-run
// RUN: quantkv-opt %s --quantkv-fuse-sdpa | FileCheck %s --check-prefix=FUSED
// RUN: quantkv-run %s --entry up_fused_causal_top_left --pipeline "quantkv-fuse-sdpa" --against "" | FileCheck %s

// FUSED-LABEL: func.func @up_fused_causal_top_left
// FUSED-NOT: linalg.
// FUSED: quantkv.sdpa
// FUSED-NOT: linalg.
// CHECK: outputs match
// Everything before the softmax in one generic (scale, then a top-left
// causal select on i64 iotas), softmax decomposed with generic reductions
// that keep the reduced dim (read at (.., 0)).
#id3 = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
#keep = affine_map<(d0, d1, d2) -> (d0, d1, 0)>
func.func @up_fused_causal_top_left(%q: tensor<2x8x16xf32>, %kt: tensor<2x16x8xf32>, %k: tensor<2x8x16xi8>, %v: tensor<2x8x16xi8>) -> tensor<2x8x16xf32> {
  %zero = arith.constant 0.0 : f32
  %lowest = arith.constant -3.40282347E+38 : f32
  %c = arith.constant 0.25 : f32
  %sck = arith.constant 0.05 : f32
  %ek = tensor.empty() : tensor<2x16x8xf32>
  %kd = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d2, d1)>, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%k : tensor<2x8x16xi8>) outs(%ek : tensor<2x16x8xf32>) {
  ^bb0(%x: i8, %o: f32):
    %xf = arith.sitofp %x : i8 to f32
    %m = arith.mulf %sck, %xf : f32
    linalg.yield %m : f32
  } -> tensor<2x16x8xf32>
  %e1 = tensor.empty() : tensor<2x8x8xf32>
  %f1 = linalg.fill ins(%zero : f32) outs(%e1 : tensor<2x8x8xf32>) -> tensor<2x8x8xf32>
  %s = linalg.batch_matmul ins(%q, %kd : tensor<2x8x16xf32>, tensor<2x16x8xf32>) outs(%f1 : tensor<2x8x8xf32>) -> tensor<2x8x8xf32>
  %sm = linalg.generic {indexing_maps = [#id3, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%s : tensor<2x8x8xf32>) outs(%e1 : tensor<2x8x8xf32>) {
  ^bb0(%x: f32, %out: f32):
    %i = linalg.index 1 : index
    %j = linalg.index 2 : index
    %i64 = arith.index_cast %i : index to i64
    %j64 = arith.index_cast %j : index to i64
    %keep = arith.cmpi sle, %j64, %i64 : i64
    %y = arith.mulf %x, %c : f32
    %r = arith.select %keep, %y, %lowest : f32
    linalg.yield %r : f32
  } -> tensor<2x8x8xf32>
  %er = tensor.empty() : tensor<2x8x1xf32>
  %mx0 = linalg.fill ins(%lowest : f32) outs(%er : tensor<2x8x1xf32>) -> tensor<2x8x1xf32>
  %mx = linalg.generic {indexing_maps = [#id3, #keep], iterator_types = ["parallel", "parallel", "reduction"]} ins(%sm : tensor<2x8x8xf32>) outs(%mx0 : tensor<2x8x1xf32>) {
  ^bb0(%x: f32, %acc: f32):
    %m = arith.maxnumf %acc, %x : f32
    linalg.yield %m : f32
  } -> tensor<2x8x1xf32>
  %ex = linalg.generic {indexing_maps = [#id3, #keep, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%sm, %mx : tensor<2x8x8xf32>, tensor<2x8x1xf32>) outs(%e1 : tensor<2x8x8xf32>) {
  ^bb0(%x: f32, %m: f32, %o: f32):
    %d = arith.subf %x, %m : f32
    %e = math.exp %d : f32
    linalg.yield %e : f32
  } -> tensor<2x8x8xf32>
  %sum0 = linalg.fill ins(%zero : f32) outs(%er : tensor<2x8x1xf32>) -> tensor<2x8x1xf32>
  %sum = linalg.generic {indexing_maps = [#id3, #keep], iterator_types = ["parallel", "parallel", "reduction"]} ins(%ex : tensor<2x8x8xf32>) outs(%sum0 : tensor<2x8x1xf32>) {
  ^bb0(%x: f32, %acc: f32):
    %a = arith.addf %x, %acc : f32
    linalg.yield %a : f32
  } -> tensor<2x8x1xf32>
  %p = linalg.generic {indexing_maps = [#id3, #keep, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%ex, %sum : tensor<2x8x8xf32>, tensor<2x8x1xf32>) outs(%e1 : tensor<2x8x8xf32>) {
  ^bb0(%x: f32, %den: f32, %o: f32):
    %d = arith.divf %x, %den : f32
    linalg.yield %d : f32
  } -> tensor<2x8x8xf32>
  %ev = tensor.empty() : tensor<2x8x16xf32>
  %vd = linalg.generic {indexing_maps = [#id3, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%v : tensor<2x8x16xi8>) outs(%ev : tensor<2x8x16xf32>) {
  ^bb0(%x: i8, %o: f32):
    %xf = arith.sitofp %x : i8 to f32
    %m = arith.mulf %xf, %sck : f32
    linalg.yield %m : f32
  } -> tensor<2x8x16xf32>
  %e2 = tensor.empty() : tensor<2x8x16xf32>
  %f2 = linalg.fill ins(%zero : f32) outs(%e2 : tensor<2x8x16xf32>) -> tensor<2x8x16xf32>
  %o = linalg.batch_matmul ins(%p, %vd : tensor<2x8x8xf32>, tensor<2x8x16xf32>) outs(%f2 : tensor<2x8x16xf32>) -> tensor<2x8x16xf32>
  return %o : tensor<2x8x16xf32>
}
