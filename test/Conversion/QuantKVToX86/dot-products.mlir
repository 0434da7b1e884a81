// The host's dot-product instructions: int8 math contracts Q with the integer
// K through vpdpbusd, bf16 math through vdpbf16ps (the JIT compiles for the
// host, so the pass asks the host which ones exist).
// REQUIRES: avx512_vnni, avx512_bf16
// RUN: quantkv-opt %s --quantkv-lower-to-x86 --split-input-file | FileCheck %s

// CHECK-LABEL: llvm.func internal @__quantkv_vpdpbusd_512(
// CHECK:         llvm.call_intrinsic "llvm.x86.avx512.vpdpbusd.512"
// CHECK-LABEL: func.func private @int8_sdpa_item(
// Q is quantized per row to s8 (round half to even, clamp to +-127).
// CHECK:         math.roundeven
// CHECK:         arith.fptosi {{.*}} : vector<16xf32> to vector<16xi8>
// Signed int4 K gets the +8 bias by flipping each nibble's top bit, and is
// widened to u8 in registers, never to f32.
// CHECK:         scf.for
// CHECK:           %[[P:.+]] = vector.load {{.*}} : memref<1x8x512x64xi8>, vector<64xi8>
// CHECK:           arith.xori %[[P]]
// CHECK-NOT:       arith.sitofp {{.*}} : vector<16xi8> to vector<16xf32>
// CHECK:           llvm.call @__quantkv_vpdpbusd_512(
// The group scale multiplies the lane sums after the partial dot products.
// CHECK:           arith.sitofp {{.*}} : vector<16xi32> to vector<16xf32>
// CHECK:           vector.fma
func.func @int8(%q: tensor<1x32x1x128xf32>, %k: tensor<1x8x512x128xsi4>,
                %ks: tensor<1x8x512x4xf32>, %v: tensor<1x8x512x128xsi4>,
                %vs: tensor<1x8x512x4xf32>) -> tensor<1x32x1x128xf32> {
  %init = tensor.empty() : tensor<1x32x1x128xf32>
  %o = quantkv.sdpa q(%q : tensor<1x32x1x128xf32>)
      k(%k : tensor<1x8x512x128xsi4>) k_scale(%ks : tensor<1x8x512x4xf32>)
      v(%v : tensor<1x8x512x128xsi4>) v_scale(%vs : tensor<1x8x512x4xf32>)
      outs(%init : tensor<1x32x1x128xf32>)
      {key_quant = #quantkv.per_group<[1, 1, 1, 32]>,
       value_quant = #quantkv.per_group<[1, 1, 1, 32]>,
       math_mode = #quantkv.math_mode<int8>}
      : tensor<1x32x1x128xf32>
  return %o : tensor<1x32x1x128xf32>
}

// -----

// CHECK-LABEL: func.func private @bf16_sdpa_item(
// CHECK:         scf.for
// CHECK:           arith.truncf {{.*}} : vector<32xf32> to vector<32xbf16>
// CHECK:           x86vector.avx512.dot {{.*}} : vector<32xbf16> -> vector<16xf32>
func.func @bf16(%q: tensor<1x32x1x128xf32>, %k: tensor<1x8x512x128xsi4>,
                %ks: tensor<1x8x512x4xf32>, %v: tensor<1x8x512x128xsi4>,
                %vs: tensor<1x8x512x4xf32>) -> tensor<1x32x1x128xf32> {
  %init = tensor.empty() : tensor<1x32x1x128xf32>
  %o = quantkv.sdpa q(%q : tensor<1x32x1x128xf32>)
      k(%k : tensor<1x8x512x128xsi4>) k_scale(%ks : tensor<1x8x512x4xf32>)
      v(%v : tensor<1x8x512x128xsi4>) v_scale(%vs : tensor<1x8x512x4xf32>)
      outs(%init : tensor<1x32x1x128xf32>)
      {key_quant = #quantkv.per_group<[1, 1, 1, 32]>,
       value_quant = #quantkv.per_group<[1, 1, 1, 32]>,
       math_mode = #quantkv.math_mode<bf16>}
      : tensor<1x32x1x128xf32>
  return %o : tensor<1x32x1x128xf32>
}
