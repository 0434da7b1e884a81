// RUN: quantkv-opt %s --split-input-file --verify-diagnostics

// Inputs that once passed the verifier and then crashed a lowering (found by
// quantkv-fuzz, see docs/Hardening.md). Each now gets a diagnostic.

// Hq = 0 is "a multiple of Hkv", but the group size Hq / Hkv is 0: the
// reference lowering divided by it and produced invalid IR.
func.func @zero_query_heads(%q: tensor<1x0x1x16xf32>, %k: tensor<1x1x4x16xf32>, %v: tensor<1x1x4x16xf32>, %o: tensor<1x0x1x16xf32>) -> tensor<1x0x1x16xf32> {
  // expected-error @+1 {{'query' heads must be positive, got 0}}
  %0 = quantkv.sdpa q(%q : tensor<1x0x1x16xf32>) k(%k : tensor<1x1x4x16xf32>) v(%v : tensor<1x1x4x16xf32>) outs(%o : tensor<1x0x1x16xf32>) : tensor<1x0x1x16xf32>
  return %0 : tensor<1x0x1x16xf32>
}

// -----

// Hq dynamic, Hkv = 0: the group size is undefined.
func.func @zero_kv_heads(%q: tensor<1x?x1x16xf32>, %k: tensor<1x0x4x16xf32>, %v: tensor<1x0x4x16xf32>, %o: tensor<1x?x1x16xf32>) -> tensor<1x?x1x16xf32> {
  // expected-error @+1 {{'key' heads must be positive, got 0}}
  %0 = quantkv.sdpa q(%q : tensor<1x?x1x16xf32>) k(%k : tensor<1x0x4x16xf32>) v(%v : tensor<1x0x4x16xf32>) outs(%o : tensor<1x?x1x16xf32>) : tensor<1x?x1x16xf32>
  return %0 : tensor<1x?x1x16xf32>
}

// -----

// D = 0 (a multiple of every vector width) crashed the x86 kernel emitter,
// and the default scale 1/sqrt(D) is infinite.
func.func @zero_head_dim(%q: tensor<1x1x1x0xf32>, %k: tensor<1x1x4x0xsi4>, %ks: tensor<1xf32>, %v: tensor<1x1x4x0xf32>, %o: tensor<1x1x1x0xf32>) -> tensor<1x1x1x0xf32> {
  // expected-error @+1 {{'query' head dim must be positive, got 0}}
  %0 = quantkv.sdpa q(%q : tensor<1x1x1x0xf32>) k(%k : tensor<1x1x4x0xsi4>) k_scale(%ks : tensor<1xf32>) v(%v : tensor<1x1x4x0xf32>) outs(%o : tensor<1x1x1x0xf32>) {key_quant = #quantkv.per_tensor} : tensor<1x1x1x0xf32>
  return %0 : tensor<1x1x1x0xf32>
}

// -----

// The same with an explicit scale (the emitter crash does not need the
// default scale).
func.func @zero_head_dim_scaled(%q: tensor<1x1x1x0xf32>, %k: tensor<1x1x4x0xf32>, %v: tensor<1x1x4x16xf32>, %o: tensor<1x1x1x16xf32>) -> tensor<1x1x1x16xf32> {
  // expected-error @+1 {{'query' head dim must be positive, got 0}}
  %0 = quantkv.sdpa q(%q : tensor<1x1x1x0xf32>) k(%k : tensor<1x1x4x0xf32>) v(%v : tensor<1x1x4x16xf32>) outs(%o : tensor<1x1x1x16xf32>) {scale = 1.0 : f32} : tensor<1x1x1x16xf32>
  return %0 : tensor<1x1x1x16xf32>
}

// -----

// D dynamic in the query but 0 in a bds key.
func.func @zero_key_head_dim(%q: tensor<1x1x1x?xf32>, %k: tensor<1x1x0x4xf32>, %v: tensor<1x1x4x16xf32>, %o: tensor<1x1x1x16xf32>) -> tensor<1x1x1x16xf32> {
  // expected-error @+1 {{'key' head dim must be positive, got 0}}
  %0 = quantkv.sdpa q(%q : tensor<1x1x1x?xf32>) k(%k : tensor<1x1x0x4xf32>) v(%v : tensor<1x1x4x16xf32>) outs(%o : tensor<1x1x1x16xf32>) {key_layout = #quantkv.k_layout<bds>} : tensor<1x1x1x16xf32>
  return %0 : tensor<1x1x1x16xf32>
}
