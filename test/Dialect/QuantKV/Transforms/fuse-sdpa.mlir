// RUN: quantkv-opt %s -split-input-file --quantkv-fuse-sdpa | FileCheck %s
// RUN: quantkv-opt %s -split-input-file --quantkv-fuse-sdpa="math-mode=int8" | FileCheck %s --check-prefix=INT8
// RUN: quantkv-opt %s -split-input-file --test-quantkv-fuse-sdpa-plan -verify-diagnostics -o /dev/null
// Named ops generalized and element-wise producers fused into consumers
// (contractions and reductions included) must not change the decisions:
// RUN: quantkv-opt %s -split-input-file --linalg-generalize-named-ops --linalg-fuse-elementwise-ops --quantkv-fuse-sdpa | FileCheck %s --check-prefix=EW

// Every positive case must become exactly one quantkv.sdpa with nothing of
// the unfused chain left; every negative case must stay unfused, and the
// remark of --test-quantkv-fuse-sdpa-plan shows the guard that stopped it.
// After element-wise fusion the GQA cases become 5-d contractions over
// [B, Hkv, G, ...], which are not matched; they have no lines for that run.

//===----------------------------------------------------------------------===//
// Op form: quantkv.dequantize / quantkv.typecast + upstream linalg.
//===----------------------------------------------------------------------===//

// 3-d, per-tensor s8 K and V, linalg.transpose for K^T, scale by a constant.
// CHECK-LABEL: func.func @op_3d_per_tensor
// EW-LABEL: func.func @op_3d_per_tensor
// EW: quantkv.sdpa
// CHECK-SAME: %[[Q:[a-z0-9]+]]: tensor<4x2x16xf32>, %[[K:[a-z0-9]+]]: tensor<4x8x16xsi8>, %[[KS:[a-z0-9]+]]: tensor<1xf32>, %[[V:[a-z0-9]+]]: tensor<4x8x16xsi8>, %[[VS:[a-z0-9]+]]: tensor<1xf32>
// CHECK-NOT: linalg.
// CHECK-DAG: %[[K4:.+]] = tensor.expand_shape %[[K]] {{\[\[}}0, 1], [2], [3]] output_shape [1, 4, 8, 16]
// CHECK-DAG: %[[V4:.+]] = tensor.expand_shape %[[V]] {{\[\[}}0, 1], [2], [3]] output_shape [1, 4, 8, 16]
// CHECK-DAG: %[[Q4:.+]] = tensor.expand_shape %[[Q]] {{\[\[}}0, 1], [2], [3]] output_shape [1, 4, 2, 16]
// CHECK: %[[O:.+]] = quantkv.sdpa q(%[[Q4]] : tensor<1x4x2x16xf32>) k(%[[K4]] : tensor<1x4x8x16xsi8>) k_scale(%[[KS]] : tensor<1xf32>) v(%[[V4]] : tensor<1x4x8x16xsi8>) v_scale(%[[VS]] : tensor<1xf32>) outs(%{{.+}} : tensor<1x4x2x16xf32>)
// CHECK-SAME: key_quant = #quantkv.per_tensor, scale = 2.500000e-01 : f32, value_quant = #quantkv.per_tensor}
// CHECK-NOT: quantkv.sdpa
// CHECK: %[[R:.+]] = tensor.collapse_shape %[[O]] {{\[\[}}0, 1], [2], [3]] : tensor<1x4x2x16xf32> into tensor<4x2x16xf32>
// CHECK: return %[[R]]
// INT8-LABEL: func.func @op_3d_per_tensor
// INT8: quantkv.sdpa
// INT8-SAME: math_mode = #quantkv.math_mode<int8>
#id3 = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
func.func @op_3d_per_tensor(%q: tensor<4x2x16xf32>, %k: tensor<4x8x16xsi8>, %ks: tensor<1xf32>, %v: tensor<4x8x16xsi8>, %vs: tensor<1xf32>) -> tensor<4x2x16xf32> {
  %zero = arith.constant 0.0 : f32
  %c = arith.constant 0.25 : f32
  %kd = quantkv.dequantize %k scale(%ks : tensor<1xf32>) granularity(#quantkv.per_tensor) : tensor<4x8x16xsi8> -> tensor<4x8x16xf32>
  %e0 = tensor.empty() : tensor<4x16x8xf32>
  %kt = linalg.transpose ins(%kd : tensor<4x8x16xf32>) outs(%e0 : tensor<4x16x8xf32>) permutation = [0, 2, 1]
  %e1 = tensor.empty() : tensor<4x2x8xf32>
  %f1 = linalg.fill ins(%zero : f32) outs(%e1 : tensor<4x2x8xf32>) -> tensor<4x2x8xf32>
  %s = linalg.batch_matmul ins(%q, %kt : tensor<4x2x16xf32>, tensor<4x16x8xf32>) outs(%f1 : tensor<4x2x8xf32>) -> tensor<4x2x8xf32>
  %ss = linalg.generic {indexing_maps = [#id3, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%s : tensor<4x2x8xf32>) outs(%e1 : tensor<4x2x8xf32>) {
  ^bb0(%a: f32, %o: f32):
    %m = arith.mulf %a, %c : f32
    linalg.yield %m : f32
  } -> tensor<4x2x8xf32>
  %p = linalg.softmax dimension(2) ins(%ss : tensor<4x2x8xf32>) outs(%e1 : tensor<4x2x8xf32>) -> tensor<4x2x8xf32>
  %vd = quantkv.dequantize %v scale(%vs : tensor<1xf32>) granularity(#quantkv.per_tensor) : tensor<4x8x16xsi8> -> tensor<4x8x16xf32>
  %e2 = tensor.empty() : tensor<4x2x16xf32>
  %f2 = linalg.fill ins(%zero : f32) outs(%e2 : tensor<4x2x16xf32>) -> tensor<4x2x16xf32>
  // expected-remark @below {{fusable: math_mode strict}}
  %o = linalg.batch_matmul ins(%p, %vd : tensor<4x2x8xf32>, tensor<4x8x16xf32>) outs(%f2 : tensor<4x2x16xf32>) -> tensor<4x2x16xf32>
  return %o : tensor<4x2x16xf32>
}

// -----

// 4-d decode: s4 K per-group (32 channels / 4 groups), u8 V per-channel with
// zero point, GQA 4 through linalg.broadcast + collapse_shape, K^T through
// linalg.contract's map, causal select on linalg.index (bottom-right).
// CHECK-LABEL: func.func @op_4d_gqa_causal
// CHECK-SAME: %[[Q:[a-z0-9]+]]: tensor<1x8x1x32xf32>, %[[K:[a-z0-9]+]]: tensor<1x2x64x32xsi4>, %[[KS:[a-z0-9]+]]: tensor<1x2x64x4xf32>, %[[V:[a-z0-9]+]]: tensor<1x2x64x32xui8>, %[[VS:[a-z0-9]+]]: tensor<32xf32>, %[[VZ:[a-z0-9]+]]: tensor<32xui8>
// CHECK-NOT: linalg.
// CHECK: quantkv.sdpa q(%[[Q]] : tensor<1x8x1x32xf32>) k(%[[K]] : tensor<1x2x64x32xsi4>) k_scale(%[[KS]] : tensor<1x2x64x4xf32>) v(%[[V]] : tensor<1x2x64x32xui8>) v_scale(%[[VS]] : tensor<32xf32>) v_zero_point(%[[VZ]] : tensor<32xui8>) outs(%{{.+}} : tensor<1x8x1x32xf32>)
// CHECK-SAME: causal = #quantkv.causal<bottom_right>, key_quant = #quantkv.per_group<[1, 1, 1, 8]>, scale = 0.176776692 : f32, value_quant = #quantkv.per_channel<axis = 3>}
// CHECK-NOT: quantkv.sdpa
// CHECK-NOT: linalg.
#qmap = affine_map<(b, h, m, n, k) -> (b, h, m, k)>
#kmap = affine_map<(b, h, m, n, k) -> (b, h, n, k)>
#vmap = affine_map<(b, h, m, n, k) -> (b, h, k, n)>
#omap = affine_map<(b, h, m, n, k) -> (b, h, m, n)>
#id = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
func.func @op_4d_gqa_causal(%q: tensor<1x8x1x32xf32>, %k: tensor<1x2x64x32xsi4>, %ks: tensor<1x2x64x4xf32>, %v: tensor<1x2x64x32xui8>, %vs: tensor<32xf32>, %vz: tensor<32xui8>) -> tensor<1x8x1x32xf32> {
  %zero = arith.constant 0.0 : f32
  %ninf = arith.constant 0xFF800000 : f32
  %rsqrt_d = arith.constant 0.176776695 : f32
  %c63 = arith.constant 63 : index
  %kd = quantkv.dequantize %k scale(%ks : tensor<1x2x64x4xf32>) granularity(#quantkv.per_group<[1, 1, 1, 8]>) : tensor<1x2x64x32xsi4> -> tensor<1x2x64x32xf32>
  %kb0 = tensor.empty() : tensor<1x2x4x64x32xf32>
  %kb = linalg.broadcast ins(%kd : tensor<1x2x64x32xf32>) outs(%kb0 : tensor<1x2x4x64x32xf32>) dimensions = [2]
  %kg = tensor.collapse_shape %kb [[0], [1, 2], [3], [4]] : tensor<1x2x4x64x32xf32> into tensor<1x8x64x32xf32>
  %s0 = tensor.empty() : tensor<1x8x1x64xf32>
  %sz = linalg.fill ins(%zero : f32) outs(%s0 : tensor<1x8x1x64xf32>) -> tensor<1x8x1x64xf32>
  %s = linalg.contract indexing_maps = [#qmap, #kmap, #omap] ins(%q, %kg : tensor<1x8x1x32xf32>, tensor<1x8x64x32xf32>) outs(%sz : tensor<1x8x1x64xf32>) -> tensor<1x8x1x64xf32>
  %sm = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%s : tensor<1x8x1x64xf32>) outs(%s0 : tensor<1x8x1x64xf32>) {
  ^bb0(%x: f32, %out: f32):
    %i = linalg.index 2 : index
    %j = linalg.index 3 : index
    %last = arith.addi %i, %c63 : index
    %future = arith.cmpi ugt, %j, %last : index
    %scaled = arith.mulf %x, %rsqrt_d : f32
    %r = arith.select %future, %ninf, %scaled : f32
    linalg.yield %r : f32
  } -> tensor<1x8x1x64xf32>
  %p = linalg.softmax dimension(3) ins(%sm : tensor<1x8x1x64xf32>) outs(%s0 : tensor<1x8x1x64xf32>) -> tensor<1x8x1x64xf32>
  %vd = quantkv.dequantize %v scale(%vs : tensor<32xf32>) zero_point(%vz : tensor<32xui8>) granularity(#quantkv.per_channel<axis = 3>) : tensor<1x2x64x32xui8> -> tensor<1x2x64x32xf32>
  %vb = linalg.broadcast ins(%vd : tensor<1x2x64x32xf32>) outs(%kb0 : tensor<1x2x4x64x32xf32>) dimensions = [2]
  %vg = tensor.collapse_shape %vb [[0], [1, 2], [3], [4]] : tensor<1x2x4x64x32xf32> into tensor<1x8x64x32xf32>
  %o0 = tensor.empty() : tensor<1x8x1x32xf32>
  %oz = linalg.fill ins(%zero : f32) outs(%o0 : tensor<1x8x1x32xf32>) -> tensor<1x8x1x32xf32>
  // expected-remark @below {{fusable: math_mode strict}}
  %o = linalg.contract indexing_maps = [#qmap, #vmap, #omap] ins(%p, %vg : tensor<1x8x1x64xf32>, tensor<1x8x64x32xf32>) outs(%oz : tensor<1x8x1x32xf32>) -> tensor<1x8x1x32xf32>
  return %o : tensor<1x8x1x32xf32>
}

// -----

// bf16: Q bf16, K/V dequantized then typecast to bf16, P typecast to bf16,
// contractions accumulating in f32: math mode bf16 computes exactly this.
// CHECK-LABEL: func.func @op_typecast_bf16
// EW-LABEL: func.func @op_typecast_bf16
// EW: quantkv.sdpa
// CHECK-NOT: linalg.
// CHECK: quantkv.sdpa q(%{{.+}} : tensor<1x4x2x16xbf16>) k(%{{.+}} : tensor<1x4x8x16xui8>) k_scale(%{{.+}} : tensor<16xf32>) k_zero_point(%{{.+}} : tensor<16xui8>) v(%{{.+}} : tensor<1x4x8x16xsi8>) v_scale(%{{.+}} : tensor<1x4x8x1xf32>)
// CHECK-SAME: key_quant = #quantkv.per_channel<axis = 3>
// CHECK-SAME: math_mode = #quantkv.math_mode<bf16>
// CHECK-SAME: scale = 2.500000e-01 : f32, value_quant = #quantkv.per_group<[1, 1, 1, 16]>}
// CHECK-NOT: quantkv.sdpa
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
  // expected-remark @below {{fusable: math_mode bf16}}
  %o = linalg.batch_matmul ins(%ph, %vh : tensor<4x2x8xbf16>, tensor<4x8x16xbf16>) outs(%f2 : tensor<4x2x16xf32>) -> tensor<4x2x16xf32>
  return %o : tensor<4x2x16xf32>
}

// -----

// f16: the dequantize result is already f16 (Q f16, P typecast to f16), an
// additive 4-d mask broadcast over heads, and the scores divided by sqrt(D).
// CHECK-LABEL: func.func @op_f16_mask_div
// EW-LABEL: func.func @op_f16_mask_div
// EW: quantkv.sdpa
// CHECK-SAME: %[[M:[a-z0-9]+]]: tensor<1x1x4x8xf32>
// CHECK-NOT: linalg.
// CHECK: quantkv.sdpa q(%{{.+}} : tensor<1x2x4x16xf16>) k(%{{.+}} : tensor<1x2x8x16xsi8>) k_scale(%{{.+}} : tensor<1x2x8x1xf16>) v(%{{.+}} : tensor<1x2x8x16xsi8>) v_scale(%{{.+}} : tensor<1xf32>) mask(%[[M]] : tensor<1x1x4x8xf32>)
// CHECK-SAME: math_mode = #quantkv.math_mode<f16>, scale = 2.500000e-01 : f32
// CHECK-NOT: quantkv.sdpa
#qmap = affine_map<(b, h, m, n, k) -> (b, h, m, k)>
#kmap = affine_map<(b, h, m, n, k) -> (b, h, n, k)>
#vmap = affine_map<(b, h, m, n, k) -> (b, h, k, n)>
#omap = affine_map<(b, h, m, n, k) -> (b, h, m, n)>
#id = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
#bmask = affine_map<(d0, d1, d2, d3) -> (0, 0, d2, d3)>
func.func @op_f16_mask_div(%q: tensor<1x2x4x16xf16>, %k: tensor<1x2x8x16xsi8>, %ks: tensor<1x2x8x1xf16>, %v: tensor<1x2x8x16xsi8>, %vs: tensor<1xf32>, %mask: tensor<1x1x4x8xf32>) -> tensor<1x2x4x16xf32> {
  %zero = arith.constant 0.0 : f32
  %sqrt_d = arith.constant 4.0 : f32
  %kd = quantkv.dequantize %k scale(%ks : tensor<1x2x8x1xf16>) granularity(#quantkv.per_group<[1, 1, 1, 16]>) : tensor<1x2x8x16xsi8> -> tensor<1x2x8x16xf16>
  %s0 = tensor.empty() : tensor<1x2x4x8xf32>
  %sz = linalg.fill ins(%zero : f32) outs(%s0 : tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32>
  %s = linalg.contract indexing_maps = [#qmap, #kmap, #omap] ins(%q, %kd : tensor<1x2x4x16xf16>, tensor<1x2x8x16xf16>) outs(%sz : tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32>
  %sm = linalg.generic {indexing_maps = [#id, #bmask, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%s, %mask : tensor<1x2x4x8xf32>, tensor<1x1x4x8xf32>) outs(%s0 : tensor<1x2x4x8xf32>) {
  ^bb0(%x: f32, %m: f32, %out: f32):
    %d = arith.divf %x, %sqrt_d : f32
    %r = arith.addf %d, %m : f32
    linalg.yield %r : f32
  } -> tensor<1x2x4x8xf32>
  %p = linalg.softmax dimension(3) ins(%sm : tensor<1x2x4x8xf32>) outs(%s0 : tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32>
  %ph = quantkv.typecast %p : tensor<1x2x4x8xf32> to tensor<1x2x4x8xf16>
  %vd = quantkv.dequantize %v scale(%vs : tensor<1xf32>) granularity(#quantkv.per_tensor) : tensor<1x2x8x16xsi8> -> tensor<1x2x8x16xf16>
  %o0 = tensor.empty() : tensor<1x2x4x16xf32>
  %oz = linalg.fill ins(%zero : f32) outs(%o0 : tensor<1x2x4x16xf32>) -> tensor<1x2x4x16xf32>
  // expected-remark @below {{fusable: math_mode f16}}
  %o = linalg.contract indexing_maps = [#qmap, #vmap, #omap] ins(%ph, %vd : tensor<1x2x4x8xf16>, tensor<1x2x8x16xf16>) outs(%oz : tensor<1x2x4x16xf32>) -> tensor<1x2x4x16xf32>
  return %o : tensor<1x2x4x16xf32>
}

//===----------------------------------------------------------------------===//
// Upstream-only form: no quantkv op, as a framework lowering emits it.
//===----------------------------------------------------------------------===//

// -----

// 3-d, one linalg.generic per torch op: K i8 (sitofp) * per-token scale,
// K^T by a generic with a permuted map, V (uitofp(extui v) - 128) * 0.02,
// scores / sqrt(D), softmax decomposed into linalg.reduce + generics.
// CHECK-LABEL: func.func @up_3d_decomposed
// EW-LABEL: func.func @up_3d_decomposed
// EW: quantkv.sdpa
// CHECK-SAME: %[[Q:[a-z0-9]+]]: tensor<4x2x16xf32>, %[[K:[a-z0-9]+]]: tensor<4x8x16xi8>, %[[KS:[a-z0-9]+]]: tensor<4x8xf32>, %[[V:[a-z0-9]+]]: tensor<4x8x16xi8>
// CHECK-NOT: linalg.
// CHECK-DAG: %[[KC:.+]] = tensor.bitcast %[[K]] : tensor<4x8x16xi8> to tensor<4x8x16xsi8>
// CHECK-DAG: %[[VC:.+]] = tensor.bitcast %[[V]] : tensor<4x8x16xi8> to tensor<4x8x16xui8>
// CHECK-DAG: %[[KS4:.+]] = tensor.expand_shape %[[KS]] {{\[\[}}0, 1], [2, 3]] output_shape [1, 4, 8, 1]
// CHECK-DAG: %[[VS:.+]] = arith.constant dense<2.000000e-02> : tensor<1xf32>
// CHECK-DAG: %[[VZ:.+]] = arith.constant dense<1.280000e+02> : tensor<1xf32>
// CHECK: quantkv.sdpa q(%{{.+}} : tensor<1x4x2x16xf32>) k(%{{.+}} : tensor<1x4x8x16xsi8>) k_scale(%[[KS4]] : tensor<1x4x8x1xf32>) v(%{{.+}} : tensor<1x4x8x16xui8>) v_scale(%[[VS]] : tensor<1xf32>) v_zero_point(%[[VZ]] : tensor<1xf32>)
// CHECK-SAME: key_quant = #quantkv.per_group<[1, 1, 1, 16]>, scale = 2.500000e-01 : f32, value_quant = #quantkv.per_tensor}
// CHECK-NOT: quantkv.sdpa
#id3 = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
#tok = affine_map<(d0, d1, d2) -> (d0, d1)>
#perm = affine_map<(d0, d1, d2) -> (d0, d2, d1)>
func.func @up_3d_decomposed(%q: tensor<4x2x16xf32>, %k: tensor<4x8x16xi8>, %ks: tensor<4x8xf32>, %v: tensor<4x8x16xi8>) -> tensor<4x2x16xf32> {
  %zero = arith.constant 0.0 : f32
  %ninf = arith.constant 0xFF800000 : f32
  %sqrt_d = arith.constant 4.0 : f32
  %vzp = arith.constant 128.0 : f32
  %vsc = arith.constant 0.02 : f32
  %ek = tensor.empty() : tensor<4x8x16xf32>
  %kf = linalg.generic {indexing_maps = [#id3, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%k : tensor<4x8x16xi8>) outs(%ek : tensor<4x8x16xf32>) {
  ^bb0(%a: i8, %o: f32):
    %f = arith.sitofp %a : i8 to f32
    linalg.yield %f : f32
  } -> tensor<4x8x16xf32>
  %kd = linalg.generic {indexing_maps = [#id3, #tok, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%kf, %ks : tensor<4x8x16xf32>, tensor<4x8xf32>) outs(%ek : tensor<4x8x16xf32>) {
  ^bb0(%a: f32, %sc: f32, %o: f32):
    %m = arith.mulf %a, %sc : f32
    linalg.yield %m : f32
  } -> tensor<4x8x16xf32>
  %et = tensor.empty() : tensor<4x16x8xf32>
  %kt = linalg.generic {indexing_maps = [#perm, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%kd : tensor<4x8x16xf32>) outs(%et : tensor<4x16x8xf32>) {
  ^bb0(%a: f32, %o: f32):
    linalg.yield %a : f32
  } -> tensor<4x16x8xf32>
  %e1 = tensor.empty() : tensor<4x2x8xf32>
  %f1 = linalg.fill ins(%zero : f32) outs(%e1 : tensor<4x2x8xf32>) -> tensor<4x2x8xf32>
  %s = linalg.batch_matmul ins(%q, %kt : tensor<4x2x16xf32>, tensor<4x16x8xf32>) outs(%f1 : tensor<4x2x8xf32>) -> tensor<4x2x8xf32>
  %ss = linalg.generic {indexing_maps = [#id3, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%s : tensor<4x2x8xf32>) outs(%e1 : tensor<4x2x8xf32>) {
  ^bb0(%a: f32, %o: f32):
    %d = arith.divf %a, %sqrt_d : f32
    linalg.yield %d : f32
  } -> tensor<4x2x8xf32>
  %er = tensor.empty() : tensor<4x2xf32>
  %mx0 = linalg.fill ins(%ninf : f32) outs(%er : tensor<4x2xf32>) -> tensor<4x2xf32>
  %mx = linalg.reduce ins(%ss : tensor<4x2x8xf32>) outs(%mx0 : tensor<4x2xf32>) dimensions = [2]
    (%in: f32, %acc: f32) {
      %m = arith.maximumf %in, %acc : f32
      linalg.yield %m : f32
    }
  %ex = linalg.generic {indexing_maps = [#id3, #tok, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%ss, %mx : tensor<4x2x8xf32>, tensor<4x2xf32>) outs(%e1 : tensor<4x2x8xf32>) {
  ^bb0(%a: f32, %m: f32, %o: f32):
    %d = arith.subf %a, %m : f32
    %e = math.exp %d : f32
    linalg.yield %e : f32
  } -> tensor<4x2x8xf32>
  %sm0 = linalg.fill ins(%zero : f32) outs(%er : tensor<4x2xf32>) -> tensor<4x2xf32>
  %sm = linalg.reduce ins(%ex : tensor<4x2x8xf32>) outs(%sm0 : tensor<4x2xf32>) dimensions = [2]
    (%in: f32, %acc: f32) {
      %a = arith.addf %in, %acc : f32
      linalg.yield %a : f32
    }
  %p = linalg.generic {indexing_maps = [#id3, #tok, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%ex, %sm : tensor<4x2x8xf32>, tensor<4x2xf32>) outs(%e1 : tensor<4x2x8xf32>) {
  ^bb0(%a: f32, %den: f32, %o: f32):
    %d = arith.divf %a, %den : f32
    linalg.yield %d : f32
  } -> tensor<4x2x8xf32>
  %vd = linalg.generic {indexing_maps = [#id3, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%v : tensor<4x8x16xi8>) outs(%ek : tensor<4x8x16xf32>) {
  ^bb0(%a: i8, %o: f32):
    %w = arith.extui %a : i8 to i32
    %f = arith.uitofp %w : i32 to f32
    %c = arith.subf %f, %vzp : f32
    %m = arith.mulf %c, %vsc : f32
    linalg.yield %m : f32
  } -> tensor<4x8x16xf32>
  %e2 = tensor.empty() : tensor<4x2x16xf32>
  %f2 = linalg.fill ins(%zero : f32) outs(%e2 : tensor<4x2x16xf32>) -> tensor<4x2x16xf32>
  // expected-remark @below {{fusable: math_mode strict}}
  %o = linalg.batch_matmul ins(%p, %vd : tensor<4x2x8xf32>, tensor<4x8x16xf32>) outs(%f2 : tensor<4x2x16xf32>) -> tensor<4x2x16xf32>
  return %o : tensor<4x2x16xf32>
}

// -----

// 4-d, K i4 with an i4 zero point and a scale per 4 channels read through a
// floordiv map, V i8 per-channel (uitofp) with an i8 zero point, both
// contractions as linalg.generic, an additive mask read at (0, 0, i, j).
// CHECK-LABEL: func.func @up_4d_int4_group_floordiv
// EW-LABEL: func.func @up_4d_int4_group_floordiv
// EW: quantkv.sdpa
// CHECK-SAME: %[[K:[a-z0-9]+]]: tensor<1x2x8x16xi4>, %[[KS:[a-z0-9]+]]: tensor<1x2x8x4xf32>, %[[KZ:[a-z0-9]+]]: tensor<1x2x8x4xi4>, %[[V:[a-z0-9]+]]: tensor<1x2x8x16xi8>, %[[VS:[a-z0-9]+]]: tensor<16xf32>, %[[VZ:[a-z0-9]+]]: tensor<16xi8>, %[[M:[a-z0-9]+]]: tensor<1x1x4x8xf32>
// CHECK-NOT: linalg.
// CHECK-DAG: %[[KC:.+]] = tensor.bitcast %[[K]] : tensor<1x2x8x16xi4> to tensor<1x2x8x16xsi4>
// CHECK-DAG: %[[KZC:.+]] = tensor.bitcast %[[KZ]] : tensor<1x2x8x4xi4> to tensor<1x2x8x4xsi4>
// CHECK-DAG: %[[VC:.+]] = tensor.bitcast %[[V]] : tensor<1x2x8x16xi8> to tensor<1x2x8x16xui8>
// CHECK-DAG: %[[VZC:.+]] = tensor.bitcast %[[VZ]] : tensor<16xi8> to tensor<16xui8>
// CHECK: quantkv.sdpa q(%{{.+}} : tensor<1x2x4x16xf32>) k(%[[KC]] : tensor<1x2x8x16xsi4>) k_scale(%[[KS]] : tensor<1x2x8x4xf32>) k_zero_point(%[[KZC]] : tensor<1x2x8x4xsi4>) v(%[[VC]] : tensor<1x2x8x16xui8>) v_scale(%[[VS]] : tensor<16xf32>) v_zero_point(%[[VZC]] : tensor<16xui8>) mask(%[[M]] : tensor<1x1x4x8xf32>)
// CHECK-SAME: key_quant = #quantkv.per_group<[1, 1, 1, 4]>, scale = 2.500000e-01 : f32, value_quant = #quantkv.per_channel<axis = 3>}
// CHECK-NOT: quantkv.sdpa
#qk = affine_map<(b, h, m, n, k) -> (b, h, m, k)>
#kk = affine_map<(b, h, m, n, k) -> (b, h, n, k)>
#vk = affine_map<(b, h, m, n, k) -> (b, h, k, n)>
#ok = affine_map<(b, h, m, n, k) -> (b, h, m, n)>
#id = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
#grp = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3 floordiv 4)>
#chan = affine_map<(d0, d1, d2, d3) -> (d3)>
#bmask = affine_map<(d0, d1, d2, d3) -> (0, 0, d2, d3)>
func.func @up_4d_int4_group_floordiv(%q: tensor<1x2x4x16xf32>, %k: tensor<1x2x8x16xi4>, %ks: tensor<1x2x8x4xf32>, %kz: tensor<1x2x8x4xi4>, %v: tensor<1x2x8x16xi8>, %vs: tensor<16xf32>, %vz: tensor<16xi8>, %mask: tensor<1x1x4x8xf32>) -> tensor<1x2x4x16xf32> {
  %zero = arith.constant 0.0 : f32
  %c = arith.constant 0.25 : f32
  %ek = tensor.empty() : tensor<1x2x8x16xf32>
  %kd = linalg.generic {indexing_maps = [#id, #grp, #grp, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%k, %ks, %kz : tensor<1x2x8x16xi4>, tensor<1x2x8x4xf32>, tensor<1x2x8x4xi4>) outs(%ek : tensor<1x2x8x16xf32>) {
  ^bb0(%x: i4, %sc: f32, %zp: i4, %o: f32):
    %xw = arith.extsi %x : i4 to i32
    %xf = arith.sitofp %xw : i32 to f32
    %zw = arith.extsi %zp : i4 to i32
    %zf = arith.sitofp %zw : i32 to f32
    %d = arith.subf %xf, %zf : f32
    %m = arith.mulf %d, %sc : f32
    linalg.yield %m : f32
  } -> tensor<1x2x8x16xf32>
  %s0 = tensor.empty() : tensor<1x2x4x8xf32>
  %sz = linalg.fill ins(%zero : f32) outs(%s0 : tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32>
  %s = linalg.generic {indexing_maps = [#qk, #kk, #ok], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%q, %kd : tensor<1x2x4x16xf32>, tensor<1x2x8x16xf32>) outs(%sz : tensor<1x2x4x8xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %m = arith.mulf %a, %b : f32
    %r = arith.addf %acc, %m : f32
    linalg.yield %r : f32
  } -> tensor<1x2x4x8xf32>
  %sm = linalg.generic {indexing_maps = [#id, #bmask, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%s, %mask : tensor<1x2x4x8xf32>, tensor<1x1x4x8xf32>) outs(%s0 : tensor<1x2x4x8xf32>) {
  ^bb0(%x: f32, %mk: f32, %out: f32):
    %y = arith.mulf %x, %c : f32
    %r = arith.addf %mk, %y : f32
    linalg.yield %r : f32
  } -> tensor<1x2x4x8xf32>
  %p = linalg.softmax dimension(3) ins(%sm : tensor<1x2x4x8xf32>) outs(%s0 : tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32>
  %vd = linalg.generic {indexing_maps = [#id, #chan, #chan, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%v, %vs, %vz : tensor<1x2x8x16xi8>, tensor<16xf32>, tensor<16xi8>) outs(%ek : tensor<1x2x8x16xf32>) {
  ^bb0(%x: i8, %sc: f32, %zp: i8, %o: f32):
    %xf = arith.uitofp %x : i8 to f32
    %zf = arith.uitofp %zp : i8 to f32
    %d = arith.subf %xf, %zf : f32
    %m = arith.mulf %sc, %d : f32
    linalg.yield %m : f32
  } -> tensor<1x2x8x16xf32>
  %o0 = tensor.empty() : tensor<1x2x4x16xf32>
  %oz = linalg.fill ins(%zero : f32) outs(%o0 : tensor<1x2x4x16xf32>) -> tensor<1x2x4x16xf32>
  // expected-remark @below {{fusable: math_mode strict}}
  %o = linalg.generic {indexing_maps = [#qk, #vk, #ok], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%p, %vd : tensor<1x2x4x8xf32>, tensor<1x2x8x16xf32>) outs(%oz : tensor<1x2x4x16xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %m = arith.mulf %a, %b : f32
    %r = arith.addf %acc, %m : f32
    linalg.yield %r : f32
  } -> tensor<1x2x4x16xf32>
  return %o : tensor<1x2x4x16xf32>
}

// -----

// torch-style groups: K reshaped to [BH, S, groups, 8], multiplied by a
// scale of shape [BH, S, groups, 1] (read at (.., g, 0)), reshaped back;
// K^T by linalg.transpose. V per-tensor with a 0-d scale.
// CHECK-LABEL: func.func @up_group_by_reshape
// CHECK-SAME: %[[KS:[a-z0-9]+]]: tensor<4x8x2x1xf32>, %[[V:[a-z0-9]+]]: tensor<4x8x16xi8>, %[[VS:[a-z0-9]+]]: tensor<f32>
// CHECK-NOT: linalg.
// CHECK-DAG: %[[KS1:.+]] = tensor.collapse_shape %[[KS]] {{\[\[}}0], [1], [2, 3]] : tensor<4x8x2x1xf32> into tensor<4x8x2xf32>
// CHECK-DAG: %[[KS4:.+]] = tensor.expand_shape %[[KS1]] {{\[\[}}0, 1], [2], [3]] output_shape [1, 4, 8, 2]
// CHECK-DAG: %[[VS1:.+]] = tensor.expand_shape %[[VS]] [] output_shape [1] : tensor<f32> into tensor<1xf32>
// CHECK: quantkv.sdpa q(%{{.+}} : tensor<1x4x2x16xf32>) k(%{{.+}} : tensor<1x4x8x16xsi8>) k_scale(%[[KS4]] : tensor<1x4x8x2xf32>) v(%{{.+}} : tensor<1x4x8x16xsi8>) v_scale(%[[VS1]] : tensor<1xf32>)
// CHECK-SAME: key_quant = #quantkv.per_group<[1, 1, 1, 8]>, scale = 1.250000e-01 : f32, value_quant = #quantkv.per_tensor}
// CHECK-NOT: quantkv.sdpa
#id3 = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
#scalar3 = affine_map<(d0, d1, d2) -> ()>
#id4 = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
#g4 = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, 0)>
func.func @up_group_by_reshape(%q: tensor<4x2x16xf32>, %k: tensor<4x8x16xi8>, %ks: tensor<4x8x2x1xf32>, %v: tensor<4x8x16xi8>, %vs: tensor<f32>) -> tensor<4x2x16xf32> {
  %zero = arith.constant 0.0 : f32
  %c = arith.constant 0.125 : f32
  %kg = tensor.expand_shape %k [[0], [1], [2, 3]] output_shape [4, 8, 2, 8] : tensor<4x8x16xi8> into tensor<4x8x2x8xi8>
  %eg = tensor.empty() : tensor<4x8x2x8xf32>
  %kdg = linalg.generic {indexing_maps = [#id4, #g4, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%kg, %ks : tensor<4x8x2x8xi8>, tensor<4x8x2x1xf32>) outs(%eg : tensor<4x8x2x8xf32>) {
  ^bb0(%x: i8, %sc: f32, %o: f32):
    %xf = arith.sitofp %x : i8 to f32
    %m = arith.mulf %xf, %sc : f32
    linalg.yield %m : f32
  } -> tensor<4x8x2x8xf32>
  %kd = tensor.collapse_shape %kdg [[0], [1], [2, 3]] : tensor<4x8x2x8xf32> into tensor<4x8x16xf32>
  %et = tensor.empty() : tensor<4x16x8xf32>
  %kt = linalg.transpose ins(%kd : tensor<4x8x16xf32>) outs(%et : tensor<4x16x8xf32>) permutation = [0, 2, 1]
  %e1 = tensor.empty() : tensor<4x2x8xf32>
  %f1 = linalg.fill ins(%zero : f32) outs(%e1 : tensor<4x2x8xf32>) -> tensor<4x2x8xf32>
  %s = linalg.batch_matmul ins(%q, %kt : tensor<4x2x16xf32>, tensor<4x16x8xf32>) outs(%f1 : tensor<4x2x8xf32>) -> tensor<4x2x8xf32>
  %ss = linalg.generic {indexing_maps = [#id3, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%s : tensor<4x2x8xf32>) outs(%e1 : tensor<4x2x8xf32>) {
  ^bb0(%a: f32, %o: f32):
    %m = arith.mulf %a, %c : f32
    linalg.yield %m : f32
  } -> tensor<4x2x8xf32>
  %p = linalg.softmax dimension(2) ins(%ss : tensor<4x2x8xf32>) outs(%e1 : tensor<4x2x8xf32>) -> tensor<4x2x8xf32>
  %ev = tensor.empty() : tensor<4x8x16xf32>
  %vd = linalg.generic {indexing_maps = [#id3, #scalar3, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%v, %vs : tensor<4x8x16xi8>, tensor<f32>) outs(%ev : tensor<4x8x16xf32>) {
  ^bb0(%x: i8, %sc: f32, %o: f32):
    %xf = arith.sitofp %x : i8 to f32
    %m = arith.mulf %xf, %sc : f32
    linalg.yield %m : f32
  } -> tensor<4x8x16xf32>
  %e2 = tensor.empty() : tensor<4x2x16xf32>
  %f2 = linalg.fill ins(%zero : f32) outs(%e2 : tensor<4x2x16xf32>) -> tensor<4x2x16xf32>
  // expected-remark @below {{fusable: math_mode strict}}
  %o = linalg.batch_matmul ins(%p, %vd : tensor<4x2x8xf32>, tensor<4x8x16xf32>) outs(%f2 : tensor<4x2x16xf32>) -> tensor<4x2x16xf32>
  return %o : tensor<4x2x16xf32>
}

// -----

// f16 Q, dequantization and truncf in separate generics, a per-channel V
// scale pre-broadcast by linalg.broadcast, K^T through batch_matmul's
// indexing maps, P truncated to f16: math mode f16.
// CHECK-LABEL: func.func @up_f16_broadcast_scale
// EW-LABEL: func.func @up_f16_broadcast_scale
// EW: quantkv.sdpa
// CHECK-SAME: %[[VS:[a-z0-9]+]]: tensor<16xf16>
// CHECK-NOT: linalg.
// CHECK: quantkv.sdpa q(%{{.+}} : tensor<1x4x2x16xf16>) k(%{{.+}} : tensor<1x4x8x16xui8>) k_scale(%{{.+}} : tensor<1xf32>) v(%{{.+}} : tensor<1x4x8x16xsi8>) v_scale(%[[VS]] : tensor<16xf16>)
// CHECK-SAME: math_mode = #quantkv.math_mode<f16>, scale = 2.500000e-01 : f32, value_quant = #quantkv.per_channel<axis = 3>}
// CHECK-NOT: quantkv.sdpa
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
  // expected-remark @below {{fusable: math_mode f16}}
  %o = linalg.batch_matmul ins(%ph, %vd : tensor<4x2x8xf16>, tensor<4x8x16xf16>) outs(%f2 : tensor<4x2x16xf16>) -> tensor<4x2x16xf16>
  return %o : tensor<4x2x16xf16>
}

// -----

// K stored transposed ([B, H, D, S], as some caches keep it): read without
// a transpose by the contraction, it becomes key_layout = bds.
// CHECK-LABEL: func.func @up_k_stored_bds
// EW-LABEL: func.func @up_k_stored_bds
// EW: quantkv.sdpa
// CHECK-NOT: linalg.
// CHECK: quantkv.sdpa q(%{{.+}} : tensor<1x2x4x16xf32>) k(%{{.+}} : tensor<1x2x16x8xsi8>) k_scale(%{{.+}} : tensor<1xf32>) v(%{{.+}} : tensor<1x2x8x16xsi8>) v_scale(%{{.+}} : tensor<1xf32>)
// CHECK-SAME: key_layout = #quantkv.k_layout<bds>
// CHECK-NOT: quantkv.sdpa
#qk = affine_map<(b, h, m, n, k) -> (b, h, m, k)>
#kt = affine_map<(b, h, m, n, k) -> (b, h, k, n)>
#ok = affine_map<(b, h, m, n, k) -> (b, h, m, n)>
#id = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
func.func @up_k_stored_bds(%q: tensor<1x2x4x16xf32>, %k: tensor<1x2x16x8xi8>, %v: tensor<1x2x8x16xi8>) -> tensor<1x2x4x16xf32> {
  %zero = arith.constant 0.0 : f32
  %c = arith.constant 0.25 : f32
  %sck = arith.constant 0.03 : f32
  %ek = tensor.empty() : tensor<1x2x16x8xf32>
  %kd = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%k : tensor<1x2x16x8xi8>) outs(%ek : tensor<1x2x16x8xf32>) {
  ^bb0(%x: i8, %o: f32):
    %xf = arith.sitofp %x : i8 to f32
    %m = arith.mulf %xf, %sck : f32
    linalg.yield %m : f32
  } -> tensor<1x2x16x8xf32>
  %s0 = tensor.empty() : tensor<1x2x4x8xf32>
  %sz = linalg.fill ins(%zero : f32) outs(%s0 : tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32>
  %s = linalg.contract indexing_maps = [#qk, #kt, #ok] ins(%q, %kd : tensor<1x2x4x16xf32>, tensor<1x2x16x8xf32>) outs(%sz : tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32>
  %sm = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%s : tensor<1x2x4x8xf32>) outs(%s0 : tensor<1x2x4x8xf32>) {
  ^bb0(%x: f32, %out: f32):
    %y = arith.mulf %x, %c : f32
    linalg.yield %y : f32
  } -> tensor<1x2x4x8xf32>
  %p = linalg.softmax dimension(3) ins(%sm : tensor<1x2x4x8xf32>) outs(%s0 : tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32>
  %ev = tensor.empty() : tensor<1x2x8x16xf32>
  %vd = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%v : tensor<1x2x8x16xi8>) outs(%ev : tensor<1x2x8x16xf32>) {
  ^bb0(%x: i8, %o: f32):
    %xf = arith.sitofp %x : i8 to f32
    %m = arith.mulf %xf, %sck : f32
    linalg.yield %m : f32
  } -> tensor<1x2x8x16xf32>
  %o0 = tensor.empty() : tensor<1x2x4x16xf32>
  %oz = linalg.fill ins(%zero : f32) outs(%o0 : tensor<1x2x4x16xf32>) -> tensor<1x2x4x16xf32>
  // expected-remark @below {{fusable: math_mode strict}}
  %o = linalg.contract indexing_maps = [#qk, #kt, #ok] ins(%p, %vd : tensor<1x2x4x8xf32>, tensor<1x2x8x16xf32>) outs(%oz : tensor<1x2x4x16xf32>) -> tensor<1x2x4x16xf32>
  return %o : tensor<1x2x4x16xf32>
}

// -----

// Everything before the softmax in one generic (scale, then a top-left
// causal select on i64 iotas), softmax decomposed with generic reductions
// that keep the reduced dim (read at (.., 0)).
// CHECK-LABEL: func.func @up_fused_causal_top_left
// EW-LABEL: func.func @up_fused_causal_top_left
// EW: quantkv.sdpa
// CHECK-NOT: linalg.
// CHECK: quantkv.sdpa
// CHECK-SAME: causal = #quantkv.causal<top_left>
// CHECK-SAME: scale = 2.500000e-01 : f32
// CHECK-NOT: quantkv.sdpa
#id3 = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
#keep = affine_map<(d0, d1, d2) -> (d0, d1, 0)>
func.func @up_fused_causal_top_left(%q: tensor<2x8x16xf32>, %kt: tensor<2x16x8xf32>, %k: tensor<2x8x16xi8>, %v: tensor<2x8x16xi8>) -> tensor<2x8x16xf32> {
  %zero = arith.constant 0.0 : f32
  %lowest = arith.constant -3.40282347E+38 : f32
  %c = arith.constant 0.25 : f32
  %sck = arith.constant 0.05 : f32
  %ek = tensor.empty() : tensor<2x16x8xf32>
  %kd = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d2, d1)>, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%k : tensor<2x8x16xi8>) outs(%ek : tensor<2x16x8xf32>) {
  ^bb0(%x: i8, %o: f32):
    %xf = arith.sitofp %x : i8 to f32
    %m = arith.mulf %sck, %xf : f32
    linalg.yield %m : f32
  } -> tensor<2x16x8xf32>
  %e1 = tensor.empty() : tensor<2x8x8xf32>
  %f1 = linalg.fill ins(%zero : f32) outs(%e1 : tensor<2x8x8xf32>) -> tensor<2x8x8xf32>
  %s = linalg.batch_matmul ins(%q, %kd : tensor<2x8x16xf32>, tensor<2x16x8xf32>) outs(%f1 : tensor<2x8x8xf32>) -> tensor<2x8x8xf32>
  %sm = linalg.generic {indexing_maps = [#id3, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%s : tensor<2x8x8xf32>) outs(%e1 : tensor<2x8x8xf32>) {
  ^bb0(%x: f32, %out: f32):
    %i = linalg.index 1 : index
    %j = linalg.index 2 : index
    %i64 = arith.index_cast %i : index to i64
    %j64 = arith.index_cast %j : index to i64
    %keep = arith.cmpi sle, %j64, %i64 : i64
    %y = arith.mulf %x, %c : f32
    %r = arith.select %keep, %y, %lowest : f32
    linalg.yield %r : f32
  } -> tensor<2x8x8xf32>
  %er = tensor.empty() : tensor<2x8x1xf32>
  %mx0 = linalg.fill ins(%lowest : f32) outs(%er : tensor<2x8x1xf32>) -> tensor<2x8x1xf32>
  %mx = linalg.generic {indexing_maps = [#id3, #keep], iterator_types = ["parallel", "parallel", "reduction"]} ins(%sm : tensor<2x8x8xf32>) outs(%mx0 : tensor<2x8x1xf32>) {
  ^bb0(%x: f32, %acc: f32):
    %m = arith.maxnumf %acc, %x : f32
    linalg.yield %m : f32
  } -> tensor<2x8x1xf32>
  %ex = linalg.generic {indexing_maps = [#id3, #keep, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%sm, %mx : tensor<2x8x8xf32>, tensor<2x8x1xf32>) outs(%e1 : tensor<2x8x8xf32>) {
  ^bb0(%x: f32, %m: f32, %o: f32):
    %d = arith.subf %x, %m : f32
    %e = math.exp %d : f32
    linalg.yield %e : f32
  } -> tensor<2x8x8xf32>
  %sum0 = linalg.fill ins(%zero : f32) outs(%er : tensor<2x8x1xf32>) -> tensor<2x8x1xf32>
  %sum = linalg.generic {indexing_maps = [#id3, #keep], iterator_types = ["parallel", "parallel", "reduction"]} ins(%ex : tensor<2x8x8xf32>) outs(%sum0 : tensor<2x8x1xf32>) {
  ^bb0(%x: f32, %acc: f32):
    %a = arith.addf %x, %acc : f32
    linalg.yield %a : f32
  } -> tensor<2x8x1xf32>
  %p = linalg.generic {indexing_maps = [#id3, #keep, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%ex, %sum : tensor<2x8x8xf32>, tensor<2x8x1xf32>) outs(%e1 : tensor<2x8x8xf32>) {
  ^bb0(%x: f32, %den: f32, %o: f32):
    %d = arith.divf %x, %den : f32
    linalg.yield %d : f32
  } -> tensor<2x8x8xf32>
  %ev = tensor.empty() : tensor<2x8x16xf32>
  %vd = linalg.generic {indexing_maps = [#id3, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%v : tensor<2x8x16xi8>) outs(%ev : tensor<2x8x16xf32>) {
  ^bb0(%x: i8, %o: f32):
    %xf = arith.sitofp %x : i8 to f32
    %m = arith.mulf %xf, %sck : f32
    linalg.yield %m : f32
  } -> tensor<2x8x16xf32>
  %e2 = tensor.empty() : tensor<2x8x16xf32>
  %f2 = linalg.fill ins(%zero : f32) outs(%e2 : tensor<2x8x16xf32>) -> tensor<2x8x16xf32>
  // expected-remark @below {{fusable: math_mode strict}}
  %o = linalg.batch_matmul ins(%p, %vd : tensor<2x8x8xf32>, tensor<2x8x16xf32>) outs(%f2 : tensor<2x8x16xf32>) -> tensor<2x8x16xf32>
  return %o : tensor<2x8x16xf32>
}

// -----

// Rank 2 (one head): linalg.matmul with a transposed-B indexing map, V with
// an integer zero-point subtraction before the conversion.
// CHECK-LABEL: func.func @up_2d_matmul_int_zp
// EW-LABEL: func.func @up_2d_matmul_int_zp
// EW: quantkv.sdpa
// CHECK-SAME: %[[Q:[a-z0-9]+]]: tensor<4x16xf32>, %[[K:[a-z0-9]+]]: tensor<8x16xi8>, %[[V:[a-z0-9]+]]: tensor<8x16xi8>, %[[VZ:[a-z0-9]+]]: tensor<8xi8>, %[[VS:[a-z0-9]+]]: tensor<8xf32>
// CHECK-NOT: linalg.
// CHECK-DAG: %[[Q4:.+]] = tensor.expand_shape %[[Q]] {{\[\[}}0, 1, 2], [3]] output_shape [1, 1, 4, 16]
// CHECK-DAG: %[[VZC:.+]] = tensor.bitcast %[[VZ]] : tensor<8xi8> to tensor<8xsi8>
// CHECK: quantkv.sdpa q(%[[Q4]] : tensor<1x1x4x16xf32>) k(%{{.+}} : tensor<1x1x8x16xsi8>) k_scale(%{{.+}} : tensor<1xf32>) v(%{{.+}} : tensor<1x1x8x16xsi8>) v_scale(%[[VS]] : tensor<8xf32>) v_zero_point(%[[VZC]] : tensor<8xsi8>)
// CHECK-SAME: value_quant = #quantkv.per_channel<axis = 2>
// CHECK: tensor.collapse_shape %{{.+}} {{\[\[}}0, 1, 2], [3]] : tensor<1x1x4x16xf32> into tensor<4x16xf32>
// CHECK-NOT: quantkv.sdpa
#id2 = affine_map<(d0, d1) -> (d0, d1)>
#row = affine_map<(d0, d1) -> (d0)>
func.func @up_2d_matmul_int_zp(%q: tensor<4x16xf32>, %k: tensor<8x16xi8>, %v: tensor<8x16xi8>, %vz: tensor<8xi8>, %vs: tensor<8xf32>) -> tensor<4x16xf32> {
  %zero = arith.constant 0.0 : f32
  %c = arith.constant 0.25 : f32
  %sck = arith.constant 0.05 : f32
  %ek = tensor.empty() : tensor<8x16xf32>
  %kd = linalg.generic {indexing_maps = [#id2, #id2], iterator_types = ["parallel", "parallel"]} ins(%k : tensor<8x16xi8>) outs(%ek : tensor<8x16xf32>) {
  ^bb0(%x: i8, %o: f32):
    %xf = arith.sitofp %x : i8 to f32
    %m = arith.mulf %xf, %sck : f32
    linalg.yield %m : f32
  } -> tensor<8x16xf32>
  %e1 = tensor.empty() : tensor<4x8xf32>
  %f1 = linalg.fill ins(%zero : f32) outs(%e1 : tensor<4x8xf32>) -> tensor<4x8xf32>
  %s = linalg.matmul indexing_maps = [affine_map<(m, n, k) -> (m, k)>, affine_map<(m, n, k) -> (n, k)>, affine_map<(m, n, k) -> (m, n)>] ins(%q, %kd : tensor<4x16xf32>, tensor<8x16xf32>) outs(%f1 : tensor<4x8xf32>) -> tensor<4x8xf32>
  %sm = linalg.generic {indexing_maps = [#id2, #id2], iterator_types = ["parallel", "parallel"]} ins(%s : tensor<4x8xf32>) outs(%e1 : tensor<4x8xf32>) {
  ^bb0(%x: f32, %out: f32):
    %y = arith.mulf %x, %c : f32
    linalg.yield %y : f32
  } -> tensor<4x8xf32>
  %p = linalg.softmax dimension(1) ins(%sm : tensor<4x8xf32>) outs(%e1 : tensor<4x8xf32>) -> tensor<4x8xf32>
  %vd = linalg.generic {indexing_maps = [#id2, #row, #row, #id2], iterator_types = ["parallel", "parallel"]} ins(%v, %vz, %vs : tensor<8x16xi8>, tensor<8xi8>, tensor<8xf32>) outs(%ek : tensor<8x16xf32>) {
  ^bb0(%x: i8, %zp: i8, %sc: f32, %o: f32):
    %xw = arith.extsi %x : i8 to i32
    %zw = arith.extsi %zp : i8 to i32
    %d = arith.subi %xw, %zw : i32
    %df = arith.sitofp %d : i32 to f32
    %m = arith.mulf %df, %sc : f32
    linalg.yield %m : f32
  } -> tensor<8x16xf32>
  %e2 = tensor.empty() : tensor<4x16xf32>
  %f2 = linalg.fill ins(%zero : f32) outs(%e2 : tensor<4x16xf32>) -> tensor<4x16xf32>
  // expected-remark @below {{fusable: math_mode strict}}
  %o = linalg.matmul ins(%p, %vd : tensor<4x8xf32>, tensor<8x16xf32>) outs(%f2 : tensor<4x16xf32>) -> tensor<4x16xf32>
  return %o : tensor<4x16xf32>
}

// -----

// GQA as torch expands it: dequantized K/V [1, 2, 8, 16] -> expand_shape
// [1, 2, 1, 8, 16] -> generic broadcast [1, 2, 4, 8, 16] -> collapse
// [1, 8, 8, 16]; per-channel K scale; decode-style bottom-right causal mask
// as an i1 tensor built from iotas by its own generic.
// CHECK-LABEL: func.func @up_gqa_expand_iota_mask
// CHECK-SAME: %[[Q:[a-z0-9]+]]: tensor<1x8x2x16xf32>, %[[K:[a-z0-9]+]]: tensor<1x2x8x16xi8>, %[[KS:[a-z0-9]+]]: tensor<16xf32>
// CHECK-NOT: linalg.
// CHECK: quantkv.sdpa q(%[[Q]] : tensor<1x8x2x16xf32>) k(%{{.+}} : tensor<1x2x8x16xsi8>) k_scale(%[[KS]] : tensor<16xf32>) v(%{{.+}} : tensor<1x2x8x16xui8>) v_scale(%{{.+}} : tensor<1xf32>)
// CHECK-SAME: causal = #quantkv.causal<bottom_right>, key_quant = #quantkv.per_channel<axis = 3>
// CHECK-NOT: quantkv.sdpa
#qk = affine_map<(b, h, m, n, k) -> (b, h, m, k)>
#kk = affine_map<(b, h, m, n, k) -> (b, h, n, k)>
#vk = affine_map<(b, h, m, n, k) -> (b, h, k, n)>
#ok = affine_map<(b, h, m, n, k) -> (b, h, m, n)>
#id = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
#chan = affine_map<(d0, d1, d2, d3) -> (d3)>
#ij = affine_map<(d0, d1, d2, d3) -> (d2, d3)>
#id2 = affine_map<(d0, d1) -> (d0, d1)>
#bc5 = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, 0, d3, d4)>
#id5 = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3, d4)>
func.func @up_gqa_expand_iota_mask(%q: tensor<1x8x2x16xf32>, %k: tensor<1x2x8x16xi8>, %ks: tensor<16xf32>, %v: tensor<1x2x8x16xi8>) -> tensor<1x8x2x16xf32> {
  %zero = arith.constant 0.0 : f32
  %ninf = arith.constant 0xFF800000 : f32
  %c = arith.constant 0.25 : f32
  %c6 = arith.constant 6 : i64
  %vsc = arith.constant 0.5 : f32
  %ek = tensor.empty() : tensor<1x2x8x16xf32>
  %kd = linalg.generic {indexing_maps = [#id, #chan, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%k, %ks : tensor<1x2x8x16xi8>, tensor<16xf32>) outs(%ek : tensor<1x2x8x16xf32>) {
  ^bb0(%x: i8, %sc: f32, %o: f32):
    %xf = arith.sitofp %x : i8 to f32
    %m = arith.mulf %xf, %sc : f32
    linalg.yield %m : f32
  } -> tensor<1x2x8x16xf32>
  %k5 = tensor.expand_shape %kd [[0], [1, 2], [3], [4]] output_shape [1, 2, 1, 8, 16] : tensor<1x2x8x16xf32> into tensor<1x2x1x8x16xf32>
  %eb = tensor.empty() : tensor<1x2x4x8x16xf32>
  %kb = linalg.generic {indexing_maps = [#bc5, #id5], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel"]} ins(%k5 : tensor<1x2x1x8x16xf32>) outs(%eb : tensor<1x2x4x8x16xf32>) {
  ^bb0(%x: f32, %o: f32):
    linalg.yield %x : f32
  } -> tensor<1x2x4x8x16xf32>
  %kg = tensor.collapse_shape %kb [[0], [1, 2], [3], [4]] : tensor<1x2x4x8x16xf32> into tensor<1x8x8x16xf32>
  %s0 = tensor.empty() : tensor<1x8x2x8xf32>
  %sz = linalg.fill ins(%zero : f32) outs(%s0 : tensor<1x8x2x8xf32>) -> tensor<1x8x2x8xf32>
  %s = linalg.contract indexing_maps = [#qk, #kk, #ok] ins(%q, %kg : tensor<1x8x2x16xf32>, tensor<1x8x8x16xf32>) outs(%sz : tensor<1x8x2x8xf32>) -> tensor<1x8x2x8xf32>
  %em = tensor.empty() : tensor<2x8xi1>
  %future = linalg.generic {indexing_maps = [#id2], iterator_types = ["parallel", "parallel"]} outs(%em : tensor<2x8xi1>) {
  ^bb0(%o: i1):
    %i = linalg.index 0 : index
    %j = linalg.index 1 : index
    %i64 = arith.index_cast %i : index to i64
    %j64 = arith.index_cast %j : index to i64
    %last = arith.addi %i64, %c6 : i64
    %f = arith.cmpi sgt, %j64, %last : i64
    linalg.yield %f : i1
  } -> tensor<2x8xi1>
  %sm = linalg.generic {indexing_maps = [#id, #ij, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%s, %future : tensor<1x8x2x8xf32>, tensor<2x8xi1>) outs(%s0 : tensor<1x8x2x8xf32>) {
  ^bb0(%x: f32, %f: i1, %out: f32):
    %y = arith.mulf %x, %c : f32
    %r = arith.select %f, %ninf, %y : f32
    linalg.yield %r : f32
  } -> tensor<1x8x2x8xf32>
  %p = linalg.softmax dimension(3) ins(%sm : tensor<1x8x2x8xf32>) outs(%s0 : tensor<1x8x2x8xf32>) -> tensor<1x8x2x8xf32>
  %vd = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%v : tensor<1x2x8x16xi8>) outs(%ek : tensor<1x2x8x16xf32>) {
  ^bb0(%x: i8, %o: f32):
    %xf = arith.uitofp %x : i8 to f32
    %m = arith.mulf %xf, %vsc : f32
    linalg.yield %m : f32
  } -> tensor<1x2x8x16xf32>
  %v5 = tensor.expand_shape %vd [[0], [1, 2], [3], [4]] output_shape [1, 2, 1, 8, 16] : tensor<1x2x8x16xf32> into tensor<1x2x1x8x16xf32>
  %vb = linalg.generic {indexing_maps = [#bc5, #id5], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel"]} ins(%v5 : tensor<1x2x1x8x16xf32>) outs(%eb : tensor<1x2x4x8x16xf32>) {
  ^bb0(%x: f32, %o: f32):
    linalg.yield %x : f32
  } -> tensor<1x2x4x8x16xf32>
  %vg = tensor.collapse_shape %vb [[0], [1, 2], [3], [4]] : tensor<1x2x4x8x16xf32> into tensor<1x8x8x16xf32>
  %o0 = tensor.empty() : tensor<1x8x2x16xf32>
  %oz = linalg.fill ins(%zero : f32) outs(%o0 : tensor<1x8x2x16xf32>) -> tensor<1x8x2x16xf32>
  // expected-remark @below {{fusable: math_mode strict}}
  %o = linalg.contract indexing_maps = [#qk, #vk, #ok] ins(%p, %vg : tensor<1x8x2x8xf32>, tensor<1x8x8x16xf32>) outs(%oz : tensor<1x8x2x16xf32>) -> tensor<1x8x2x16xf32>
  return %o : tensor<1x8x2x16xf32>
}

// -----

// 4-d bf16: s4 K per-channel with an s4 zero point, s8 V with a scale per 4
// tokens (per_group along S), both typecast to bf16, P typecast to bf16, a
// rank-2 additive mask [Sq, Skv] read at (i, j).
// CHECK-LABEL: func.func @op_4d_bf16_int4_k_int8_v
// EW-LABEL: func.func @op_4d_bf16_int4_k_int8_v
// EW: quantkv.sdpa
// CHECK-SAME: %[[M:[a-z0-9]+]]: tensor<4x8xf32>
// CHECK-NOT: linalg.
// CHECK: %[[M4:.+]] = tensor.expand_shape %[[M]] {{\[\[}}0, 1, 2], [3]] output_shape [1, 1, 4, 8]
// CHECK: quantkv.sdpa q(%{{.+}} : tensor<1x2x4x16xbf16>) k(%{{.+}} : tensor<1x2x8x16xsi4>) k_scale(%{{.+}} : tensor<16xf32>) k_zero_point(%{{.+}} : tensor<16xsi4>) v(%{{.+}} : tensor<1x2x8x16xsi8>) v_scale(%{{.+}} : tensor<1x2x2x1xf32>) mask(%[[M4]] : tensor<1x1x4x8xf32>)
// CHECK-SAME: key_quant = #quantkv.per_channel<axis = 3>, math_mode = #quantkv.math_mode<bf16>
// CHECK-SAME: value_quant = #quantkv.per_group<[1, 1, 4, 16]>
// CHECK-NOT: quantkv.sdpa
#qk = affine_map<(b, h, m, n, k) -> (b, h, m, k)>
#kk = affine_map<(b, h, m, n, k) -> (b, h, n, k)>
#vk = affine_map<(b, h, m, n, k) -> (b, h, k, n)>
#ok = affine_map<(b, h, m, n, k) -> (b, h, m, n)>
#id = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
#ij = affine_map<(d0, d1, d2, d3) -> (d2, d3)>
func.func @op_4d_bf16_int4_k_int8_v(%q: tensor<1x2x4x16xbf16>, %k: tensor<1x2x8x16xsi4>, %ks: tensor<16xf32>, %kz: tensor<16xsi4>, %v: tensor<1x2x8x16xsi8>, %vs: tensor<1x2x2x1xf32>, %mask: tensor<4x8xf32>) -> tensor<1x2x4x16xf32> {
  %zero = arith.constant 0.0 : f32
  %c = arith.constant 0.25 : f32
  %kd = quantkv.dequantize %k scale(%ks : tensor<16xf32>) zero_point(%kz : tensor<16xsi4>) granularity(#quantkv.per_channel<axis = 3>) : tensor<1x2x8x16xsi4> -> tensor<1x2x8x16xf32>
  %kh = quantkv.typecast %kd : tensor<1x2x8x16xf32> to tensor<1x2x8x16xbf16>
  %s0 = tensor.empty() : tensor<1x2x4x8xf32>
  %sz = linalg.fill ins(%zero : f32) outs(%s0 : tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32>
  %s = linalg.contract indexing_maps = [#qk, #kk, #ok] ins(%q, %kh : tensor<1x2x4x16xbf16>, tensor<1x2x8x16xbf16>) outs(%sz : tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32>
  %sm = linalg.generic {indexing_maps = [#id, #ij, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%s, %mask : tensor<1x2x4x8xf32>, tensor<4x8xf32>) outs(%s0 : tensor<1x2x4x8xf32>) {
  ^bb0(%x: f32, %mk: f32, %out: f32):
    %y = arith.mulf %x, %c : f32
    %r = arith.addf %y, %mk : f32
    linalg.yield %r : f32
  } -> tensor<1x2x4x8xf32>
  %p = linalg.softmax dimension(3) ins(%sm : tensor<1x2x4x8xf32>) outs(%s0 : tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32>
  %ph = quantkv.typecast %p : tensor<1x2x4x8xf32> to tensor<1x2x4x8xbf16>
  %vd = quantkv.dequantize %v scale(%vs : tensor<1x2x2x1xf32>) granularity(#quantkv.per_group<[1, 1, 4, 16]>) : tensor<1x2x8x16xsi8> -> tensor<1x2x8x16xf32>
  %vh = quantkv.typecast %vd : tensor<1x2x8x16xf32> to tensor<1x2x8x16xbf16>
  %o0 = tensor.empty() : tensor<1x2x4x16xf32>
  %oz = linalg.fill ins(%zero : f32) outs(%o0 : tensor<1x2x4x16xf32>) -> tensor<1x2x4x16xf32>
  // expected-remark @below {{fusable: math_mode bf16}}
  %o = linalg.contract indexing_maps = [#qk, #vk, #ok] ins(%ph, %vh : tensor<1x2x4x8xbf16>, tensor<1x2x8x16xbf16>) outs(%oz : tensor<1x2x4x16xf32>) -> tensor<1x2x4x16xf32>
  return %o : tensor<1x2x4x16xf32>
}

// -----

// 4-d MQA (one K/V head for 4 query heads: linalg.broadcast to
// [1, 1, 4, 8, 16] and collapse_shape to [1, 4, 8, 16]), u8 K and V
// per-tensor with zero points, top-left causal with Sq == Skv, decomposed
// softmax whose division recomputes the exponentials.
// CHECK-LABEL: func.func @op_4d_mqa_causal_decomposed
// CHECK-NOT: linalg.
// CHECK: quantkv.sdpa q(%{{.+}} : tensor<1x4x8x16xf32>) k(%{{.+}} : tensor<1x1x8x16xui8>) k_scale(%{{.+}} : tensor<1xf32>) k_zero_point(%{{.+}} : tensor<1xui8>) v(%{{.+}} : tensor<1x1x8x16xui8>)
// CHECK-SAME: causal = #quantkv.causal<top_left>
// CHECK-NOT: quantkv.sdpa
#qk = affine_map<(b, h, m, n, k) -> (b, h, m, k)>
#kk = affine_map<(b, h, m, n, k) -> (b, h, n, k)>
#vk = affine_map<(b, h, m, n, k) -> (b, h, k, n)>
#ok = affine_map<(b, h, m, n, k) -> (b, h, m, n)>
#id = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
#red = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>
func.func @op_4d_mqa_causal_decomposed(%q: tensor<1x4x8x16xf32>, %k: tensor<1x1x8x16xui8>, %ks: tensor<1xf32>, %kz: tensor<1xui8>, %v: tensor<1x1x8x16xui8>, %vs: tensor<1xf32>, %vz: tensor<1xui8>) -> tensor<1x4x8x16xf32> {
  %zero = arith.constant 0.0 : f32
  %ninf = arith.constant 0xFF800000 : f32
  %c = arith.constant 0.25 : f32
  %kd1 = quantkv.dequantize %k scale(%ks : tensor<1xf32>) zero_point(%kz : tensor<1xui8>) granularity(#quantkv.per_tensor) : tensor<1x1x8x16xui8> -> tensor<1x1x8x16xf32>
  %eb = tensor.empty() : tensor<1x1x4x8x16xf32>
  %kb = linalg.broadcast ins(%kd1 : tensor<1x1x8x16xf32>) outs(%eb : tensor<1x1x4x8x16xf32>) dimensions = [2]
  %kd = tensor.collapse_shape %kb [[0], [1, 2], [3], [4]] : tensor<1x1x4x8x16xf32> into tensor<1x4x8x16xf32>
  %s0 = tensor.empty() : tensor<1x4x8x8xf32>
  %sz = linalg.fill ins(%zero : f32) outs(%s0 : tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32>
  %s = linalg.generic {indexing_maps = [#qk, #kk, #ok], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%q, %kd : tensor<1x4x8x16xf32>, tensor<1x4x8x16xf32>) outs(%sz : tensor<1x4x8x8xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %m = arith.mulf %a, %b : f32
    %r = arith.addf %acc, %m : f32
    linalg.yield %r : f32
  } -> tensor<1x4x8x8xf32>
  %sm = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%s : tensor<1x4x8x8xf32>) outs(%s0 : tensor<1x4x8x8xf32>) {
  ^bb0(%x: f32, %out: f32):
    %i = linalg.index 2 : index
    %j = linalg.index 3 : index
    %f = arith.cmpi ugt, %j, %i : index
    %y = arith.mulf %x, %c : f32
    %r = arith.select %f, %ninf, %y : f32
    linalg.yield %r : f32
  } -> tensor<1x4x8x8xf32>
  %er = tensor.empty() : tensor<1x4x8xf32>
  %mx0 = linalg.fill ins(%ninf : f32) outs(%er : tensor<1x4x8xf32>) -> tensor<1x4x8xf32>
  %mx = linalg.reduce ins(%sm : tensor<1x4x8x8xf32>) outs(%mx0 : tensor<1x4x8xf32>) dimensions = [3]
    (%in: f32, %acc: f32) {
      %m = arith.maximumf %in, %acc : f32
      linalg.yield %m : f32
    }
  %sum0 = linalg.fill ins(%zero : f32) outs(%er : tensor<1x4x8xf32>) -> tensor<1x4x8xf32>
  %ex = linalg.generic {indexing_maps = [#id, #red, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%sm, %mx : tensor<1x4x8x8xf32>, tensor<1x4x8xf32>) outs(%s0 : tensor<1x4x8x8xf32>) {
  ^bb0(%x: f32, %m: f32, %o: f32):
    %d = arith.subf %x, %m : f32
    %e = math.exp %d : f32
    linalg.yield %e : f32
  } -> tensor<1x4x8x8xf32>
  %sum = linalg.reduce ins(%ex : tensor<1x4x8x8xf32>) outs(%sum0 : tensor<1x4x8xf32>) dimensions = [3]
    (%in: f32, %acc: f32) {
      %a = arith.addf %acc, %in : f32
      linalg.yield %a : f32
    }
  // The division recomputes exp(x - max) instead of reading %ex.
  %p = linalg.generic {indexing_maps = [#id, #red, #red, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%sm, %mx, %sum : tensor<1x4x8x8xf32>, tensor<1x4x8xf32>, tensor<1x4x8xf32>) outs(%s0 : tensor<1x4x8x8xf32>) {
  ^bb0(%x: f32, %m: f32, %den: f32, %o: f32):
    %d = arith.subf %x, %m : f32
    %e = math.exp %d : f32
    %r = arith.divf %e, %den : f32
    linalg.yield %r : f32
  } -> tensor<1x4x8x8xf32>
  %vd1 = quantkv.dequantize %v scale(%vs : tensor<1xf32>) zero_point(%vz : tensor<1xui8>) granularity(#quantkv.per_tensor) : tensor<1x1x8x16xui8> -> tensor<1x1x8x16xf32>
  %vb = linalg.broadcast ins(%vd1 : tensor<1x1x8x16xf32>) outs(%eb : tensor<1x1x4x8x16xf32>) dimensions = [2]
  %vd = tensor.collapse_shape %vb [[0], [1, 2], [3], [4]] : tensor<1x1x4x8x16xf32> into tensor<1x4x8x16xf32>
  %o0 = tensor.empty() : tensor<1x4x8x16xf32>
  %oz = linalg.fill ins(%zero : f32) outs(%o0 : tensor<1x4x8x16xf32>) -> tensor<1x4x8x16xf32>
  // expected-remark @below {{fusable: math_mode strict}}
  %o = linalg.generic {indexing_maps = [#qk, #vk, #ok], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%p, %vd : tensor<1x4x8x8xf32>, tensor<1x4x8x16xf32>) outs(%oz : tensor<1x4x8x16xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %m = arith.mulf %a, %b : f32
    %r = arith.addf %acc, %m : f32
    linalg.yield %r : f32
  } -> tensor<1x4x8x16xf32>
  return %o : tensor<1x4x8x16xf32>
}

// -----

// The reference lowering's own output for @op_3d_per_tensor (upstream-only:
// signless storage, dequantization generics, linalg.softmax decomposed the
// upstream way, whose max starts at NaN under maxnumf) fuses back.
// CHECK-LABEL: func.func @up_lowered_softmax_decomposition
// EW-LABEL: func.func @up_lowered_softmax_decomposition
// EW: quantkv.sdpa
// CHECK-NOT: linalg.
// CHECK: quantkv.sdpa q(%{{.+}} : tensor<1x4x2x16xf32>) k(%{{.+}} : tensor<1x4x8x16xsi8>) k_scale(%{{.+}} : tensor<1xf32>) v(%{{.+}} : tensor<1x4x8x16xsi8>)
// CHECK-SAME: scale = 2.500000e-01 : f32
// CHECK-NOT: quantkv.sdpa
func.func @up_lowered_softmax_decomposition(%arg0: tensor<4x2x16xf32>, %arg1: tensor<4x8x16xi8>, %arg2: tensor<1xf32>, %arg3: tensor<4x8x16xi8>, %arg4: tensor<1xf32>) -> tensor<4x2x16xf32> {
  %cst = arith.constant 0.000000e+00 : f32
  %cst_0 = arith.constant 2.500000e-01 : f32
  %0 = tensor.empty() : tensor<4x8x16xf32>
  %1 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (0)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]} ins(%arg1, %arg2 : tensor<4x8x16xi8>, tensor<1xf32>) outs(%0 : tensor<4x8x16xf32>) {
  ^bb0(%in: i8, %in_3: f32, %out: f32):
    %19 = arith.sitofp %in : i8 to f32
    %20 = arith.mulf %19, %in_3 : f32
    linalg.yield %20 : f32
  } -> tensor<4x8x16xf32>
  %2 = tensor.empty() : tensor<4x16x8xf32>
  %transposed = linalg.transpose ins(%1 : tensor<4x8x16xf32>) outs(%2 : tensor<4x16x8xf32>) permutation = [0, 2, 1] 
  %3 = tensor.empty() : tensor<4x2x8xf32>
  %4 = linalg.fill ins(%cst : f32) outs(%3 : tensor<4x2x8xf32>) -> tensor<4x2x8xf32>
  %5 = linalg.batch_matmul ins(%arg0, %transposed : tensor<4x2x16xf32>, tensor<4x16x8xf32>) outs(%4 : tensor<4x2x8xf32>) -> tensor<4x2x8xf32>
  %6 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]} ins(%5 : tensor<4x2x8xf32>) outs(%3 : tensor<4x2x8xf32>) {
  ^bb0(%in: f32, %out: f32):
    %19 = arith.mulf %in, %cst_0 : f32
    linalg.yield %19 : f32
  } -> tensor<4x2x8xf32>
  %7 = tensor.empty() : tensor<4x2xf32>
  %cst_1 = arith.constant 0xFFC00000 : f32
  %8 = linalg.fill ins(%cst_1 : f32) outs(%7 : tensor<4x2xf32>) -> tensor<4x2xf32>
  %9 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1)>], iterator_types = ["parallel", "parallel", "reduction"]} ins(%6 : tensor<4x2x8xf32>) outs(%8 : tensor<4x2xf32>) {
  ^bb0(%in: f32, %out: f32):
    %19 = arith.maxnumf %in, %out : f32
    linalg.yield %19 : f32
  } -> tensor<4x2xf32>
  %10 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]} ins(%6, %9 : tensor<4x2x8xf32>, tensor<4x2xf32>) outs(%3 : tensor<4x2x8xf32>) {
  ^bb0(%in: f32, %in_3: f32, %out: f32):
    %19 = arith.subf %in, %in_3 : f32
    %20 = math.exp %19 : f32
    linalg.yield %20 : f32
  } -> tensor<4x2x8xf32>
  %cst_2 = arith.constant 0.000000e+00 : f32
  %11 = linalg.fill ins(%cst_2 : f32) outs(%7 : tensor<4x2xf32>) -> tensor<4x2xf32>
  %12 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1)>], iterator_types = ["parallel", "parallel", "reduction"]} ins(%10 : tensor<4x2x8xf32>) outs(%11 : tensor<4x2xf32>) {
  ^bb0(%in: f32, %out: f32):
    %19 = arith.addf %in, %out : f32
    linalg.yield %19 : f32
  } -> tensor<4x2xf32>
  %13 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]} ins(%10, %12 : tensor<4x2x8xf32>, tensor<4x2xf32>) outs(%3 : tensor<4x2x8xf32>) {
  ^bb0(%in: f32, %in_3: f32, %out: f32):
    %19 = arith.divf %in, %in_3 : f32
    linalg.yield %19 : f32
  } -> tensor<4x2x8xf32>
  %14 = tensor.empty() : tensor<4x8x16xf32>
  %15 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (0)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]} ins(%arg3, %arg4 : tensor<4x8x16xi8>, tensor<1xf32>) outs(%14 : tensor<4x8x16xf32>) {
  ^bb0(%in: i8, %in_3: f32, %out: f32):
    %19 = arith.sitofp %in : i8 to f32
    %20 = arith.mulf %19, %in_3 : f32
    linalg.yield %20 : f32
  } -> tensor<4x8x16xf32>
  %16 = tensor.empty() : tensor<4x2x16xf32>
  %17 = linalg.fill ins(%cst : f32) outs(%16 : tensor<4x2x16xf32>) -> tensor<4x2x16xf32>
  // expected-remark @below {{fusable: math_mode strict}}
  %18 = linalg.batch_matmul ins(%13, %15 : tensor<4x2x8xf32>, tensor<4x8x16xf32>) outs(%17 : tensor<4x2x16xf32>) -> tensor<4x2x16xf32>
  return %18 : tensor<4x2x16xf32>
}


// -----

// The reference lowering's output for @op_4d_mqa_causal_decomposed, where
// the MQA broadcast has folded into the contractions' maps (K/V read at head
// 0 by a constant index).
// CHECK-LABEL: func.func @up_lowered_mqa_const_map
// EW-LABEL: func.func @up_lowered_mqa_const_map
// EW: quantkv.sdpa
// CHECK-NOT: linalg.
// CHECK: quantkv.sdpa q(%{{.+}} : tensor<1x4x8x16xf32>) k(%{{.+}} : tensor<1x1x8x16xui8>) k_scale(%{{.+}} : tensor<1xf32>) k_zero_point(%{{.+}} : tensor<1xui8>) v(%{{.+}} : tensor<1x1x8x16xui8>)
// CHECK-SAME: causal = #quantkv.causal<top_left>
// CHECK-NOT: quantkv.sdpa
func.func @up_lowered_mqa_const_map(%arg0: tensor<1x4x8x16xf32>, %arg1: tensor<1x1x8x16xi8>, %arg2: tensor<1xf32>, %arg3: tensor<1xi8>, %arg4: tensor<1x1x8x16xi8>, %arg5: tensor<1xf32>, %arg6: tensor<1xi8>) -> tensor<1x4x8x16xf32> {
  %cst = arith.constant 0.000000e+00 : f32
  %cst_0 = arith.constant 0xFF800000 : f32
  %cst_1 = arith.constant 2.500000e-01 : f32
  %0 = tensor.empty() : tensor<1x1x8x16xf32>
  %1 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (0)>, affine_map<(d0, d1, d2, d3) -> (0)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%arg1, %arg2, %arg3 : tensor<1x1x8x16xi8>, tensor<1xf32>, tensor<1xi8>) outs(%0 : tensor<1x1x8x16xf32>) {
  ^bb0(%in: i8, %in_3: f32, %in_4: i8, %out: f32):
    %16 = arith.uitofp %in : i8 to f32
    %17 = arith.uitofp %in_4 : i8 to f32
    %18 = arith.subf %16, %17 : f32
    %19 = arith.mulf %18, %in_3 : f32
    linalg.yield %19 : f32
  } -> tensor<1x1x8x16xf32>
  %2 = tensor.empty() : tensor<1x4x8x8xf32>
  %3 = linalg.fill ins(%cst : f32) outs(%2 : tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32>
  %4 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d4)>, affine_map<(d0, d1, d2, d3, d4) -> (d0, 0, d3, d4)>, affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%arg0, %1 : tensor<1x4x8x16xf32>, tensor<1x1x8x16xf32>) outs(%3 : tensor<1x4x8x8xf32>) {
  ^bb0(%in: f32, %in_3: f32, %out: f32):
    %16 = arith.mulf %in, %in_3 : f32
    %17 = arith.addf %out, %16 : f32
    linalg.yield %17 : f32
  } -> tensor<1x4x8x8xf32>
  %5 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%4 : tensor<1x4x8x8xf32>) outs(%2 : tensor<1x4x8x8xf32>) {
  ^bb0(%in: f32, %out: f32):
    %16 = linalg.index 2 : index
    %17 = linalg.index 3 : index
    %18 = arith.cmpi ugt, %17, %16 : index
    %19 = arith.mulf %in, %cst_1 : f32
    %20 = arith.select %18, %cst_0, %19 : f32
    linalg.yield %20 : f32
  } -> tensor<1x4x8x8xf32>
  %6 = tensor.empty() : tensor<1x4x8xf32>
  %7 = linalg.fill ins(%cst_0 : f32) outs(%6 : tensor<1x4x8xf32>) -> tensor<1x4x8xf32>
  %reduced = linalg.reduce ins(%5 : tensor<1x4x8x8xf32>) outs(%7 : tensor<1x4x8xf32>) dimensions = [3] 
    (%in: f32, %init: f32) {
      %16 = arith.maximumf %in, %init : f32
      linalg.yield %16 : f32
    }
  %8 = linalg.fill ins(%cst : f32) outs(%6 : tensor<1x4x8xf32>) -> tensor<1x4x8xf32>
  %9 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%5, %reduced : tensor<1x4x8x8xf32>, tensor<1x4x8xf32>) outs(%2 : tensor<1x4x8x8xf32>) {
  ^bb0(%in: f32, %in_3: f32, %out: f32):
    %16 = arith.subf %in, %in_3 : f32
    %17 = math.exp %16 : f32
    linalg.yield %17 : f32
  } -> tensor<1x4x8x8xf32>
  %reduced_2 = linalg.reduce { arith.addf } ins(%9 : tensor<1x4x8x8xf32>) outs(%8 : tensor<1x4x8xf32>) dimensions = [3] 
  %10 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%5, %reduced, %reduced_2 : tensor<1x4x8x8xf32>, tensor<1x4x8xf32>, tensor<1x4x8xf32>) outs(%2 : tensor<1x4x8x8xf32>) {
  ^bb0(%in: f32, %in_3: f32, %in_4: f32, %out: f32):
    %16 = arith.subf %in, %in_3 : f32
    %17 = math.exp %16 : f32
    %18 = arith.divf %17, %in_4 : f32
    linalg.yield %18 : f32
  } -> tensor<1x4x8x8xf32>
  %11 = tensor.empty() : tensor<1x1x8x16xf32>
  %12 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (0)>, affine_map<(d0, d1, d2, d3) -> (0)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%arg4, %arg5, %arg6 : tensor<1x1x8x16xi8>, tensor<1xf32>, tensor<1xi8>) outs(%11 : tensor<1x1x8x16xf32>) {
  ^bb0(%in: i8, %in_3: f32, %in_4: i8, %out: f32):
    %16 = arith.uitofp %in : i8 to f32
    %17 = arith.uitofp %in_4 : i8 to f32
    %18 = arith.subf %16, %17 : f32
    %19 = arith.mulf %18, %in_3 : f32
    linalg.yield %19 : f32
  } -> tensor<1x1x8x16xf32>
  %13 = tensor.empty() : tensor<1x4x8x16xf32>
  %14 = linalg.fill ins(%cst : f32) outs(%13 : tensor<1x4x8x16xf32>) -> tensor<1x4x8x16xf32>
  // expected-remark @below {{fusable: math_mode strict}}
  %15 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d4)>, affine_map<(d0, d1, d2, d3, d4) -> (d0, 0, d4, d3)>, affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%10, %12 : tensor<1x4x8x8xf32>, tensor<1x1x8x16xf32>) outs(%14 : tensor<1x4x8x16xf32>) {
  ^bb0(%in: f32, %in_3: f32, %out: f32):
    %16 = arith.mulf %in, %in_3 : f32
    %17 = arith.addf %out, %16 : f32
    linalg.yield %17 : f32
  } -> tensor<1x4x8x16xf32>
  return %15 : tensor<1x4x8x16xf32>
}


// -----

// @up_4d_int4_group_floordiv after --linalg-fuse-elementwise-ops: both
// dequantizations are computed inside the contractions' bodies, and the
// scale and mask inside the generic that feeds the softmax.
// CHECK-LABEL: func.func @up_ew_fused_dequant_in_matmul
// EW-LABEL: func.func @up_ew_fused_dequant_in_matmul
// EW: quantkv.sdpa
// CHECK-NOT: linalg.
// CHECK: quantkv.sdpa q(%{{.+}} : tensor<1x2x4x16xf32>) k(%{{.+}} : tensor<1x2x8x16xsi4>) k_scale(%{{.+}} : tensor<1x2x8x4xf32>) k_zero_point(%{{.+}} : tensor<1x2x8x4xsi4>) v(%{{.+}} : tensor<1x2x8x16xui8>) v_scale(%{{.+}} : tensor<16xf32>) v_zero_point(%{{.+}} : tensor<16xui8>) mask(%{{.+}} : tensor<1x1x4x8xf32>)
// CHECK-SAME: key_quant = #quantkv.per_group<[1, 1, 1, 4]>, scale = 2.500000e-01 : f32, value_quant = #quantkv.per_channel<axis = 3>}
// CHECK-NOT: quantkv.sdpa
func.func @up_ew_fused_dequant_in_matmul(%arg0: tensor<1x2x4x16xf32>, %arg1: tensor<1x2x8x16xi4>, %arg2: tensor<1x2x8x4xf32>, %arg3: tensor<1x2x8x4xi4>, %arg4: tensor<1x2x8x16xi8>, %arg5: tensor<16xf32>, %arg6: tensor<16xi8>, %arg7: tensor<1x1x4x8xf32>) -> tensor<1x2x4x16xf32> {
  %cst = arith.constant 0.000000e+00 : f32
  %cst_0 = arith.constant 2.500000e-01 : f32
  %0 = tensor.empty() : tensor<1x2x4x8xf32>
  %1 = linalg.fill ins(%cst : f32) outs(%0 : tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32>
  %2 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d4)>, affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d3, d4)>, affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d3, d4 floordiv 4)>, affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d3, d4 floordiv 4)>, affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%arg0, %arg1, %arg2, %arg3 : tensor<1x2x4x16xf32>, tensor<1x2x8x16xi4>, tensor<1x2x8x4xf32>, tensor<1x2x8x4xi4>) outs(%1 : tensor<1x2x4x8xf32>) {
  ^bb0(%in: f32, %in_1: i4, %in_2: f32, %in_3: i4, %out: f32):
    %8 = arith.extsi %in_1 : i4 to i32
    %9 = arith.sitofp %8 : i32 to f32
    %10 = arith.extsi %in_3 : i4 to i32
    %11 = arith.sitofp %10 : i32 to f32
    %12 = arith.subf %9, %11 : f32
    %13 = arith.mulf %12, %in_2 : f32
    %14 = arith.mulf %in, %13 : f32
    %15 = arith.addf %out, %14 : f32
    linalg.yield %15 : f32
  } -> tensor<1x2x4x8xf32>
  %3 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (0, 0, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%2, %arg7 : tensor<1x2x4x8xf32>, tensor<1x1x4x8xf32>) outs(%0 : tensor<1x2x4x8xf32>) {
  ^bb0(%in: f32, %in_1: f32, %out: f32):
    %8 = arith.mulf %in, %cst_0 : f32
    %9 = arith.addf %in_1, %8 : f32
    linalg.yield %9 : f32
  } -> tensor<1x2x4x8xf32>
  %4 = linalg.softmax dimension(3) ins(%3 : tensor<1x2x4x8xf32>) outs(%0 : tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32>
  %5 = tensor.empty() : tensor<1x2x4x16xf32>
  %6 = linalg.fill ins(%cst : f32) outs(%5 : tensor<1x2x4x16xf32>) -> tensor<1x2x4x16xf32>
  // expected-remark @below {{fusable: math_mode strict}}
  %7 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d4)>, affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d4, d3)>, affine_map<(d0, d1, d2, d3, d4) -> (d3)>, affine_map<(d0, d1, d2, d3, d4) -> (d3)>, affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%4, %arg4, %arg5, %arg6 : tensor<1x2x4x8xf32>, tensor<1x2x8x16xi8>, tensor<16xf32>, tensor<16xi8>) outs(%6 : tensor<1x2x4x16xf32>) {
  ^bb0(%in: f32, %in_1: i8, %in_2: f32, %in_3: i8, %out: f32):
    %8 = arith.uitofp %in_1 : i8 to f32
    %9 = arith.uitofp %in_3 : i8 to f32
    %10 = arith.subf %8, %9 : f32
    %11 = arith.mulf %in_2, %10 : f32
    %12 = arith.mulf %in, %11 : f32
    %13 = arith.addf %out, %12 : f32
    linalg.yield %13 : f32
  } -> tensor<1x2x4x16xf32>
  return %7 : tensor<1x2x4x16xf32>
}


// -----

// @op_4d_mqa_causal_decomposed after --linalg-fuse-elementwise-ops: the
// exponentials are recomputed inside the sum reduction and the softmax
// division inside the P x V contraction (P is never materialized).
// CHECK-LABEL: func.func @op_ew_fused_softmax_in_matmul
// EW-LABEL: func.func @op_ew_fused_softmax_in_matmul
// EW: quantkv.sdpa
// CHECK-NOT: linalg.
// CHECK: quantkv.sdpa q(%{{.+}} : tensor<1x4x8x16xf32>) k(%{{.+}} : tensor<1x1x8x16xui8>) k_scale(%{{.+}} : tensor<1xf32>) k_zero_point(%{{.+}} : tensor<1xui8>) v(%{{.+}} : tensor<1x1x8x16xui8>)
// CHECK-SAME: causal = #quantkv.causal<top_left>
// CHECK-NOT: quantkv.sdpa
func.func @op_ew_fused_softmax_in_matmul(%arg0: tensor<1x4x8x16xf32>, %arg1: tensor<1x1x8x16xui8>, %arg2: tensor<1xf32>, %arg3: tensor<1xui8>, %arg4: tensor<1x1x8x16xui8>, %arg5: tensor<1xf32>, %arg6: tensor<1xui8>) -> tensor<1x4x8x16xf32> {
  %cst = arith.constant 0.000000e+00 : f32
  %cst_0 = arith.constant 0xFF800000 : f32
  %cst_1 = arith.constant 2.500000e-01 : f32
  %0 = quantkv.dequantize %arg1 scale(%arg2 : tensor<1xf32>) zero_point(%arg3 : tensor<1xui8>) granularity(#quantkv.per_tensor) : tensor<1x1x8x16xui8> -> tensor<1x1x8x16xf32>
  %1 = tensor.empty() : tensor<1x4x8x8xf32>
  %2 = linalg.fill ins(%cst : f32) outs(%1 : tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32>
  %3 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d4)>, affine_map<(d0, d1, d2, d3, d4) -> (d0, 0, d3, d4)>, affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%arg0, %0 : tensor<1x4x8x16xf32>, tensor<1x1x8x16xf32>) outs(%2 : tensor<1x4x8x8xf32>) {
  ^bb0(%in: f32, %in_3: f32, %out: f32):
    %13 = arith.mulf %in, %in_3 : f32
    %14 = arith.addf %out, %13 : f32
    linalg.yield %14 : f32
  } -> tensor<1x4x8x8xf32>
  %4 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%3 : tensor<1x4x8x8xf32>) outs(%1 : tensor<1x4x8x8xf32>) {
  ^bb0(%in: f32, %out: f32):
    %13 = linalg.index 2 : index
    %14 = linalg.index 3 : index
    %15 = arith.cmpi ugt, %14, %13 : index
    %16 = arith.mulf %in, %cst_1 : f32
    %17 = arith.select %15, %cst_0, %16 : f32
    linalg.yield %17 : f32
  } -> tensor<1x4x8x8xf32>
  %5 = tensor.empty() : tensor<1x4x8xf32>
  %6 = linalg.fill ins(%cst_0 : f32) outs(%5 : tensor<1x4x8xf32>) -> tensor<1x4x8xf32>
  %reduced = linalg.reduce ins(%4 : tensor<1x4x8x8xf32>) outs(%6 : tensor<1x4x8xf32>) dimensions = [3] 
    (%in: f32, %init: f32) {
      %13 = arith.maximumf %in, %init : f32
      linalg.yield %13 : f32
    }
  %7 = linalg.fill ins(%cst : f32) outs(%5 : tensor<1x4x8xf32>) -> tensor<1x4x8xf32>
  %8 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%4, %reduced : tensor<1x4x8x8xf32>, tensor<1x4x8xf32>) outs(%1 : tensor<1x4x8x8xf32>) {
  ^bb0(%in: f32, %in_3: f32, %out: f32):
    %13 = arith.subf %in, %in_3 : f32
    %14 = math.exp %13 : f32
    linalg.yield %14 : f32
  } -> tensor<1x4x8x8xf32>
  %reduced_2 = linalg.reduce { arith.addf } ins(%8 : tensor<1x4x8x8xf32>) outs(%7 : tensor<1x4x8xf32>) dimensions = [3] 
  %9 = quantkv.dequantize %arg4 scale(%arg5 : tensor<1xf32>) zero_point(%arg6 : tensor<1xui8>) granularity(#quantkv.per_tensor) : tensor<1x1x8x16xui8> -> tensor<1x1x8x16xf32>
  %10 = tensor.empty() : tensor<1x4x8x16xf32>
  %11 = linalg.fill ins(%cst : f32) outs(%10 : tensor<1x4x8x16xf32>) -> tensor<1x4x8x16xf32>
  // expected-remark @below {{fusable: math_mode strict}}
  %12 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d4)>, affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2)>, affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2)>, affine_map<(d0, d1, d2, d3, d4) -> (d0, 0, d4, d3)>, affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%4, %reduced, %reduced_2, %9 : tensor<1x4x8x8xf32>, tensor<1x4x8xf32>, tensor<1x4x8xf32>, tensor<1x1x8x16xf32>) outs(%11 : tensor<1x4x8x16xf32>) {
  ^bb0(%in: f32, %in_3: f32, %in_4: f32, %in_5: f32, %out: f32):
    %13 = arith.subf %in, %in_3 : f32
    %14 = math.exp %13 : f32
    %15 = arith.divf %14, %in_4 : f32
    %16 = arith.mulf %15, %in_5 : f32
    %17 = arith.addf %out, %16 : f32
    linalg.yield %17 : f32
  } -> tensor<1x4x8x16xf32>
  return %12 : tensor<1x4x8x16xf32>
}


// -----

// torch's math SDPA: Q and K^T each multiplied by sqrt(scale) = 0.5 (Q in
// its own generic, kept as the query; K's factor folded into the scale),
// no scale on the scores.
// CHECK-LABEL: func.func @up_torch_math_sqrt_scale
// EW-LABEL: func.func @up_torch_math_sqrt_scale
// EW: quantkv.sdpa
// CHECK: %[[QS:.+]] = linalg.generic
// CHECK: arith.mulf
// CHECK: linalg.yield
// CHECK-NOT: linalg.
// CHECK: quantkv.sdpa q(%[[QS]] : tensor<1x2x4x16xf32>) k(%{{.+}} : tensor<1x2x8x16xsi8>) k_scale(%{{.+}} : tensor<16xf32>) v(%{{.+}} : tensor<1x2x8x16xsi8>) v_scale(%{{.+}} : tensor<16xf32>)
// CHECK-SAME: key_quant = #quantkv.per_channel<axis = 3>, scale = 5.000000e-01 : f32
// CHECK-NOT: quantkv.sdpa
#id = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
#chan = affine_map<(d0, d1, d2, d3) -> (d3)>
#tr = affine_map<(d0, d1, d2, d3) -> (d0, d1, d3, d2)>
#qk = affine_map<(b, h, m, n, k) -> (b, h, m, k)>
#kk = affine_map<(b, h, m, n, k) -> (b, h, k, n)>
#ok = affine_map<(b, h, m, n, k) -> (b, h, m, n)>
func.func @up_torch_math_sqrt_scale(%q: tensor<1x2x4x16xf32>, %k: tensor<1x2x8x16xi8>, %ks: tensor<16xf32>, %v: tensor<1x2x8x16xi8>, %vs: tensor<16xf32>) -> tensor<1x2x4x16xf32> {
  %zero = arith.constant 0.0 : f32
  %sqrt_scale = arith.constant 0.5 : f32
  %eq = tensor.empty() : tensor<1x2x4x16xf32>
  %qs = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%q : tensor<1x2x4x16xf32>) outs(%eq : tensor<1x2x4x16xf32>) {
  ^bb0(%x: f32, %o: f32):
    %m = arith.mulf %x, %sqrt_scale : f32
    linalg.yield %m : f32
  } -> tensor<1x2x4x16xf32>
  %ek = tensor.empty() : tensor<1x2x8x16xf32>
  %kd = linalg.generic {indexing_maps = [#id, #chan, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%k, %ks : tensor<1x2x8x16xi8>, tensor<16xf32>) outs(%ek : tensor<1x2x8x16xf32>) {
  ^bb0(%x: i8, %sc: f32, %o: f32):
    %xf = arith.sitofp %x : i8 to f32
    %m = arith.mulf %xf, %sc : f32
    linalg.yield %m : f32
  } -> tensor<1x2x8x16xf32>
  %et = tensor.empty() : tensor<1x2x16x8xf32>
  %kt = linalg.generic {indexing_maps = [#tr, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%kd : tensor<1x2x8x16xf32>) outs(%et : tensor<1x2x16x8xf32>) {
  ^bb0(%x: f32, %o: f32):
    %m = arith.mulf %x, %sqrt_scale : f32
    linalg.yield %m : f32
  } -> tensor<1x2x16x8xf32>
  %s0 = tensor.empty() : tensor<1x2x4x8xf32>
  %sz = linalg.fill ins(%zero : f32) outs(%s0 : tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32>
  %s = linalg.contract indexing_maps = [#qk, #kk, #ok] ins(%qs, %kt : tensor<1x2x4x16xf32>, tensor<1x2x16x8xf32>) outs(%sz : tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32>
  %p = linalg.softmax dimension(3) ins(%s : tensor<1x2x4x8xf32>) outs(%s0 : tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32>
  %vd = linalg.generic {indexing_maps = [#id, #chan, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%v, %vs : tensor<1x2x8x16xi8>, tensor<16xf32>) outs(%ek : tensor<1x2x8x16xf32>) {
  ^bb0(%x: i8, %sc: f32, %o: f32):
    %xf = arith.sitofp %x : i8 to f32
    %m = arith.mulf %xf, %sc : f32
    linalg.yield %m : f32
  } -> tensor<1x2x8x16xf32>
  %o0 = tensor.empty() : tensor<1x2x4x16xf32>
  %oz = linalg.fill ins(%zero : f32) outs(%o0 : tensor<1x2x4x16xf32>) -> tensor<1x2x4x16xf32>
  // expected-remark @below {{fusable: math_mode strict}}
  %o = linalg.contract indexing_maps = [#qk, affine_map<(b, h, m, n, k) -> (b, h, k, n)>, #ok] ins(%p, %vd : tensor<1x2x4x8xf32>, tensor<1x2x8x16xf32>) outs(%oz : tensor<1x2x4x16xf32>) -> tensor<1x2x4x16xf32>
  return %o : tensor<1x2x4x16xf32>
}

//===----------------------------------------------------------------------===//
// Negative cases: the computation is not (this) attention; nothing fuses.
//===----------------------------------------------------------------------===//
// -----

// The template every negative case below departs from, unchanged: it fuses.
// CHECK-LABEL: func.func @op_square_control
// EW-LABEL: func.func @op_square_control
// EW: quantkv.sdpa
// CHECK-NOT: linalg.
// CHECK: quantkv.sdpa
// CHECK-SAME: scale = 2.500000e-01 : f32
// CHECK-NOT: quantkv.sdpa

#id3 = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
func.func @op_square_control(%q: tensor<4x8x16xf32>, %k: tensor<4x8x16xsi8>, %ks: tensor<1xf32>, %v: tensor<4x8x16xsi8>, %vs: tensor<1xf32>) -> tensor<4x8x16xf32> {
  %zero = arith.constant 0.0 : f32
  %c = arith.constant 0.25 : f32
  %kd = quantkv.dequantize %k scale(%ks : tensor<1xf32>) granularity(#quantkv.per_tensor) : tensor<4x8x16xsi8> -> tensor<4x8x16xf32>
  %e0 = tensor.empty() : tensor<4x16x8xf32>
  %kt = linalg.transpose ins(%kd : tensor<4x8x16xf32>) outs(%e0 : tensor<4x16x8xf32>) permutation = [0, 2, 1]
  %e1 = tensor.empty() : tensor<4x8x8xf32>
  %f1 = linalg.fill ins(%zero : f32) outs(%e1 : tensor<4x8x8xf32>) -> tensor<4x8x8xf32>
  %s = linalg.batch_matmul ins(%q, %kt : tensor<4x8x16xf32>, tensor<4x16x8xf32>) outs(%f1 : tensor<4x8x8xf32>) -> tensor<4x8x8xf32>
  %ss = linalg.generic {indexing_maps = [#id3, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%s : tensor<4x8x8xf32>) outs(%e1 : tensor<4x8x8xf32>) {
  ^bb0(%a: f32, %o: f32):
    %m = arith.mulf %a, %c : f32
    linalg.yield %m : f32
  } -> tensor<4x8x8xf32>
  %p = linalg.softmax dimension(2) ins(%ss : tensor<4x8x8xf32>) outs(%e1 : tensor<4x8x8xf32>) -> tensor<4x8x8xf32>

  %vd = quantkv.dequantize %v scale(%vs : tensor<1xf32>) granularity(#quantkv.per_tensor) : tensor<4x8x16xsi8> -> tensor<4x8x16xf32>
  %e2 = tensor.empty() : tensor<4x8x16xf32>
  %f2 = linalg.fill ins(%zero : f32) outs(%e2 : tensor<4x8x16xf32>) -> tensor<4x8x16xf32>
  // expected-remark @below {{fusable: math_mode strict}}
  %o = linalg.batch_matmul ins(%p, %vd : tensor<4x8x8xf32>, tensor<4x8x16xf32>) outs(%f2 : tensor<4x8x16xf32>) -> tensor<4x8x16xf32>
  return %o : tensor<4x8x16xf32>
}
// -----

// Softmax over the query dim (1), not the keys.
// CHECK-LABEL: func.func @neg_softmax_over_queries
// EW-LABEL: func.func @neg_softmax_over_queries
// EW-NOT: quantkv.sdpa
// CHECK-NOT: quantkv.sdpa
// CHECK: linalg.softmax dimension(1)

#id3 = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
func.func @neg_softmax_over_queries(%q: tensor<4x8x16xf32>, %k: tensor<4x8x16xsi8>, %ks: tensor<1xf32>, %v: tensor<4x8x16xsi8>, %vs: tensor<1xf32>) -> tensor<4x8x16xf32> {
  %zero = arith.constant 0.0 : f32
  %c = arith.constant 0.25 : f32
  %kd = quantkv.dequantize %k scale(%ks : tensor<1xf32>) granularity(#quantkv.per_tensor) : tensor<4x8x16xsi8> -> tensor<4x8x16xf32>
  %e0 = tensor.empty() : tensor<4x16x8xf32>
  %kt = linalg.transpose ins(%kd : tensor<4x8x16xf32>) outs(%e0 : tensor<4x16x8xf32>) permutation = [0, 2, 1]
  %e1 = tensor.empty() : tensor<4x8x8xf32>
  %f1 = linalg.fill ins(%zero : f32) outs(%e1 : tensor<4x8x8xf32>) -> tensor<4x8x8xf32>
  %s = linalg.batch_matmul ins(%q, %kt : tensor<4x8x16xf32>, tensor<4x16x8xf32>) outs(%f1 : tensor<4x8x8xf32>) -> tensor<4x8x8xf32>
  %ss = linalg.generic {indexing_maps = [#id3, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%s : tensor<4x8x8xf32>) outs(%e1 : tensor<4x8x8xf32>) {
  ^bb0(%a: f32, %o: f32):
    %m = arith.mulf %a, %c : f32
    linalg.yield %m : f32
  } -> tensor<4x8x8xf32>
  %p = linalg.softmax dimension(1) ins(%ss : tensor<4x8x8xf32>) outs(%e1 : tensor<4x8x8xf32>) -> tensor<4x8x8xf32>

  %vd = quantkv.dequantize %v scale(%vs : tensor<1xf32>) granularity(#quantkv.per_tensor) : tensor<4x8x16xsi8> -> tensor<4x8x16xf32>
  %e2 = tensor.empty() : tensor<4x8x16xf32>
  %f2 = linalg.fill ins(%zero : f32) outs(%e2 : tensor<4x8x16xf32>) -> tensor<4x8x16xf32>
  // expected-remark @below {{not fusable: softmax is over dim 1, not over the keys (last dim)}}
  %o = linalg.batch_matmul ins(%p, %vd : tensor<4x8x8xf32>, tensor<4x8x16xf32>) outs(%f2 : tensor<4x8x16xf32>) -> tensor<4x8x16xf32>
  return %o : tensor<4x8x16xf32>
}
// -----

// The scale multiplies the probabilities, not the scores.
// CHECK-LABEL: func.func @neg_scale_after_softmax
// EW-LABEL: func.func @neg_scale_after_softmax
// EW-NOT: quantkv.sdpa
// CHECK-NOT: quantkv.sdpa
// CHECK: linalg.softmax

#id3 = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
func.func @neg_scale_after_softmax(%q: tensor<4x8x16xf32>, %k: tensor<4x8x16xsi8>, %ks: tensor<1xf32>, %v: tensor<4x8x16xsi8>, %vs: tensor<1xf32>) -> tensor<4x8x16xf32> {
  %zero = arith.constant 0.0 : f32
  %c = arith.constant 0.25 : f32
  %kd = quantkv.dequantize %k scale(%ks : tensor<1xf32>) granularity(#quantkv.per_tensor) : tensor<4x8x16xsi8> -> tensor<4x8x16xf32>
  %e0 = tensor.empty() : tensor<4x16x8xf32>
  %kt = linalg.transpose ins(%kd : tensor<4x8x16xf32>) outs(%e0 : tensor<4x16x8xf32>) permutation = [0, 2, 1]
  %e1 = tensor.empty() : tensor<4x8x8xf32>
  %f1 = linalg.fill ins(%zero : f32) outs(%e1 : tensor<4x8x8xf32>) -> tensor<4x8x8xf32>
  %s = linalg.batch_matmul ins(%q, %kt : tensor<4x8x16xf32>, tensor<4x16x8xf32>) outs(%f1 : tensor<4x8x8xf32>) -> tensor<4x8x8xf32>
  %ss = linalg.generic {indexing_maps = [#id3, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%s : tensor<4x8x8xf32>) outs(%e1 : tensor<4x8x8xf32>) {
  ^bb0(%a: f32, %o: f32):
    linalg.yield %a : f32
  } -> tensor<4x8x8xf32>
  %p = linalg.softmax dimension(2) ins(%ss : tensor<4x8x8xf32>) outs(%e1 : tensor<4x8x8xf32>) -> tensor<4x8x8xf32>
  %pp = linalg.generic {indexing_maps = [#id3, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%p : tensor<4x8x8xf32>) outs(%e1 : tensor<4x8x8xf32>) {
  ^bb0(%a: f32, %o: f32):
    %m = arith.mulf %a, %c : f32
    linalg.yield %m : f32
  } -> tensor<4x8x8xf32>
  %vd = quantkv.dequantize %v scale(%vs : tensor<1xf32>) granularity(#quantkv.per_tensor) : tensor<4x8x16xsi8> -> tensor<4x8x16xf32>
  %e2 = tensor.empty() : tensor<4x8x16xf32>
  %f2 = linalg.fill ins(%zero : f32) outs(%e2 : tensor<4x8x16xf32>) -> tensor<4x8x16xf32>
  // expected-remark @below {{not fusable: P of P x V is neither linalg.softmax nor exp(x - max) / sum}}
  %o = linalg.batch_matmul ins(%pp, %vd : tensor<4x8x8xf32>, tensor<4x8x16xf32>) outs(%f2 : tensor<4x8x16xf32>) -> tensor<4x8x16xf32>
  return %o : tensor<4x8x16xf32>
}
// -----

// The mask is added to the probabilities.
// CHECK-LABEL: func.func @neg_mask_after_softmax
// EW-LABEL: func.func @neg_mask_after_softmax
// EW-NOT: quantkv.sdpa
// CHECK-NOT: quantkv.sdpa
// CHECK: linalg.softmax

#id3 = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
func.func @neg_mask_after_softmax(%q: tensor<4x8x16xf32>, %k: tensor<4x8x16xsi8>, %ks: tensor<1xf32>, %v: tensor<4x8x16xsi8>, %vs: tensor<1xf32>, %mask: tensor<4x8x8xf32>) -> tensor<4x8x16xf32> {
  %zero = arith.constant 0.0 : f32
  %c = arith.constant 0.25 : f32
  %kd = quantkv.dequantize %k scale(%ks : tensor<1xf32>) granularity(#quantkv.per_tensor) : tensor<4x8x16xsi8> -> tensor<4x8x16xf32>
  %e0 = tensor.empty() : tensor<4x16x8xf32>
  %kt = linalg.transpose ins(%kd : tensor<4x8x16xf32>) outs(%e0 : tensor<4x16x8xf32>) permutation = [0, 2, 1]
  %e1 = tensor.empty() : tensor<4x8x8xf32>
  %f1 = linalg.fill ins(%zero : f32) outs(%e1 : tensor<4x8x8xf32>) -> tensor<4x8x8xf32>
  %s = linalg.batch_matmul ins(%q, %kt : tensor<4x8x16xf32>, tensor<4x16x8xf32>) outs(%f1 : tensor<4x8x8xf32>) -> tensor<4x8x8xf32>
  %ss = linalg.generic {indexing_maps = [#id3, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%s : tensor<4x8x8xf32>) outs(%e1 : tensor<4x8x8xf32>) {
  ^bb0(%a: f32, %o: f32):
    %m = arith.mulf %a, %c : f32
    linalg.yield %m : f32
  } -> tensor<4x8x8xf32>
  %p = linalg.softmax dimension(2) ins(%ss : tensor<4x8x8xf32>) outs(%e1 : tensor<4x8x8xf32>) -> tensor<4x8x8xf32>
  %pp = linalg.generic {indexing_maps = [#id3, #id3, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%p, %mask : tensor<4x8x8xf32>, tensor<4x8x8xf32>) outs(%e1 : tensor<4x8x8xf32>) {
  ^bb0(%a: f32, %mk: f32, %o: f32):
    %m = arith.addf %a, %mk : f32
    linalg.yield %m : f32
  } -> tensor<4x8x8xf32>
  %vd = quantkv.dequantize %v scale(%vs : tensor<1xf32>) granularity(#quantkv.per_tensor) : tensor<4x8x16xsi8> -> tensor<4x8x16xf32>
  %e2 = tensor.empty() : tensor<4x8x16xf32>
  %f2 = linalg.fill ins(%zero : f32) outs(%e2 : tensor<4x8x16xf32>) -> tensor<4x8x16xf32>
  // expected-remark @below {{not fusable: P of P x V is neither linalg.softmax nor exp(x - max) / sum}}
  %o = linalg.batch_matmul ins(%pp, %vd : tensor<4x8x8xf32>, tensor<4x8x16xf32>) outs(%f2 : tensor<4x8x16xf32>) -> tensor<4x8x16xf32>
  return %o : tensor<4x8x16xf32>
}
// -----

// P^T x V: the second contraction runs over the queries (Sq == Skv here).
// CHECK-LABEL: func.func @neg_pv_contracts_queries
// EW-LABEL: func.func @neg_pv_contracts_queries
// EW-NOT: quantkv.sdpa
// CHECK-NOT: quantkv.sdpa
// CHECK: linalg.batch_matmul

#id3 = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
func.func @neg_pv_contracts_queries(%q: tensor<4x8x16xf32>, %k: tensor<4x8x16xsi8>, %ks: tensor<1xf32>, %v: tensor<4x8x16xsi8>, %vs: tensor<1xf32>) -> tensor<4x8x16xf32> {
  %zero = arith.constant 0.0 : f32
  %c = arith.constant 0.25 : f32
  %kd = quantkv.dequantize %k scale(%ks : tensor<1xf32>) granularity(#quantkv.per_tensor) : tensor<4x8x16xsi8> -> tensor<4x8x16xf32>
  %e0 = tensor.empty() : tensor<4x16x8xf32>
  %kt = linalg.transpose ins(%kd : tensor<4x8x16xf32>) outs(%e0 : tensor<4x16x8xf32>) permutation = [0, 2, 1]
  %e1 = tensor.empty() : tensor<4x8x8xf32>
  %f1 = linalg.fill ins(%zero : f32) outs(%e1 : tensor<4x8x8xf32>) -> tensor<4x8x8xf32>
  %s = linalg.batch_matmul ins(%q, %kt : tensor<4x8x16xf32>, tensor<4x16x8xf32>) outs(%f1 : tensor<4x8x8xf32>) -> tensor<4x8x8xf32>
  %ss = linalg.generic {indexing_maps = [#id3, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%s : tensor<4x8x8xf32>) outs(%e1 : tensor<4x8x8xf32>) {
  ^bb0(%a: f32, %o: f32):
    %m = arith.mulf %a, %c : f32
    linalg.yield %m : f32
  } -> tensor<4x8x8xf32>
  %p = linalg.softmax dimension(2) ins(%ss : tensor<4x8x8xf32>) outs(%e1 : tensor<4x8x8xf32>) -> tensor<4x8x8xf32>

  %vd = quantkv.dequantize %v scale(%vs : tensor<1xf32>) granularity(#quantkv.per_tensor) : tensor<4x8x16xsi8> -> tensor<4x8x16xf32>
  %e2 = tensor.empty() : tensor<4x8x16xf32>
  %f2 = linalg.fill ins(%zero : f32) outs(%e2 : tensor<4x8x16xf32>) -> tensor<4x8x16xf32>
  // expected-remark @below {{not fusable: softmax result is read transposed or broadcast}}
  %o = linalg.batch_matmul indexing_maps = [affine_map<(b, m, n, k) -> (b, k, m)>, affine_map<(b, m, n, k) -> (b, k, n)>, affine_map<(b, m, n, k) -> (b, m, n)>] ins(%p, %vd : tensor<4x8x8xf32>, tensor<4x8x16xf32>) outs(%f2 : tensor<4x8x16xf32>) -> tensor<4x8x16xf32>
  return %o : tensor<4x8x16xf32>
}
// -----

// The raw scores are also returned.
// CHECK-LABEL: func.func @neg_scores_other_user
// EW-LABEL: func.func @neg_scores_other_user
// EW-NOT: quantkv.sdpa
// CHECK-NOT: quantkv.sdpa
// CHECK: linalg.softmax

#id3 = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
func.func @neg_scores_other_user(%q: tensor<4x8x16xf32>, %k: tensor<4x8x16xsi8>, %ks: tensor<1xf32>, %v: tensor<4x8x16xsi8>, %vs: tensor<1xf32>) -> (tensor<4x8x16xf32>, tensor<4x8x8xf32>) {
  %zero = arith.constant 0.0 : f32
  %c = arith.constant 0.25 : f32
  %kd = quantkv.dequantize %k scale(%ks : tensor<1xf32>) granularity(#quantkv.per_tensor) : tensor<4x8x16xsi8> -> tensor<4x8x16xf32>
  %e0 = tensor.empty() : tensor<4x16x8xf32>
  %kt = linalg.transpose ins(%kd : tensor<4x8x16xf32>) outs(%e0 : tensor<4x16x8xf32>) permutation = [0, 2, 1]
  %e1 = tensor.empty() : tensor<4x8x8xf32>
  %f1 = linalg.fill ins(%zero : f32) outs(%e1 : tensor<4x8x8xf32>) -> tensor<4x8x8xf32>
  // expected-remark @below {{not fusable: P of P x V is not a softmax}}
  %s = linalg.batch_matmul ins(%q, %kt : tensor<4x8x16xf32>, tensor<4x16x8xf32>) outs(%f1 : tensor<4x8x8xf32>) -> tensor<4x8x8xf32>
  %ss = linalg.generic {indexing_maps = [#id3, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%s : tensor<4x8x8xf32>) outs(%e1 : tensor<4x8x8xf32>) {
  ^bb0(%a: f32, %o: f32):
    %m = arith.mulf %a, %c : f32
    linalg.yield %m : f32
  } -> tensor<4x8x8xf32>
  %p = linalg.softmax dimension(2) ins(%ss : tensor<4x8x8xf32>) outs(%e1 : tensor<4x8x8xf32>) -> tensor<4x8x8xf32>

  %vd = quantkv.dequantize %v scale(%vs : tensor<1xf32>) granularity(#quantkv.per_tensor) : tensor<4x8x16xsi8> -> tensor<4x8x16xf32>
  %e2 = tensor.empty() : tensor<4x8x16xf32>
  %f2 = linalg.fill ins(%zero : f32) outs(%e2 : tensor<4x8x16xf32>) -> tensor<4x8x16xf32>
  // expected-remark @below {{not fusable: intermediate linalg.batch_matmul has a user outside the attention (func.return)}}
  %o = linalg.batch_matmul ins(%p, %vd : tensor<4x8x8xf32>, tensor<4x8x16xf32>) outs(%f2 : tensor<4x8x16xf32>) -> tensor<4x8x16xf32>
  return %o, %s : tensor<4x8x16xf32>, tensor<4x8x8xf32>
}
// -----

// The probabilities are also returned.
// CHECK-LABEL: func.func @neg_probs_other_user
// EW-LABEL: func.func @neg_probs_other_user
// EW-NOT: quantkv.sdpa
// CHECK-NOT: quantkv.sdpa
// CHECK: linalg.softmax

#id3 = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
func.func @neg_probs_other_user(%q: tensor<4x8x16xf32>, %k: tensor<4x8x16xsi8>, %ks: tensor<1xf32>, %v: tensor<4x8x16xsi8>, %vs: tensor<1xf32>) -> (tensor<4x8x16xf32>, tensor<4x8x8xf32>) {
  %zero = arith.constant 0.0 : f32
  %c = arith.constant 0.25 : f32
  %kd = quantkv.dequantize %k scale(%ks : tensor<1xf32>) granularity(#quantkv.per_tensor) : tensor<4x8x16xsi8> -> tensor<4x8x16xf32>
  %e0 = tensor.empty() : tensor<4x16x8xf32>
  %kt = linalg.transpose ins(%kd : tensor<4x8x16xf32>) outs(%e0 : tensor<4x16x8xf32>) permutation = [0, 2, 1]
  %e1 = tensor.empty() : tensor<4x8x8xf32>
  %f1 = linalg.fill ins(%zero : f32) outs(%e1 : tensor<4x8x8xf32>) -> tensor<4x8x8xf32>
  %s = linalg.batch_matmul ins(%q, %kt : tensor<4x8x16xf32>, tensor<4x16x8xf32>) outs(%f1 : tensor<4x8x8xf32>) -> tensor<4x8x8xf32>
  %ss = linalg.generic {indexing_maps = [#id3, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%s : tensor<4x8x8xf32>) outs(%e1 : tensor<4x8x8xf32>) {
  ^bb0(%a: f32, %o: f32):
    %m = arith.mulf %a, %c : f32
    linalg.yield %m : f32
  } -> tensor<4x8x8xf32>
  %p = linalg.softmax dimension(2) ins(%ss : tensor<4x8x8xf32>) outs(%e1 : tensor<4x8x8xf32>) -> tensor<4x8x8xf32>

  %vd = quantkv.dequantize %v scale(%vs : tensor<1xf32>) granularity(#quantkv.per_tensor) : tensor<4x8x16xsi8> -> tensor<4x8x16xf32>
  %e2 = tensor.empty() : tensor<4x8x16xf32>
  %f2 = linalg.fill ins(%zero : f32) outs(%e2 : tensor<4x8x16xf32>) -> tensor<4x8x16xf32>
  // expected-remark @below {{not fusable: intermediate linalg.softmax has a user outside the attention (func.return)}}
  %o = linalg.batch_matmul ins(%p, %vd : tensor<4x8x8xf32>, tensor<4x8x16xf32>) outs(%f2 : tensor<4x8x16xf32>) -> tensor<4x8x16xf32>
  return %o, %p : tensor<4x8x16xf32>, tensor<4x8x8xf32>
}
// -----

// The dequantized K is also returned.
// CHECK-LABEL: func.func @neg_dequantized_k_other_user
// EW-LABEL: func.func @neg_dequantized_k_other_user
// EW-NOT: quantkv.sdpa
// CHECK-NOT: quantkv.sdpa
// CHECK: quantkv.dequantize

#id3 = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
func.func @neg_dequantized_k_other_user(%q: tensor<4x8x16xf32>, %k: tensor<4x8x16xsi8>, %ks: tensor<1xf32>, %v: tensor<4x8x16xsi8>, %vs: tensor<1xf32>) -> (tensor<4x8x16xf32>, tensor<4x8x16xf32>) {
  %zero = arith.constant 0.0 : f32
  %c = arith.constant 0.25 : f32
  %kd = quantkv.dequantize %k scale(%ks : tensor<1xf32>) granularity(#quantkv.per_tensor) : tensor<4x8x16xsi8> -> tensor<4x8x16xf32>
  %e0 = tensor.empty() : tensor<4x16x8xf32>
  %kt = linalg.transpose ins(%kd : tensor<4x8x16xf32>) outs(%e0 : tensor<4x16x8xf32>) permutation = [0, 2, 1]
  %e1 = tensor.empty() : tensor<4x8x8xf32>
  %f1 = linalg.fill ins(%zero : f32) outs(%e1 : tensor<4x8x8xf32>) -> tensor<4x8x8xf32>
  %s = linalg.batch_matmul ins(%q, %kt : tensor<4x8x16xf32>, tensor<4x16x8xf32>) outs(%f1 : tensor<4x8x8xf32>) -> tensor<4x8x8xf32>
  %ss = linalg.generic {indexing_maps = [#id3, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%s : tensor<4x8x8xf32>) outs(%e1 : tensor<4x8x8xf32>) {
  ^bb0(%a: f32, %o: f32):
    %m = arith.mulf %a, %c : f32
    linalg.yield %m : f32
  } -> tensor<4x8x8xf32>
  %p = linalg.softmax dimension(2) ins(%ss : tensor<4x8x8xf32>) outs(%e1 : tensor<4x8x8xf32>) -> tensor<4x8x8xf32>

  %vd = quantkv.dequantize %v scale(%vs : tensor<1xf32>) granularity(#quantkv.per_tensor) : tensor<4x8x16xsi8> -> tensor<4x8x16xf32>
  %e2 = tensor.empty() : tensor<4x8x16xf32>
  %f2 = linalg.fill ins(%zero : f32) outs(%e2 : tensor<4x8x16xf32>) -> tensor<4x8x16xf32>
  // expected-remark @below {{not fusable: intermediate quantkv.dequantize has a user outside the attention (func.return)}}
  %o = linalg.batch_matmul ins(%p, %vd : tensor<4x8x8xf32>, tensor<4x8x16xf32>) outs(%f2 : tensor<4x8x16xf32>) -> tensor<4x8x16xf32>
  return %o, %kd : tensor<4x8x16xf32>, tensor<4x8x16xf32>
}
// -----

// The scores are scaled by a run-time value.
// CHECK-LABEL: func.func @neg_dynamic_scale
// EW-LABEL: func.func @neg_dynamic_scale
// EW-NOT: quantkv.sdpa
// CHECK-NOT: quantkv.sdpa
// CHECK: linalg.softmax

#id3 = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
func.func @neg_dynamic_scale(%q: tensor<4x8x16xf32>, %k: tensor<4x8x16xsi8>, %ks: tensor<1xf32>, %v: tensor<4x8x16xsi8>, %vs: tensor<1xf32>, %t: f32) -> tensor<4x8x16xf32> {
  %zero = arith.constant 0.0 : f32
  %c = arith.constant 0.25 : f32
  %kd = quantkv.dequantize %k scale(%ks : tensor<1xf32>) granularity(#quantkv.per_tensor) : tensor<4x8x16xsi8> -> tensor<4x8x16xf32>
  %e0 = tensor.empty() : tensor<4x16x8xf32>
  %kt = linalg.transpose ins(%kd : tensor<4x8x16xf32>) outs(%e0 : tensor<4x16x8xf32>) permutation = [0, 2, 1]
  %e1 = tensor.empty() : tensor<4x8x8xf32>
  %f1 = linalg.fill ins(%zero : f32) outs(%e1 : tensor<4x8x8xf32>) -> tensor<4x8x8xf32>
  %s = linalg.batch_matmul ins(%q, %kt : tensor<4x8x16xf32>, tensor<4x16x8xf32>) outs(%f1 : tensor<4x8x8xf32>) -> tensor<4x8x8xf32>
  %ss = linalg.generic {indexing_maps = [#id3, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%s : tensor<4x8x8xf32>) outs(%e1 : tensor<4x8x8xf32>) {
  ^bb0(%a: f32, %o: f32):
    %m = arith.mulf %a, %t : f32
    linalg.yield %m : f32
  } -> tensor<4x8x8xf32>
  %p = linalg.softmax dimension(2) ins(%ss : tensor<4x8x8xf32>) outs(%e1 : tensor<4x8x8xf32>) -> tensor<4x8x8xf32>

  %vd = quantkv.dequantize %v scale(%vs : tensor<1xf32>) granularity(#quantkv.per_tensor) : tensor<4x8x16xsi8> -> tensor<4x8x16xf32>
  %e2 = tensor.empty() : tensor<4x8x16xf32>
  %f2 = linalg.fill ins(%zero : f32) outs(%e2 : tensor<4x8x16xf32>) -> tensor<4x8x16xf32>
  // expected-remark @below {{not fusable: scores are multiplied by a non-constant}}
  %o = linalg.batch_matmul ins(%p, %vd : tensor<4x8x8xf32>, tensor<4x8x16xf32>) outs(%f2 : tensor<4x8x16xf32>) -> tensor<4x8x16xf32>
  return %o : tensor<4x8x16xf32>
}
// -----

// scale * (S + mask): the mask is scaled too.
// CHECK-LABEL: func.func @neg_scale_under_mask
// EW-LABEL: func.func @neg_scale_under_mask
// EW-NOT: quantkv.sdpa
// CHECK-NOT: quantkv.sdpa
// CHECK: linalg.softmax

#id3 = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
func.func @neg_scale_under_mask(%q: tensor<4x8x16xf32>, %k: tensor<4x8x16xsi8>, %ks: tensor<1xf32>, %v: tensor<4x8x16xsi8>, %vs: tensor<1xf32>, %mask: tensor<4x8x8xf32>) -> tensor<4x8x16xf32> {
  %zero = arith.constant 0.0 : f32
  %c = arith.constant 0.25 : f32
  %kd = quantkv.dequantize %k scale(%ks : tensor<1xf32>) granularity(#quantkv.per_tensor) : tensor<4x8x16xsi8> -> tensor<4x8x16xf32>
  %e0 = tensor.empty() : tensor<4x16x8xf32>
  %kt = linalg.transpose ins(%kd : tensor<4x8x16xf32>) outs(%e0 : tensor<4x16x8xf32>) permutation = [0, 2, 1]
  %e1 = tensor.empty() : tensor<4x8x8xf32>
  %f1 = linalg.fill ins(%zero : f32) outs(%e1 : tensor<4x8x8xf32>) -> tensor<4x8x8xf32>
  %s = linalg.batch_matmul ins(%q, %kt : tensor<4x8x16xf32>, tensor<4x16x8xf32>) outs(%f1 : tensor<4x8x8xf32>) -> tensor<4x8x8xf32>
  %ss = linalg.generic {indexing_maps = [#id3, #id3, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%s, %mask : tensor<4x8x8xf32>, tensor<4x8x8xf32>) outs(%e1 : tensor<4x8x8xf32>) {
  ^bb0(%a: f32, %mk: f32, %o: f32):
    %y = arith.addf %a, %mk : f32
    %m = arith.mulf %y, %c : f32
    linalg.yield %m : f32
  } -> tensor<4x8x8xf32>
  %p = linalg.softmax dimension(2) ins(%ss : tensor<4x8x8xf32>) outs(%e1 : tensor<4x8x8xf32>) -> tensor<4x8x8xf32>

  %vd = quantkv.dequantize %v scale(%vs : tensor<1xf32>) granularity(#quantkv.per_tensor) : tensor<4x8x16xsi8> -> tensor<4x8x16xf32>
  %e2 = tensor.empty() : tensor<4x8x16xf32>
  %f2 = linalg.fill ins(%zero : f32) outs(%e2 : tensor<4x8x16xf32>) -> tensor<4x8x16xf32>
  // expected-remark @below {{not fusable: unexpected computation on the scores: arith.addf under the scale}}
  %o = linalg.batch_matmul ins(%p, %vd : tensor<4x8x8xf32>, tensor<4x8x16xf32>) outs(%f2 : tensor<4x8x16xf32>) -> tensor<4x8x16xf32>
  return %o : tensor<4x8x16xf32>
}
// -----

// Keys j > i + 1 are masked: neither top-left nor bottom-right causal.
// CHECK-LABEL: func.func @neg_causal_window
// EW-LABEL: func.func @neg_causal_window
// EW-NOT: quantkv.sdpa
// CHECK-NOT: quantkv.sdpa
// CHECK: linalg.softmax

#id3 = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
func.func @neg_causal_window(%q: tensor<4x8x16xf32>, %k: tensor<4x8x16xsi8>, %ks: tensor<1xf32>, %v: tensor<4x8x16xsi8>, %vs: tensor<1xf32>) -> tensor<4x8x16xf32> {
  %zero = arith.constant 0.0 : f32
  %c = arith.constant 0.25 : f32
  %kd = quantkv.dequantize %k scale(%ks : tensor<1xf32>) granularity(#quantkv.per_tensor) : tensor<4x8x16xsi8> -> tensor<4x8x16xf32>
  %e0 = tensor.empty() : tensor<4x16x8xf32>
  %kt = linalg.transpose ins(%kd : tensor<4x8x16xf32>) outs(%e0 : tensor<4x16x8xf32>) permutation = [0, 2, 1]
  %e1 = tensor.empty() : tensor<4x8x8xf32>
  %f1 = linalg.fill ins(%zero : f32) outs(%e1 : tensor<4x8x8xf32>) -> tensor<4x8x8xf32>
  %s = linalg.batch_matmul ins(%q, %kt : tensor<4x8x16xf32>, tensor<4x16x8xf32>) outs(%f1 : tensor<4x8x8xf32>) -> tensor<4x8x8xf32>
  %ss = linalg.generic {indexing_maps = [#id3, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%s : tensor<4x8x8xf32>) outs(%e1 : tensor<4x8x8xf32>) {
  ^bb0(%a: f32, %o: f32):
    %ninf = arith.constant 0xFF800000 : f32
    %c1 = arith.constant 1 : index
    %i = linalg.index 1 : index
    %j = linalg.index 2 : index
    %i1 = arith.addi %i, %c1 : index
    %f = arith.cmpi sgt, %j, %i1 : index
    %y = arith.mulf %a, %c : f32
    %m = arith.select %f, %ninf, %y : f32
    linalg.yield %m : f32
  } -> tensor<4x8x8xf32>
  %p = linalg.softmax dimension(2) ins(%ss : tensor<4x8x8xf32>) outs(%e1 : tensor<4x8x8xf32>) -> tensor<4x8x8xf32>

  %vd = quantkv.dequantize %v scale(%vs : tensor<1xf32>) granularity(#quantkv.per_tensor) : tensor<4x8x16xsi8> -> tensor<4x8x16xf32>
  %e2 = tensor.empty() : tensor<4x8x16xf32>
  %f2 = linalg.fill ins(%zero : f32) outs(%e2 : tensor<4x8x16xf32>) -> tensor<4x8x16xf32>
  // expected-remark @below {{not fusable: select masks keys j > i + 1, which is neither top-left (0) nor bottom-right (0) causal}}
  %o = linalg.batch_matmul ins(%p, %vd : tensor<4x8x8xf32>, tensor<4x8x16xf32>) outs(%f2 : tensor<4x8x16xf32>) -> tensor<4x8x16xf32>
  return %o : tensor<4x8x16xf32>
}
// -----

// Keys j < i are masked (the upper triangle is kept): not causal.
// CHECK-LABEL: func.func @neg_causal_lower
// EW-LABEL: func.func @neg_causal_lower
// EW-NOT: quantkv.sdpa
// CHECK-NOT: quantkv.sdpa
// CHECK: linalg.softmax

#id3 = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
func.func @neg_causal_lower(%q: tensor<4x8x16xf32>, %k: tensor<4x8x16xsi8>, %ks: tensor<1xf32>, %v: tensor<4x8x16xsi8>, %vs: tensor<1xf32>) -> tensor<4x8x16xf32> {
  %zero = arith.constant 0.0 : f32
  %c = arith.constant 0.25 : f32
  %kd = quantkv.dequantize %k scale(%ks : tensor<1xf32>) granularity(#quantkv.per_tensor) : tensor<4x8x16xsi8> -> tensor<4x8x16xf32>
  %e0 = tensor.empty() : tensor<4x16x8xf32>
  %kt = linalg.transpose ins(%kd : tensor<4x8x16xf32>) outs(%e0 : tensor<4x16x8xf32>) permutation = [0, 2, 1]
  %e1 = tensor.empty() : tensor<4x8x8xf32>
  %f1 = linalg.fill ins(%zero : f32) outs(%e1 : tensor<4x8x8xf32>) -> tensor<4x8x8xf32>
  %s = linalg.batch_matmul ins(%q, %kt : tensor<4x8x16xf32>, tensor<4x16x8xf32>) outs(%f1 : tensor<4x8x8xf32>) -> tensor<4x8x8xf32>
  %ss = linalg.generic {indexing_maps = [#id3, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%s : tensor<4x8x8xf32>) outs(%e1 : tensor<4x8x8xf32>) {
  ^bb0(%a: f32, %o: f32):
    %ninf = arith.constant 0xFF800000 : f32
    %i = linalg.index 1 : index
    %j = linalg.index 2 : index
    %f = arith.cmpi slt, %j, %i : index
    %y = arith.mulf %a, %c : f32
    %m = arith.select %f, %ninf, %y : f32
    linalg.yield %m : f32
  } -> tensor<4x8x8xf32>
  %p = linalg.softmax dimension(2) ins(%ss : tensor<4x8x8xf32>) outs(%e1 : tensor<4x8x8xf32>) -> tensor<4x8x8xf32>

  %vd = quantkv.dequantize %v scale(%vs : tensor<1xf32>) granularity(#quantkv.per_tensor) : tensor<4x8x16xsi8> -> tensor<4x8x16xf32>
  %e2 = tensor.empty() : tensor<4x8x16xf32>
  %f2 = linalg.fill ins(%zero : f32) outs(%e2 : tensor<4x8x16xf32>) -> tensor<4x8x16xf32>
  // expected-remark @below {{not fusable: select condition is not a causal comparison of the query and key indices}}
  %o = linalg.batch_matmul ins(%p, %vd : tensor<4x8x8xf32>, tensor<4x8x16xf32>) outs(%f2 : tensor<4x8x16xf32>) -> tensor<4x8x16xf32>
  return %o : tensor<4x8x16xf32>
}
// -----

// masked_fill with -100: exp(-100 - max) need not be 0, unlike -inf.
// CHECK-LABEL: func.func @neg_small_fill
// EW-LABEL: func.func @neg_small_fill
// EW-NOT: quantkv.sdpa
// CHECK-NOT: quantkv.sdpa
// CHECK: linalg.softmax

#id3 = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
func.func @neg_small_fill(%q: tensor<4x8x16xf32>, %k: tensor<4x8x16xsi8>, %ks: tensor<1xf32>, %v: tensor<4x8x16xsi8>, %vs: tensor<1xf32>) -> tensor<4x8x16xf32> {
  %zero = arith.constant 0.0 : f32
  %c = arith.constant 0.25 : f32
  %kd = quantkv.dequantize %k scale(%ks : tensor<1xf32>) granularity(#quantkv.per_tensor) : tensor<4x8x16xsi8> -> tensor<4x8x16xf32>
  %e0 = tensor.empty() : tensor<4x16x8xf32>
  %kt = linalg.transpose ins(%kd : tensor<4x8x16xf32>) outs(%e0 : tensor<4x16x8xf32>) permutation = [0, 2, 1]
  %e1 = tensor.empty() : tensor<4x8x8xf32>
  %f1 = linalg.fill ins(%zero : f32) outs(%e1 : tensor<4x8x8xf32>) -> tensor<4x8x8xf32>
  %s = linalg.batch_matmul ins(%q, %kt : tensor<4x8x16xf32>, tensor<4x16x8xf32>) outs(%f1 : tensor<4x8x8xf32>) -> tensor<4x8x8xf32>
  %ss = linalg.generic {indexing_maps = [#id3, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%s : tensor<4x8x8xf32>) outs(%e1 : tensor<4x8x8xf32>) {
  ^bb0(%a: f32, %o: f32):
    %fill = arith.constant -100.0 : f32
    %i = linalg.index 1 : index
    %j = linalg.index 2 : index
    %f = arith.cmpi sgt, %j, %i : index
    %y = arith.mulf %a, %c : f32
    %m = arith.select %f, %fill, %y : f32
    linalg.yield %m : f32
  } -> tensor<4x8x8xf32>
  %p = linalg.softmax dimension(2) ins(%ss : tensor<4x8x8xf32>) outs(%e1 : tensor<4x8x8xf32>) -> tensor<4x8x8xf32>

  %vd = quantkv.dequantize %v scale(%vs : tensor<1xf32>) granularity(#quantkv.per_tensor) : tensor<4x8x16xsi8> -> tensor<4x8x16xf32>
  %e2 = tensor.empty() : tensor<4x8x16xf32>
  %f2 = linalg.fill ins(%zero : f32) outs(%e2 : tensor<4x8x16xf32>) -> tensor<4x8x16xf32>
  // expected-remark @below {{not fusable: select on the scores does not fill with -inf (or <= -1e9)}}
  %o = linalg.batch_matmul ins(%p, %vd : tensor<4x8x8xf32>, tensor<4x8x16xf32>) outs(%f2 : tensor<4x8x16xf32>) -> tensor<4x8x16xf32>
  return %o : tensor<4x8x16xf32>
}
// -----

// P x V accumulates into a run-time tensor.
// CHECK-LABEL: func.func @neg_nonzero_accumulator
// EW-LABEL: func.func @neg_nonzero_accumulator
// EW-NOT: quantkv.sdpa
// CHECK-NOT: quantkv.sdpa
// CHECK: linalg.softmax

#id3 = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
func.func @neg_nonzero_accumulator(%q: tensor<4x8x16xf32>, %k: tensor<4x8x16xsi8>, %ks: tensor<1xf32>, %v: tensor<4x8x16xsi8>, %vs: tensor<1xf32>, %acc: tensor<4x8x16xf32>) -> tensor<4x8x16xf32> {
  %zero = arith.constant 0.0 : f32
  %c = arith.constant 0.25 : f32
  %kd = quantkv.dequantize %k scale(%ks : tensor<1xf32>) granularity(#quantkv.per_tensor) : tensor<4x8x16xsi8> -> tensor<4x8x16xf32>
  %e0 = tensor.empty() : tensor<4x16x8xf32>
  %kt = linalg.transpose ins(%kd : tensor<4x8x16xf32>) outs(%e0 : tensor<4x16x8xf32>) permutation = [0, 2, 1]
  %e1 = tensor.empty() : tensor<4x8x8xf32>
  %f1 = linalg.fill ins(%zero : f32) outs(%e1 : tensor<4x8x8xf32>) -> tensor<4x8x8xf32>
  %s = linalg.batch_matmul ins(%q, %kt : tensor<4x8x16xf32>, tensor<4x16x8xf32>) outs(%f1 : tensor<4x8x8xf32>) -> tensor<4x8x8xf32>
  %ss = linalg.generic {indexing_maps = [#id3, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%s : tensor<4x8x8xf32>) outs(%e1 : tensor<4x8x8xf32>) {
  ^bb0(%a: f32, %o: f32):
    %m = arith.mulf %a, %c : f32
    linalg.yield %m : f32
  } -> tensor<4x8x8xf32>
  %p = linalg.softmax dimension(2) ins(%ss : tensor<4x8x8xf32>) outs(%e1 : tensor<4x8x8xf32>) -> tensor<4x8x8xf32>

  %vd = quantkv.dequantize %v scale(%vs : tensor<1xf32>) granularity(#quantkv.per_tensor) : tensor<4x8x16xsi8> -> tensor<4x8x16xf32>
  %e2 = tensor.empty() : tensor<4x8x16xf32>
  %f2 = linalg.fill ins(%zero : f32) outs(%e2 : tensor<4x8x16xf32>) -> tensor<4x8x16xf32>
  // expected-remark @below {{not fusable: P x V accumulates into a tensor that is not zero-filled}}
  %o = linalg.batch_matmul ins(%p, %vd : tensor<4x8x8xf32>, tensor<4x8x16xf32>) outs(%acc : tensor<4x8x16xf32>) -> tensor<4x8x16xf32>
  return %o : tensor<4x8x16xf32>
}
// -----

// GQA with the query heads interleaved the other way (kv head = h mod Hkv,
// broadcast dim outside the K/V heads): not the sdpa head mapping.
// CHECK-LABEL: func.func @neg_gqa_head_order
// EW-LABEL: func.func @neg_gqa_head_order
// EW-NOT: quantkv.sdpa
// CHECK-NOT: quantkv.sdpa
// CHECK: linalg.softmax
#qmap = affine_map<(b, h, m, n, k) -> (b, h, m, k)>
#kmap = affine_map<(b, h, m, n, k) -> (b, h, n, k)>
#vmap = affine_map<(b, h, m, n, k) -> (b, h, k, n)>
#omap = affine_map<(b, h, m, n, k) -> (b, h, m, n)>
#id = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
func.func @neg_gqa_head_order(%q: tensor<1x8x1x32xf32>, %k: tensor<1x2x64x32xsi4>, %ks: tensor<1x2x64x4xf32>, %v: tensor<1x2x64x32xui8>, %vs: tensor<32xf32>, %vz: tensor<32xui8>) -> tensor<1x8x1x32xf32> {
  %zero = arith.constant 0.0 : f32
  %ninf = arith.constant 0xFF800000 : f32
  %rsqrt_d = arith.constant 0.176776695 : f32
  %c63 = arith.constant 63 : index
  %kd = quantkv.dequantize %k scale(%ks : tensor<1x2x64x4xf32>) granularity(#quantkv.per_group<[1, 1, 1, 8]>) : tensor<1x2x64x32xsi4> -> tensor<1x2x64x32xf32>
  %kb0 = tensor.empty() : tensor<1x4x2x64x32xf32>
  %kb = linalg.broadcast ins(%kd : tensor<1x2x64x32xf32>) outs(%kb0 : tensor<1x4x2x64x32xf32>) dimensions = [1]
  %kg = tensor.collapse_shape %kb [[0], [1, 2], [3], [4]] : tensor<1x4x2x64x32xf32> into tensor<1x8x64x32xf32>
  %s0 = tensor.empty() : tensor<1x8x1x64xf32>
  %sz = linalg.fill ins(%zero : f32) outs(%s0 : tensor<1x8x1x64xf32>) -> tensor<1x8x1x64xf32>
  %s = linalg.contract indexing_maps = [#qmap, #kmap, #omap] ins(%q, %kg : tensor<1x8x1x32xf32>, tensor<1x8x64x32xf32>) outs(%sz : tensor<1x8x1x64xf32>) -> tensor<1x8x1x64xf32>
  %sm = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%s : tensor<1x8x1x64xf32>) outs(%s0 : tensor<1x8x1x64xf32>) {
  ^bb0(%x: f32, %out: f32):
    %i = linalg.index 2 : index
    %j = linalg.index 3 : index
    %last = arith.addi %i, %c63 : index
    %future = arith.cmpi ugt, %j, %last : index
    %scaled = arith.mulf %x, %rsqrt_d : f32
    %r = arith.select %future, %ninf, %scaled : f32
    linalg.yield %r : f32
  } -> tensor<1x8x1x64xf32>
  %p = linalg.softmax dimension(3) ins(%sm : tensor<1x8x1x64xf32>) outs(%s0 : tensor<1x8x1x64xf32>) -> tensor<1x8x1x64xf32>
  %vd = quantkv.dequantize %v scale(%vs : tensor<32xf32>) zero_point(%vz : tensor<32xui8>) granularity(#quantkv.per_channel<axis = 3>) : tensor<1x2x64x32xui8> -> tensor<1x2x64x32xf32>
  %vb = linalg.broadcast ins(%vd : tensor<1x2x64x32xf32>) outs(%kb0 : tensor<1x4x2x64x32xf32>) dimensions = [1]
  %vg = tensor.collapse_shape %vb [[0], [1, 2], [3], [4]] : tensor<1x4x2x64x32xf32> into tensor<1x8x64x32xf32>
  %o0 = tensor.empty() : tensor<1x8x1x32xf32>
  %oz = linalg.fill ins(%zero : f32) outs(%o0 : tensor<1x8x1x32xf32>) -> tensor<1x8x1x32xf32>
  // expected-remark @below {{not fusable: K is read at (d0, d1, d2, d3, d4) -> (d0, d1 mod 2, d3, d4), expected (d0, d1, d2, d3, d4) -> (d0, d1 floordiv 4, d3, d4)}}
  %o = linalg.contract indexing_maps = [#qmap, #vmap, #omap] ins(%p, %vg : tensor<1x8x1x64xf32>, tensor<1x8x64x32xf32>) outs(%oz : tensor<1x8x1x32xf32>) -> tensor<1x8x1x32xf32>
  return %o : tensor<1x8x1x32xf32>
}

// -----

// Bottom-right causal mask with Sq = 8 > Skv = 2: the first rows have every
// key masked out, which the unfused softmax turns into NaN and quantkv.sdpa
// defines as zeros.
// CHECK-LABEL: func.func @neg_bottom_right_more_queries
// EW-LABEL: func.func @neg_bottom_right_more_queries
// EW-NOT: quantkv.sdpa
// CHECK-NOT: quantkv.sdpa
// CHECK: linalg.softmax
#id3 = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
func.func @neg_bottom_right_more_queries(%q: tensor<4x8x16xf32>, %k: tensor<4x2x16xsi8>, %ks: tensor<1xf32>, %v: tensor<4x2x16xsi8>, %vs: tensor<1xf32>) -> tensor<4x8x16xf32> {
  %zero = arith.constant 0.0 : f32
  %c = arith.constant 0.25 : f32
  %kd = quantkv.dequantize %k scale(%ks : tensor<1xf32>) granularity(#quantkv.per_tensor) : tensor<4x2x16xsi8> -> tensor<4x2x16xf32>
  %e0 = tensor.empty() : tensor<4x16x2xf32>
  %kt = linalg.transpose ins(%kd : tensor<4x2x16xf32>) outs(%e0 : tensor<4x16x2xf32>) permutation = [0, 2, 1]
  %e1 = tensor.empty() : tensor<4x8x2xf32>
  %f1 = linalg.fill ins(%zero : f32) outs(%e1 : tensor<4x8x2xf32>) -> tensor<4x8x2xf32>
  %s = linalg.batch_matmul ins(%q, %kt : tensor<4x8x16xf32>, tensor<4x16x2xf32>) outs(%f1 : tensor<4x8x2xf32>) -> tensor<4x8x2xf32>
  %ss = linalg.generic {indexing_maps = [#id3, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%s : tensor<4x8x2xf32>) outs(%e1 : tensor<4x8x2xf32>) {
  ^bb0(%a: f32, %o: f32):
    %ninf = arith.constant 0xFF800000 : f32
    %c6 = arith.constant 6 : index
    %i = linalg.index 1 : index
    %j = linalg.index 2 : index
    %j6 = arith.addi %j, %c6 : index
    %f = arith.cmpi sgt, %j6, %i : index
    %y = arith.mulf %a, %c : f32
    %m = arith.select %f, %ninf, %y : f32
    linalg.yield %m : f32
  } -> tensor<4x8x2xf32>
  %p = linalg.softmax dimension(2) ins(%ss : tensor<4x8x2xf32>) outs(%e1 : tensor<4x8x2xf32>) -> tensor<4x8x2xf32>
  %vd = quantkv.dequantize %v scale(%vs : tensor<1xf32>) granularity(#quantkv.per_tensor) : tensor<4x2x16xsi8> -> tensor<4x2x16xf32>
  %e2 = tensor.empty() : tensor<4x8x16xf32>
  %f2 = linalg.fill ins(%zero : f32) outs(%e2 : tensor<4x8x16xf32>) -> tensor<4x8x16xf32>
  // expected-remark @below {{not fusable: bottom-right causal mask with more queries than keys masks whole rows out (NaN unfused, zeros fused)}}
  %o = linalg.batch_matmul ins(%p, %vd : tensor<4x8x2xf32>, tensor<4x2x16xf32>) outs(%f2 : tensor<4x8x16xf32>) -> tensor<4x8x16xf32>
  return %o : tensor<4x8x16xf32>
}

// -----

// bf16 Q, K and V but f32 P: no math mode computes exactly this, so the
// default (auto) does not fuse; an explicit math-mode does (INT8 run).
// CHECK-LABEL: func.func @neg_mixed_precision_auto
// EW-LABEL: func.func @neg_mixed_precision_auto
// EW-NOT: quantkv.sdpa
// CHECK-NOT: quantkv.sdpa
// CHECK: linalg.softmax
// INT8-LABEL: func.func @neg_mixed_precision_auto
// INT8: quantkv.sdpa
#id3 = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
func.func @neg_mixed_precision_auto(%q: tensor<4x2x16xbf16>, %k: tensor<4x8x16xui8>, %ks: tensor<16xf32>, %kz: tensor<16xui8>, %v: tensor<4x8x16xsi8>, %vs: tensor<4x8x1xf32>) -> tensor<4x2x16xf32> {
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
  %vd = quantkv.dequantize %v scale(%vs : tensor<4x8x1xf32>) granularity(#quantkv.per_group<[1, 1, 16]>) : tensor<4x8x16xsi8> -> tensor<4x8x16xf32>
  %vh = quantkv.typecast %vd : tensor<4x8x16xf32> to tensor<4x8x16xbf16>
  %e2 = tensor.empty() : tensor<4x2x16xf32>
  %f2 = linalg.fill ins(%zero : f32) outs(%e2 : tensor<4x2x16xf32>) -> tensor<4x2x16xf32>
  // expected-remark @below {{not fusable: Q, K, P and V are read in mixed precisions, which no math mode reproduces; pass math-mode explicitly to choose one}}
  %o = linalg.batch_matmul ins(%p, %vh : tensor<4x2x8xf32>, tensor<4x8x16xbf16>) outs(%f2 : tensor<4x2x16xf32>) -> tensor<4x2x16xf32>
  return %o : tensor<4x2x16xf32>
}

// -----

// A K scale per channel but a zero point per token: two granularities one
// quantkv.sdpa operand cannot carry.
// CHECK-LABEL: func.func @neg_scale_zp_mismatch
// EW-LABEL: func.func @neg_scale_zp_mismatch
// EW-NOT: quantkv.sdpa
// CHECK-NOT: quantkv.sdpa
// CHECK: linalg.softmax
#id3 = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
#chan = affine_map<(d0, d1, d2) -> (d2)>
#tok = affine_map<(d0, d1, d2) -> (d0, d1)>
func.func @neg_scale_zp_mismatch(%q: tensor<4x2x16xf32>, %k: tensor<4x8x16xi8>, %ks: tensor<16xf32>, %kz: tensor<4x8xf32>, %vq: tensor<4x8x16xi8>) -> tensor<4x2x16xf32> {
  %zero = arith.constant 0.0 : f32
  %ek = tensor.empty() : tensor<4x8x16xf32>
  %kd = linalg.generic {indexing_maps = [#id3, #chan, #tok, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%k, %ks, %kz : tensor<4x8x16xi8>, tensor<16xf32>, tensor<4x8xf32>) outs(%ek : tensor<4x8x16xf32>) {
  ^bb0(%x: i8, %sc: f32, %zp: f32, %o: f32):
    %xf = arith.sitofp %x : i8 to f32
    %d = arith.subf %xf, %zp : f32
    %m = arith.mulf %d, %sc : f32
    linalg.yield %m : f32
  } -> tensor<4x8x16xf32>
  %vsc = arith.constant 0.5 : f32
  %vdq = linalg.generic {indexing_maps = [#id3, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%vq : tensor<4x8x16xi8>) outs(%ek : tensor<4x8x16xf32>) {
  ^bb0(%x: i8, %o: f32):
    %xf = arith.sitofp %x : i8 to f32
    %m = arith.mulf %xf, %vsc : f32
    linalg.yield %m : f32
  } -> tensor<4x8x16xf32>
  %e1 = tensor.empty() : tensor<4x2x8xf32>
  %f1 = linalg.fill ins(%zero : f32) outs(%e1 : tensor<4x2x8xf32>) -> tensor<4x2x8xf32>
  %s = linalg.batch_matmul indexing_maps = [affine_map<(b, m, n, k) -> (b, m, k)>, affine_map<(b, m, n, k) -> (b, n, k)>, affine_map<(b, m, n, k) -> (b, m, n)>] ins(%q, %kd : tensor<4x2x16xf32>, tensor<4x8x16xf32>) outs(%f1 : tensor<4x2x8xf32>) -> tensor<4x2x8xf32>
  %p = linalg.softmax dimension(2) ins(%s : tensor<4x2x8xf32>) outs(%e1 : tensor<4x2x8xf32>) -> tensor<4x2x8xf32>
  %e2 = tensor.empty() : tensor<4x2x16xf32>
  %f2 = linalg.fill ins(%zero : f32) outs(%e2 : tensor<4x2x16xf32>) -> tensor<4x2x16xf32>
  // expected-remark @below {{not fusable: K: scale and zero point have different granularities}}
  %o = linalg.batch_matmul ins(%p, %vdq : tensor<4x2x8xf32>, tensor<4x8x16xf32>) outs(%f2 : tensor<4x2x16xf32>) -> tensor<4x2x16xf32>
  return %o : tensor<4x2x16xf32>
}

// -----

// The K scale tensor is stored [D, S] and read transposed: no granularity
// (all of which keep the storage's dim order) expresses it.
// CHECK-LABEL: func.func @neg_scale_transposed
// EW-LABEL: func.func @neg_scale_transposed
// EW-NOT: quantkv.sdpa
// CHECK-NOT: quantkv.sdpa
// CHECK: linalg.softmax
#id3 = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
#ds = affine_map<(d0, d1, d2) -> (d2, d1)>
func.func @neg_scale_transposed(%q: tensor<4x2x16xf32>, %k: tensor<4x8x16xi8>, %ks: tensor<16x8xf32>, %vq: tensor<4x8x16xi8>) -> tensor<4x2x16xf32> {
  %zero = arith.constant 0.0 : f32
  %ek = tensor.empty() : tensor<4x8x16xf32>
  %kd = linalg.generic {indexing_maps = [#id3, #ds, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%k, %ks : tensor<4x8x16xi8>, tensor<16x8xf32>) outs(%ek : tensor<4x8x16xf32>) {
  ^bb0(%x: i8, %sc: f32, %o: f32):
    %xf = arith.sitofp %x : i8 to f32
    %m = arith.mulf %xf, %sc : f32
    linalg.yield %m : f32
  } -> tensor<4x8x16xf32>
  %e1 = tensor.empty() : tensor<4x2x8xf32>
  %f1 = linalg.fill ins(%zero : f32) outs(%e1 : tensor<4x2x8xf32>) -> tensor<4x2x8xf32>
  %s = linalg.batch_matmul indexing_maps = [affine_map<(b, m, n, k) -> (b, m, k)>, affine_map<(b, m, n, k) -> (b, n, k)>, affine_map<(b, m, n, k) -> (b, m, n)>] ins(%q, %kd : tensor<4x2x16xf32>, tensor<4x8x16xf32>) outs(%f1 : tensor<4x2x8xf32>) -> tensor<4x2x8xf32>
  %p = linalg.softmax dimension(2) ins(%s : tensor<4x2x8xf32>) outs(%e1 : tensor<4x2x8xf32>) -> tensor<4x2x8xf32>
  %vsc = arith.constant 0.5 : f32
  %vdq = linalg.generic {indexing_maps = [#id3, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%vq : tensor<4x8x16xi8>) outs(%ek : tensor<4x8x16xf32>) {
  ^bb0(%x: i8, %o: f32):
    %xf = arith.sitofp %x : i8 to f32
    %m = arith.mulf %xf, %vsc : f32
    linalg.yield %m : f32
  } -> tensor<4x8x16xf32>
  %e2 = tensor.empty() : tensor<4x2x16xf32>
  %f2 = linalg.fill ins(%zero : f32) outs(%e2 : tensor<4x2x16xf32>) -> tensor<4x2x16xf32>
  // expected-remark @below {{not fusable: K: scale dim 1 (read at d2) is no group of a storage dim in order}}
  %o = linalg.batch_matmul ins(%p, %vdq : tensor<4x2x8xf32>, tensor<4x8x16xf32>) outs(%f2 : tensor<4x2x16xf32>) -> tensor<4x2x16xf32>
  return %o : tensor<4x2x16xf32>
}
// -----

// A constant -inf scale: quantkv.sdpa takes only a finite non-zero f32 scale.
// CHECK-LABEL: func.func @neg_scale_infinite
// EW-LABEL: func.func @neg_scale_infinite
// EW-NOT: quantkv.sdpa
// CHECK-NOT: quantkv.sdpa
// CHECK: linalg.softmax

#id3 = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
func.func @neg_scale_infinite(%q: tensor<4x8x16xf32>, %k: tensor<4x8x16xsi8>, %ks: tensor<1xf32>, %v: tensor<4x8x16xsi8>, %vs: tensor<1xf32>) -> tensor<4x8x16xf32> {
  %zero = arith.constant 0.0 : f32
  %c = arith.constant 0xFF800000 : f32
  %kd = quantkv.dequantize %k scale(%ks : tensor<1xf32>) granularity(#quantkv.per_tensor) : tensor<4x8x16xsi8> -> tensor<4x8x16xf32>
  %e0 = tensor.empty() : tensor<4x16x8xf32>
  %kt = linalg.transpose ins(%kd : tensor<4x8x16xf32>) outs(%e0 : tensor<4x16x8xf32>) permutation = [0, 2, 1]
  %e1 = tensor.empty() : tensor<4x8x8xf32>
  %f1 = linalg.fill ins(%zero : f32) outs(%e1 : tensor<4x8x8xf32>) -> tensor<4x8x8xf32>
  %s = linalg.batch_matmul ins(%q, %kt : tensor<4x8x16xf32>, tensor<4x16x8xf32>) outs(%f1 : tensor<4x8x8xf32>) -> tensor<4x8x8xf32>
  %ss = linalg.generic {indexing_maps = [#id3, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%s : tensor<4x8x8xf32>) outs(%e1 : tensor<4x8x8xf32>) {
  ^bb0(%a: f32, %o: f32):
    %m = arith.mulf %a, %c : f32
    linalg.yield %m : f32
  } -> tensor<4x8x8xf32>
  %p = linalg.softmax dimension(2) ins(%ss : tensor<4x8x8xf32>) outs(%e1 : tensor<4x8x8xf32>) -> tensor<4x8x8xf32>
  %vd = quantkv.dequantize %v scale(%vs : tensor<1xf32>) granularity(#quantkv.per_tensor) : tensor<4x8x16xsi8> -> tensor<4x8x16xf32>
  %e2 = tensor.empty() : tensor<4x8x16xf32>
  %f2 = linalg.fill ins(%zero : f32) outs(%e2 : tensor<4x8x16xf32>) -> tensor<4x8x16xf32>
  // expected-remark @below {{not fusable: the folded scale -INF is not a finite non-zero f32}}
  %o = linalg.batch_matmul ins(%p, %vd : tensor<4x8x8xf32>, tensor<4x8x16xf32>) outs(%f2 : tensor<4x8x16xf32>) -> tensor<4x8x16xf32>
  return %o : tensor<4x8x16xf32>
}
// -----

// S / 1e-45 folds to a scale of about 7e44, past the largest f32.
// CHECK-LABEL: func.func @neg_scale_overflows
// EW-LABEL: func.func @neg_scale_overflows
// EW-NOT: quantkv.sdpa
// CHECK-NOT: quantkv.sdpa
// CHECK: linalg.softmax

#id3 = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
func.func @neg_scale_overflows(%q: tensor<4x8x16xf32>, %k: tensor<4x8x16xsi8>, %ks: tensor<1xf32>, %v: tensor<4x8x16xsi8>, %vs: tensor<1xf32>) -> tensor<4x8x16xf32> {
  %zero = arith.constant 0.0 : f32
  %c = arith.constant 1.0e-45 : f32
  %kd = quantkv.dequantize %k scale(%ks : tensor<1xf32>) granularity(#quantkv.per_tensor) : tensor<4x8x16xsi8> -> tensor<4x8x16xf32>
  %e0 = tensor.empty() : tensor<4x16x8xf32>
  %kt = linalg.transpose ins(%kd : tensor<4x8x16xf32>) outs(%e0 : tensor<4x16x8xf32>) permutation = [0, 2, 1]
  %e1 = tensor.empty() : tensor<4x8x8xf32>
  %f1 = linalg.fill ins(%zero : f32) outs(%e1 : tensor<4x8x8xf32>) -> tensor<4x8x8xf32>
  %s = linalg.batch_matmul ins(%q, %kt : tensor<4x8x16xf32>, tensor<4x16x8xf32>) outs(%f1 : tensor<4x8x8xf32>) -> tensor<4x8x8xf32>
  %ss = linalg.generic {indexing_maps = [#id3, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%s : tensor<4x8x8xf32>) outs(%e1 : tensor<4x8x8xf32>) {
  ^bb0(%a: f32, %o: f32):
    %m = arith.divf %a, %c : f32
    linalg.yield %m : f32
  } -> tensor<4x8x8xf32>
  %p = linalg.softmax dimension(2) ins(%ss : tensor<4x8x8xf32>) outs(%e1 : tensor<4x8x8xf32>) -> tensor<4x8x8xf32>
  %vd = quantkv.dequantize %v scale(%vs : tensor<1xf32>) granularity(#quantkv.per_tensor) : tensor<4x8x16xsi8> -> tensor<4x8x16xf32>
  %e2 = tensor.empty() : tensor<4x8x16xf32>
  %f2 = linalg.fill ins(%zero : f32) outs(%e2 : tensor<4x8x16xf32>) -> tensor<4x8x16xf32>
  // expected-remark @below {{not fusable: the folded scale 7.136238e+44 is not a finite non-zero f32}}
  %o = linalg.batch_matmul ins(%p, %vd : tensor<4x8x8xf32>, tensor<4x8x16xf32>) outs(%f2 : tensor<4x8x16xf32>) -> tensor<4x8x16xf32>
  return %o : tensor<4x8x16xf32>
}
// -----

// S * 0: uniform attention, which quantkv.sdpa's non-zero scale cannot express.
// CHECK-LABEL: func.func @neg_scale_zero
// EW-LABEL: func.func @neg_scale_zero
// EW-NOT: quantkv.sdpa
// CHECK-NOT: quantkv.sdpa
// CHECK: linalg.softmax

#id3 = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
func.func @neg_scale_zero(%q: tensor<4x8x16xf32>, %k: tensor<4x8x16xsi8>, %ks: tensor<1xf32>, %v: tensor<4x8x16xsi8>, %vs: tensor<1xf32>) -> tensor<4x8x16xf32> {
  %zero = arith.constant 0.0 : f32
  %c = arith.constant 0.0 : f32
  %kd = quantkv.dequantize %k scale(%ks : tensor<1xf32>) granularity(#quantkv.per_tensor) : tensor<4x8x16xsi8> -> tensor<4x8x16xf32>
  %e0 = tensor.empty() : tensor<4x16x8xf32>
  %kt = linalg.transpose ins(%kd : tensor<4x8x16xf32>) outs(%e0 : tensor<4x16x8xf32>) permutation = [0, 2, 1]
  %e1 = tensor.empty() : tensor<4x8x8xf32>
  %f1 = linalg.fill ins(%zero : f32) outs(%e1 : tensor<4x8x8xf32>) -> tensor<4x8x8xf32>
  %s = linalg.batch_matmul ins(%q, %kt : tensor<4x8x16xf32>, tensor<4x16x8xf32>) outs(%f1 : tensor<4x8x8xf32>) -> tensor<4x8x8xf32>
  %ss = linalg.generic {indexing_maps = [#id3, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%s : tensor<4x8x8xf32>) outs(%e1 : tensor<4x8x8xf32>) {
  ^bb0(%a: f32, %o: f32):
    %m = arith.mulf %a, %c : f32
    linalg.yield %m : f32
  } -> tensor<4x8x8xf32>
  %p = linalg.softmax dimension(2) ins(%ss : tensor<4x8x8xf32>) outs(%e1 : tensor<4x8x8xf32>) -> tensor<4x8x8xf32>
  %vd = quantkv.dequantize %v scale(%vs : tensor<1xf32>) granularity(#quantkv.per_tensor) : tensor<4x8x16xsi8> -> tensor<4x8x16xf32>
  %e2 = tensor.empty() : tensor<4x8x16xf32>
  %f2 = linalg.fill ins(%zero : f32) outs(%e2 : tensor<4x8x16xf32>) -> tensor<4x8x16xf32>
  // expected-remark @below {{not fusable: the folded scale 0.000000e+00 is not a finite non-zero f32}}
  %o = linalg.batch_matmul ins(%p, %vd : tensor<4x8x8xf32>, tensor<4x8x16xf32>) outs(%f2 : tensor<4x8x16xf32>) -> tensor<4x8x16xf32>
  return %o : tensor<4x8x16xf32>
}
