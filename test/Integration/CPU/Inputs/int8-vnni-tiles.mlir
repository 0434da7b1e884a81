// GQA decode in int8 math with int4 K and V, a scale per 32 channels of each
// token (uniform in [-1, 1): both signs), 300 keys.
func.func @int8(%q: tensor<1x32x1x128xf32>, %k: tensor<1x8x300x128xsi4>,
                %ks: tensor<1x8x300x4xf32>, %v: tensor<1x8x300x128xsi4>,
                %vs: tensor<1x8x300x4xf32>) -> tensor<1x32x1x128xf32> {
  %init = tensor.empty() : tensor<1x32x1x128xf32>
  %o = quantkv.sdpa q(%q : tensor<1x32x1x128xf32>)
      k(%k : tensor<1x8x300x128xsi4>) k_scale(%ks : tensor<1x8x300x4xf32>)
      v(%v : tensor<1x8x300x128xsi4>) v_scale(%vs : tensor<1x8x300x4xf32>)
      outs(%init : tensor<1x32x1x128xf32>)
      {key_quant = #quantkv.per_group<[1, 1, 1, 32]>,
       value_quant = #quantkv.per_group<[1, 1, 1, 32]>,
       math_mode = #quantkv.math_mode<int8>}
      : tensor<1x32x1x128xf32>
  return %o : tensor<1x32x1x128xf32>
}
