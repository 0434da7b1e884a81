// Differential test: the module as written and after --quantkv-fuse-sdpa
// run through the reference pipeline on the same seeded inputs.
// REQUIRES: quantkv-run
// RUN: quantkv-opt %s --quantkv-fuse-sdpa | FileCheck %s --check-prefix=FUSED
// RUN: quantkv-run %s --entry op_ew_fused_softmax_in_matmul --pipeline "quantkv-fuse-sdpa" --against "" | FileCheck %s

// FUSED-LABEL: func.func @op_ew_fused_softmax_in_matmul
// FUSED-NOT: linalg.
// FUSED: quantkv.sdpa
// FUSED-NOT: linalg.
// CHECK: outputs match
// @op_4d_mqa_causal_decomposed after --linalg-fuse-elementwise-ops: the
// exponentials are recomputed inside the sum reduction and the softmax
// division inside the P x V contraction (P is never materialized).
func.func @op_ew_fused_softmax_in_matmul(%arg0: tensor<1x4x8x16xf32>, %arg1: tensor<1x1x8x16xui8>, %arg2: tensor<1xf32>, %arg3: tensor<1xui8>, %arg4: tensor<1x1x8x16xui8>, %arg5: tensor<1xf32>, %arg6: tensor<1xui8>) -> tensor<1x4x8x16xf32> {
  %cst = arith.constant 0.000000e+00 : f32
  %cst_0 = arith.constant 0xFF800000 : f32
  %cst_1 = arith.constant 2.500000e-01 : f32
  %0 = quantkv.dequantize %arg1 scale(%arg2 : tensor<1xf32>) zero_point(%arg3 : tensor<1xui8>) granularity(#quantkv.per_tensor) : tensor<1x1x8x16xui8> -> tensor<1x1x8x16xf32>
  %1 = tensor.empty() : tensor<1x4x8x8xf32>
  %2 = linalg.fill ins(%cst : f32) outs(%1 : tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32>
  %3 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d4)>, affine_map<(d0, d1, d2, d3, d4) -> (d0, 0, d3, d4)>, affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%arg0, %0 : tensor<1x4x8x16xf32>, tensor<1x1x8x16xf32>) outs(%2 : tensor<1x4x8x8xf32>) {
  ^bb0(%in: f32, %in_3: f32, %out: f32):
    %13 = arith.mulf %in, %in_3 : f32
    %14 = arith.addf %out, %13 : f32
    linalg.yield %14 : f32
  } -> tensor<1x4x8x8xf32>
  %4 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%3 : tensor<1x4x8x8xf32>) outs(%1 : tensor<1x4x8x8xf32>) {
  ^bb0(%in: f32, %out: f32):
    %13 = linalg.index 2 : index
    %14 = linalg.index 3 : index
    %15 = arith.cmpi ugt, %14, %13 : index
    %16 = arith.mulf %in, %cst_1 : f32
    %17 = arith.select %15, %cst_0, %16 : f32
    linalg.yield %17 : f32
  } -> tensor<1x4x8x8xf32>
  %5 = tensor.empty() : tensor<1x4x8xf32>
  %6 = linalg.fill ins(%cst_0 : f32) outs(%5 : tensor<1x4x8xf32>) -> tensor<1x4x8xf32>
  %reduced = linalg.reduce ins(%4 : tensor<1x4x8x8xf32>) outs(%6 : tensor<1x4x8xf32>) dimensions = [3] 
    (%in: f32, %init: f32) {
      %13 = arith.maximumf %in, %init : f32
      linalg.yield %13 : f32
    }
  %7 = linalg.fill ins(%cst : f32) outs(%5 : tensor<1x4x8xf32>) -> tensor<1x4x8xf32>
  %8 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%4, %reduced : tensor<1x4x8x8xf32>, tensor<1x4x8xf32>) outs(%1 : tensor<1x4x8x8xf32>) {
  ^bb0(%in: f32, %in_3: f32, %out: f32):
    %13 = arith.subf %in, %in_3 : f32
    %14 = math.exp %13 : f32
    linalg.yield %14 : f32
  } -> tensor<1x4x8x8xf32>
  %reduced_2 = linalg.reduce { arith.addf } ins(%8 : tensor<1x4x8x8xf32>) outs(%7 : tensor<1x4x8xf32>) dimensions = [3] 
  %9 = quantkv.dequantize %arg4 scale(%arg5 : tensor<1xf32>) zero_point(%arg6 : tensor<1xui8>) granularity(#quantkv.per_tensor) : tensor<1x1x8x16xui8> -> tensor<1x1x8x16xf32>
  %10 = tensor.empty() : tensor<1x4x8x16xf32>
  %11 = linalg.fill ins(%cst : f32) outs(%10 : tensor<1x4x8x16xf32>) -> tensor<1x4x8x16xf32>
  %12 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d4)>, affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2)>, affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2)>, affine_map<(d0, d1, d2, d3, d4) -> (d0, 0, d4, d3)>, affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%4, %reduced, %reduced_2, %9 : tensor<1x4x8x8xf32>, tensor<1x4x8xf32>, tensor<1x4x8xf32>, tensor<1x1x8x16xf32>) outs(%11 : tensor<1x4x8x16xf32>) {
  ^bb0(%in: f32, %in_3: f32, %in_4: f32, %in_5: f32, %out: f32):
    %13 = arith.subf %in, %in_3 : f32
    %14 = math.exp %13 : f32
    %15 = arith.divf %14, %in_4 : f32
    %16 = arith.mulf %15, %in_5 : f32
    %17 = arith.addf %out, %16 : f32
    linalg.yield %17 : f32
  } -> tensor<1x4x8x16xf32>
  return %12 : tensor<1x4x8x16xf32>
}


//===----------------------------------------------------------------------===//
// Negative cases: the computation is not (this) attention; nothing fuses.
//===----------------------------------------------------------------------===//
