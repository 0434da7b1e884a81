// Differential test: the module as written and after --quantkv-fuse-sdpa
// run through the reference pipeline on the same seeded inputs.
// REQUIRES: quantkv-run
// RUN: quantkv-opt %s --quantkv-fuse-sdpa | FileCheck %s --check-prefix=FUSED
// RUN: quantkv-run %s --entry up_ew_fused_dequant_in_matmul --pipeline "quantkv-fuse-sdpa" --against "" | FileCheck %s

// FUSED-LABEL: func.func @up_ew_fused_dequant_in_matmul
// FUSED-NOT: linalg.
// FUSED: quantkv.sdpa
// FUSED-NOT: linalg.
// CHECK: outputs match
// @up_4d_int4_group_floordiv after --linalg-fuse-elementwise-ops: both
// dequantizations are computed inside the contractions' bodies, and the
// scale and mask inside the generic that feeds the softmax.
func.func @up_ew_fused_dequant_in_matmul(%arg0: tensor<1x2x4x16xf32>, %arg1: tensor<1x2x8x16xi4>, %arg2: tensor<1x2x8x4xf32>, %arg3: tensor<1x2x8x4xi4>, %arg4: tensor<1x2x8x16xi8>, %arg5: tensor<16xf32>, %arg6: tensor<16xi8>, %arg7: tensor<1x1x4x8xf32>) -> tensor<1x2x4x16xf32> {
  %cst = arith.constant 0.000000e+00 : f32
  %cst_0 = arith.constant 2.500000e-01 : f32
  %0 = tensor.empty() : tensor<1x2x4x8xf32>
  %1 = linalg.fill ins(%cst : f32) outs(%0 : tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32>
  %2 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d4)>, affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d3, d4)>, affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d3, d4 floordiv 4)>, affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d3, d4 floordiv 4)>, affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%arg0, %arg1, %arg2, %arg3 : tensor<1x2x4x16xf32>, tensor<1x2x8x16xi4>, tensor<1x2x8x4xf32>, tensor<1x2x8x4xi4>) outs(%1 : tensor<1x2x4x8xf32>) {
  ^bb0(%in: f32, %in_1: i4, %in_2: f32, %in_3: i4, %out: f32):
    %8 = arith.extsi %in_1 : i4 to i32
    %9 = arith.sitofp %8 : i32 to f32
    %10 = arith.extsi %in_3 : i4 to i32
    %11 = arith.sitofp %10 : i32 to f32
    %12 = arith.subf %9, %11 : f32
    %13 = arith.mulf %12, %in_2 : f32
    %14 = arith.mulf %in, %13 : f32
    %15 = arith.addf %out, %14 : f32
    linalg.yield %15 : f32
  } -> tensor<1x2x4x8xf32>
  %3 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (0, 0, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%2, %arg7 : tensor<1x2x4x8xf32>, tensor<1x1x4x8xf32>) outs(%0 : tensor<1x2x4x8xf32>) {
  ^bb0(%in: f32, %in_1: f32, %out: f32):
    %8 = arith.mulf %in, %cst_0 : f32
    %9 = arith.addf %in_1, %8 : f32
    linalg.yield %9 : f32
  } -> tensor<1x2x4x8xf32>
  %4 = linalg.softmax dimension(3) ins(%3 : tensor<1x2x4x8xf32>) outs(%0 : tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32>
  %5 = tensor.empty() : tensor<1x2x4x16xf32>
  %6 = linalg.fill ins(%cst : f32) outs(%5 : tensor<1x2x4x16xf32>) -> tensor<1x2x4x16xf32>
  %7 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d4)>, affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d4, d3)>, affine_map<(d0, d1, d2, d3, d4) -> (d3)>, affine_map<(d0, d1, d2, d3, d4) -> (d3)>, affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%4, %arg4, %arg5, %arg6 : tensor<1x2x4x8xf32>, tensor<1x2x8x16xi8>, tensor<16xf32>, tensor<16xi8>) outs(%6 : tensor<1x2x4x16xf32>) {
  ^bb0(%in: f32, %in_1: i8, %in_2: f32, %in_3: i8, %out: f32):
    %8 = arith.uitofp %in_1 : i8 to f32
    %9 = arith.uitofp %in_3 : i8 to f32
    %10 = arith.subf %8, %9 : f32
    %11 = arith.mulf %in_2, %10 : f32
    %12 = arith.mulf %in, %11 : f32
    %13 = arith.addf %out, %12 : f32
    linalg.yield %13 : f32
  } -> tensor<1x2x4x16xf32>
  return %7 : tensor<1x2x4x16xf32>
}
