// RUN: quantkv-opt %s --split-input-file | FileCheck %s
// Round trip: the printed form parses back to the same printed form.
// RUN: quantkv-opt %s --split-input-file | quantkv-opt --split-input-file | FileCheck %s
// Generic form round trip.
// RUN: quantkv-opt %s --split-input-file --mlir-print-op-generic | quantkv-opt --split-input-file | FileCheck %s

// CHECK-LABEL: func.func @dequantize_per_group_s4
//       CHECK:   quantkv.dequantize %{{.*}} scale(%{{.*}} : tensor<1x8x16x2xf32>) granularity(#quantkv.per_group<[1, 1, 1, 32]>) : tensor<1x8x16x64xsi4> -> tensor<1x8x16x64xf32>
func.func @dequantize_per_group_s4(%x: tensor<1x8x16x64xsi4>, %s: tensor<1x8x16x2xf32>) -> tensor<1x8x16x64xf32> {
  %0 = quantkv.dequantize %x scale(%s : tensor<1x8x16x2xf32>) granularity(#quantkv.per_group<[1, 1, 1, 32]>) : tensor<1x8x16x64xsi4> -> tensor<1x8x16x64xf32>
  return %0 : tensor<1x8x16x64xf32>
}
