// Software prefetch of the decode loops follows the core the kernel is tuned
// for (option cpu; CpuTuning.h): Sapphire Rapids prefetches K/V rows (and
// the K scale rows) ahead of the tile, Zen 4 leaves the streams to its
// hardware prefetchers. software-prefetch=on|off overrides the core's choice.
// The instructions are pinned (cpu-features) so the host does not matter.
// RUN: quantkv-opt %s --split-input-file --quantkv-lower-to-x86="cpu=sapphirerapids cpu-features=+avx512f,+avx512bw,+avx512dq,+avx512vnni" \
// RUN:   | FileCheck %s --check-prefix=PREFETCH
// RUN: quantkv-opt %s --split-input-file --quantkv-lower-to-x86="cpu=znver4 cpu-features=+avx512f,+avx512bw,+avx512dq,+avx512vnni" \
// RUN:   | FileCheck %s --check-prefix=NONE
// RUN: quantkv-opt %s --split-input-file --quantkv-lower-to-x86="cpu=znver4 software-prefetch=on cpu-features=+avx512f,+avx512bw,+avx512dq,+avx512vnni" \
// RUN:   | FileCheck %s --check-prefix=PREFETCH
// RUN: quantkv-opt %s --split-input-file --quantkv-lower-to-x86="cpu=sapphirerapids software-prefetch=off cpu-features=+avx512f,+avx512bw,+avx512dq,+avx512vnni" \
// RUN:   | FileCheck %s --check-prefix=NONE

// int8 math on VNNI: the key-column score loop prefetches K rows and K
// scale rows, the P x V passes the next tile's V rows.
// PREFETCH-LABEL: func.func private @int8_decode_sdpa_item(
// PREFETCH:         scf.for
// PREFETCH:           memref.prefetch {{.*}}, read, locality<3>, data : memref<1x8x4096x64xi8>
// PREFETCH:           memref.prefetch {{.*}}, read, locality<3>, data : memref<131072xf32>
// PREFETCH:           memref.prefetch {{.*}}, read, locality<3>, data : memref<1x8x4096x64xi8>
// PREFETCH-LABEL: func.func @int8_decode(

// NONE-LABEL: func.func private @int8_decode_sdpa_item(
// NONE-NOT:     memref.prefetch
// NONE-LABEL: func.func @int8_decode(

func.func @int8_decode(%q: tensor<1x32x1x128xf32>,
                       %k: tensor<1x8x4096x128xsi4>, %ks: tensor<1x8x4096x4xf32>,
                       %v: tensor<1x8x4096x128xsi4>, %vs: tensor<1x8x4096x4xf32>)
    -> tensor<1x32x1x128xf32> {
  %init = tensor.empty() : tensor<1x32x1x128xf32>
  %o = quantkv.sdpa q(%q : tensor<1x32x1x128xf32>)
      k(%k : tensor<1x8x4096x128xsi4>) k_scale(%ks : tensor<1x8x4096x4xf32>)
      v(%v : tensor<1x8x4096x128xsi4>) v_scale(%vs : tensor<1x8x4096x4xf32>)
      outs(%init : tensor<1x32x1x128xf32>)
      {key_quant = #quantkv.per_group<[1, 1, 1, 32]>,
       value_quant = #quantkv.per_group<[1, 1, 1, 32]>,
       math_mode = #quantkv.math_mode<int8>}
      : tensor<1x32x1x128xf32>
  return %o : tensor<1x32x1x128xf32>
}

// -----

// f32 math: the per-key score loop prefetches the next tile's K row and this
// tile's V row.
// PREFETCH-LABEL: func.func private @f32_decode_sdpa_item(
// PREFETCH:         scf.for
// PREFETCH:           memref.prefetch {{.*}}, read, locality<3>, data : memref<1x8x4096x64xi8>
// PREFETCH:           memref.prefetch {{.*}}, read, locality<3>, data : memref<1x8x4096x128xi8>
// PREFETCH-LABEL: func.func @f32_decode(

// NONE-LABEL: func.func private @f32_decode_sdpa_item(
// NONE-NOT:     memref.prefetch
// NONE-LABEL: func.func @f32_decode(

func.func @f32_decode(%q: tensor<1x32x1x128xf32>,
                      %k: tensor<1x8x4096x128xsi4>, %ks: tensor<1x8x4096x4xf32>,
                      %v: tensor<1x8x4096x128xsi8>, %vs: tensor<128xf32>)
    -> tensor<1x32x1x128xf32> {
  %init = tensor.empty() : tensor<1x32x1x128xf32>
  %o = quantkv.sdpa q(%q : tensor<1x32x1x128xf32>)
      k(%k : tensor<1x8x4096x128xsi4>) k_scale(%ks : tensor<1x8x4096x4xf32>)
      v(%v : tensor<1x8x4096x128xsi8>) v_scale(%vs : tensor<128xf32>)
      outs(%init : tensor<1x32x1x128xf32>)
      {key_quant = #quantkv.per_group<[1, 1, 1, 32]>,
       value_quant = #quantkv.per_channel<axis = 3>}
      : tensor<1x32x1x128xf32>
  return %o : tensor<1x32x1x128xf32>
}
