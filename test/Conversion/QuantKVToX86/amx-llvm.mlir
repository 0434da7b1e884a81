// The AMX variant survives the whole cpu pipeline: LLVM IR with the AMX tile
// intrinsics in @<f>_sdpa_item_amx only, whose "target-features" add AMX to
// the host's, and llc compiles it for a CPU without AMX (cooperlake:
// AVX-512 with BF16 and VNNI, so the host-tuned AVX-512 item compiles too):
// tdpbf16ps for bf16 math, tdpbsud for int8 math.
// The host features are AVX-512 ones here; cooperlake has neither
// AVX512_VBMI nor GFNI, so the kernel is told not to call vpermb and
// vgf2p8affineqb.
// REQUIRES: avx512f
// RUN: quantkv-opt %s --quantkv-cpu-pipeline="enable-amx=true cpu-features=-avx512vbmi,-gfni" \
// RUN:   | mlir-translate --mlir-to-llvmir | FileCheck %s
// RUN: quantkv-opt %s --quantkv-cpu-pipeline="enable-amx=true cpu-features=-avx512vbmi,-gfni" \
// RUN:   | mlir-translate --mlir-to-llvmir \
// RUN:   | llc -O2 -mcpu=cooperlake -o - | FileCheck %s --check-prefix=ASM

// CHECK:       declare i32 @quantkv_cpu_has_amx()
// CHECK-LABEL: define void @sdpa_sdpa_item(
// CHECK-NOT:     @llvm.x86.t
// CHECK-LABEL: define void @sdpa_sdpa_item_amx(
// CHECK-SAME:    #[[AMX:[0-9]+]]
// CHECK:         call x86_amx @llvm.x86.tilezero.internal(i16 2, i16 64)
// CHECK:         call x86_amx @llvm.x86.tileloadd64.internal(i16 2, i16 64,
// CHECK:         call x86_amx @llvm.x86.tileloadd64.internal(i16 16, i16 64,
// CHECK:         call x86_amx @llvm.x86.tdpbf16ps.internal(i16 2, i16 64, i16 64,
// CHECK:         call void @llvm.x86.tilestored64.internal(i16 2, i16 64,
// CHECK-LABEL: define void @sdpa(
// CHECK:         call i32 @quantkv_cpu_has_amx()

// ASM-LABEL: sdpa_sdpa_item:
// ASM-NOT:     {{tdpbf16ps|ldtilecfg}}
// ASM-LABEL: sdpa_sdpa_item_amx:
// ASM:         ldtilecfg
// ASM:         tileloadd
// ASM:         tdpbf16ps
// ASM:         tilestored
// ASM:         tilerelease
// ASM-LABEL: sdpa:
func.func @sdpa(%q: tensor<1x4x1x64xf32>, %k: tensor<1x2x256x64xsi4>,
                %ks: tensor<1x2x256x2xf32>, %v: tensor<1x2x256x64xsi4>,
                %vs: tensor<1x2x256x2xf32>) -> tensor<1x4x1x64xf32> {
  %init = tensor.empty() : tensor<1x4x1x64xf32>
  %o = quantkv.sdpa q(%q : tensor<1x4x1x64xf32>)
      k(%k : tensor<1x2x256x64xsi4>) k_scale(%ks : tensor<1x2x256x2xf32>)
      v(%v : tensor<1x2x256x64xsi4>) v_scale(%vs : tensor<1x2x256x2xf32>)
      outs(%init : tensor<1x4x1x64xf32>)
      {key_quant = #quantkv.per_group<[1, 1, 1, 32]>,
       value_quant = #quantkv.per_group<[1, 1, 1, 32]>,
       math_mode = #quantkv.math_mode<bf16>}
      : tensor<1x4x1x64xf32>
  return %o : tensor<1x4x1x64xf32>
}

// int8 math with per-token K scales: tdpbsud (s8 Q, u8 K).
// CHECK-LABEL: define void @int8_sdpa_item_amx(
// CHECK-SAME:    #[[AMX]]
// CHECK:         call x86_amx @llvm.x86.tdpbsud.internal(i16 2, i16 64, i16 64,
// CHECK:       attributes #[[AMX]] = { "target-features"="{{.*}}+avx512f,{{.*}}+amx-tile,+amx-bf16,+amx-int8" }
// ASM-LABEL: int8_sdpa_item_amx:
// ASM:         tdpbsud
func.func @int8(%q: tensor<1x4x1x64xf32>, %k: tensor<1x2x256x64xsi8>,
                %ks: tensor<1x2x256x1xf32>, %v: tensor<1x2x256x64xsi8>,
                %vs: tensor<1x2x256x1xf32>) -> tensor<1x4x1x64xf32> {
  %init = tensor.empty() : tensor<1x4x1x64xf32>
  %o = quantkv.sdpa q(%q : tensor<1x4x1x64xf32>)
      k(%k : tensor<1x2x256x64xsi8>) k_scale(%ks : tensor<1x2x256x1xf32>)
      v(%v : tensor<1x2x256x64xsi8>) v_scale(%vs : tensor<1x2x256x1xf32>)
      outs(%init : tensor<1x4x1x64xf32>)
      {key_quant = #quantkv.per_group<[1, 1, 1, 64]>,
       value_quant = #quantkv.per_group<[1, 1, 1, 64]>,
       math_mode = #quantkv.math_mode<int8>}
      : tensor<1x4x1x64xf32>
  return %o : tensor<1x4x1x64xf32>
}
