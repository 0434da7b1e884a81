// Differential test: the module as written and after --quantkv-fuse-sdpa
// run through the reference pipeline on the same seeded inputs.
// The fused op rounds every contraction input (Q, K', P, V') to bf16, as
// this IR does, so the outputs agree to f32 tolerance (measured: equal).
// REQUIRES: quantkv-run
// RUN: quantkv-opt %s --quantkv-fuse-sdpa | FileCheck %s --check-prefix=FUSED
// RUN: quantkv-run %s --entry op_typecast_bf16 --pipeline "quantkv-fuse-sdpa" --against "" | FileCheck %s

// FUSED-LABEL: func.func @op_typecast_bf16
// FUSED-NOT: linalg.
// FUSED: quantkv.sdpa
// FUSED-NOT: linalg.
// CHECK: outputs match
// bf16: Q bf16, K/V dequantized then typecast to bf16, P typecast to bf16,
// contractions accumulating in f32: math mode bf16 computes exactly this.
#id3 = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
func.func @op_typecast_bf16(%q: tensor<4x2x16xbf16>, %k: tensor<4x8x16xui8>, %ks: tensor<16xf32>, %kz: tensor<16xui8>, %v: tensor<4x8x16xsi8>, %vs: tensor<4x8x1xf32>) -> tensor<4x2x16xf32> {
  %zero = arith.constant 0.0 : f32
  %c = arith.constant 0.25 : f32
  %kd = quantkv.dequantize %k scale(%ks : tensor<16xf32>) zero_point(%kz : tensor<16xui8>) granularity(#quantkv.per_channel<axis = 2>) : tensor<4x8x16xui8> -> tensor<4x8x16xf32>
  %kh = quantkv.typecast %kd : tensor<4x8x16xf32> to tensor<4x8x16xbf16>
  %e0 = tensor.empty() : tensor<4x16x8xbf16>
  %kt = linalg.transpose ins(%kh : tensor<4x8x16xbf16>) outs(%e0 : tensor<4x16x8xbf16>) permutation = [0, 2, 1]
  %e1 = tensor.empty() : tensor<4x2x8xf32>
  %f1 = linalg.fill ins(%zero : f32) outs(%e1 : tensor<4x2x8xf32>) -> tensor<4x2x8xf32>
  %s = linalg.batch_matmul ins(%q, %kt : tensor<4x2x16xbf16>, tensor<4x16x8xbf16>) outs(%f1 : tensor<4x2x8xf32>) -> tensor<4x2x8xf32>
  %ss = linalg.generic {indexing_maps = [#id3, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%s : tensor<4x2x8xf32>) outs(%e1 : tensor<4x2x8xf32>) {
  ^bb0(%a: f32, %o: f32):
    %m = arith.mulf %c, %a : f32
    linalg.yield %m : f32
  } -> tensor<4x2x8xf32>
  %p = linalg.softmax dimension(2) ins(%ss : tensor<4x2x8xf32>) outs(%e1 : tensor<4x2x8xf32>) -> tensor<4x2x8xf32>
  %ph = quantkv.typecast %p : tensor<4x2x8xf32> to tensor<4x2x8xbf16>
  %vd = quantkv.dequantize %v scale(%vs : tensor<4x8x1xf32>) granularity(#quantkv.per_group<[1, 1, 16]>) : tensor<4x8x16xsi8> -> tensor<4x8x16xf32>
  %vh = quantkv.typecast %vd : tensor<4x8x16xf32> to tensor<4x8x16xbf16>
  %e2 = tensor.empty() : tensor<4x2x16xf32>
  %f2 = linalg.fill ins(%zero : f32) outs(%e2 : tensor<4x2x16xf32>) -> tensor<4x2x16xf32>
  %o = linalg.batch_matmul ins(%ph, %vh : tensor<4x2x8xbf16>, tensor<4x8x16xbf16>) outs(%f2 : tensor<4x2x16xf32>) -> tensor<4x2x16xf32>
  return %o : tensor<4x2x16xf32>
}
