// RUN: quantkv-opt %s --split-input-file \
// RUN:   --pass-pipeline="builtin.module(func.func(quantkv-distinct-result-buffers))" \
// RUN:   | FileCheck %s
// The LLVM tail of the CPU pipelines, which crashed on a result returned
// twice before this pass ran ahead of buffer-results-to-out-params.
// RUN: quantkv-opt %s --split-input-file --quantkv-reference-pipeline \
// RUN:   | FileCheck %s --check-prefix=TAIL

// An allocation returned twice: the second result is a copy in its own
// allocation, made just before the return.
// CHECK-LABEL: func.func @twice(
// CHECK:         %[[A:.+]] = memref.alloc() : memref<4xf32>
// CHECK:         linalg.fill
// CHECK:         %[[B:.+]] = memref.alloc() : memref<4xf32>
// CHECK-NEXT:    memref.copy %[[A]], %[[B]]
// CHECK-NEXT:    return %[[A]], %[[B]] :
// Both results become out-params, the second filled from the first.
// TAIL-LABEL: llvm.func @twice(
func.func @twice(%x: f32) -> (memref<4xf32>, memref<4xf32>) {
  %a = memref.alloc() : memref<4xf32>
  linalg.fill ins(%x : f32) outs(%a : memref<4xf32>)
  return %a, %a : memref<4xf32>, memref<4xf32>
}

// -----

// Three times, around another result: one copy per repetition.
// CHECK-LABEL: func.func @thrice(
// CHECK:         %[[A:.+]] = memref.alloc() : memref<2x3xi8>
// CHECK:         %[[B:.+]] = memref.alloc() : memref<2x3xi8>
// CHECK-NEXT:    memref.copy %[[A]], %[[B]]
// CHECK-NEXT:    %[[C:.+]] = memref.alloc() : memref<2x3xi8>
// CHECK-NEXT:    memref.copy %[[A]], %[[C]]
// CHECK-NEXT:    return %[[A]], %{{.+}}, %[[B]], %[[C]] :
// TAIL-LABEL: llvm.func @thrice(
func.func @thrice(%y: memref<5xf32>) -> (memref<2x3xi8>, memref<5xf32>, memref<2x3xi8>, memref<2x3xi8>) {
  %a = memref.alloc() : memref<2x3xi8>
  return %a, %y, %a, %a : memref<2x3xi8>, memref<5xf32>, memref<2x3xi8>, memref<2x3xi8>
}

// -----

// Not allocations the hoisting erases: an argument, a dynamically shaped
// allocation and distinct allocations stay as they are.
// CHECK-LABEL: func.func @untouched(
// CHECK-NOT:     memref.copy
// CHECK:         return %arg0, %arg0, %[[D:.+]], %[[D]], %[[E:.+]], %[[F:.+]] :
// TAIL-LABEL: llvm.func @untouched(
func.func @untouched(%arg0: memref<4xf32>, %n: index) -> (memref<4xf32>, memref<4xf32>, memref<?xf32>, memref<?xf32>, memref<4xf32>, memref<4xf32>) {
  %d = memref.alloc(%n) : memref<?xf32>
  %e = memref.alloc() : memref<4xf32>
  %f = memref.alloc() : memref<4xf32>
  return %arg0, %arg0, %d, %d, %e, %f : memref<4xf32>, memref<4xf32>, memref<?xf32>, memref<?xf32>, memref<4xf32>, memref<4xf32>
}
