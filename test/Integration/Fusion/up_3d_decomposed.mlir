// Differential test: the module as written and after --quantkv-fuse-sdpa
// run through the reference pipeline on the same seeded inputs.
// REQUIRES: quantkv-run
// RUN: quantkv-opt %s --quantkv-fuse-sdpa | FileCheck %s --check-prefix=FUSED
// RUN: quantkv-run %s --entry up_3d_decomposed --pipeline "quantkv-fuse-sdpa" --against "" | FileCheck %s

// FUSED-LABEL: func.func @up_3d_decomposed
// FUSED-NOT: linalg.
// FUSED: quantkv.sdpa
// FUSED-NOT: linalg.
// CHECK: outputs match
// 3-d, one linalg.generic per torch op: K i8 (sitofp) * per-token scale,
// K^T by a generic with a permuted map, V (uitofp(extui v) - 128) * 0.02,
// scores / sqrt(D), softmax decomposed into linalg.reduce + generics.
#id3 = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
#tok = affine_map<(d0, d1, d2) -> (d0, d1)>
#perm = affine_map<(d0, d1, d2) -> (d0, d2, d1)>
func.func @up_3d_decomposed(%q: tensor<4x2x16xf32>, %k: tensor<4x8x16xi8>, %ks: tensor<4x8xf32>, %v: tensor<4x8x16xi8>) -> tensor<4x2x16xf32> {
  %zero = arith.constant 0.0 : f32
  %ninf = arith.constant 0xFF800000 : f32
  %sqrt_d = arith.constant 4.0 : f32
  %vzp = arith.constant 128.0 : f32
  %vsc = arith.constant 0.02 : f32
  %ek = tensor.empty() : tensor<4x8x16xf32>
  %kf = linalg.generic {indexing_maps = [#id3, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%k : tensor<4x8x16xi8>) outs(%ek : tensor<4x8x16xf32>) {
  ^bb0(%a: i8, %o: f32):
    %f = arith.sitofp %a : i8 to f32
    linalg.yield %f : f32
  } -> tensor<4x8x16xf32>
  %kd = linalg.generic {indexing_maps = [#id3, #tok, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%kf, %ks : tensor<4x8x16xf32>, tensor<4x8xf32>) outs(%ek : tensor<4x8x16xf32>) {
  ^bb0(%a: f32, %sc: f32, %o: f32):
    %m = arith.mulf %a, %sc : f32
    linalg.yield %m : f32
  } -> tensor<4x8x16xf32>
  %et = tensor.empty() : tensor<4x16x8xf32>
  %kt = linalg.generic {indexing_maps = [#perm, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%kd : tensor<4x8x16xf32>) outs(%et : tensor<4x16x8xf32>) {
  ^bb0(%a: f32, %o: f32):
    linalg.yield %a : f32
  } -> tensor<4x16x8xf32>
  %e1 = tensor.empty() : tensor<4x2x8xf32>
  %f1 = linalg.fill ins(%zero : f32) outs(%e1 : tensor<4x2x8xf32>) -> tensor<4x2x8xf32>
  %s = linalg.batch_matmul ins(%q, %kt : tensor<4x2x16xf32>, tensor<4x16x8xf32>) outs(%f1 : tensor<4x2x8xf32>) -> tensor<4x2x8xf32>
  %ss = linalg.generic {indexing_maps = [#id3, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%s : tensor<4x2x8xf32>) outs(%e1 : tensor<4x2x8xf32>) {
  ^bb0(%a: f32, %o: f32):
    %d = arith.divf %a, %sqrt_d : f32
    linalg.yield %d : f32
  } -> tensor<4x2x8xf32>
  %er = tensor.empty() : tensor<4x2xf32>
  %mx0 = linalg.fill ins(%ninf : f32) outs(%er : tensor<4x2xf32>) -> tensor<4x2xf32>
  %mx = linalg.reduce ins(%ss : tensor<4x2x8xf32>) outs(%mx0 : tensor<4x2xf32>) dimensions = [2]
    (%in: f32, %acc: f32) {
      %m = arith.maximumf %in, %acc : f32
      linalg.yield %m : f32
    }
  %ex = linalg.generic {indexing_maps = [#id3, #tok, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%ss, %mx : tensor<4x2x8xf32>, tensor<4x2xf32>) outs(%e1 : tensor<4x2x8xf32>) {
  ^bb0(%a: f32, %m: f32, %o: f32):
    %d = arith.subf %a, %m : f32
    %e = math.exp %d : f32
    linalg.yield %e : f32
  } -> tensor<4x2x8xf32>
  %sm0 = linalg.fill ins(%zero : f32) outs(%er : tensor<4x2xf32>) -> tensor<4x2xf32>
  %sm = linalg.reduce ins(%ex : tensor<4x2x8xf32>) outs(%sm0 : tensor<4x2xf32>) dimensions = [2]
    (%in: f32, %acc: f32) {
      %a = arith.addf %in, %acc : f32
      linalg.yield %a : f32
    }
  %p = linalg.generic {indexing_maps = [#id3, #tok, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%ex, %sm : tensor<4x2x8xf32>, tensor<4x2xf32>) outs(%e1 : tensor<4x2x8xf32>) {
  ^bb0(%a: f32, %den: f32, %o: f32):
    %d = arith.divf %a, %den : f32
    linalg.yield %d : f32
  } -> tensor<4x2x8xf32>
  %vd = linalg.generic {indexing_maps = [#id3, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%v : tensor<4x8x16xi8>) outs(%ek : tensor<4x8x16xf32>) {
  ^bb0(%a: i8, %o: f32):
    %w = arith.extui %a : i8 to i32
    %f = arith.uitofp %w : i32 to f32
    %c = arith.subf %f, %vzp : f32
    %m = arith.mulf %c, %vsc : f32
    linalg.yield %m : f32
  } -> tensor<4x8x16xf32>
  %e2 = tensor.empty() : tensor<4x2x16xf32>
  %f2 = linalg.fill ins(%zero : f32) outs(%e2 : tensor<4x2x16xf32>) -> tensor<4x2x16xf32>
  %o = linalg.batch_matmul ins(%p, %vd : tensor<4x2x8xf32>, tensor<4x8x16xf32>) outs(%f2 : tensor<4x2x16xf32>) -> tensor<4x2x16xf32>
  return %o : tensor<4x2x16xf32>
}
