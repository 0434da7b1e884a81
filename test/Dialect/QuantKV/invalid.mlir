// RUN: quantkv-opt %s --split-input-file --verify-diagnostics
//
// One case per verifier rule of the quantkv dialect: each names the operand,
// the rule and the sizes it saw.

func.func @dequantize_result_shape(%x: tensor<2x8x16x64xsi4>, %s: tensor<1xf32>) {
  // expected-error @+1 {{'result' shape (tensor<2x8x16x32xf32>) must equal 'input' shape (tensor<2x8x16x64xsi4>)}}
  %0 = quantkv.dequantize %x scale(%s : tensor<1xf32>) granularity(#quantkv.per_tensor) : tensor<2x8x16x64xsi4> -> tensor<2x8x16x32xf32>
  return
}

// -----

func.func @per_tensor_scale_rank(%x: tensor<2x8x16x64xsi4>, %s: tensor<1x1xf32>) {
  // expected-error @+1 {{'scale' must be a 1-d tensor of 1 element for per_tensor quantization, got shape [1, 1]}}
  %0 = quantkv.dequantize %x scale(%s : tensor<1x1xf32>) granularity(#quantkv.per_tensor) : tensor<2x8x16x64xsi4> -> tensor<2x8x16x64xf32>
  return
}

// -----

func.func @per_tensor_scale_size(%x: tensor<2x8x16x64xsi4>, %s: tensor<2xf32>) {
  // expected-error @+1 {{'scale' must be a 1-d tensor of 1 element for per_tensor quantization, got shape [2]}}
  %0 = quantkv.dequantize %x scale(%s : tensor<2xf32>) granularity(#quantkv.per_tensor) : tensor<2x8x16x64xsi4> -> tensor<2x8x16x64xf32>
  return
}

// -----

func.func @per_channel_axis_too_large(%x: tensor<2x8x16x64xsi4>, %s: tensor<64xf32>) {
  // expected-error @+1 {{per_channel axis 4 is out of range for 'input' of rank 4}}
  %0 = quantkv.dequantize %x scale(%s : tensor<64xf32>) granularity(#quantkv.per_channel<axis = 4>) : tensor<2x8x16x64xsi4> -> tensor<2x8x16x64xf32>
  return
}

// -----

func.func @per_channel_axis_negative(%x: tensor<2x8x16x64xsi4>, %s: tensor<64xf32>) {
  // expected-error @+1 {{per_channel axis -1 is out of range for 'input' of rank 4}}
  %0 = quantkv.dequantize %x scale(%s : tensor<64xf32>) granularity(#quantkv.per_channel<axis = -1>) : tensor<2x8x16x64xsi4> -> tensor<2x8x16x64xf32>
  return
}

// -----

func.func @per_channel_scale_size(%x: tensor<2x8x16x64xsi4>, %s: tensor<32xf32>) {
  // expected-error @+1 {{'scale' must be a 1-d tensor of 64 elements ('input' dim 3) for per_channel quantization, got shape [32]}}
  %0 = quantkv.dequantize %x scale(%s : tensor<32xf32>) granularity(#quantkv.per_channel<axis = 3>) : tensor<2x8x16x64xsi4> -> tensor<2x8x16x64xf32>
  return
}

// -----

func.func @per_channel_scale_rank(%x: tensor<2x8x16x64xsi4>, %s: tensor<1x64xf32>) {
  // expected-error @+1 {{'scale' must be a 1-d tensor of 64 elements ('input' dim 3) for per_channel quantization, got shape [1, 64]}}
  %0 = quantkv.dequantize %x scale(%s : tensor<1x64xf32>) granularity(#quantkv.per_channel<axis = 3>) : tensor<2x8x16x64xsi4> -> tensor<2x8x16x64xf32>
  return
}

// -----

func.func @per_group_rank(%x: tensor<2x8x16x64xsi4>, %s: tensor<2x8x16x2xf32>) {
  // expected-error @+1 {{per_group group_shape has 2 dims but 'input' has rank 4}}
  %0 = quantkv.dequantize %x scale(%s : tensor<2x8x16x2xf32>) granularity(#quantkv.per_group<[1, 32]>) : tensor<2x8x16x64xsi4> -> tensor<2x8x16x64xf32>
  return
}

// -----

func.func @per_group_divides(%x: tensor<2x8x16x64xsi4>, %s: tensor<2x8x16x2xf32>) {
  // expected-error @+1 {{per_group group dim 3 (24) must divide 'input' dim 3 (64)}}
  %0 = quantkv.dequantize %x scale(%s : tensor<2x8x16x2xf32>) granularity(#quantkv.per_group<[1, 1, 1, 24]>) : tensor<2x8x16x64xsi4> -> tensor<2x8x16x64xf32>
  return
}

// -----

func.func @per_group_divides_s(%x: tensor<2x8x16x64xsi4>, %s: tensor<2x8x3x64xf32>) {
  // expected-error @+1 {{per_group group dim 2 (5) must divide 'input' dim 2 (16)}}
  %0 = quantkv.dequantize %x scale(%s : tensor<2x8x3x64xf32>) granularity(#quantkv.per_group<[1, 1, 5, 1]>) : tensor<2x8x16x64xsi4> -> tensor<2x8x16x64xf32>
  return
}

// -----

func.func @per_group_scale_rank(%x: tensor<2x8x16x64xsi4>, %s: tensor<8x16x2xf32>) {
  // expected-error @+1 {{'scale' must have the rank of 'input' (4) for per_group quantization, got rank 3}}
  %0 = quantkv.dequantize %x scale(%s : tensor<8x16x2xf32>) granularity(#quantkv.per_group<[1, 1, 1, 32]>) : tensor<2x8x16x64xsi4> -> tensor<2x8x16x64xf32>
  return
}

// -----

func.func @per_group_scale_dim(%x: tensor<2x8x16x64xsi4>, %s: tensor<2x8x16x4xf32>) {
  // expected-error @+1 {{'scale' dim 3 (4) must be 'input' dim / group dim (64 / 32 = 2) or 1 to broadcast}}
  %0 = quantkv.dequantize %x scale(%s : tensor<2x8x16x4xf32>) granularity(#quantkv.per_group<[1, 1, 1, 32]>) : tensor<2x8x16x64xsi4> -> tensor<2x8x16x64xf32>
  return
}

// -----

func.func @per_group_scale_dim_s(%x: tensor<2x8x16x64xsi4>, %s: tensor<2x8x2x64xf32>) {
  // expected-error @+1 {{'scale' dim 2 (2) must be 'input' dim / group dim (16 / 4 = 4) or 1 to broadcast}}
  %0 = quantkv.dequantize %x scale(%s : tensor<2x8x2x64xf32>) granularity(#quantkv.per_group<[1, 1, 4, 1]>) : tensor<2x8x16x64xsi4> -> tensor<2x8x16x64xf32>
  return
}

// -----

func.func @per_group_scale_batch(%x: tensor<2x8x16x64xsi4>, %s: tensor<3x8x16x2xf32>) {
  // expected-error @+1 {{'scale' dim 0 (3) must be 'input' dim / group dim (2 / 1 = 2) or 1 to broadcast}}
  %0 = quantkv.dequantize %x scale(%s : tensor<3x8x16x2xf32>) granularity(#quantkv.per_group<[1, 1, 1, 32]>) : tensor<2x8x16x64xsi4> -> tensor<2x8x16x64xf32>
  return
}

// -----

func.func @zero_point_shape(%x: tensor<2x8x16x64xsi4>, %s: tensor<1x8x16x2xf32>, %zp: tensor<1x8x16x1xui4>) {
  // expected-error @+1 {{'zero_point' shape (tensor<1x8x16x1xui4>) must equal 'scale' shape (tensor<1x8x16x2xf32>)}}
  %0 = quantkv.dequantize %x scale(%s : tensor<1x8x16x2xf32>) zero_point(%zp : tensor<1x8x16x1xui4>) granularity(#quantkv.per_group<[1, 1, 1, 32]>) : tensor<2x8x16x64xsi4> -> tensor<2x8x16x64xf32>
  return
}

// -----

func.func @zero_point_shape_per_channel(%x: tensor<2x8x16x64xsi4>, %s: tensor<64xf32>, %zp: tensor<32xsi8>) {
  // expected-error @+1 {{'zero_point' shape (tensor<32xsi8>) must equal 'scale' shape (tensor<64xf32>)}}
  %0 = quantkv.dequantize %x scale(%s : tensor<64xf32>) zero_point(%zp : tensor<32xsi8>) granularity(#quantkv.per_channel<axis = 3>) : tensor<2x8x16x64xsi4> -> tensor<2x8x16x64xf32>
  return
}

// -----

func.func @input_type(%x: tensor<4x8xf32>, %s: tensor<1xf32>) {
  // expected-error @+1 {{operand #0 must be ranked tensor of quantized storage type (si4, ui4, si8 or ui8) values}}
  %0 = quantkv.dequantize %x scale(%s : tensor<1xf32>) granularity(#quantkv.per_tensor) : tensor<4x8xf32> -> tensor<4x8xf32>
  return
}

// -----

func.func @input_signless(%x: tensor<4x8xi8>, %s: tensor<1xf32>) {
  // expected-error @+1 {{operand #0 must be ranked tensor of quantized storage type (si4, ui4, si8 or ui8) values}}
  %0 = quantkv.dequantize %x scale(%s : tensor<1xf32>) granularity(#quantkv.per_tensor) : tensor<4x8xi8> -> tensor<4x8xf32>
  return
}

// -----

func.func @scale_type(%x: tensor<4x8xsi8>, %s: tensor<1xi32>) {
  // expected-error @+1 {{operand #1 must be ranked tensor of f32, f16 or bf16 values}}
  %0 = quantkv.dequantize %x scale(%s : tensor<1xi32>) granularity(#quantkv.per_tensor) : tensor<4x8xsi8> -> tensor<4x8xf32>
  return
}

// -----

func.func @zero_point_type(%x: tensor<4x8xsi8>, %s: tensor<1xf32>, %zp: tensor<1xf16>) {
  // expected-error @+1 {{operand #2 must be ranked tensor of zero point type (si4, ui4, si8, ui8, si32 or f32) values}}
  %0 = quantkv.dequantize %x scale(%s : tensor<1xf32>) zero_point(%zp : tensor<1xf16>) granularity(#quantkv.per_tensor) : tensor<4x8xsi8> -> tensor<4x8xf32>
  return
}

// -----

func.func @result_type(%x: tensor<4x8xsi8>, %s: tensor<1xf32>) {
  // expected-error @+1 {{result #0 must be ranked tensor of f32, f16 or bf16 values}}
  %0 = quantkv.dequantize %x scale(%s : tensor<1xf32>) granularity(#quantkv.per_tensor) : tensor<4x8xsi8> -> tensor<4x8xi32>
  return
}

// -----

func.func @quantize_result_type(%x: tensor<4x8xf32>, %s: tensor<1xf32>) {
  // expected-error @+1 {{result #0 must be ranked tensor of quantized storage type (si4, ui4, si8 or ui8) values}}
  %0 = quantkv.quantize %x scale(%s : tensor<1xf32>) granularity(#quantkv.per_tensor) : tensor<4x8xf32> -> tensor<4x8xf32>
  return
}

// -----

func.func @quantize_input_type(%x: tensor<4x8xsi8>, %s: tensor<1xf32>) {
  // expected-error @+1 {{operand #0 must be ranked tensor of f32, f16 or bf16 values}}
  %0 = quantkv.quantize %x scale(%s : tensor<1xf32>) granularity(#quantkv.per_tensor) : tensor<4x8xsi8> -> tensor<4x8xsi4>
  return
}

// -----

func.func @quantize_shape(%x: tensor<4x8xf32>, %s: tensor<1xf32>) {
  // expected-error @+1 {{'result' shape (tensor<4x4xsi4>) must equal 'input' shape (tensor<4x8xf32>)}}
  %0 = quantkv.quantize %x scale(%s : tensor<1xf32>) granularity(#quantkv.per_tensor) : tensor<4x8xf32> -> tensor<4x4xsi4>
  return
}

// -----

func.func @quantize_group(%x: tensor<4x8xf32>, %s: tensor<4x3xf32>) {
  // expected-error @+1 {{'scale' dim 1 (3) must be 'input' dim / group dim (8 / 4 = 2) or 1 to broadcast}}
  %0 = quantkv.quantize %x scale(%s : tensor<4x3xf32>) granularity(#quantkv.per_group<[1, 4]>) : tensor<4x8xf32> -> tensor<4x8xsi4>
  return
}

// -----

func.func @quantize_zero_point(%x: tensor<4x8xf32>, %s: tensor<4x2xf32>, %zp: tensor<4x1xui4>) {
  // expected-error @+1 {{'zero_point' shape (tensor<4x1xui4>) must equal 'scale' shape (tensor<4x2xf32>)}}
  %0 = quantkv.quantize %x scale(%s : tensor<4x2xf32>) zero_point(%zp : tensor<4x1xui4>) granularity(#quantkv.per_group<[1, 4]>) : tensor<4x8xf32> -> tensor<4x8xui4>
  return
}

// -----

func.func @typecast_f16_to_bf16(%x: tensor<4xf16>) {
  // expected-error @+1 {{converts between f32 and f16/bf16 only, got 'f16' to 'bf16'}}
  %0 = quantkv.typecast %x : tensor<4xf16> to tensor<4xbf16>
  return
}

// -----

func.func @typecast_shape(%x: tensor<4xf32>) {
  // expected-error @+1 {{requires the same shape for all operands and results}}
  %0 = quantkv.typecast %x : tensor<4xf32> to tensor<8xbf16>
  return
}

// -----

func.func @typecast_int(%x: tensor<4xi8>) {
  // expected-error @+1 {{operand #0 must be ranked tensor of f32, f16 or bf16 values}}
  %0 = quantkv.typecast %x : tensor<4xi8> to tensor<4xf32>
  return
}

// -----

// expected-error @+1 {{per_group group_shape dim 1 must be positive, got 0}}
func.func @per_group_zero_dim() attributes {g = #quantkv.per_group<[1, 0, 32]>} {
  return
}

// -----

func.func @granularity_kind(%x: tensor<4x8xsi8>, %s: tensor<1xf32>) {
  // expected-error @+1 {{invalid kind of attribute specified}}
  %0 = quantkv.dequantize %x scale(%s : tensor<1xf32>) granularity(unit) : tensor<4x8xsi8> -> tensor<4x8xf32>
  return
}

// -----

func.func @sdpa_query_rank(%q: tensor<8x4x64xf32>, %k: tensor<1x2x16x64xsi4>, %ks: tensor<1x2x16x2xf32>, %v: tensor<1x2x16x64xui8>, %vs: tensor<64xf32>, %o: tensor<1x8x4x64xf32>) {
  // expected-error @+1 {{'query' must have rank 4 ([batch, heads, seq, dim]), got rank 3}}
  %0 = quantkv.sdpa q(%q : tensor<8x4x64xf32>) k(%k : tensor<1x2x16x64xsi4>) k_scale(%ks : tensor<1x2x16x2xf32>) v(%v : tensor<1x2x16x64xui8>) v_scale(%vs : tensor<64xf32>) outs(%o : tensor<1x8x4x64xf32>) {key_quant = #quantkv.per_group<[1, 1, 1, 32]>, value_quant = #quantkv.per_channel<axis = 3>} : tensor<1x8x4x64xf32>
  return
}

// -----

func.func @sdpa_key_rank(%q: tensor<1x8x4x64xf32>, %k: tensor<2x16x64xsi4>, %ks: tensor<2x16x2xf32>, %v: tensor<1x2x16x64xui8>, %vs: tensor<64xf32>, %o: tensor<1x8x4x64xf32>) {
  // expected-error @+1 {{'key' must have rank 4 ([batch, heads, seq, dim]), got rank 3}}
  %0 = quantkv.sdpa q(%q : tensor<1x8x4x64xf32>) k(%k : tensor<2x16x64xsi4>) k_scale(%ks : tensor<2x16x2xf32>) v(%v : tensor<1x2x16x64xui8>) v_scale(%vs : tensor<64xf32>) outs(%o : tensor<1x8x4x64xf32>) {key_quant = #quantkv.per_group<[1, 1, 32]>, value_quant = #quantkv.per_channel<axis = 3>} : tensor<1x8x4x64xf32>
  return
}

// -----

func.func @sdpa_value_rank(%q: tensor<1x8x4x64xf32>, %k: tensor<1x2x16x64xsi4>, %ks: tensor<1x2x16x2xf32>, %v: tensor<1x1x2x16x64xui8>, %vs: tensor<64xf32>, %o: tensor<1x8x4x64xf32>) {
  // expected-error @+1 {{'value' must have rank 4 ([batch, heads, seq, dim]), got rank 5}}
  %0 = quantkv.sdpa q(%q : tensor<1x8x4x64xf32>) k(%k : tensor<1x2x16x64xsi4>) k_scale(%ks : tensor<1x2x16x2xf32>) v(%v : tensor<1x1x2x16x64xui8>) v_scale(%vs : tensor<64xf32>) outs(%o : tensor<1x8x4x64xf32>) {key_quant = #quantkv.per_group<[1, 1, 1, 32]>, value_quant = #quantkv.per_channel<axis = 3>} : tensor<1x8x4x64xf32>
  return
}

// -----

func.func @sdpa_init_rank(%q: tensor<1x8x4x64xf32>, %k: tensor<1x2x16x64xsi4>, %ks: tensor<1x2x16x2xf32>, %v: tensor<1x2x16x64xui8>, %vs: tensor<64xf32>, %o: tensor<32x64xf32>) {
  // expected-error @+1 {{'init' must have rank 4 ([batch, heads, seq, dim]), got rank 2}}
  %0 = quantkv.sdpa q(%q : tensor<1x8x4x64xf32>) k(%k : tensor<1x2x16x64xsi4>) k_scale(%ks : tensor<1x2x16x2xf32>) v(%v : tensor<1x2x16x64xui8>) v_scale(%vs : tensor<64xf32>) outs(%o : tensor<32x64xf32>) {key_quant = #quantkv.per_group<[1, 1, 1, 32]>, value_quant = #quantkv.per_channel<axis = 3>} : tensor<32x64xf32>
  return
}

// -----

func.func @sdpa_key_batch(%q: tensor<1x8x4x64xf32>, %k: tensor<2x2x16x64xsi4>, %ks: tensor<2x2x16x2xf32>, %v: tensor<1x2x16x64xui8>, %vs: tensor<64xf32>, %o: tensor<1x8x4x64xf32>) {
  // expected-error @+1 {{'key' batch (2) must equal 'query' batch (1)}}
  %0 = quantkv.sdpa q(%q : tensor<1x8x4x64xf32>) k(%k : tensor<2x2x16x64xsi4>) k_scale(%ks : tensor<2x2x16x2xf32>) v(%v : tensor<1x2x16x64xui8>) v_scale(%vs : tensor<64xf32>) outs(%o : tensor<1x8x4x64xf32>) {key_quant = #quantkv.per_group<[1, 1, 1, 32]>, value_quant = #quantkv.per_channel<axis = 3>} : tensor<1x8x4x64xf32>
  return
}

// -----

func.func @sdpa_value_batch(%q: tensor<1x8x4x64xf32>, %k: tensor<1x2x16x64xsi4>, %ks: tensor<1x2x16x2xf32>, %v: tensor<3x2x16x64xui8>, %vs: tensor<64xf32>, %o: tensor<1x8x4x64xf32>) {
  // expected-error @+1 {{'value' batch (3) must equal 'query' batch (1)}}
  %0 = quantkv.sdpa q(%q : tensor<1x8x4x64xf32>) k(%k : tensor<1x2x16x64xsi4>) k_scale(%ks : tensor<1x2x16x2xf32>) v(%v : tensor<3x2x16x64xui8>) v_scale(%vs : tensor<64xf32>) outs(%o : tensor<1x8x4x64xf32>) {key_quant = #quantkv.per_group<[1, 1, 1, 32]>, value_quant = #quantkv.per_channel<axis = 3>} : tensor<1x8x4x64xf32>
  return
}

// -----

func.func @sdpa_value_heads(%q: tensor<1x8x4x64xf32>, %k: tensor<1x2x16x64xsi4>, %ks: tensor<1x2x16x2xf32>, %v: tensor<1x4x16x64xui8>, %vs: tensor<64xf32>, %o: tensor<1x8x4x64xf32>) {
  // expected-error @+1 {{'value' heads (4) must equal 'key' heads (2)}}
  %0 = quantkv.sdpa q(%q : tensor<1x8x4x64xf32>) k(%k : tensor<1x2x16x64xsi4>) k_scale(%ks : tensor<1x2x16x2xf32>) v(%v : tensor<1x4x16x64xui8>) v_scale(%vs : tensor<64xf32>) outs(%o : tensor<1x8x4x64xf32>) {key_quant = #quantkv.per_group<[1, 1, 1, 32]>, value_quant = #quantkv.per_channel<axis = 3>} : tensor<1x8x4x64xf32>
  return
}

// -----

func.func @sdpa_gqa_ratio(%q: tensor<1x8x4x64xf32>, %k: tensor<1x3x16x64xsi4>, %ks: tensor<1x3x16x2xf32>, %v: tensor<1x3x16x64xui8>, %vs: tensor<64xf32>, %o: tensor<1x8x4x64xf32>) {
  // expected-error @+1 {{'query' heads (8) must be a multiple of 'key' heads (3)}}
  %0 = quantkv.sdpa q(%q : tensor<1x8x4x64xf32>) k(%k : tensor<1x3x16x64xsi4>) k_scale(%ks : tensor<1x3x16x2xf32>) v(%v : tensor<1x3x16x64xui8>) v_scale(%vs : tensor<64xf32>) outs(%o : tensor<1x8x4x64xf32>) {key_quant = #quantkv.per_group<[1, 1, 1, 32]>, value_quant = #quantkv.per_channel<axis = 3>} : tensor<1x8x4x64xf32>
  return
}

// -----

func.func @sdpa_head_dim(%q: tensor<1x8x4x64xf32>, %k: tensor<1x2x16x32xsi4>, %ks: tensor<1x2x16x1xf32>, %v: tensor<1x2x16x64xui8>, %vs: tensor<64xf32>, %o: tensor<1x8x4x64xf32>) {
  // expected-error @+1 {{'key' head dim (32) must equal 'query' head dim (64) with key_layout bsd}}
  %0 = quantkv.sdpa q(%q : tensor<1x8x4x64xf32>) k(%k : tensor<1x2x16x32xsi4>) k_scale(%ks : tensor<1x2x16x1xf32>) v(%v : tensor<1x2x16x64xui8>) v_scale(%vs : tensor<64xf32>) outs(%o : tensor<1x8x4x64xf32>) {key_quant = #quantkv.per_group<[1, 1, 1, 32]>, value_quant = #quantkv.per_channel<axis = 3>} : tensor<1x8x4x64xf32>
  return
}

// -----

func.func @sdpa_head_dim_bds(%q: tensor<1x8x4x64xf32>, %k: tensor<1x2x16x64xsi4>, %ks: tensor<1x2x16x2xf32>, %v: tensor<1x2x16x64xui8>, %vs: tensor<64xf32>, %o: tensor<1x8x4x64xf32>) {
  // expected-error @+1 {{'key' head dim (16) must equal 'query' head dim (64) with key_layout bds}}
  %0 = quantkv.sdpa q(%q : tensor<1x8x4x64xf32>) k(%k : tensor<1x2x16x64xsi4>) k_scale(%ks : tensor<1x2x16x2xf32>) v(%v : tensor<1x2x16x64xui8>) v_scale(%vs : tensor<64xf32>) outs(%o : tensor<1x8x4x64xf32>) {key_quant = #quantkv.per_group<[1, 1, 1, 32]>, value_quant = #quantkv.per_channel<axis = 3>, key_layout = #quantkv.k_layout<bds>} : tensor<1x8x4x64xf32>
  return
}

// -----

func.func @sdpa_kv_length(%q: tensor<1x8x4x64xf32>, %k: tensor<1x2x16x64xsi4>, %ks: tensor<1x2x16x2xf32>, %v: tensor<1x2x32x64xui8>, %vs: tensor<64xf32>, %o: tensor<1x8x4x64xf32>) {
  // expected-error @+1 {{'key' sequence length (16) must equal 'value' sequence length (32)}}
  %0 = quantkv.sdpa q(%q : tensor<1x8x4x64xf32>) k(%k : tensor<1x2x16x64xsi4>) k_scale(%ks : tensor<1x2x16x2xf32>) v(%v : tensor<1x2x32x64xui8>) v_scale(%vs : tensor<64xf32>) outs(%o : tensor<1x8x4x64xf32>) {key_quant = #quantkv.per_group<[1, 1, 1, 32]>, value_quant = #quantkv.per_channel<axis = 3>} : tensor<1x8x4x64xf32>
  return
}

// -----

func.func @sdpa_init_shape(%q: tensor<1x8x4x64xf32>, %k: tensor<1x2x16x64xsi4>, %ks: tensor<1x2x16x2xf32>, %v: tensor<1x2x16x64xui8>, %vs: tensor<64xf32>, %o: tensor<1x8x4x32xf32>) {
  // expected-error @+1 {{'init' dim 3 (32) must be [batch, Hq, Sq, Dv] = [1, 8, 4, 64] at that dim (64)}}
  %0 = quantkv.sdpa q(%q : tensor<1x8x4x64xf32>) k(%k : tensor<1x2x16x64xsi4>) k_scale(%ks : tensor<1x2x16x2xf32>) v(%v : tensor<1x2x16x64xui8>) v_scale(%vs : tensor<64xf32>) outs(%o : tensor<1x8x4x32xf32>) {key_quant = #quantkv.per_group<[1, 1, 1, 32]>, value_quant = #quantkv.per_channel<axis = 3>} : tensor<1x8x4x32xf32>
  return
}

// -----

func.func @sdpa_init_heads(%q: tensor<1x8x4x64xf32>, %k: tensor<1x2x16x64xsi4>, %ks: tensor<1x2x16x2xf32>, %v: tensor<1x2x16x64xui8>, %vs: tensor<64xf32>, %o: tensor<1x2x4x64xf32>) {
  // expected-error @+1 {{'init' dim 1 (2) must be [batch, Hq, Sq, Dv] = [1, 8, 4, 64] at that dim (8)}}
  %0 = quantkv.sdpa q(%q : tensor<1x8x4x64xf32>) k(%k : tensor<1x2x16x64xsi4>) k_scale(%ks : tensor<1x2x16x2xf32>) v(%v : tensor<1x2x16x64xui8>) v_scale(%vs : tensor<64xf32>) outs(%o : tensor<1x2x4x64xf32>) {key_quant = #quantkv.per_group<[1, 1, 1, 32]>, value_quant = #quantkv.per_channel<axis = 3>} : tensor<1x2x4x64xf32>
  return
}

// -----

func.func @sdpa_key_needs_scale(%q: tensor<1x8x4x64xf32>, %k: tensor<1x2x16x64xsi4>, %v: tensor<1x2x16x64xui8>, %vs: tensor<64xf32>, %o: tensor<1x8x4x64xf32>) {
  // expected-error @+1 {{'key' is quantized ('si4') and needs 'k_scale'}}
  %0 = quantkv.sdpa q(%q : tensor<1x8x4x64xf32>) k(%k : tensor<1x2x16x64xsi4>) v(%v : tensor<1x2x16x64xui8>) v_scale(%vs : tensor<64xf32>) outs(%o : tensor<1x8x4x64xf32>) {key_quant = #quantkv.per_group<[1, 1, 1, 32]>, value_quant = #quantkv.per_channel<axis = 3>} : tensor<1x8x4x64xf32>
  return
}

// -----

func.func @sdpa_key_needs_granularity(%q: tensor<1x8x4x64xf32>, %k: tensor<1x2x16x64xsi4>, %ks: tensor<1x2x16x2xf32>, %v: tensor<1x2x16x64xui8>, %vs: tensor<64xf32>, %o: tensor<1x8x4x64xf32>) {
  // expected-error @+1 {{'key' is quantized ('si4') and needs a 'key_quant' granularity attribute}}
  %0 = quantkv.sdpa q(%q : tensor<1x8x4x64xf32>) k(%k : tensor<1x2x16x64xsi4>) k_scale(%ks : tensor<1x2x16x2xf32>) v(%v : tensor<1x2x16x64xui8>) v_scale(%vs : tensor<64xf32>) outs(%o : tensor<1x8x4x64xf32>) {value_quant = #quantkv.per_channel<axis = 3>} : tensor<1x8x4x64xf32>
  return
}

// -----

func.func @sdpa_value_needs_scale(%q: tensor<1x8x4x64xf32>, %k: tensor<1x2x16x64xsi4>, %ks: tensor<1x2x16x2xf32>, %v: tensor<1x2x16x64xui8>, %o: tensor<1x8x4x64xf32>) {
  // expected-error @+1 {{'value' is quantized ('ui8') and needs 'v_scale'}}
  %0 = quantkv.sdpa q(%q : tensor<1x8x4x64xf32>) k(%k : tensor<1x2x16x64xsi4>) k_scale(%ks : tensor<1x2x16x2xf32>) v(%v : tensor<1x2x16x64xui8>) outs(%o : tensor<1x8x4x64xf32>) {key_quant = #quantkv.per_group<[1, 1, 1, 32]>, value_quant = #quantkv.per_channel<axis = 3>} : tensor<1x8x4x64xf32>
  return
}

// -----

func.func @sdpa_float_key_scale(%q: tensor<1x8x4x64xf32>, %k: tensor<1x2x16x64xf16>, %ks: tensor<1x2x16x2xf32>, %v: tensor<1x2x16x64xui8>, %vs: tensor<64xf32>, %o: tensor<1x8x4x64xf32>) {
  // expected-error @+1 {{'k_scale' is given but 'key' is not quantized ('f16')}}
  %0 = quantkv.sdpa q(%q : tensor<1x8x4x64xf32>) k(%k : tensor<1x2x16x64xf16>) k_scale(%ks : tensor<1x2x16x2xf32>) v(%v : tensor<1x2x16x64xui8>) v_scale(%vs : tensor<64xf32>) outs(%o : tensor<1x8x4x64xf32>) {value_quant = #quantkv.per_channel<axis = 3>} : tensor<1x8x4x64xf32>
  return
}

// -----

func.func @sdpa_float_key_zero_point(%q: tensor<1x8x4x64xf32>, %k: tensor<1x2x16x64xf16>, %kz: tensor<1x2x16x2xsi8>, %v: tensor<1x2x16x64xui8>, %vs: tensor<64xf32>, %o: tensor<1x8x4x64xf32>) {
  // expected-error @+1 {{'k_zero_point' is given but 'key' is not quantized ('f16')}}
  %0 = quantkv.sdpa q(%q : tensor<1x8x4x64xf32>) k(%k : tensor<1x2x16x64xf16>) k_zero_point(%kz : tensor<1x2x16x2xsi8>) v(%v : tensor<1x2x16x64xui8>) v_scale(%vs : tensor<64xf32>) outs(%o : tensor<1x8x4x64xf32>) {value_quant = #quantkv.per_channel<axis = 3>} : tensor<1x8x4x64xf32>
  return
}

// -----

func.func @sdpa_float_key_granularity(%q: tensor<1x8x4x64xf32>, %k: tensor<1x2x16x64xf32>, %v: tensor<1x2x16x64xui8>, %vs: tensor<64xf32>, %o: tensor<1x8x4x64xf32>) {
  // expected-error @+1 {{'key_quant' is given but 'key' is not quantized ('f32')}}
  %0 = quantkv.sdpa q(%q : tensor<1x8x4x64xf32>) k(%k : tensor<1x2x16x64xf32>) v(%v : tensor<1x2x16x64xui8>) v_scale(%vs : tensor<64xf32>) outs(%o : tensor<1x8x4x64xf32>) {key_quant = #quantkv.per_group<[1, 1, 1, 32]>, value_quant = #quantkv.per_channel<axis = 3>} : tensor<1x8x4x64xf32>
  return
}

// -----

func.func @sdpa_float_value_scale(%q: tensor<1x8x4x64xf32>, %k: tensor<1x2x16x64xsi4>, %ks: tensor<1x2x16x2xf32>, %v: tensor<1x2x16x64xbf16>, %vs: tensor<64xf32>, %o: tensor<1x8x4x64xf32>) {
  // expected-error @+1 {{'v_scale' is given but 'value' is not quantized ('bf16')}}
  %0 = quantkv.sdpa q(%q : tensor<1x8x4x64xf32>) k(%k : tensor<1x2x16x64xsi4>) k_scale(%ks : tensor<1x2x16x2xf32>) v(%v : tensor<1x2x16x64xbf16>) v_scale(%vs : tensor<64xf32>) outs(%o : tensor<1x8x4x64xf32>) {key_quant = #quantkv.per_group<[1, 1, 1, 32]>} : tensor<1x8x4x64xf32>
  return
}

// -----

func.func @sdpa_key_scale_shape(%q: tensor<1x8x4x64xf32>, %k: tensor<1x2x16x64xsi4>, %ks: tensor<1x2x16x4xf32>, %v: tensor<1x2x16x64xui8>, %vs: tensor<64xf32>, %o: tensor<1x8x4x64xf32>) {
  // expected-error @+1 {{'k_scale' dim 3 (4) must be 'key' dim / group dim (64 / 32 = 2) or 1 to broadcast}}
  %0 = quantkv.sdpa q(%q : tensor<1x8x4x64xf32>) k(%k : tensor<1x2x16x64xsi4>) k_scale(%ks : tensor<1x2x16x4xf32>) v(%v : tensor<1x2x16x64xui8>) v_scale(%vs : tensor<64xf32>) outs(%o : tensor<1x8x4x64xf32>) {key_quant = #quantkv.per_group<[1, 1, 1, 32]>, value_quant = #quantkv.per_channel<axis = 3>} : tensor<1x8x4x64xf32>
  return
}

// -----

func.func @sdpa_key_group_divides(%q: tensor<1x8x4x64xf32>, %k: tensor<1x2x16x64xsi4>, %ks: tensor<1x2x16x2xf32>, %v: tensor<1x2x16x64xui8>, %vs: tensor<64xf32>, %o: tensor<1x8x4x64xf32>) {
  // expected-error @+1 {{per_group group dim 3 (48) must divide 'key' dim 3 (64)}}
  %0 = quantkv.sdpa q(%q : tensor<1x8x4x64xf32>) k(%k : tensor<1x2x16x64xsi4>) k_scale(%ks : tensor<1x2x16x2xf32>) v(%v : tensor<1x2x16x64xui8>) v_scale(%vs : tensor<64xf32>) outs(%o : tensor<1x8x4x64xf32>) {key_quant = #quantkv.per_group<[1, 1, 1, 48]>, value_quant = #quantkv.per_channel<axis = 3>} : tensor<1x8x4x64xf32>
  return
}

// -----

func.func @sdpa_value_axis(%q: tensor<1x8x4x64xf32>, %k: tensor<1x2x16x64xsi4>, %ks: tensor<1x2x16x2xf32>, %v: tensor<1x2x16x64xui8>, %vs: tensor<64xf32>, %o: tensor<1x8x4x64xf32>) {
  // expected-error @+1 {{per_channel axis 7 is out of range for 'value' of rank 4}}
  %0 = quantkv.sdpa q(%q : tensor<1x8x4x64xf32>) k(%k : tensor<1x2x16x64xsi4>) k_scale(%ks : tensor<1x2x16x2xf32>) v(%v : tensor<1x2x16x64xui8>) v_scale(%vs : tensor<64xf32>) outs(%o : tensor<1x8x4x64xf32>) {key_quant = #quantkv.per_group<[1, 1, 1, 32]>, value_quant = #quantkv.per_channel<axis = 7>} : tensor<1x8x4x64xf32>
  return
}

// -----

func.func @sdpa_value_zero_point_shape(%q: tensor<1x8x4x64xf32>, %k: tensor<1x2x16x64xsi4>, %ks: tensor<1x2x16x2xf32>, %v: tensor<1x2x16x64xui8>, %vs: tensor<64xf32>, %vz: tensor<32xui8>, %o: tensor<1x8x4x64xf32>) {
  // expected-error @+1 {{'v_zero_point' shape (tensor<32xui8>) must equal 'v_scale' shape (tensor<64xf32>)}}
  %0 = quantkv.sdpa q(%q : tensor<1x8x4x64xf32>) k(%k : tensor<1x2x16x64xsi4>) k_scale(%ks : tensor<1x2x16x2xf32>) v(%v : tensor<1x2x16x64xui8>) v_scale(%vs : tensor<64xf32>) v_zero_point(%vz : tensor<32xui8>) outs(%o : tensor<1x8x4x64xf32>) {key_quant = #quantkv.per_group<[1, 1, 1, 32]>, value_quant = #quantkv.per_channel<axis = 3>} : tensor<1x8x4x64xf32>
  return
}

// -----

func.func @sdpa_key_zero_point_shape(%q: tensor<1x8x4x64xf32>, %k: tensor<1x2x16x64xsi4>, %ks: tensor<1x2x16x2xf32>, %kz: tensor<1x2x16x1xsi4>, %v: tensor<1x2x16x64xui8>, %vs: tensor<64xf32>, %o: tensor<1x8x4x64xf32>) {
  // expected-error @+1 {{'k_zero_point' shape (tensor<1x2x16x1xsi4>) must equal 'k_scale' shape (tensor<1x2x16x2xf32>)}}
  %0 = quantkv.sdpa q(%q : tensor<1x8x4x64xf32>) k(%k : tensor<1x2x16x64xsi4>) k_scale(%ks : tensor<1x2x16x2xf32>) k_zero_point(%kz : tensor<1x2x16x1xsi4>) v(%v : tensor<1x2x16x64xui8>) v_scale(%vs : tensor<64xf32>) outs(%o : tensor<1x8x4x64xf32>) {key_quant = #quantkv.per_group<[1, 1, 1, 32]>, value_quant = #quantkv.per_channel<axis = 3>} : tensor<1x8x4x64xf32>
  return
}

// -----

func.func @sdpa_mask_rank(%q: tensor<1x8x4x64xf32>, %k: tensor<1x2x16x64xsi4>, %ks: tensor<1x2x16x2xf32>, %v: tensor<1x2x16x64xui8>, %vs: tensor<64xf32>, %m: tensor<16xf32>, %o: tensor<1x8x4x64xf32>) {
  // expected-error @+1 {{'mask' must have rank 2 to 4 (broadcast to [batch, Hq, Sq, Skv]), got rank 1}}
  %0 = quantkv.sdpa q(%q : tensor<1x8x4x64xf32>) k(%k : tensor<1x2x16x64xsi4>) k_scale(%ks : tensor<1x2x16x2xf32>) v(%v : tensor<1x2x16x64xui8>) v_scale(%vs : tensor<64xf32>) mask(%m : tensor<16xf32>) outs(%o : tensor<1x8x4x64xf32>) {key_quant = #quantkv.per_group<[1, 1, 1, 32]>, value_quant = #quantkv.per_channel<axis = 3>} : tensor<1x8x4x64xf32>
  return
}

// -----

func.func @sdpa_mask_dim(%q: tensor<1x8x4x64xf32>, %k: tensor<1x2x16x64xsi4>, %ks: tensor<1x2x16x2xf32>, %v: tensor<1x2x16x64xui8>, %vs: tensor<64xf32>, %m: tensor<4x8xf32>, %o: tensor<1x8x4x64xf32>) {
  // expected-error @+1 {{'mask' dim 1 (8) must be 1 or Skv (16)}}
  %0 = quantkv.sdpa q(%q : tensor<1x8x4x64xf32>) k(%k : tensor<1x2x16x64xsi4>) k_scale(%ks : tensor<1x2x16x2xf32>) v(%v : tensor<1x2x16x64xui8>) v_scale(%vs : tensor<64xf32>) mask(%m : tensor<4x8xf32>) outs(%o : tensor<1x8x4x64xf32>) {key_quant = #quantkv.per_group<[1, 1, 1, 32]>, value_quant = #quantkv.per_channel<axis = 3>} : tensor<1x8x4x64xf32>
  return
}

// -----

func.func @sdpa_mask_heads(%q: tensor<1x8x4x64xf32>, %k: tensor<1x2x16x64xsi4>, %ks: tensor<1x2x16x2xf32>, %v: tensor<1x2x16x64xui8>, %vs: tensor<64xf32>, %m: tensor<1x2x4x16xf32>, %o: tensor<1x8x4x64xf32>) {
  // expected-error @+1 {{'mask' dim 1 (2) must be 1 or Hq (8)}}
  %0 = quantkv.sdpa q(%q : tensor<1x8x4x64xf32>) k(%k : tensor<1x2x16x64xsi4>) k_scale(%ks : tensor<1x2x16x2xf32>) v(%v : tensor<1x2x16x64xui8>) v_scale(%vs : tensor<64xf32>) mask(%m : tensor<1x2x4x16xf32>) outs(%o : tensor<1x8x4x64xf32>) {key_quant = #quantkv.per_group<[1, 1, 1, 32]>, value_quant = #quantkv.per_channel<axis = 3>} : tensor<1x8x4x64xf32>
  return
}

// -----

func.func @sdpa_scale_twice(%q: tensor<1x8x4x64xf32>, %k: tensor<1x2x16x64xsi4>, %ks: tensor<1x2x16x2xf32>, %v: tensor<1x2x16x64xui8>, %vs: tensor<64xf32>, %sc: f32, %o: tensor<1x8x4x64xf32>) {
  // expected-error @+1 {{takes the 'scale' attribute or the 'dynamic_scale' operand, not both}}
  %0 = quantkv.sdpa q(%q : tensor<1x8x4x64xf32>) k(%k : tensor<1x2x16x64xsi4>) k_scale(%ks : tensor<1x2x16x2xf32>) v(%v : tensor<1x2x16x64xui8>) v_scale(%vs : tensor<64xf32>) dynamic_scale(%sc) outs(%o : tensor<1x8x4x64xf32>) {key_quant = #quantkv.per_group<[1, 1, 1, 32]>, value_quant = #quantkv.per_channel<axis = 3>, scale = 1.250000e-01 : f32} : tensor<1x8x4x64xf32>
  return
}

// -----

func.func @sdpa_scale_zero(%q: tensor<1x8x4x64xf32>, %k: tensor<1x2x16x64xsi4>, %ks: tensor<1x2x16x2xf32>, %v: tensor<1x2x16x64xui8>, %vs: tensor<64xf32>, %o: tensor<1x8x4x64xf32>) {
  // expected-error @+1 {{'scale' must be finite and non-zero, got 0}}
  %0 = quantkv.sdpa q(%q : tensor<1x8x4x64xf32>) k(%k : tensor<1x2x16x64xsi4>) k_scale(%ks : tensor<1x2x16x2xf32>) v(%v : tensor<1x2x16x64xui8>) v_scale(%vs : tensor<64xf32>) outs(%o : tensor<1x8x4x64xf32>) {key_quant = #quantkv.per_group<[1, 1, 1, 32]>, value_quant = #quantkv.per_channel<axis = 3>, scale = 0.000000e+00 : f32} : tensor<1x8x4x64xf32>
  return
}

// -----

func.func @sdpa_int8_float_key(%q: tensor<1x8x4x64xf32>, %k: tensor<1x2x16x64xf16>, %v: tensor<1x2x16x64xui8>, %vs: tensor<64xf32>, %o: tensor<1x8x4x64xf32>) {
  // expected-error @+1 {{math_mode int8 needs an integer 'key', got 'f16'}}
  %0 = quantkv.sdpa q(%q : tensor<1x8x4x64xf32>) k(%k : tensor<1x2x16x64xf16>) v(%v : tensor<1x2x16x64xui8>) v_scale(%vs : tensor<64xf32>) outs(%o : tensor<1x8x4x64xf32>) {value_quant = #quantkv.per_channel<axis = 3>, math_mode = #quantkv.math_mode<int8>} : tensor<1x8x4x64xf32>
  return
}

// -----

func.func @sdpa_query_type(%q: tensor<1x8x4x64xsi8>, %k: tensor<1x2x16x64xsi4>, %ks: tensor<1x2x16x2xf32>, %v: tensor<1x2x16x64xui8>, %vs: tensor<64xf32>, %o: tensor<1x8x4x64xf32>) {
  // expected-error @+1 {{operand #0 must be ranked tensor of f32, f16 or bf16 values}}
  %0 = quantkv.sdpa q(%q : tensor<1x8x4x64xsi8>) k(%k : tensor<1x2x16x64xsi4>) k_scale(%ks : tensor<1x2x16x2xf32>) v(%v : tensor<1x2x16x64xui8>) v_scale(%vs : tensor<64xf32>) outs(%o : tensor<1x8x4x64xf32>) {key_quant = #quantkv.per_group<[1, 1, 1, 32]>, value_quant = #quantkv.per_channel<axis = 3>} : tensor<1x8x4x64xf32>
  return
}

// -----

func.func @sdpa_key_type(%q: tensor<1x8x4x64xf32>, %k: tensor<1x2x16x64xi32>, %ks: tensor<1x2x16x2xf32>, %v: tensor<1x2x16x64xui8>, %vs: tensor<64xf32>, %o: tensor<1x8x4x64xf32>) {
  // expected-error @+1 {{operand #1 must be ranked tensor of K/V cache type (si4, ui4, si8, ui8, f32, f16 or bf16) values}}
  %0 = quantkv.sdpa q(%q : tensor<1x8x4x64xf32>) k(%k : tensor<1x2x16x64xi32>) k_scale(%ks : tensor<1x2x16x2xf32>) v(%v : tensor<1x2x16x64xui8>) v_scale(%vs : tensor<64xf32>) outs(%o : tensor<1x8x4x64xf32>) {key_quant = #quantkv.per_group<[1, 1, 1, 32]>, value_quant = #quantkv.per_channel<axis = 3>} : tensor<1x8x4x64xf32>
  return
}

// -----

func.func @sdpa_result_type(%q: tensor<1x1x1x8xf32>, %k: tensor<1x1x4x8xf32>, %v: tensor<1x1x4x8xf32>, %o: tensor<1x1x1x8xf32>) {
  // expected-error @+1 {{failed to verify that all of {init, result} have same type}}
  %0 = "quantkv.sdpa"(%q, %k, %v, %o) <{operandSegmentSizes = array<i32: 1, 1, 0, 0, 1, 0, 0, 0, 0, 1>}> : (tensor<1x1x1x8xf32>, tensor<1x1x4x8xf32>, tensor<1x1x4x8xf32>, tensor<1x1x1x8xf32>) -> tensor<1x1x1x8xf16>
  return
}

// -----

func.func @sdpa_bad_math_mode(%q: tensor<1x1x1x8xf32>, %k: tensor<1x1x4x8xf32>, %v: tensor<1x1x4x8xf32>, %o: tensor<1x1x1x8xf32>) {
  // expected-error @+2 {{expected ::mlir::quantkv::MathMode to be one of: strict, bf16, f16, int8}}
  // expected-error @+1 {{failed to parse QuantKV_MathModeAttr parameter 'value'}}
  %0 = quantkv.sdpa q(%q : tensor<1x1x1x8xf32>) k(%k : tensor<1x1x4x8xf32>) v(%v : tensor<1x1x4x8xf32>) outs(%o : tensor<1x1x1x8xf32>) {math_mode = #quantkv.math_mode<fp8>} : tensor<1x1x1x8xf32>
  return
}
