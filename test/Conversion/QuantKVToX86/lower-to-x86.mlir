// RUN: quantkv-opt %s --quantkv-lower-to-x86="target-parallelism=32" --split-input-file | FileCheck %s
// Every buffer the kernel allocates is listed below; any other allocation
// (in particular one proportional to Skv x D) fails the test.
// RUN: quantkv-opt %s --quantkv-lower-to-x86="target-parallelism=32" --split-input-file \
// RUN:   | FileCheck %s --check-prefix=ALLOC --implicit-check-not=memref.alloc
// RUN: quantkv-opt %s --quantkv-lower-to-x86="kv-tile=32 target-parallelism=32" --split-input-file \
// RUN:   | FileCheck %s --check-prefix=TILE
// The KV splits make up for too few batch x head items, up to the target
// (the default, 0, is four per hardware thread of the host).
// RUN: quantkv-opt %s --quantkv-lower-to-x86="target-parallelism=8" --split-input-file \
// RUN:   | FileCheck %s --check-prefix=PAR8

// GQA decode: int4 K with a scale per 32 channels of each token, uint8 V with
// per-channel scales and zero points, bottom-right causal.

// CHECK-LABEL: func.func private @decode_sdpa_item(
// CHECK-SAME:    %[[W:[a-z0-9]+]]: index, %[[Q:[a-z0-9]+]]: memref<1x32x1x128xf32>,
// CHECK-SAME:    %[[K:[a-z0-9]+]]: memref<1x8x4096x64xi8>, %[[KS:[a-z0-9]+]]: memref<131072xf32>,
// CHECK-SAME:    %[[V:[a-z0-9]+]]: memref<1x8x4096x128xi8>, %[[VS:[a-z0-9]+]]: memref<128xf32>,
// CHECK-SAME:    %[[VZ:[a-z0-9]+]]: memref<128xi8>, %[[O:[a-z0-9]+]]: memref<1x32x1x128xf32>,
// CHECK-SAME:    %[[SCALE:[a-z0-9]+]]: f32, %[[PACC:[a-z0-9]+]]: memref<32x4x128xf32>,
// The four query heads of one K/V head form one register block of rows.
// CHECK:         memref.alloca() {alignment = 64 : i64} : memref<4x128xf32>
// Q rows are de-interleaved once into even/odd planes of each 32-element
// block, matching the nibble planes of K.
// CHECK:         vector.shuffle {{.*}} [0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30] : vector<16xf32>, vector<16xf32>
// CHECK:         vector.shuffle {{.*}} [1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31] : vector<16xf32>, vector<16xf32>
// K rows are loaded packed (16 bytes per 32 int4). Each block's scale turns
// the 16 code values into a table of dequantized values (once per K row,
// shared by the rows); the bytes, widened to i32 lanes, index it with vpermps:
// low nibbles directly, high nibbles after one shift. No interleave, no
// int -> float conversion, never a scalar loop.
// CHECK:         scf.for
// CHECK:           %[[S:.+]] = memref.load %[[KS]]
// CHECK:           %[[SV:.+]] = vector.broadcast %[[S]]
// CHECK:           %[[TABLE:.+]] = arith.mulf %[[SV]], %{{.*}} : vector<16xf32>
// CHECK:           %[[PACKED:.+]] = vector.load %[[K]][{{.*}}] : memref<1x8x4096x64xi8>, vector<16xi8>
// CHECK:           %[[X:.+]] = arith.extui %[[PACKED]] : vector<16xi8> to vector<16xi32>
// CHECK:           %[[HI:.+]] = arith.shrui %[[X]]
// CHECK-NOT:       vector.interleave
// CHECK:           llvm.call @__quantkv_vpermps_512(%[[TABLE]], %[[X]])
// CHECK:           llvm.call @__quantkv_vpermps_512(%[[TABLE]], %[[HI]])
// The rows of the block contract the dequantized planes with Q.
// CHECK:           arith.mulf
// CHECK:           vector.fma
// CHECK:           memref.store
// Online softmax: exp is a polynomial, not a libm call per lane.
// CHECK-NOT:       math.exp
// CHECK:         scf.for {{.*}} iter_args
// CHECK:           vector.load %[[V]][{{.*}}] : memref<1x8x4096x128xi8>, vector<64xi8>
// CHECK:           arith.uitofp {{.*}} : vector<16xi8> to vector<16xf32>
// CHECK:           vector.fma
// Each of the 4 KV splits writes its unnormalized partial result.
// CHECK:         vector.store {{.*}}, %[[PACC]]
// The merge rescales the splits, then applies the per-channel V scale and
// zero point after the weighted sum.
// CHECK-LABEL: func.func private @decode_sdpa_merge(
// CHECK-SAME:    %{{[a-z0-9]+}}: index, {{.*}}: memref<1x8x4096x128xi8>,
// CHECK-SAME:    %[[MVS:[a-z0-9]+]]: memref<128xf32>, %{{[a-z0-9]+}}: memref<128xi8>, %[[MO:[a-z0-9]+]]: memref<1x32x1x128xf32>,
// CHECK:         memref.load %[[MVS]]
// CHECK:         vector.store {{.*}}, %[[MO]]

// CHECK-LABEL: func.func @decode(
// CHECK:         %[[OUT:.+]] = memref.alloc() {alignment = 64 : i64} : memref<1x32x1x128xf32>
// CHECK:         scf.parallel (%[[I:.+]]) = (%{{.*}}) to (%{{.*}}) step
// CHECK:           func.call @decode_sdpa_item(%[[I]],
// CHECK:         scf.parallel (%[[J:.+]]) = (%{{.*}}) to (%{{.*}}) step
// CHECK:           func.call @decode_sdpa_merge(%[[J]],
// CHECK:         bufferization.to_tensor %[[OUT]] restrict writable

// ALLOC-LABEL: func.func private @decode_sdpa_item(
// ALLOC:         memref.alloca() {{.*}} : memref<4x128xf32>
// ALLOC:         memref.alloca() {{.*}} : memref<4x64xf32>
// ALLOC:         memref.alloca() {{.*}} : memref<4x128xf32>
// ALLOC:         memref.alloca() {{.*}} : memref<4x4xf32>
// ALLOC-LABEL: func.func private @decode_sdpa_merge(
// ALLOC:         memref.alloca() {{.*}} : memref<1x128xf32>
// ALLOC:         memref.alloca() {{.*}} : memref<128xf32>
// ALLOC-LABEL: func.func @decode(
// ALLOC:         memref.alloc(){{.*}}: memref<1x32x1x128xf32>
// ALLOC:         memref.alloc(){{.*}}: memref<32x4x128xf32>
// ALLOC:         memref.alloc(){{.*}}: memref<32x4xf32>
// ALLOC:         memref.alloc(){{.*}}: memref<32x4xf32>

// TILE-LABEL: func.func private @decode_sdpa_item(
// TILE:         memref.alloca() {{.*}} : memref<4x32xf32>

// Eight K/V heads are enough items for a target of 8: no splits, no merge.
// PAR8-LABEL: func.func private @decode_sdpa_item(
// PAR8-NOT:     func.func private @decode_sdpa_merge(
// PAR8-LABEL: func.func @decode(
// PAR8-NOT:     func.call @decode_sdpa_merge

func.func @decode(%q: tensor<1x32x1x128xf32>,
                  %k: tensor<1x8x4096x128xsi4>, %ks: tensor<1x8x4096x4xf32>,
                  %v: tensor<1x8x4096x128xui8>, %vs: tensor<128xf32>,
                  %vz: tensor<128xui8>) -> tensor<1x32x1x128xf32> {
  %init = tensor.empty() : tensor<1x32x1x128xf32>
  %o = quantkv.sdpa q(%q : tensor<1x32x1x128xf32>)
      k(%k : tensor<1x8x4096x128xsi4>) k_scale(%ks : tensor<1x8x4096x4xf32>)
      v(%v : tensor<1x8x4096x128xui8>) v_scale(%vs : tensor<128xf32>)
      v_zero_point(%vz : tensor<128xui8>)
      outs(%init : tensor<1x32x1x128xf32>)
      {key_quant = #quantkv.per_group<[1, 1, 1, 32]>,
       value_quant = #quantkv.per_channel<axis = 3>,
       causal = #quantkv.causal<bottom_right>}
      : tensor<1x32x1x128xf32>
  return %o : tensor<1x32x1x128xf32>
}

// -----

// One K/V head and a long cache: the keys are split (flash-decoding) and a
// second parallel loop merges the partial (acc, max, sum) triples.

// CHECK-LABEL: func.func private @mha_sdpa_item(
// CHECK-SAME:    memref<16x1x128xf32>, %{{.*}}: memref<16x1xf32>, %{{.*}}: memref<16x1xf32>)
// CHECK-LABEL: func.func private @mha_sdpa_merge(
// CHECK:         scf.for {{.*}} iter_args
// CHECK:           arith.maximumf
// CHECK-LABEL: func.func @mha(
// CHECK:         %[[ACC:.+]] = memref.alloc() {alignment = 64 : i64} : memref<16x1x128xf32>
// CHECK:         scf.parallel
// CHECK:           func.call @mha_sdpa_item
// CHECK:         scf.parallel
// CHECK:           func.call @mha_sdpa_merge

// ALLOC-LABEL: func.func private @mha_sdpa_item(
// ALLOC:         memref.alloca() {{.*}} : memref<1x128xf32>
// ALLOC:         memref.alloca() {{.*}} : memref<1x64xf32>
// ALLOC:         memref.alloca() {{.*}} : memref<1x128xf32>
// ALLOC:         memref.alloca() {{.*}} : memref<4x1xf32>
// ALLOC-LABEL: func.func private @mha_sdpa_merge(
// ALLOC:         memref.alloca() {{.*}} : memref<1x128xf32>
// ALLOC:         memref.alloca() {{.*}} : memref<128xf32>
// ALLOC-LABEL: func.func @mha(
// ALLOC:         memref.alloc(){{.*}}: memref<1x1x1x128xf32>
// ALLOC:         memref.alloc(){{.*}}: memref<16x1x128xf32>
// ALLOC:         memref.alloc(){{.*}}: memref<16x1xf32>
// ALLOC:         memref.alloc(){{.*}}: memref<16x1xf32>

// TILE-LABEL: func.func @mha(

// One head, 4096 keys: 8 splits of 512 keys for a target of 8 (16 of 256,
// the shortest split, for 32).
// PAR8-LABEL: func.func private @mha_sdpa_item(
// PAR8-SAME:    memref<8x1x128xf32>, %{{.*}}: memref<8x1xf32>, %{{.*}}: memref<8x1xf32>)
// PAR8-LABEL: func.func @mha(
// PAR8:         func.call @mha_sdpa_merge

func.func @mha(%q: tensor<1x1x1x128xf32>, %k: tensor<1x1x4096x128xsi8>,
               %ks: tensor<128xf32>, %v: tensor<1x1x4096x128xsi8>,
               %vs: tensor<128xf32>) -> tensor<1x1x1x128xf32> {
  %init = tensor.empty() : tensor<1x1x1x128xf32>
  %o = quantkv.sdpa q(%q : tensor<1x1x1x128xf32>)
      k(%k : tensor<1x1x4096x128xsi8>) k_scale(%ks : tensor<128xf32>)
      v(%v : tensor<1x1x4096x128xsi8>) v_scale(%vs : tensor<128xf32>)
      outs(%init : tensor<1x1x1x128xf32>)
      {key_quant = #quantkv.per_channel<axis = 3>,
       value_quant = #quantkv.per_channel<axis = 3>}
      : tensor<1x1x1x128xf32>
  return %o : tensor<1x1x1x128xf32>
}

// -----

// int4 V with a scale per 32 channels: V rows are read as nibble planes, the
// accumulators hold even/odd planes, and the output row is interleaved back
// into storage order once, in the finalization.

// CHECK-LABEL: func.func private @planes_sdpa_item(
// CHECK:         scf.for {{.*}} iter_args
// CHECK:           vector.load {{.*}} : memref<1x2x256x32xi8>, vector<16xi8>
// CHECK:           arith.extui {{.*}} : vector<16xi8> to vector<16xi32>
// CHECK:           arith.shrui
// CHECK-NOT:       vector.interleave
// CHECK:           llvm.call @__quantkv_vpermps_512
// CHECK:           vector.fma
// CHECK:         vector.shuffle {{.*}} [0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23] : vector<16xf32>, vector<16xf32>
// CHECK:         vector.shuffle {{.*}} [8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31] : vector<16xf32>, vector<16xf32>

// ALLOC-LABEL: func.func private @planes_sdpa_item(
// ALLOC:         memref.alloca() {{.*}} : memref<1x64xf32>
// ALLOC:         memref.alloca() {{.*}} : memref<1x64xf32>
// ALLOC:         memref.alloca() {{.*}} : memref<1x64xf32>
// ALLOC:         memref.alloca() {{.*}} : memref<4x1xf32>
// ALLOC:         memref.alloca() {{.*}} : memref<64xf32>
// ALLOC-LABEL: func.func @planes(
// ALLOC:         memref.alloc(){{.*}}: memref<1x2x1x64xf32>

// TILE-LABEL: func.func @planes(

func.func @planes(%q: tensor<1x2x1x64xf32>, %k: tensor<1x2x256x64xsi4>,
                  %ks: tensor<1x2x256x2xf32>, %v: tensor<1x2x256x64xui4>,
                  %vs: tensor<1x2x256x2xf32>) -> tensor<1x2x1x64xf32> {
  %init = tensor.empty() : tensor<1x2x1x64xf32>
  %o = quantkv.sdpa q(%q : tensor<1x2x1x64xf32>)
      k(%k : tensor<1x2x256x64xsi4>) k_scale(%ks : tensor<1x2x256x2xf32>)
      v(%v : tensor<1x2x256x64xui4>) v_scale(%vs : tensor<1x2x256x2xf32>)
      outs(%init : tensor<1x2x1x64xf32>)
      {key_quant = #quantkv.per_group<[1, 1, 1, 32]>,
       value_quant = #quantkv.per_group<[1, 1, 1, 32]>}
      : tensor<1x2x1x64xf32>
  return %o : tensor<1x2x1x64xf32>
}
