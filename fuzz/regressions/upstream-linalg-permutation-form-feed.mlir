// A form feed inside a permutation list: MLIR's lexer rejects it, so this
// hits the linalg.transpose crash of upstream-linalg-permutation.mlir
// although the text looks like a plain list to StringRef::ltrim().
#id3 = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
func.func @neg_probs_other_user(%q: tensor<4x8x16xf32>, %k: tensor<4x8x16xsi8>, %ks: tensor<1xf32>, %v: tensor<4x8x16xsi8>, %vs: tensor<1xf32>) -> (tensor<4x8x16xf32>, tensor<4x8x8xf32>) {
  %zero = arith.constant 0.0 : f32
  %c = arith.constant 0.25 : f32
  %kd = quantkv.dequantize %k scale(%ks : tensor<1xf32>) granularity(#quantkv.per_tensor) : tensor<4x8x16xsi8> -> tensor<4x8x16xf32>
  %e0 = tensor.empty() : tensor<4x16x8xf32>
  %kt = linalg.transpose ins(%kd : tensor<4x8x16xf32>) outs(%e0 : tensor<4x16x8xf32>) permutation = [0, 2, 1]
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
  %o = linalg.batch_matmul ins(%p, %vd : tensor<4x8x8xf32>, tensor<4x8x16xf32>) outs(%f2 : tensor<4x8x16xf32>) -> tensor<4x8x16xf32>
  return %o, %p : tensor<4x8x16xf32>, tensor<4x8x8xf32>
}
