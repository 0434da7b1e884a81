// Differential test: the module as written and after --quantkv-fuse-sdpa
// run through the reference pipeline on the same seeded inputs.
// REQUIRES: quantkv-run
// RUN: quantkv-opt %s --quantkv-fuse-sdpa | FileCheck %s --check-prefix=FUSED
// RUN: quantkv-run %s --entry op_4d_mqa_causal_decomposed --pipeline "quantkv-fuse-sdpa" --against "" | FileCheck %s

// FUSED-LABEL: func.func @op_4d_mqa_causal_decomposed
// FUSED-NOT: linalg.
// FUSED: quantkv.sdpa
// FUSED-NOT: linalg.
// CHECK: outputs match
// 4-d MQA (one K/V head for 4 query heads: linalg.broadcast to
// [1, 1, 4, 8, 16] and collapse_shape to [1, 4, 8, 16]), u8 K and V
// per-tensor with zero points, top-left causal with Sq == Skv, decomposed
// softmax whose division recomputes the exponentials.
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
  %o = linalg.generic {indexing_maps = [#qk, #vk, #ok], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%p, %vd : tensor<1x4x8x8xf32>, tensor<1x4x8x16xf32>) outs(%oz : tensor<1x4x8x16xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %m = arith.mulf %a, %b : f32
    %r = arith.addf %acc, %m : f32
    linalg.yield %r : f32
  } -> tensor<1x4x8x16xf32>
  return %o : tensor<1x4x8x16xf32>
}

//===----------------------------------------------------------------------===//
// Negative cases: the computation is not (this) attention; nothing fuses.
//===----------------------------------------------------------------------===//
