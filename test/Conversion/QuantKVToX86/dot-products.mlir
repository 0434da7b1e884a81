// The dot-product instructions: int8 math contracts Q with the integer K and
// P with the integer V through vpdpbusd, bf16 math Q.K through vdpbf16ps.
// The JIT compiles for the host, so the pass asks the host which ones exist;
// cpu-features states them here, so the test does not depend on the host.
// Without AVX512_VBMI and GFNI the kernel does not call vpermb or
// vgf2p8affineqb (generic shuffles and shifts instead).
// RUN: quantkv-opt %s --quantkv-lower-to-x86="cpu-features=+avx512vnni,+avx512bf16,+avx512vbmi,+gfni" --split-input-file | FileCheck %s
// RUN: quantkv-opt %s --quantkv-lower-to-x86="cpu-features=+avx512vnni,+avx512bf16,-avx512vbmi,-gfni" --split-input-file | FileCheck %s --check-prefix=FALLBACK

// FALLBACK-NOT: llvm.x86.vgf2p8affineqb
// FALLBACK-NOT: llvm.x86.avx512.permvar.qi.512
// FALLBACK:     llvm.call_intrinsic "llvm.x86.avx512.vpdpbusd.512"
// FALLBACK-NOT: llvm.x86.vgf2p8affineqb
// FALLBACK-NOT: llvm.x86.avx512.permvar.qi.512
// The high nibble plane is a word shift and a byte mask (an i8 shift would
// become vgf2p8affineqb again in LLVM wherever the target has GFNI).
// FALLBACK-LABEL: func.func private @int8_sdpa_item(
// FALLBACK-NOT: llvm.x86.vgf2p8affineqb
// FALLBACK:     arith.shrui {{.*}} : vector<32xi16>
// FALLBACK-NOT: llvm.x86.vgf2p8affineqb
// FALLBACK-NOT: llvm.x86.avx512.permvar.qi.512

// The intrinsics are called through private helpers (immediate operands are
// materialized inside them).
// CHECK-DAG:   llvm.call_intrinsic "llvm.x86.avx512.vpdpbusd.512"
// CHECK-DAG:   llvm.call_intrinsic "llvm.x86.vgf2p8affineqb.512"
// CHECK-DAG:   llvm.call_intrinsic "llvm.x86.avx512.permvar.qi.512"
// CHECK-DAG:   llvm.call_intrinsic "llvm.x86.avx512.mask.range.ps.512"
// CHECK-DAG:   llvm.call_intrinsic "llvm.x86.avx512.mask.cvtps2dq.512"
// CHECK-DAG:   llvm.call_intrinsic "llvm.x86.avx512.packssdw.512"
// CHECK-DAG:   llvm.call_intrinsic "llvm.x86.avx512.packsswb.512"
// CHECK-DAG:   llvm.call_intrinsic "llvm.x86.avx512.mask.scalef.ps.512"
// CHECK-LABEL: func.func private @int8_sdpa_item(
// Q is quantized per row to s8 (round half to even, clamp to +-127), and
// each 128-element chunk is stored as its even then its odd elements (the
// nibble planes of int4 K).
// CHECK:         math.roundeven
// CHECK:         arith.fptosi {{.*}} : vector<16xf32> to vector<16xi8>
// CHECK:         vector.shuffle {{.*}} [0, 2, 4, 6, {{.*}} : vector<128xi8>, vector<128xi8>
// Scores, 16 keys at a time: the per-token group scales of 16 keys are one
// masked load, the 16 packed K rows are transposed at dword granularity in
// registers, split into nibble planes (and/xor, vgf2p8affineqb: no int4 ->
// i8 interleave) and contracted with vpdpbusd; no f32 dequantized K.
// CHECK:         scf.for {{.*}} step %c64 {
// CHECK:           scf.for {{.*}} step %c16 {
// CHECK:             vector.maskedload {{.*}} into vector<64xf32>
// The s8 Q dwords are addressed with a zero LLVM cannot see through (an
// empty inline asm of the key index): loads in the loop become vpdpbusd's
// {1to16} operands instead of hoisted broadcasts that spill.
// CHECK:             %[[J:.+]] = arith.index_cast %[[KEY:.+]] : index to i64
// CHECK-NEXT:        %[[SAME:.+]] = llvm.inline_asm "", "=r,0" %[[J]] : (i64) -> i64
// CHECK-NEXT:        %[[DIFF:.+]] = arith.subi %[[SAME]], %[[J]] : i64
// CHECK-NEXT:        %[[ZERO:.+]] = arith.index_cast %[[DIFF]] : i64 to index
// CHECK:             %[[K:.+]] = vector.load %arg2{{.*}} : memref<1x8x512x64xi8>, vector<64xi8>
// CHECK-NEXT:        vector.bitcast %[[K]] : vector<64xi8> to vector<16xi32>
// CHECK:             vector.shuffle {{.*}} : vector<16xi32>, vector<16xi32>
// CHECK-NOT:         arith.sitofp {{.*}} : vector<16xi8> to vector<16xf32>
// CHECK:             arith.andi {{.*}} : vector<64xi8>
// CHECK:             llvm.call @__quantkv_gf2p8_shr4_xor8_512(
// CHECK:             %[[QI:.+]] = arith.addi %[[ZERO]], %c{{[0-9]+}} : index
// CHECK-NEXT:        vector.load %{{.+}}[%c0, %[[QI]]] : memref<4x128xi8>, vector<4xi8>
// CHECK:             llvm.call @__quantkv_vpdpbusd_512(
// The group scale multiplies the i32 partial dot of the group.
// CHECK:             arith.sitofp {{.*}} : vector<16xi32> to vector<16xf32>
// CHECK:             arith.mulf
// The softmax of the block: P = e^{s - m}, its power of two applied by
// vscalefps.
// CHECK:           llvm.call @__quantkv_vscalefps_512(
// P is quantized per row and V scale group (max |p s| by vrangeps, rounding
// by vcvtps2dq) and its two s8 halves are packed 64 keys at a time.
// CHECK:           llvm.call @__quantkv_vrangeps_512(
// CHECK:           llvm.call @__quantkv_vcvtps2dq_512(
// CHECK:           llvm.call @__quantkv_vpackssdw_512(
// CHECK:           llvm.call @__quantkv_vpacksswb_512(
// P x V on VNNI: 4 V rows are transposed bytewise in registers (the four
// 16-byte slices of a column, one vpermb) and their nibble planes multiply
// the broadcast P halves; the i32 tile sums are folded into the f32
// accumulators after the loop.
// CHECK:           scf.for {{.*}} -> (vector<16xi32>, vector<16xi32>,
// CHECK-COUNT-4:     vector.load %arg4{{.*}} : memref<1x8x512x64xi8>, vector<16xi8>
// CHECK:             llvm.call @__quantkv_vpermb_512(
// CHECK:             llvm.call @__quantkv_vpdpbusd_512(
// CHECK:           arith.shli {{.*}} : vector<16xi32>
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

// -----

// A per-channel int4 K scale is folded into Q (Q' = q s, exact algebra) and Q' is
// carried to vpdpbusd as 21 bits in three s8 parts per row (w >> 14, w >> 7
// and w, the lower two masked to 7 bits); the scores take the same 16-key
// transposed-K loop, combine the upper parts in i32 (128 top + mid) and the
// low part by one f32 fma. No f32 K, no per-key scale: the zero point stays
// the f32 per-row bias.
// CHECK-LABEL: func.func private @int8_per_channel_sdpa_item(
// CHECK:         %[[Q:.+]] = memref.alloca() {{.*}} : memref<3x128xi8>
// CHECK:         math.roundeven
// CHECK:         arith.fptosi {{.*}} : vector<16xf32> to vector<16xi32>
// CHECK:         arith.shrsi {{.*}} : vector<16xi32>
// CHECK:         arith.shrsi {{.*}} : vector<16xi32>
// CHECK:         vector.store {{.*}}, %[[Q]][%c0, %c0] : memref<3x128xi8>, vector<16xi8>
// CHECK:         vector.store {{.*}}, %[[Q]][%c1, %c0] : memref<3x128xi8>, vector<16xi8>
// CHECK:         vector.store {{.*}}, %[[Q]][%c2, %c0] : memref<3x128xi8>, vector<16xi8>
// CHECK:         scf.for {{.*}} step %c64 {
// CHECK:           scf.for {{.*}} step %c16 {
// CHECK-NOT:         vector.maskedload
// CHECK-NOT:         vector.fma
// CHECK:             vector.load %arg2{{.*}} : memref<1x1x256x64xi8>, vector<64xi8>
// CHECK-NOT:         vector.fma
// CHECK:             llvm.call @__quantkv_gf2p8_shr4_512(
// CHECK-NOT:         vector.fma
// CHECK:             llvm.call @__quantkv_vpdpbusd_512(
// CHECK-NOT:         vector.fma
// CHECK:             arith.shli {{.*}} : vector<16xi32>
// CHECK:             arith.sitofp {{.*}} : vector<16xi32> to vector<16xf32>
// CHECK:             arith.sitofp {{.*}} : vector<16xi32> to vector<16xf32>
// CHECK-NEXT:        vector.fma
// CHECK:           arith.subf {{.*}} : vector<16xf32>
func.func @int8_per_channel(%q: tensor<1x1x1x128xf32>, %k: tensor<1x1x256x128xui4>,
                            %ks: tensor<128xf32>, %kz: tensor<128xui8>,
                            %v: tensor<1x1x256x128xsi8>,
                            %vs: tensor<1x1x256x1xf32>) -> tensor<1x1x1x128xf32> {
  %init = tensor.empty() : tensor<1x1x1x128xf32>
  %o = quantkv.sdpa q(%q : tensor<1x1x1x128xf32>)
      k(%k : tensor<1x1x256x128xui4>) k_scale(%ks : tensor<128xf32>)
      k_zero_point(%kz : tensor<128xui8>)
      v(%v : tensor<1x1x256x128xsi8>) v_scale(%vs : tensor<1x1x256x1xf32>)
      outs(%init : tensor<1x1x1x128xf32>)
      {key_quant = #quantkv.per_channel<axis = 3>,
       value_quant = #quantkv.per_group<[1, 1, 1, 128]>,
       math_mode = #quantkv.math_mode<int8>}
      : tensor<1x1x1x128xf32>
  return %o : tensor<1x1x1x128xf32>
}

// -----

// int8 K with a per-channel scale keeps the f32 scores (its unpack is one
// sign extension; three s8 parts of Q' measured slower): no Q' parts.
// CHECK-LABEL: func.func private @int8_per_channel_s8_sdpa_item(
// CHECK-NOT:     memref<3x128xi8>
// CHECK:         scf.for {{.*}} step %c64 {
// CHECK:           scf.for {{.*}} step %c8 {
// CHECK:             arith.sitofp {{.*}} : vector<16xi8> to vector<16xf32>
// CHECK:             vector.fma
func.func @int8_per_channel_s8(%q: tensor<1x1x1x128xf32>, %k: tensor<1x1x256x128xsi8>,
                               %ks: tensor<128xf32>, %v: tensor<1x1x256x128xsi8>,
                               %vs: tensor<1x1x256x1xf32>) -> tensor<1x1x1x128xf32> {
  %init = tensor.empty() : tensor<1x1x1x128xf32>
  %o = quantkv.sdpa q(%q : tensor<1x1x1x128xf32>)
      k(%k : tensor<1x1x256x128xsi8>) k_scale(%ks : tensor<128xf32>)
      v(%v : tensor<1x1x256x128xsi8>) v_scale(%vs : tensor<1x1x256x1xf32>)
      outs(%init : tensor<1x1x1x128xf32>)
      {key_quant = #quantkv.per_channel<axis = 3>,
       value_quant = #quantkv.per_group<[1, 1, 1, 128]>,
       math_mode = #quantkv.math_mode<int8>}
      : tensor<1x1x1x128xf32>
  return %o : tensor<1x1x1x128xf32>
}
