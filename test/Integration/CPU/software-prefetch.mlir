// Execution of the decode kernel with and without software prefetch (the
// choice is per core, see CpuTuning.h: both are executed here whatever the
// host), against the reference lowering of the same op. Skv = 1000 is not a
// multiple of the 64-key tile: the prefetches near the end of the cache are
// clamped to its last rows. int8 math at its quantkv-run tolerance
// (1e-3 + 1e-3 |ref|), f32 math at 1e-4.
// REQUIRES: quantkv-run, avx512_vnni
// RUN: quantkv-run %s --entry int8_decode --pipeline "quantkv-lower-to-x86{software-prefetch=on}" --against "" --rtol 1e-3 --atol 1e-3 | FileCheck %s
// RUN: quantkv-run %s --entry int8_decode --pipeline "quantkv-lower-to-x86{software-prefetch=off}" --against "" --rtol 1e-3 --atol 1e-3 | FileCheck %s
// RUN: quantkv-run %s --entry f32_decode --pipeline "quantkv-lower-to-x86{software-prefetch=on}" --against "" | FileCheck %s
// RUN: quantkv-run %s --entry f32_decode --pipeline "quantkv-lower-to-x86{software-prefetch=off}" --against "" | FileCheck %s
// CHECK: PASS
// CHECK: outputs match

func.func @int8_decode(%q: tensor<1x8x1x128xf32>,
                       %k: tensor<1x2x1000x128xsi4>, %ks: tensor<1x2x1000x4xf32>,
                       %v: tensor<1x2x1000x128xsi4>, %vs: tensor<1x2x1000x4xf32>)
    -> tensor<1x8x1x128xf32> {
  %init = tensor.empty() : tensor<1x8x1x128xf32>
  %o = quantkv.sdpa q(%q : tensor<1x8x1x128xf32>)
      k(%k : tensor<1x2x1000x128xsi4>) k_scale(%ks : tensor<1x2x1000x4xf32>)
      v(%v : tensor<1x2x1000x128xsi4>) v_scale(%vs : tensor<1x2x1000x4xf32>)
      outs(%init : tensor<1x8x1x128xf32>)
      {key_quant = #quantkv.per_group<[1, 1, 1, 32]>,
       value_quant = #quantkv.per_group<[1, 1, 1, 32]>,
       math_mode = #quantkv.math_mode<int8>}
      : tensor<1x8x1x128xf32>
  return %o : tensor<1x8x1x128xf32>
}

func.func @f32_decode(%q: tensor<1x8x1x128xf32>,
                      %k: tensor<1x2x1000x128xsi4>, %ks: tensor<1x2x1000x4xf32>,
                      %v: tensor<1x2x1000x128xui8>, %vs: tensor<128xf32>,
                      %vz: tensor<128xui8>) -> tensor<1x8x1x128xf32> {
  %init = tensor.empty() : tensor<1x8x1x128xf32>
  %o = quantkv.sdpa q(%q : tensor<1x8x1x128xf32>)
      k(%k : tensor<1x2x1000x128xsi4>) k_scale(%ks : tensor<1x2x1000x4xf32>)
      v(%v : tensor<1x2x1000x128xui8>) v_scale(%vs : tensor<128xf32>)
      v_zero_point(%vz : tensor<128xui8>)
      outs(%init : tensor<1x8x1x128xf32>)
      {key_quant = #quantkv.per_group<[1, 1, 1, 32]>,
       value_quant = #quantkv.per_channel<axis = 3>,
       causal = #quantkv.causal<bottom_right>}
      : tensor<1x8x1x128xf32>
  return %o : tensor<1x8x1x128xf32>
}
