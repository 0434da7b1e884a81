// Configurations the fused kernel does not take go through the reference
// patterns in the same pass: never an error, never a partial kernel. So does
// every configuration on a CPU without AVX-512.
// RUN: quantkv-opt %s --quantkv-lower-to-x86="cpu-features=+avx512f,+avx512bw,+avx512dq" --split-input-file | FileCheck %s
// RUN: quantkv-opt %s --quantkv-lower-to-x86="cpu-features=-avx512f" --split-input-file | FileCheck %s --check-prefix=NOAVX512

// K stored as [B, Hkv, D, Skv].
// CHECK-LABEL: func.func @bds(
// CHECK-NOT:     scf.parallel
// CHECK:         linalg.
// CHECK-NOT:     quantkv.
func.func @bds(%q: tensor<1x2x1x32xf32>, %k: tensor<1x1x32x16xsi8>,
               %ks: tensor<32xf32>, %v: tensor<1x1x16x32xf32>)
    -> tensor<1x2x1x32xf32> {
  %init = tensor.empty() : tensor<1x2x1x32xf32>
  %o = quantkv.sdpa q(%q : tensor<1x2x1x32xf32>)
      k(%k : tensor<1x1x32x16xsi8>) k_scale(%ks : tensor<32xf32>)
      v(%v : tensor<1x1x16x32xf32>) outs(%init : tensor<1x2x1x32xf32>)
      {key_quant = #quantkv.per_channel<axis = 2>,
       key_layout = #quantkv.k_layout<bds>} : tensor<1x2x1x32xf32>
  return %o : tensor<1x2x1x32xf32>
}

// -----

// A head dim that is not a multiple of the vector width.
// CHECK-LABEL: func.func @odd_head_dim(
// CHECK-NOT:     scf.parallel
// CHECK:         linalg.
// CHECK-NOT:     quantkv.
func.func @odd_head_dim(%q: tensor<1x1x1x24xf32>, %k: tensor<1x1x8x24xf32>,
                        %v: tensor<1x1x8x24xf32>) -> tensor<1x1x1x24xf32> {
  %init = tensor.empty() : tensor<1x1x1x24xf32>
  %o = quantkv.sdpa q(%q : tensor<1x1x1x24xf32>) k(%k : tensor<1x1x8x24xf32>)
      v(%v : tensor<1x1x8x24xf32>) outs(%init : tensor<1x1x1x24xf32>)
      : tensor<1x1x1x24xf32>
  return %o : tensor<1x1x1x24xf32>
}

// -----

// A decode the kernel takes, unless the CPU lacks AVX-512.
// CHECK-LABEL:    func.func @decode(
// CHECK:            scf.parallel
// NOAVX512-LABEL: func.func @decode(
// NOAVX512-NOT:     scf.parallel
// NOAVX512:         linalg.
// NOAVX512-NOT:     quantkv.
func.func @decode(%q: tensor<1x4x1x64xf32>, %k: tensor<1x2x256x64xsi4>,
                  %ks: tensor<1x2x256x2xf32>, %v: tensor<1x2x256x64xsi4>,
                  %vs: tensor<1x2x256x2xf32>) -> tensor<1x4x1x64xf32> {
  %init = tensor.empty() : tensor<1x4x1x64xf32>
  %o = quantkv.sdpa q(%q : tensor<1x4x1x64xf32>)
      k(%k : tensor<1x2x256x64xsi4>) k_scale(%ks : tensor<1x2x256x2xf32>)
      v(%v : tensor<1x2x256x64xsi4>) v_scale(%vs : tensor<1x2x256x2xf32>)
      outs(%init : tensor<1x4x1x64xf32>)
      {key_quant = #quantkv.per_group<[1, 1, 1, 32]>,
       value_quant = #quantkv.per_group<[1, 1, 1, 32]>}
      : tensor<1x4x1x64xf32>
  return %o : tensor<1x4x1x64xf32>
}
