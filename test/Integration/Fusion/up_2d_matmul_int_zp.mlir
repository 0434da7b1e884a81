// Differential test: the module as written and after --quantkv-fuse-sdpa
// run through the reference pipeline on the same seeded inputs.
// REQUIRES: quantkv-run
// RUN: quantkv-opt %s --quantkv-fuse-sdpa | FileCheck %s --check-prefix=FUSED
// RUN: quantkv-run %s --entry up_2d_matmul_int_zp --pipeline "quantkv-fuse-sdpa" --against "" | FileCheck %s

// FUSED-LABEL: func.func @up_2d_matmul_int_zp
// FUSED-NOT: linalg.
// FUSED: quantkv.sdpa
// FUSED-NOT: linalg.
// CHECK: outputs match
// Rank 2 (one head): linalg.matmul with a transposed-B indexing map, V with
// an integer zero-point subtraction before the conversion.
#id2 = affine_map<(d0, d1) -> (d0, d1)>
#row = affine_map<(d0, d1) -> (d0)>
func.func @up_2d_matmul_int_zp(%q: tensor<4x16xf32>, %k: tensor<8x16xi8>, %v: tensor<8x16xi8>, %vz: tensor<8xi8>, %vs: tensor<8xf32>) -> tensor<4x16xf32> {
  %zero = arith.constant 0.0 : f32
  %c = arith.constant 0.25 : f32
  %sck = arith.constant 0.05 : f32
  %ek = tensor.empty() : tensor<8x16xf32>
  %kd = linalg.generic {indexing_maps = [#id2, #id2], iterator_types = ["parallel", "parallel"]} ins(%k : tensor<8x16xi8>) outs(%ek : tensor<8x16xf32>) {
  ^bb0(%x: i8, %o: f32):
    %xf = arith.sitofp %x : i8 to f32
    %m = arith.mulf %xf, %sck : f32
    linalg.yield %m : f32
  } -> tensor<8x16xf32>
  %e1 = tensor.empty() : tensor<4x8xf32>
  %f1 = linalg.fill ins(%zero : f32) outs(%e1 : tensor<4x8xf32>) -> tensor<4x8xf32>
  %s = linalg.matmul indexing_maps = [affine_map<(m, n, k) -> (m, k)>, affine_map<(m, n, k) -> (n, k)>, affine_map<(m, n, k) -> (m, n)>] ins(%q, %kd : tensor<4x16xf32>, tensor<8x16xf32>) outs(%f1 : tensor<4x8xf32>) -> tensor<4x8xf32>
  %sm = linalg.generic {indexing_maps = [#id2, #id2], iterator_types = ["parallel", "parallel"]} ins(%s : tensor<4x8xf32>) outs(%e1 : tensor<4x8xf32>) {
  ^bb0(%x: f32, %out: f32):
    %y = arith.mulf %x, %c : f32
    linalg.yield %y : f32
  } -> tensor<4x8xf32>
  %p = linalg.softmax dimension(1) ins(%sm : tensor<4x8xf32>) outs(%e1 : tensor<4x8xf32>) -> tensor<4x8xf32>
  %vd = linalg.generic {indexing_maps = [#id2, #row, #row, #id2], iterator_types = ["parallel", "parallel"]} ins(%v, %vz, %vs : tensor<8x16xi8>, tensor<8xi8>, tensor<8xf32>) outs(%ek : tensor<8x16xf32>) {
  ^bb0(%x: i8, %zp: i8, %sc: f32, %o: f32):
    %xw = arith.extsi %x : i8 to i32
    %zw = arith.extsi %zp : i8 to i32
    %d = arith.subi %xw, %zw : i32
    %df = arith.sitofp %d : i32 to f32
    %m = arith.mulf %df, %sc : f32
    linalg.yield %m : f32
  } -> tensor<8x16xf32>
  %e2 = tensor.empty() : tensor<4x16xf32>
  %f2 = linalg.fill ins(%zero : f32) outs(%e2 : tensor<4x16xf32>) -> tensor<4x16xf32>
  %o = linalg.matmul ins(%p, %vd : tensor<4x8xf32>, tensor<8x16xf32>) outs(%f2 : tensor<4x16xf32>) -> tensor<4x16xf32>
  return %o : tensor<4x16xf32>
}
