// The vdpbf16ps variant of the prefill kernel (bf16 math): Q^T, K', P^T and
// V' are stored as bf16 pairs in i32 lanes (Q and K' pair along D, P and V'
// pair consecutive keys), both products are x86vector.avx512.dot, and the
// softmax scale multiplies the scores. Chosen per core (option cpu): on for
// Zen 4, where vdpbf16ps issues at the FMA rate; off for Sapphire Rapids,
// where it issues at a quarter of it. prefill-bf16-dot=on|off overrides.
// REQUIRES: avx512_bf16
// RUN: quantkv-opt %s --quantkv-lower-to-x86="prefill-bf16-dot=on" \
// RUN:   | FileCheck %s --implicit-check-not=memref.alloc
// RUN: quantkv-opt %s --quantkv-lower-to-x86="cpu=znver4" \
// RUN:   | FileCheck %s --implicit-check-not=memref.alloc
// RUN: quantkv-opt %s --quantkv-lower-to-x86="cpu=sapphirerapids" \
// RUN:   | FileCheck %s --check-prefix=FMA
// RUN: quantkv-opt %s --quantkv-lower-to-x86="cpu=znver4 prefill-bf16-dot=off" \
// RUN:   | FileCheck %s --check-prefix=FMA

// CHECK-LABEL: func.func private @dot_sdpa_prefill(
// CHECK:         memref.alloca() {{.*}} : memref<32x48xi32>
// CHECK:         memref.alloca() {{.*}} : memref<64x32xi32>
// CHECK:         memref.alloca() {{.*}} : memref<32x64xi32>
// CHECK:         memref.alloca() {{.*}} : memref<32x48xi32>
// CHECK:         memref.alloca() {{.*}} : memref<64x48xf32>
// CHECK:         memref.alloca() {{.*}} : memref<48x64xf32>
// CHECK:         memref.alloca() {{.*}} : memref<4x48xf32>
// CHECK:         memref.alloca() {{.*}} : memref<64xf32>
// CHECK:         memref.alloca() {{.*}} : memref<64xf32>
// CHECK:         scf.for {{.*}} iter_args
// CHECK:           vector.bitcast {{.*}} : vector<16xi32> to vector<32xbf16>
// CHECK:           x86vector.avx512.dot {{.*}} : vector<32xbf16> -> vector<16xf32>
// CHECK:         scf.for {{.*}} iter_args
// CHECK:           x86vector.avx512.dot {{.*}} : vector<32xbf16> -> vector<16xf32>
// CHECK-LABEL: func.func @dot(
// CHECK:         memref.alloc(){{.*}}: memref<1x2x40x64xf32>

// FMA-LABEL: func.func private @dot_sdpa_prefill(
// FMA-NOT:     x86vector.avx512.dot
// FMA:         vector.fma
// FMA-NOT:     x86vector.avx512.dot
// FMA-LABEL: func.func @dot(

func.func @dot(%q: tensor<1x2x40x64xf32>, %k: tensor<1x1x70x64xsi4>,
               %ks: tensor<1x1x70x2xf32>, %v: tensor<1x1x70x64xsi4>,
               %vs: tensor<1x1x70x2xf32>) -> tensor<1x2x40x64xf32> {
  %init = tensor.empty() : tensor<1x2x40x64xf32>
  %o = quantkv.sdpa q(%q : tensor<1x2x40x64xf32>)
      k(%k : tensor<1x1x70x64xsi4>) k_scale(%ks : tensor<1x1x70x2xf32>)
      v(%v : tensor<1x1x70x64xsi4>) v_scale(%vs : tensor<1x1x70x2xf32>)
      outs(%init : tensor<1x2x40x64xf32>)
      {key_quant = #quantkv.per_group<[1, 1, 1, 32]>,
       value_quant = #quantkv.per_group<[1, 1, 1, 32]>,
       causal = #quantkv.causal<top_left>,
       math_mode = #quantkv.math_mode<bf16>}
      : tensor<1x2x40x64xf32>
  return %o : tensor<1x2x40x64xf32>
}
