// RUN: quantkv-opt %s --quantkv-lower-to-x86="target-parallelism=32" --split-input-file | FileCheck %s
// Every buffer the prefill kernel allocates is listed below; any other
// allocation (in particular one proportional to Sq x Skv or Skv x D) fails.
// RUN: quantkv-opt %s --quantkv-lower-to-x86="target-parallelism=32" --split-input-file \
// RUN:   | FileCheck %s --check-prefix=ALLOC --implicit-check-not=memref.alloc
// RUN: quantkv-opt %s --quantkv-lower-to-x86="prefill-min-query-len=0 target-parallelism=32" \
// RUN:   --split-input-file | FileCheck %s --check-prefix=OFF

// GQA prefill (Sq = 100 rows per head, not a multiple of the 48-row block):
// int4 K with a scale per 32 channels of each token, uint8 V with
// per-channel scales and zero points, bottom-right causal.

// CHECK-LABEL: func.func private @prefill_sdpa_prefill(
// CHECK-SAME:    %[[W:[a-z0-9]+]]: index, %[[Q:[a-z0-9]+]]: memref<1x4x100x128xf32>,
// CHECK-SAME:    %[[K:[a-z0-9]+]]: memref<1x2x100x64xi8>, %[[KS:[a-z0-9]+]]: memref<800xf32>,
// CHECK-SAME:    %[[V:[a-z0-9]+]]: memref<1x2x100x128xi8>,
// Q^T: 128 channels x 48 rows.
// CHECK:         memref.alloca() {alignment = 64 : i64} : memref<128x48xf32>
// The KV loop stops at the causal limit of the block's last row.
// CHECK:         arith.minsi
// CHECK:         scf.for %[[J0:.+]] = %{{.*}} to %{{.*}} step %c64
// The K tile is dequantized once per tile (scale per 32 channels) into
// scratch, for all 48 rows.
// CHECK:           scf.for
// CHECK:             vector.load %[[K]][{{.*}}] : memref<1x2x100x64xi8>, vector<64xi8>
// CHECK:             memref.load %[[KS]]
// CHECK:             arith.mulf {{.*}} : vector<16xf32>
// CHECK:             vector.store
// CHECK:             vector.load %[[V]][{{.*}}] : memref<1x2x100x128xi8>, vector<128xi8>
// S^T microkernel: 8 keys x 3 vectors of 16 rows in registers.
// CHECK:           scf.for
// CHECK:             scf.for {{.*}} iter_args
// CHECK-COUNT-24:      vector.fma
// Online softmax across keys with rows in lanes: no horizontal reduction.
// CHECK-NOT:       vector.reduction
// CHECK:           arith.maximumf {{.*}} : vector<16xf32>
// P x V microkernel: 6 rows x 4 value vectors.
// CHECK:           scf.for
// CHECK:             scf.for {{.*}} iter_args
// CHECK-COUNT-24:      vector.fma
// CHECK-LABEL: func.func @prefill(
// CHECK:         scf.parallel
// CHECK:           func.call @prefill_sdpa_prefill(

// ALLOC-LABEL: func.func private @prefill_sdpa_prefill(
// ALLOC:         memref.alloca() {{.*}} : memref<128x48xf32>
// ALLOC:         memref.alloca() {{.*}} : memref<64x128xf32>
// ALLOC:         memref.alloca() {{.*}} : memref<64x128xf32>
// ALLOC:         memref.alloca() {{.*}} : memref<64x48xf32>
// ALLOC:         memref.alloca() {{.*}} : memref<48x128xf32>
// ALLOC:         memref.alloca() {{.*}} : memref<4x48xf32>
// ALLOC:         memref.alloca() {{.*}} : memref<128xf32>
// ALLOC:         memref.alloca() {{.*}} : memref<128xf32>
// ALLOC-LABEL: func.func @prefill(
// ALLOC:         memref.alloc(){{.*}}: memref<1x4x100x128xf32>

// OFF-LABEL: func.func private @prefill_sdpa_item(

func.func @prefill(%q: tensor<1x4x100x128xf32>,
                   %k: tensor<1x2x100x128xsi4>, %ks: tensor<1x2x100x4xf32>,
                   %v: tensor<1x2x100x128xui8>, %vs: tensor<128xf32>,
                   %vz: tensor<128xui8>) -> tensor<1x4x100x128xf32> {
  %init = tensor.empty() : tensor<1x4x100x128xf32>
  %o = quantkv.sdpa q(%q : tensor<1x4x100x128xf32>)
      k(%k : tensor<1x2x100x128xsi4>) k_scale(%ks : tensor<1x2x100x4xf32>)
      v(%v : tensor<1x2x100x128xui8>) v_scale(%vs : tensor<128xf32>)
      v_zero_point(%vz : tensor<128xui8>)
      outs(%init : tensor<1x4x100x128xf32>)
      {key_quant = #quantkv.per_group<[1, 1, 1, 32]>,
       value_quant = #quantkv.per_channel<axis = 3>,
       causal = #quantkv.causal<bottom_right>}
      : tensor<1x4x100x128xf32>
  return %o : tensor<1x4x100x128xf32>
}

// -----

// Speculative decoding (Sq = 8 < 16): the row-block kernel keeps the shape.

// CHECK-LABEL: func.func private @spec_sdpa_item(
// CHECK-NOT:   sdpa_prefill
// ALLOC-LABEL: func.func private @spec_sdpa_item(
// ALLOC-COUNT-4: memref.alloca()
// ALLOC-LABEL: func.func private @spec_sdpa_merge(
// ALLOC-COUNT-2: memref.alloca()
// ALLOC-LABEL: func.func @spec(
// ALLOC:         memref.alloc(){{.*}}: memref<1x4x8x64xf32>
// ALLOC-COUNT-3: memref.alloc()
// OFF-LABEL: func.func private @spec_sdpa_item(

func.func @spec(%q: tensor<1x4x8x64xf32>, %k: tensor<1x2x512x64xsi8>,
                %ks: tensor<64xf32>, %v: tensor<1x2x512x64xsi8>,
                %vs: tensor<64xf32>) -> tensor<1x4x8x64xf32> {
  %init = tensor.empty() : tensor<1x4x8x64xf32>
  %o = quantkv.sdpa q(%q : tensor<1x4x8x64xf32>)
      k(%k : tensor<1x2x512x64xsi8>) k_scale(%ks : tensor<64xf32>)
      v(%v : tensor<1x2x512x64xsi8>) v_scale(%vs : tensor<64xf32>)
      outs(%init : tensor<1x4x8x64xf32>)
      {key_quant = #quantkv.per_channel<axis = 3>,
       value_quant = #quantkv.per_channel<axis = 3>}
      : tensor<1x4x8x64xf32>
  return %o : tensor<1x4x8x64xf32>
}
