// RUN: quantkv-opt %s --quantkv-cpu-pipeline | FileCheck %s
// The pipeline passes the core's tuning options to quantkv-lower-to-x86
// (instructions pinned by cpu-features, so the host does not matter).
// RUN: quantkv-opt %s --quantkv-cpu-pipeline="cpu=sapphirerapids cpu-features=+avx512f,+avx512bw,+avx512dq" | FileCheck %s --check-prefix=PREFETCH
// RUN: quantkv-opt %s --quantkv-cpu-pipeline="cpu=znver4 cpu-features=+avx512f,+avx512bw,+avx512dq" | FileCheck %s --check-prefix=NONE
// RUN: quantkv-opt %s --quantkv-cpu-pipeline="cpu=znver4 software-prefetch=on cpu-features=+avx512f,+avx512bw,+avx512dq" | FileCheck %s --check-prefix=PREFETCH
// RUN: quantkv-opt %s --quantkv-cpu-pipeline="cpu=sapphirerapids software-prefetch=off cpu-features=+avx512f,+avx512bw,+avx512dq" | FileCheck %s --check-prefix=NONE
// RUN: not quantkv-opt %s --quantkv-cpu-pipeline="cpu=pentium9" 2>&1 | FileCheck %s --check-prefix=BADCPU
// kv-tile reaches the pass too.
// RUN: not quantkv-opt %s --quantkv-cpu-pipeline="kv-tile=0" 2>&1 | FileCheck %s --check-prefix=BADTILE

// PREFETCH-LABEL: llvm.func @decode_sdpa_item(
// PREFETCH:         llvm.intr.prefetch
// PREFETCH-LABEL: llvm.func @decode(
// NONE-LABEL:     llvm.func @decode_sdpa_item(
// NONE-NOT:         llvm.intr.prefetch
// NONE-LABEL:     llvm.func @decode(
// BADCPU: error: cpu: unknown x86 CPU 'pentium9' (expected an llc -mcpu name, e.g. znver4)
// BADTILE: error: kv-tile must be positive, got 0

// The whole cpu pipeline reaches the LLVM dialect; the kernel's parallel loop
// runs on OpenMP (lowered to libomp calls when translated to LLVM IR).

// CHECK-LABEL: llvm.func @decode_sdpa_item(
// CHECK:         llvm.intr.fma
// CHECK-NOT:     llvm.intr.exp
// CHECK-LABEL: llvm.func @decode(
// CHECK:         omp.parallel
// CHECK:           omp.wsloop
// CHECK:             omp.loop_nest
// CHECK:               llvm.call @decode_sdpa_item(
// The function result became a trailing out-param (JitModule's convention).
// CHECK-LABEL: llvm.func @_mlir_ciface_decode(
// CHECK-SAME:    !llvm.ptr, %{{.*}}: !llvm.ptr, %{{.*}}: !llvm.ptr, %{{.*}}: !llvm.ptr, %{{.*}}: !llvm.ptr)
// CHECK-NOT:     quantkv.
func.func @decode(%q: tensor<1x4x1x64xf32>, %k: tensor<1x2x256x64xsi4>,
                  %ks: tensor<1x2x256x2xf32>, %v: tensor<1x2x256x64xsi4>,
                  %vs: tensor<1x2x256x2xf32>) -> tensor<1x4x1x64xf32>
    attributes {llvm.emit_c_interface} {
  %init = tensor.empty() : tensor<1x4x1x64xf32>
  %o = quantkv.sdpa q(%q : tensor<1x4x1x64xf32>)
      k(%k : tensor<1x2x256x64xsi4>) k_scale(%ks : tensor<1x2x256x2xf32>)
      v(%v : tensor<1x2x256x64xsi4>) v_scale(%vs : tensor<1x2x256x2xf32>)
      outs(%init : tensor<1x4x1x64xf32>)
      {key_quant = #quantkv.per_group<[1, 1, 1, 32]>,
       value_quant = #quantkv.per_group<[1, 1, 1, 32]>,
       causal = #quantkv.causal<bottom_right>}
      : tensor<1x4x1x64xf32>
  return %o : tensor<1x4x1x64xf32>
}
