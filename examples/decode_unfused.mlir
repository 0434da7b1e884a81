// Decode step of a GQA-4 attention as a framework hands it over, before
// fusion: K int4 with one f32 scale per 8 channels of each token, V uint8
// with per-channel scales and zero points, K/V heads repeated for 4
// consecutive query heads, scores scaled by 1/sqrt(32) and causally masked
// (bottom-right, the KV-cache convention) by a select on the indices.
//
//   quantkv-opt examples/decode_unfused.mlir --quantkv-fuse-sdpa
//
// rewrites the whole chain into one quantkv.sdpa.
#qmap = affine_map<(b, h, m, n, k) -> (b, h, m, k)>
#kmap = affine_map<(b, h, m, n, k) -> (b, h, n, k)>
#vmap = affine_map<(b, h, m, n, k) -> (b, h, k, n)>
#omap = affine_map<(b, h, m, n, k) -> (b, h, m, n)>
#id = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
func.func @decode(%q: tensor<1x8x1x32xf32>,
                  %k: tensor<1x2x64x32xsi4>, %ks: tensor<1x2x64x4xf32>,
                  %v: tensor<1x2x64x32xui8>, %vs: tensor<32xf32>,
                  %vz: tensor<32xui8>) -> tensor<1x8x1x32xf32> {
  %zero = arith.constant 0.0 : f32
  %ninf = arith.constant 0xFF800000 : f32
  %rsqrt_d = arith.constant 0.176776695 : f32
  %c63 = arith.constant 63 : index

  // K: dequantize, repeat heads (GQA), Q x K^T (K^T through the map).
  %kd = quantkv.dequantize %k scale(%ks : tensor<1x2x64x4xf32>)
      granularity(#quantkv.per_group<[1, 1, 1, 8]>)
      : tensor<1x2x64x32xsi4> -> tensor<1x2x64x32xf32>
  %kb0 = tensor.empty() : tensor<1x2x4x64x32xf32>
  %kb = linalg.broadcast ins(%kd : tensor<1x2x64x32xf32>)
      outs(%kb0 : tensor<1x2x4x64x32xf32>) dimensions = [2]
  %kg = tensor.collapse_shape %kb [[0], [1, 2], [3], [4]]
      : tensor<1x2x4x64x32xf32> into tensor<1x8x64x32xf32>
  %s0 = tensor.empty() : tensor<1x8x1x64xf32>
  %sz = linalg.fill ins(%zero : f32) outs(%s0 : tensor<1x8x1x64xf32>)
      -> tensor<1x8x1x64xf32>
  %s = linalg.contract indexing_maps = [#qmap, #kmap, #omap]
      ins(%q, %kg : tensor<1x8x1x32xf32>, tensor<1x8x64x32xf32>)
      outs(%sz : tensor<1x8x1x64xf32>) -> tensor<1x8x1x64xf32>

  // Scale, then mask key j out of query i when j > i + (Skv - Sq).
  %sm = linalg.generic {indexing_maps = [#id, #id],
      iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%s : tensor<1x8x1x64xf32>) outs(%s0 : tensor<1x8x1x64xf32>) {
  ^bb0(%x: f32, %out: f32):
    %i = linalg.index 2 : index
    %j = linalg.index 3 : index
    %last = arith.addi %i, %c63 : index
    %future = arith.cmpi ugt, %j, %last : index
    %scaled = arith.mulf %x, %rsqrt_d : f32
    %r = arith.select %future, %ninf, %scaled : f32
    linalg.yield %r : f32
  } -> tensor<1x8x1x64xf32>
  %p = linalg.softmax dimension(3) ins(%sm : tensor<1x8x1x64xf32>)
      outs(%s0 : tensor<1x8x1x64xf32>) -> tensor<1x8x1x64xf32>

  // V: dequantize, repeat heads, P x V.
  %vd = quantkv.dequantize %v scale(%vs : tensor<32xf32>)
      zero_point(%vz : tensor<32xui8>)
      granularity(#quantkv.per_channel<axis = 3>)
      : tensor<1x2x64x32xui8> -> tensor<1x2x64x32xf32>
  %vb = linalg.broadcast ins(%vd : tensor<1x2x64x32xf32>)
      outs(%kb0 : tensor<1x2x4x64x32xf32>) dimensions = [2]
  %vg = tensor.collapse_shape %vb [[0], [1, 2], [3], [4]]
      : tensor<1x2x4x64x32xf32> into tensor<1x8x64x32xf32>
  %o0 = tensor.empty() : tensor<1x8x1x32xf32>
  %oz = linalg.fill ins(%zero : f32) outs(%o0 : tensor<1x8x1x32xf32>)
      -> tensor<1x8x1x32xf32>
  %o = linalg.contract indexing_maps = [#qmap, #vmap, #omap]
      ins(%p, %vg : tensor<1x8x1x64xf32>, tensor<1x8x64x32xf32>)
      outs(%oz : tensor<1x8x1x32xf32>) -> tensor<1x8x1x32xf32>
  return %o : tensor<1x8x1x32xf32>
}
