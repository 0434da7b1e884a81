// enable-amx emits a second work item, @<f>_sdpa_item_amx, whose Q.K scores
// are AMX bf16 tile multiplies, and a run-time choice between the two loops
// (quantkv_cpu_has_amx). Configurations AMX does not apply to get no variant.
// RUN: quantkv-opt %s --quantkv-lower-to-x86="enable-amx=true target-parallelism=32" --split-input-file | FileCheck %s
// RUN: quantkv-opt %s --quantkv-lower-to-x86="target-parallelism=32" --split-input-file \
// RUN:   | FileCheck %s --check-prefix=NOAMX --implicit-check-not=_sdpa_item_amx \
// RUN:       --implicit-check-not=quantkv_cpu_has_amx --implicit-check-not=amx.tile

// CHECK-LABEL: func.func private @quantkv_cpu_has_amx() -> i32
// The AVX-512 item has no tiles.
// CHECK-LABEL: func.func private @gqa_sdpa_item(
// CHECK-NOT:     amx.
// AMX item: host features plus AMX, K tile scattered into the bf16 pair
// layout [D/2][kvTile x 2], one rowBlock x 16 f32 C tile per 16 keys, four
// 32-element chunks of D = 128.
// CHECK-LABEL: func.func private @gqa_sdpa_item_amx(
// CHECK-SAME:    target_features = #llvm.target_features<[{{.*}}"+amx-tile", "+amx-bf16", "+amx-int8"]>
// CHECK-DAG:     %[[PAIRS:.+]] = memref.view %{{.+}} : memref<16384xi8> to memref<4096xi32>
// CHECK-DAG:     %[[ROWS:.+]] = memref.view %{{.+}} : memref<16384xi8> to memref<64x128xbf16>
// CHECK:         vector.scatter %[[PAIRS]]
// CHECK:         amx.tile_zero : !amx.tile<4x16xf32>
// CHECK-COUNT-4: amx.tile_mulf {{.*}} : !amx.tile<4x32xbf16>, !amx.tile<16x32xbf16>, !amx.tile<4x16xf32>
// CHECK:         amx.tile_store {{.*}} : memref<4x64xf32>, !amx.tile<4x16xf32>
// CHECK-LABEL: func.func private @gqa_sdpa_merge(
// CHECK-NOT:     amx.
// Dispatch: asked once, one parallel loop per variant.
// CHECK-LABEL: func.func @gqa(
// CHECK:         %[[HAS:.+]] = call @quantkv_cpu_has_amx() : () -> i32
// CHECK:         %[[USE:.+]] = arith.cmpi ne, %[[HAS]], %{{.+}} : i32
// CHECK:         scf.if %[[USE]] {
// CHECK:           scf.parallel
// CHECK:             func.call @gqa_sdpa_item_amx(
// CHECK:         } else {
// CHECK:           scf.parallel
// CHECK:             func.call @gqa_sdpa_item(
// CHECK:       scf.parallel
// CHECK:         func.call @gqa_sdpa_merge(

// NOAMX-LABEL: func.func private @gqa_sdpa_item(
// NOAMX-LABEL: func.func @gqa(
// NOAMX:         scf.parallel
// NOAMX:           func.call @gqa_sdpa_item(
func.func @gqa(%q: tensor<1x32x1x128xf32>, %k: tensor<1x8x512x128xsi4>,
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

// A block of 8 query rows (Sq = 8, below the prefill kernel's threshold),
// D = 64: two D chunks per C tile.
// CHECK-LABEL: func.func private @prefill_sdpa_item_amx(
// CHECK:         memref.view {{.*}} to memref<32x128xbf16>
// CHECK:         amx.tile_zero : !amx.tile<8x16xf32>
// CHECK-COUNT-2: amx.tile_mulf {{.*}} : !amx.tile<8x32xbf16>, !amx.tile<16x32xbf16>, !amx.tile<8x16xf32>
// CHECK-NOT:     amx.tile_mulf
// CHECK:         amx.tile_store
// CHECK-LABEL: func.func @prefill(
// CHECK:         call @quantkv_cpu_has_amx()
// NOAMX-LABEL: func.func @prefill(
func.func @prefill(%q: tensor<1x4x8x64xf32>, %k: tensor<1x4x128x64xsi8>,
                   %ks: tensor<1x4x128x1xf32>, %v: tensor<1x4x128x64xsi8>,
                   %vs: tensor<1x4x128x1xf32>) -> tensor<1x4x8x64xf32> {
  %init = tensor.empty() : tensor<1x4x8x64xf32>
  %o = quantkv.sdpa q(%q : tensor<1x4x8x64xf32>)
      k(%k : tensor<1x4x128x64xsi8>) k_scale(%ks : tensor<1x4x128x1xf32>)
      v(%v : tensor<1x4x128x64xsi8>) v_scale(%vs : tensor<1x4x128x1xf32>)
      outs(%init : tensor<1x4x8x64xf32>)
      {key_quant = #quantkv.per_group<[1, 1, 1, 64]>,
       value_quant = #quantkv.per_group<[1, 1, 1, 64]>,
       causal = #quantkv.causal<bottom_right>,
       math_mode = #quantkv.math_mode<bf16>}
      : tensor<1x4x8x64xf32>
  return %o : tensor<1x4x8x64xf32>
}

// -----

// Sq = 16 takes the dedicated prefill kernel, which has no AMX variant (its
// scores are a register-blocked f32 GEMM): no AMX function, no query.
// CHECK-LABEL: // -----
// CHECK-NOT:   quantkv_cpu_has_amx
// CHECK-NOT:   amx.
// CHECK-LABEL: func.func @prefill_kernel(
// CHECK-NOT:   quantkv_cpu_has_amx
// NOAMX-LABEL: func.func @prefill_kernel(
func.func @prefill_kernel(%q: tensor<1x4x16x64xf32>, %k: tensor<1x4x128x64xsi8>,
                   %ks: tensor<1x4x128x1xf32>, %v: tensor<1x4x128x64xsi8>,
                   %vs: tensor<1x4x128x1xf32>) -> tensor<1x4x16x64xf32> {
  %init = tensor.empty() : tensor<1x4x16x64xf32>
  %o = quantkv.sdpa q(%q : tensor<1x4x16x64xf32>)
      k(%k : tensor<1x4x128x64xsi8>) k_scale(%ks : tensor<1x4x128x1xf32>)
      v(%v : tensor<1x4x128x64xsi8>) v_scale(%vs : tensor<1x4x128x1xf32>)
      outs(%init : tensor<1x4x16x64xf32>)
      {key_quant = #quantkv.per_group<[1, 1, 1, 64]>,
       value_quant = #quantkv.per_group<[1, 1, 1, 64]>,
       causal = #quantkv.causal<bottom_right>,
       math_mode = #quantkv.math_mode<bf16>}
      : tensor<1x4x16x64xf32>
  return %o : tensor<1x4x16x64xf32>
}

// -----

// f32 math is not what the tile multiplies compute: no AMX variant, no
// query.
// CHECK-LABEL: // -----
// CHECK-NOT:   quantkv_cpu_has_amx
// CHECK-NOT:   amx.
// CHECK-LABEL: func.func @strict(
// CHECK-NOT:   quantkv_cpu_has_amx
// NOAMX-LABEL: func.func @strict(
func.func @strict(%q: tensor<1x32x1x128xf32>, %k: tensor<1x8x512x128xsi4>,
                  %ks: tensor<1x8x512x4xf32>, %v: tensor<1x8x512x128xsi4>,
                  %vs: tensor<1x8x512x4xf32>) -> tensor<1x32x1x128xf32> {
  %init = tensor.empty() : tensor<1x32x1x128xf32>
  %o = quantkv.sdpa q(%q : tensor<1x32x1x128xf32>)
      k(%k : tensor<1x8x512x128xsi4>) k_scale(%ks : tensor<1x8x512x4xf32>)
      v(%v : tensor<1x8x512x128xsi4>) v_scale(%vs : tensor<1x8x512x4xf32>)
      outs(%init : tensor<1x32x1x128xf32>)
      {key_quant = #quantkv.per_group<[1, 1, 1, 32]>,
       value_quant = #quantkv.per_group<[1, 1, 1, 32]>}
      : tensor<1x32x1x128xf32>
  return %o : tensor<1x32x1x128xf32>
}

// -----

// int8 math with one K scale per token: u8 + bias K in the quad layout
// [D/4][kvTile x 4], tdpbsud (s8 Q rows, zero-extended K) into i32 C tiles,
// then the per-key scale and zero-point correction.
// CHECK-LABEL: // -----
// CHECK-LABEL: func.func private @int8_sdpa_item_amx(
// CHECK-DAG:     memref.view {{.*}} : memref<4096xi8> to memref<1024xi32>
// CHECK-DAG:     memref.view {{.*}} : memref<4096xi8> to memref<16x256xi8>
// CHECK-DAG:     memref.alloca() {{.*}} : memref<4x64xi32>
// CHECK:         arith.xori {{.*}} : vector<64xi8>
// CHECK:         vector.scatter
// CHECK:         amx.tile_zero : !amx.tile<4x16xi32>
// CHECK:         amx.tile_muli %{{.+}}, %{{.+}} zext, %{{.+}} : !amx.tile<4x64xi8>, !amx.tile<16x64xi8>, !amx.tile<4x16xi32>
// CHECK-NOT:     amx.tile_muli
// CHECK:         amx.tile_store {{.*}} : memref<4x64xi32>, !amx.tile<4x16xi32>
// CHECK:         arith.sitofp {{.*}} : vector<16xi32> to vector<16xf32>
// CHECK-LABEL: func.func @int8(
// CHECK:         call @quantkv_cpu_has_amx()
// A head dim that is not a multiple of 32 (a bf16 A tile row is 32
// elements) gets no AMX variant, nor does int8 math with a token-invariant K
// scale (folded into Q, which is then no longer integer).
// CHECK-LABEL: // -----
// CHECK-NOT:   quantkv_cpu_has_amx
// CHECK-NOT:   amx.
// CHECK-LABEL: func.func @d48(
// CHECK-NOT:   quantkv_cpu_has_amx
// CHECK-NOT:   amx.
// CHECK-LABEL: func.func @int8_per_channel(
// CHECK-NOT:   quantkv_cpu_has_amx
// NOAMX-LABEL: func.func @int8(
// NOAMX-LABEL: func.func @d48(
// NOAMX-LABEL: func.func @int8_per_channel(
func.func @int8(%q: tensor<1x8x1x64xf32>, %k: tensor<1x2x256x64xsi8>,
                %ks: tensor<1x2x256x1xf32>, %v: tensor<1x2x256x64xsi8>,
                %vs: tensor<1x2x256x1xf32>) -> tensor<1x8x1x64xf32> {
  %init = tensor.empty() : tensor<1x8x1x64xf32>
  %o = quantkv.sdpa q(%q : tensor<1x8x1x64xf32>)
      k(%k : tensor<1x2x256x64xsi8>) k_scale(%ks : tensor<1x2x256x1xf32>)
      v(%v : tensor<1x2x256x64xsi8>) v_scale(%vs : tensor<1x2x256x1xf32>)
      outs(%init : tensor<1x8x1x64xf32>)
      {key_quant = #quantkv.per_group<[1, 1, 1, 64]>,
       value_quant = #quantkv.per_group<[1, 1, 1, 64]>,
       math_mode = #quantkv.math_mode<int8>}
      : tensor<1x8x1x64xf32>
  return %o : tensor<1x8x1x64xf32>
}

// -----

func.func @d48(%q: tensor<1x8x1x48xf32>, %k: tensor<1x2x256x48xsi8>,
               %ks: tensor<1x2x256x1xf32>, %v: tensor<1x2x256x48xsi8>,
               %vs: tensor<1x2x256x1xf32>) -> tensor<1x8x1x48xf32> {
  %init = tensor.empty() : tensor<1x8x1x48xf32>
  %o = quantkv.sdpa q(%q : tensor<1x8x1x48xf32>)
      k(%k : tensor<1x2x256x48xsi8>) k_scale(%ks : tensor<1x2x256x1xf32>)
      v(%v : tensor<1x2x256x48xsi8>) v_scale(%vs : tensor<1x2x256x1xf32>)
      outs(%init : tensor<1x8x1x48xf32>)
      {key_quant = #quantkv.per_group<[1, 1, 1, 48]>,
       value_quant = #quantkv.per_group<[1, 1, 1, 48]>,
       math_mode = #quantkv.math_mode<bf16>}
      : tensor<1x8x1x48xf32>
  return %o : tensor<1x8x1x48xf32>
}

func.func @int8_per_channel(%q: tensor<1x8x1x64xf32>, %k: tensor<1x2x256x64xsi8>,
                            %ks: tensor<64xf32>, %v: tensor<1x2x256x64xsi8>,
                            %vs: tensor<1x2x256x1xf32>) -> tensor<1x8x1x64xf32> {
  %init = tensor.empty() : tensor<1x8x1x64xf32>
  %o = quantkv.sdpa q(%q : tensor<1x8x1x64xf32>)
      k(%k : tensor<1x2x256x64xsi8>) k_scale(%ks : tensor<64xf32>)
      v(%v : tensor<1x2x256x64xsi8>) v_scale(%vs : tensor<1x2x256x1xf32>)
      outs(%init : tensor<1x8x1x64xf32>)
      {key_quant = #quantkv.per_channel<axis = 3>,
       value_quant = #quantkv.per_group<[1, 1, 1, 64]>,
       math_mode = #quantkv.math_mode<int8>}
      : tensor<1x8x1x64xf32>
  return %o : tensor<1x8x1x64xf32>
}
