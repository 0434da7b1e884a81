// Differential test: the module as written and after --quantkv-fuse-sdpa
// run through the reference pipeline on the same seeded inputs.
// REQUIRES: quantkv-run
// RUN: quantkv-opt %s --quantkv-fuse-sdpa | FileCheck %s --check-prefix=FUSED
// RUN: quantkv-run %s --entry up_lowered_softmax_decomposition --pipeline "quantkv-fuse-sdpa" --against "" | FileCheck %s

// FUSED-LABEL: func.func @up_lowered_softmax_decomposition
// FUSED-NOT: linalg.
// FUSED: quantkv.sdpa
// FUSED-NOT: linalg.
// CHECK: outputs match
// The reference lowering's own output for @op_3d_per_tensor (upstream-only:
// signless storage, dequantization generics, linalg.softmax decomposed the
// upstream way, whose max starts at NaN under maxnumf) fuses back.
func.func @up_lowered_softmax_decomposition(%arg0: tensor<4x2x16xf32>, %arg1: tensor<4x8x16xi8>, %arg2: tensor<1xf32>, %arg3: tensor<4x8x16xi8>, %arg4: tensor<1xf32>) -> tensor<4x2x16xf32> {
  %cst = arith.constant 0.000000e+00 : f32
  %cst_0 = arith.constant 2.500000e-01 : f32
  %0 = tensor.empty() : tensor<4x8x16xf32>
  %1 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (0)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]} ins(%arg1, %arg2 : tensor<4x8x16xi8>, tensor<1xf32>) outs(%0 : tensor<4x8x16xf32>) {
  ^bb0(%in: i8, %in_3: f32, %out: f32):
    %19 = arith.sitofp %in : i8 to f32
    %20 = arith.mulf %19, %in_3 : f32
    linalg.yield %20 : f32
  } -> tensor<4x8x16xf32>
  %2 = tensor.empty() : tensor<4x16x8xf32>
  %transposed = linalg.transpose ins(%1 : tensor<4x8x16xf32>) outs(%2 : tensor<4x16x8xf32>) permutation = [0, 2, 1] 
  %3 = tensor.empty() : tensor<4x2x8xf32>
  %4 = linalg.fill ins(%cst : f32) outs(%3 : tensor<4x2x8xf32>) -> tensor<4x2x8xf32>
  %5 = linalg.batch_matmul ins(%arg0, %transposed : tensor<4x2x16xf32>, tensor<4x16x8xf32>) outs(%4 : tensor<4x2x8xf32>) -> tensor<4x2x8xf32>
  %6 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]} ins(%5 : tensor<4x2x8xf32>) outs(%3 : tensor<4x2x8xf32>) {
  ^bb0(%in: f32, %out: f32):
    %19 = arith.mulf %in, %cst_0 : f32
    linalg.yield %19 : f32
  } -> tensor<4x2x8xf32>
  %7 = tensor.empty() : tensor<4x2xf32>
  %cst_1 = arith.constant 0xFFC00000 : f32
  %8 = linalg.fill ins(%cst_1 : f32) outs(%7 : tensor<4x2xf32>) -> tensor<4x2xf32>
  %9 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1)>], iterator_types = ["parallel", "parallel", "reduction"]} ins(%6 : tensor<4x2x8xf32>) outs(%8 : tensor<4x2xf32>) {
  ^bb0(%in: f32, %out: f32):
    %19 = arith.maxnumf %in, %out : f32
    linalg.yield %19 : f32
  } -> tensor<4x2xf32>
  %10 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]} ins(%6, %9 : tensor<4x2x8xf32>, tensor<4x2xf32>) outs(%3 : tensor<4x2x8xf32>) {
  ^bb0(%in: f32, %in_3: f32, %out: f32):
    %19 = arith.subf %in, %in_3 : f32
    %20 = math.exp %19 : f32
    linalg.yield %20 : f32
  } -> tensor<4x2x8xf32>
  %cst_2 = arith.constant 0.000000e+00 : f32
  %11 = linalg.fill ins(%cst_2 : f32) outs(%7 : tensor<4x2xf32>) -> tensor<4x2xf32>
  %12 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1)>], iterator_types = ["parallel", "parallel", "reduction"]} ins(%10 : tensor<4x2x8xf32>) outs(%11 : tensor<4x2xf32>) {
  ^bb0(%in: f32, %out: f32):
    %19 = arith.addf %in, %out : f32
    linalg.yield %19 : f32
  } -> tensor<4x2xf32>
  %13 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]} ins(%10, %12 : tensor<4x2x8xf32>, tensor<4x2xf32>) outs(%3 : tensor<4x2x8xf32>) {
  ^bb0(%in: f32, %in_3: f32, %out: f32):
    %19 = arith.divf %in, %in_3 : f32
    linalg.yield %19 : f32
  } -> tensor<4x2x8xf32>
  %14 = tensor.empty() : tensor<4x8x16xf32>
  %15 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (0)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]} ins(%arg3, %arg4 : tensor<4x8x16xi8>, tensor<1xf32>) outs(%14 : tensor<4x8x16xf32>) {
  ^bb0(%in: i8, %in_3: f32, %out: f32):
    %19 = arith.sitofp %in : i8 to f32
    %20 = arith.mulf %19, %in_3 : f32
    linalg.yield %20 : f32
  } -> tensor<4x8x16xf32>
  %16 = tensor.empty() : tensor<4x2x16xf32>
  %17 = linalg.fill ins(%cst : f32) outs(%16 : tensor<4x2x16xf32>) -> tensor<4x2x16xf32>
  %18 = linalg.batch_matmul ins(%13, %15 : tensor<4x2x8xf32>, tensor<4x8x16xf32>) outs(%17 : tensor<4x2x16xf32>) -> tensor<4x2x16xf32>
  return %18 : tensor<4x2x16xf32>
}
