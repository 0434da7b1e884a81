// Differential test: the module as written and after --quantkv-fuse-sdpa
// run through the reference pipeline on the same seeded inputs.
// REQUIRES: quantkv-run
// RUN: quantkv-opt %s --quantkv-fuse-sdpa | FileCheck %s --check-prefix=FUSED
// RUN: quantkv-run %s --entry up_lowered_mqa_const_map --pipeline "quantkv-fuse-sdpa" --against "" | FileCheck %s

// FUSED-LABEL: func.func @up_lowered_mqa_const_map
// FUSED-NOT: linalg.
// FUSED: quantkv.sdpa
// FUSED-NOT: linalg.
// CHECK: outputs match
// The reference lowering's output for @op_4d_mqa_causal_decomposed, where
// the MQA broadcast has folded into the contractions' maps (K/V read at head
// 0 by a constant index).
func.func @up_lowered_mqa_const_map(%arg0: tensor<1x4x8x16xf32>, %arg1: tensor<1x1x8x16xi8>, %arg2: tensor<1xf32>, %arg3: tensor<1xi8>, %arg4: tensor<1x1x8x16xi8>, %arg5: tensor<1xf32>, %arg6: tensor<1xi8>) -> tensor<1x4x8x16xf32> {
  %cst = arith.constant 0.000000e+00 : f32
  %cst_0 = arith.constant 0xFF800000 : f32
  %cst_1 = arith.constant 2.500000e-01 : f32
  %0 = tensor.empty() : tensor<1x1x8x16xf32>
  %1 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (0)>, affine_map<(d0, d1, d2, d3) -> (0)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%arg1, %arg2, %arg3 : tensor<1x1x8x16xi8>, tensor<1xf32>, tensor<1xi8>) outs(%0 : tensor<1x1x8x16xf32>) {
  ^bb0(%in: i8, %in_3: f32, %in_4: i8, %out: f32):
    %16 = arith.uitofp %in : i8 to f32
    %17 = arith.uitofp %in_4 : i8 to f32
    %18 = arith.subf %16, %17 : f32
    %19 = arith.mulf %18, %in_3 : f32
    linalg.yield %19 : f32
  } -> tensor<1x1x8x16xf32>
  %2 = tensor.empty() : tensor<1x4x8x8xf32>
  %3 = linalg.fill ins(%cst : f32) outs(%2 : tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32>
  %4 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d4)>, affine_map<(d0, d1, d2, d3, d4) -> (d0, 0, d3, d4)>, affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%arg0, %1 : tensor<1x4x8x16xf32>, tensor<1x1x8x16xf32>) outs(%3 : tensor<1x4x8x8xf32>) {
  ^bb0(%in: f32, %in_3: f32, %out: f32):
    %16 = arith.mulf %in, %in_3 : f32
    %17 = arith.addf %out, %16 : f32
    linalg.yield %17 : f32
  } -> tensor<1x4x8x8xf32>
  %5 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%4 : tensor<1x4x8x8xf32>) outs(%2 : tensor<1x4x8x8xf32>) {
  ^bb0(%in: f32, %out: f32):
    %16 = linalg.index 2 : index
    %17 = linalg.index 3 : index
    %18 = arith.cmpi ugt, %17, %16 : index
    %19 = arith.mulf %in, %cst_1 : f32
    %20 = arith.select %18, %cst_0, %19 : f32
    linalg.yield %20 : f32
  } -> tensor<1x4x8x8xf32>
  %6 = tensor.empty() : tensor<1x4x8xf32>
  %7 = linalg.fill ins(%cst_0 : f32) outs(%6 : tensor<1x4x8xf32>) -> tensor<1x4x8xf32>
  %reduced = linalg.reduce ins(%5 : tensor<1x4x8x8xf32>) outs(%7 : tensor<1x4x8xf32>) dimensions = [3] 
    (%in: f32, %init: f32) {
      %16 = arith.maximumf %in, %init : f32
      linalg.yield %16 : f32
    }
  %8 = linalg.fill ins(%cst : f32) outs(%6 : tensor<1x4x8xf32>) -> tensor<1x4x8xf32>
  %9 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%5, %reduced : tensor<1x4x8x8xf32>, tensor<1x4x8xf32>) outs(%2 : tensor<1x4x8x8xf32>) {
  ^bb0(%in: f32, %in_3: f32, %out: f32):
    %16 = arith.subf %in, %in_3 : f32
    %17 = math.exp %16 : f32
    linalg.yield %17 : f32
  } -> tensor<1x4x8x8xf32>
  %reduced_2 = linalg.reduce { arith.addf } ins(%9 : tensor<1x4x8x8xf32>) outs(%8 : tensor<1x4x8xf32>) dimensions = [3] 
  %10 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%5, %reduced, %reduced_2 : tensor<1x4x8x8xf32>, tensor<1x4x8xf32>, tensor<1x4x8xf32>) outs(%2 : tensor<1x4x8x8xf32>) {
  ^bb0(%in: f32, %in_3: f32, %in_4: f32, %out: f32):
    %16 = arith.subf %in, %in_3 : f32
    %17 = math.exp %16 : f32
    %18 = arith.divf %17, %in_4 : f32
    linalg.yield %18 : f32
  } -> tensor<1x4x8x8xf32>
  %11 = tensor.empty() : tensor<1x1x8x16xf32>
  %12 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (0)>, affine_map<(d0, d1, d2, d3) -> (0)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%arg4, %arg5, %arg6 : tensor<1x1x8x16xi8>, tensor<1xf32>, tensor<1xi8>) outs(%11 : tensor<1x1x8x16xf32>) {
  ^bb0(%in: i8, %in_3: f32, %in_4: i8, %out: f32):
    %16 = arith.uitofp %in : i8 to f32
    %17 = arith.uitofp %in_4 : i8 to f32
    %18 = arith.subf %16, %17 : f32
    %19 = arith.mulf %18, %in_3 : f32
    linalg.yield %19 : f32
  } -> tensor<1x1x8x16xf32>
  %13 = tensor.empty() : tensor<1x4x8x16xf32>
  %14 = linalg.fill ins(%cst : f32) outs(%13 : tensor<1x4x8x16xf32>) -> tensor<1x4x8x16xf32>
  %15 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d4)>, affine_map<(d0, d1, d2, d3, d4) -> (d0, 0, d4, d3)>, affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%10, %12 : tensor<1x4x8x8xf32>, tensor<1x1x8x16xf32>) outs(%14 : tensor<1x4x8x16xf32>) {
  ^bb0(%in: f32, %in_3: f32, %out: f32):
    %16 = arith.mulf %in, %in_3 : f32
    %17 = arith.addf %out, %16 : f32
    linalg.yield %17 : f32
  } -> tensor<1x4x8x16xf32>
  return %15 : tensor<1x4x8x16xf32>
}


//===----------------------------------------------------------------------===//
// Negative cases: the computation is not (this) attention; nothing fuses.
//===----------------------------------------------------------------------===//
