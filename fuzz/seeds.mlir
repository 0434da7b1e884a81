// Hand-written seeds for quantkv-fuzz, beside the chunks of the lit tests:
// one small valid function per op, granularity and sdpa feature, and the
// decomposed attention forms the fuse pass matches. test/Fuzz/seeds.mlir
// checks that every chunk stays valid IR.

func.func @dequantize_per_tensor(%x: tensor<4x8xsi8>, %s: tensor<1xf32>) -> tensor<4x8xf32> {
  %0 = quantkv.dequantize %x scale(%s : tensor<1xf32>) granularity(#quantkv.per_tensor) : tensor<4x8xsi8> -> tensor<4x8xf32>
  return %0 : tensor<4x8xf32>
}

// -----

func.func @dequantize_per_channel_zp(%x: tensor<2x3x5xui4>, %s: tensor<5xf16>, %z: tensor<5xui4>) -> tensor<2x3x5xbf16> {
  %0 = quantkv.dequantize %x scale(%s : tensor<5xf16>) zero_point(%z : tensor<5xui4>) granularity(#quantkv.per_channel<axis = 2>) : tensor<2x3x5xui4> -> tensor<2x3x5xbf16>
  return %0 : tensor<2x3x5xbf16>
}

// -----

func.func @dequantize_per_group_2d(%x: tensor<1x2x8x16xsi4>, %s: tensor<1x1x2x4xf32>, %z: tensor<1x1x2x4xsi32>) -> tensor<1x2x8x16xf32> {
  %0 = quantkv.dequantize %x scale(%s : tensor<1x1x2x4xf32>) zero_point(%z : tensor<1x1x2x4xsi32>) granularity(#quantkv.per_group<[1, 2, 4, 4]>) : tensor<1x2x8x16xsi4> -> tensor<1x2x8x16xf32>
  return %0 : tensor<1x2x8x16xf32>
}

// -----

func.func @quantize_per_group(%x: tensor<16x8xf32>, %s: tensor<16x2xf32>, %z: tensor<16x2xf32>) -> tensor<16x8xui8> {
  %0 = quantkv.quantize %x scale(%s : tensor<16x2xf32>) zero_point(%z : tensor<16x2xf32>) granularity(#quantkv.per_group<[1, 4]>) : tensor<16x8xf32> -> tensor<16x8xui8>
  return %0 : tensor<16x8xui8>
}

// -----

func.func @quantize_dequantize_odd(%x: tensor<3x7xbf16>, %s: tensor<7xf32>) -> tensor<3x7xf32> {
  %q = quantkv.quantize %x scale(%s : tensor<7xf32>) granularity(#quantkv.per_channel<axis = 1>) : tensor<3x7xbf16> -> tensor<3x7xsi4>
  %d = quantkv.dequantize %q scale(%s : tensor<7xf32>) granularity(#quantkv.per_channel<axis = 1>) : tensor<3x7xsi4> -> tensor<3x7xf32>
  return %d : tensor<3x7xf32>
}

// -----

func.func @typecast_chain(%x: tensor<4x4xbf16>) -> tensor<4x4xf16> {
  %0 = quantkv.typecast %x : tensor<4x4xbf16> to tensor<4x4xf32>
  %1 = quantkv.typecast %0 : tensor<4x4xf32> to tensor<4x4xf16>
  return %1 : tensor<4x4xf16>
}

// -----

func.func @dynamic_shapes(%x: tensor<?x8xsi8>, %s: tensor<8xf32>) -> tensor<?x8xf32> {
  %0 = quantkv.dequantize %x scale(%s : tensor<8xf32>) granularity(#quantkv.per_channel<axis = 1>) : tensor<?x8xsi8> -> tensor<?x8xf32>
  return %0 : tensor<?x8xf32>
}

// -----

func.func @sdpa_f32(%q: tensor<1x2x3x8xf32>, %k: tensor<1x2x5x8xf32>, %v: tensor<1x2x5x8xf32>, %o: tensor<1x2x3x8xf32>) -> tensor<1x2x3x8xf32> {
  %0 = quantkv.sdpa q(%q : tensor<1x2x3x8xf32>) k(%k : tensor<1x2x5x8xf32>) v(%v : tensor<1x2x5x8xf32>) outs(%o : tensor<1x2x3x8xf32>) : tensor<1x2x3x8xf32>
  return %0 : tensor<1x2x3x8xf32>
}

// -----

func.func @sdpa_s4_u8_gqa_causal(%q: tensor<1x4x1x16xf32>, %k: tensor<1x2x8x16xsi4>, %ks: tensor<1x2x8x2xf32>, %v: tensor<1x2x8x16xui8>, %vs: tensor<16xf32>, %vz: tensor<16xui8>, %o: tensor<1x4x1x16xf32>) -> tensor<1x4x1x16xf32> {
  %0 = quantkv.sdpa q(%q : tensor<1x4x1x16xf32>) k(%k : tensor<1x2x8x16xsi4>) k_scale(%ks : tensor<1x2x8x2xf32>) v(%v : tensor<1x2x8x16xui8>) v_scale(%vs : tensor<16xf32>) v_zero_point(%vz : tensor<16xui8>) outs(%o : tensor<1x4x1x16xf32>) {key_quant = #quantkv.per_group<[1, 1, 1, 8]>, value_quant = #quantkv.per_channel<axis = 3>, causal = #quantkv.causal<bottom_right>} : tensor<1x4x1x16xf32>
  return %0 : tensor<1x4x1x16xf32>
}

// -----

func.func @sdpa_kivi_mask_bds(%q: tensor<2x2x4x8xf16>, %k: tensor<2x1x8x6xui4>, %ks: tensor<1x1x8x3xf16>, %kz: tensor<1x1x8x3xui4>, %v: tensor<2x1x6x4xsi8>, %vs: tensor<1x1x6x1xbf16>, %m: tensor<4x6xf16>, %o: tensor<2x2x4x4xf16>) -> tensor<2x2x4x4xf16> {
  %0 = quantkv.sdpa q(%q : tensor<2x2x4x8xf16>) k(%k : tensor<2x1x8x6xui4>) k_scale(%ks : tensor<1x1x8x3xf16>) k_zero_point(%kz : tensor<1x1x8x3xui4>) v(%v : tensor<2x1x6x4xsi8>) v_scale(%vs : tensor<1x1x6x1xbf16>) mask(%m : tensor<4x6xf16>) outs(%o : tensor<2x2x4x4xf16>) {key_quant = #quantkv.per_group<[1, 1, 1, 2]>, value_quant = #quantkv.per_group<[1, 1, 1, 4]>, key_layout = #quantkv.k_layout<bds>, math_mode = #quantkv.math_mode<f16>} : tensor<2x2x4x4xf16>
  return %0 : tensor<2x2x4x4xf16>
}

// -----

func.func @sdpa_int8_math_dynamic_scale(%q: tensor<1x1x1x4xf32>, %k: tensor<1x1x1x4xsi8>, %ks: tensor<1xf32>, %v: tensor<1x1x1x4xf32>, %o: tensor<1x1x1x4xf32>, %sc: f32) -> tensor<1x1x1x4xf32> {
  %0 = quantkv.sdpa q(%q : tensor<1x1x1x4xf32>) k(%k : tensor<1x1x1x4xsi8>) k_scale(%ks : tensor<1xf32>) v(%v : tensor<1x1x1x4xf32>) dynamic_scale(%sc) outs(%o : tensor<1x1x1x4xf32>) {key_quant = #quantkv.per_tensor, math_mode = #quantkv.math_mode<int8>} : tensor<1x1x1x4xf32>
  return %0 : tensor<1x1x1x4xf32>
}

// -----

func.func @sdpa_bf16_scale_mask4(%q: tensor<1x2x2x8xbf16>, %k: tensor<1x2x3x8xbf16>, %v: tensor<1x2x3x8xbf16>, %m: tensor<1x1x2x3xbf16>, %o: tensor<1x2x2x8xbf16>) -> tensor<1x2x2x8xbf16> {
  %0 = quantkv.sdpa q(%q : tensor<1x2x2x8xbf16>) k(%k : tensor<1x2x3x8xbf16>) v(%v : tensor<1x2x3x8xbf16>) mask(%m : tensor<1x1x2x3xbf16>) outs(%o : tensor<1x2x2x8xbf16>) {scale = 0.125 : f32, causal = #quantkv.causal<top_left>, math_mode = #quantkv.math_mode<bf16>} : tensor<1x2x2x8xbf16>
  return %0 : tensor<1x2x2x8xbf16>
}

// -----

// Attention written with quantkv.dequantize and linalg named ops: what
// --quantkv-fuse-sdpa turns into one quantkv.sdpa.
func.func @attention_named_ops(%q: tensor<4x8xf32>, %kq: tensor<6x8xsi8>, %ks: tensor<6x1xf32>, %vq: tensor<6x8xsi8>, %vs: tensor<6x1xf32>) -> tensor<4x8xf32> {
  %k = quantkv.dequantize %kq scale(%ks : tensor<6x1xf32>) granularity(#quantkv.per_group<[1, 8]>) : tensor<6x8xsi8> -> tensor<6x8xf32>
  %v = quantkv.dequantize %vq scale(%vs : tensor<6x1xf32>) granularity(#quantkv.per_group<[1, 8]>) : tensor<6x8xsi8> -> tensor<6x8xf32>
  %e0 = tensor.empty() : tensor<8x6xf32>
  %kt = linalg.transpose ins(%k : tensor<6x8xf32>) outs(%e0 : tensor<8x6xf32>) permutation = [1, 0]
  %zero = arith.constant 0.0 : f32
  %e1 = tensor.empty() : tensor<4x6xf32>
  %f1 = linalg.fill ins(%zero : f32) outs(%e1 : tensor<4x6xf32>) -> tensor<4x6xf32>
  %s = linalg.matmul ins(%q, %kt : tensor<4x8xf32>, tensor<8x6xf32>) outs(%f1 : tensor<4x6xf32>) -> tensor<4x6xf32>
  %e2 = tensor.empty() : tensor<4x6xf32>
  %p = linalg.softmax dimension(1) ins(%s : tensor<4x6xf32>) outs(%e2 : tensor<4x6xf32>) -> tensor<4x6xf32>
  %e3 = tensor.empty() : tensor<4x8xf32>
  %f3 = linalg.fill ins(%zero : f32) outs(%e3 : tensor<4x8xf32>) -> tensor<4x8xf32>
  %o = linalg.matmul ins(%p, %v : tensor<4x6xf32>, tensor<6x8xf32>) outs(%f3 : tensor<4x8xf32>) -> tensor<4x8xf32>
  return %o : tensor<4x8xf32>
}

// -----

// The same with batch matmuls over [B*H, S, D] and an explicit scale.
func.func @attention_batch_matmul(%q: tensor<2x3x4xf32>, %kq: tensor<2x4x5xui4>, %ks: tensor<2x1x5xf32>, %v: tensor<2x5x4xf32>) -> tensor<2x3x4xf32> {
  %kt = quantkv.dequantize %kq scale(%ks : tensor<2x1x5xf32>) granularity(#quantkv.per_group<[1, 4, 1]>) : tensor<2x4x5xui4> -> tensor<2x4x5xf32>
  %zero = arith.constant 0.0 : f32
  %c = arith.constant 0.5 : f32
  %e1 = tensor.empty() : tensor<2x3x5xf32>
  %f1 = linalg.fill ins(%zero : f32) outs(%e1 : tensor<2x3x5xf32>) -> tensor<2x3x5xf32>
  %s = linalg.batch_matmul ins(%q, %kt : tensor<2x3x4xf32>, tensor<2x4x5xf32>) outs(%f1 : tensor<2x3x5xf32>) -> tensor<2x3x5xf32>
  %e2 = tensor.empty() : tensor<2x3x5xf32>
  %ss = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]} ins(%s : tensor<2x3x5xf32>) outs(%e2 : tensor<2x3x5xf32>) {
  ^bb0(%in: f32, %out: f32):
    %m = arith.mulf %in, %c : f32
    linalg.yield %m : f32
  } -> tensor<2x3x5xf32>
  %e3 = tensor.empty() : tensor<2x3x5xf32>
  %p = linalg.softmax dimension(2) ins(%ss : tensor<2x3x5xf32>) outs(%e3 : tensor<2x3x5xf32>) -> tensor<2x3x5xf32>
  %e4 = tensor.empty() : tensor<2x3x4xf32>
  %f4 = linalg.fill ins(%zero : f32) outs(%e4 : tensor<2x3x4xf32>) -> tensor<2x3x4xf32>
  %o = linalg.batch_matmul ins(%p, %v : tensor<2x3x5xf32>, tensor<2x5x4xf32>) outs(%f4 : tensor<2x3x4xf32>) -> tensor<2x3x4xf32>
  return %o : tensor<2x3x4xf32>
}

// -----

// Constants feeding the ops, so folding and the lowerings see values.
func.func @constants() -> tensor<2x4xf32> {
  %x = arith.constant dense<[[1, -2, 3, -4], [5, -6, 7, -8]]> : tensor<2x4xsi8>
  %s = arith.constant dense<[0.5, 0.25]> : tensor<2xf32>
  %0 = quantkv.dequantize %x scale(%s : tensor<2xf32>) granularity(#quantkv.per_channel<axis = 0>) : tensor<2x4xsi8> -> tensor<2x4xf32>
  return %0 : tensor<2x4xf32>
}
