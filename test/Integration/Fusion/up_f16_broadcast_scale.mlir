// Differential test: the module as written and after --quantkv-fuse-sdpa
// run through the reference pipeline on the same seeded inputs.
// Tolerance: this IR accumulates P x V in f16 (its output is f16) while the
// fused op accumulates in f32 and rounds once, so the two differ by the f16
// accumulation error: up to a few f16 ulps of outputs near 64 (ulp 2^-5);
// atol 0.125 is 4 of those ulps (measured 0.0625), rtol 5e-3 as f16 math.
// REQUIRES: quantkv-run
// RUN: quantkv-opt %s --quantkv-fuse-sdpa | FileCheck %s --check-prefix=FUSED
// RUN: quantkv-run %s --entry up_f16_broadcast_scale --pipeline "quantkv-fuse-sdpa" --against "" --rtol 5e-3 --atol 0.125 | FileCheck %s

// FUSED-LABEL: func.func @up_f16_broadcast_scale
// FUSED-NOT: linalg.
// FUSED: quantkv.sdpa
// FUSED-NOT: linalg.
// CHECK: outputs match
// f16 Q, dequantization and truncf in separate generics, a per-channel V
// scale pre-broadcast by linalg.broadcast, K^T through batch_matmul's
// indexing maps, P truncated to f16: math mode f16.
#id3 = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
#mq = affine_map<(b, m, n, k) -> (b, m, k)>
#mk = affine_map<(b, m, n, k) -> (b, n, k)>
#mo = affine_map<(b, m, n, k) -> (b, m, n)>
func.func @up_f16_broadcast_scale(%q: tensor<4x2x16xf16>, %k: tensor<4x8x16xi8>, %v: tensor<4x8x16xi8>, %vs: tensor<16xf16>) -> tensor<4x2x16xf16> {
  %zero = arith.constant 0.0 : f32
  %zeroh = arith.constant 0.0 : f16
  %c = arith.constant 0.25 : f32
  %ksc = arith.constant 0.01 : f32
  %ef = tensor.empty() : tensor<4x8x16xf32>
  %eh = tensor.empty() : tensor<4x8x16xf16>
  %kd = linalg.generic {indexing_maps = [#id3, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%k : tensor<4x8x16xi8>) outs(%ef : tensor<4x8x16xf32>) {
  ^bb0(%x: i8, %o: f32):
    %xf = arith.uitofp %x : i8 to f32
    %m = arith.mulf %xf, %ksc : f32
    linalg.yield %m : f32
  } -> tensor<4x8x16xf32>
  %kh = linalg.generic {indexing_maps = [#id3, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%kd : tensor<4x8x16xf32>) outs(%eh : tensor<4x8x16xf16>) {
  ^bb0(%x: f32, %o: f16):
    %t = arith.truncf %x : f32 to f16
    linalg.yield %t : f16
  } -> tensor<4x8x16xf16>
  %e1 = tensor.empty() : tensor<4x2x8xf32>
  %f1 = linalg.fill ins(%zero : f32) outs(%e1 : tensor<4x2x8xf32>) -> tensor<4x2x8xf32>
  %s = linalg.batch_matmul indexing_maps = [#mq, #mk, #mo] ins(%q, %kh : tensor<4x2x16xf16>, tensor<4x8x16xf16>) outs(%f1 : tensor<4x2x8xf32>) -> tensor<4x2x8xf32>
  %ss = linalg.generic {indexing_maps = [#id3, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%s : tensor<4x2x8xf32>) outs(%e1 : tensor<4x2x8xf32>) {
  ^bb0(%a: f32, %o: f32):
    %m = arith.mulf %a, %c : f32
    linalg.yield %m : f32
  } -> tensor<4x2x8xf32>
  %p = linalg.softmax dimension(2) ins(%ss : tensor<4x2x8xf32>) outs(%e1 : tensor<4x2x8xf32>) -> tensor<4x2x8xf32>
  %ep = tensor.empty() : tensor<4x2x8xf16>
  %ph = linalg.generic {indexing_maps = [#id3, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%p : tensor<4x2x8xf32>) outs(%ep : tensor<4x2x8xf16>) {
  ^bb0(%x: f32, %o: f16):
    %t = arith.truncf %x : f32 to f16
    linalg.yield %t : f16
  } -> tensor<4x2x8xf16>
  %esc = tensor.empty() : tensor<4x8x16xf16>
  %vsb = linalg.broadcast ins(%vs : tensor<16xf16>) outs(%esc : tensor<4x8x16xf16>) dimensions = [0, 1]
  %vd = linalg.generic {indexing_maps = [#id3, #id3, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%v, %vsb : tensor<4x8x16xi8>, tensor<4x8x16xf16>) outs(%eh : tensor<4x8x16xf16>) {
  ^bb0(%x: i8, %sc: f16, %o: f16):
    %xf = arith.sitofp %x : i8 to f32
    %s32 = arith.extf %sc : f16 to f32
    %m = arith.mulf %xf, %s32 : f32
    %t = arith.truncf %m : f32 to f16
    linalg.yield %t : f16
  } -> tensor<4x8x16xf16>
  %e2 = tensor.empty() : tensor<4x2x16xf16>
  %f2 = linalg.fill ins(%zeroh : f16) outs(%e2 : tensor<4x2x16xf16>) -> tensor<4x2x16xf16>
  %o = linalg.batch_matmul ins(%ph, %vd : tensor<4x2x8xf16>, tensor<4x8x16xf16>) outs(%f2 : tensor<4x2x16xf16>) -> tensor<4x2x16xf16>
  return %o : tensor<4x2x16xf16>
}
