// Decode step of a GQA-4 attention over a compressed cache: K int4 with one
// f32 scale per 32 channels of each token, V uint8 with per-channel scales
// and zero points, causal (bottom-right aligned, the KV-cache convention).
func.func @decode(%q: tensor<1x32x1x128xf32>,
                  %k: tensor<1x8x256x128xsi4>, %ks: tensor<1x8x256x4xf32>,
                  %v: tensor<1x8x256x128xui8>, %vs: tensor<128xf32>,
                  %vz: tensor<128xui8>) -> tensor<1x32x1x128xf32> {
  %init = tensor.empty() : tensor<1x32x1x128xf32>
  %o = quantkv.sdpa q(%q : tensor<1x32x1x128xf32>)
      k(%k : tensor<1x8x256x128xsi4>) k_scale(%ks : tensor<1x8x256x4xf32>)
      v(%v : tensor<1x8x256x128xui8>) v_scale(%vs : tensor<128xf32>)
      v_zero_point(%vz : tensor<128xui8>)
      outs(%init : tensor<1x32x1x128xf32>)
      {key_quant = #quantkv.per_group<[1, 1, 1, 32]>,
       value_quant = #quantkv.per_channel<axis = 3>,
       causal = #quantkv.causal<bottom_right>}
      : tensor<1x32x1x128xf32>
  return %o : tensor<1x32x1x128xf32>
}
