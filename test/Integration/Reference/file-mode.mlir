// quantkv-run FILE.mlir: seeded inputs from the signature only, 4-bit
// arguments packed at the ABI, plain upstream modules (signless i4,
// linalg.softmax, named ops) on the reference path, --against comparisons.

// A signless i4 argument round-trips through the packed ABI, and its
// widened values equal the inputs.
// RUN: quantkv-run %s --entry widen_i4 --print-inputs | FileCheck %s --check-prefix=I4
// I4: input 0: tensor<2x5xi4>
// I4-NEXT: [[IN:\[.*\]]]
// I4: output 0: tensor<2x5xf32>
// I4-NEXT: [[IN]]
// I4: output 1: tensor<2x5xi4>
// I4-NEXT: [[IN]]
func.func @widen_i4(%x: tensor<2x5xi4>) -> (tensor<2x5xf32>, tensor<2x5xi4>) {
  %e = tensor.empty() : tensor<2x5xf32>
  %f = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>,
                                        affine_map<(d0, d1) -> (d0, d1)>],
                       iterator_types = ["parallel", "parallel"]}
      ins(%x : tensor<2x5xi4>) outs(%e : tensor<2x5xf32>) {
  ^bb0(%a: i4, %o: f32):
    %i = arith.extsi %a : i4 to i32
    %c = arith.sitofp %i : i32 to f32
    linalg.yield %c : f32
  } -> tensor<2x5xf32>
  return %f, %x : tensor<2x5xf32>, tensor<2x5xi4>
}

// si4 in, quantkv.dequantize with scale 1 and no zero point: the f32 output
// is the stored integers, so the packed argument was read in ABI order.
// RUN: quantkv-run %s --entry dequant_s4 --print-inputs | FileCheck %s --check-prefix=S4
// S4: input 0: tensor<3x7xsi4>
// S4-NEXT: [[IN:\[.*\]]]
// S4: output 0: tensor<3x7xf32>
// S4-NEXT: [[IN]]
func.func @dequant_s4(%x: tensor<3x7xsi4>) -> tensor<3x7xf32> {
  %one = arith.constant dense<1.0> : tensor<1xf32>
  %y = quantkv.dequantize %x scale(%one : tensor<1xf32>)
      granularity(#quantkv.per_tensor) : tensor<3x7xsi4> -> tensor<3x7xf32>
  return %y : tensor<3x7xf32>
}

// The same seed gives the same inputs whatever the pipeline, so --against
// compares like with like; the softmax of the upstream form is decomposed.
// RUN: quantkv-run %s --entry attention --pipeline "canonicalize,cse" --against "" | FileCheck %s --check-prefix=AGAINST
// AGAINST: output 0: tensor<1x2x4x8xf32>
// AGAINST: compare output 0 (--pipeline 'canonicalize,cse' vs --against ''): max_abs_err 0, {{.*}}: PASS
// AGAINST: outputs match
func.func @attention(%q: tensor<1x2x4x8xf32>, %k: tensor<1x2x6x8xi4>,
                     %ks: tensor<1x2x6x1xf32>, %v: tensor<1x2x6x8xf32>)
    -> tensor<1x2x4x8xf32> {
  %e = tensor.empty() : tensor<1x2x6x8xf32>
  %kf = linalg.generic {
      indexing_maps = [affine_map<(b, h, s, d) -> (b, h, s, d)>,
                       affine_map<(b, h, s, d) -> (b, h, s, 0)>,
                       affine_map<(b, h, s, d) -> (b, h, s, d)>],
      iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%k, %ks : tensor<1x2x6x8xi4>, tensor<1x2x6x1xf32>)
      outs(%e : tensor<1x2x6x8xf32>) {
  ^bb0(%a: i4, %s: f32, %o: f32):
    %i = arith.extsi %a : i4 to i32
    %c = arith.sitofp %i : i32 to f32
    %m = arith.mulf %c, %s : f32
    linalg.yield %m : f32
  } -> tensor<1x2x6x8xf32>
  %kt0 = tensor.empty() : tensor<1x2x8x6xf32>
  %kt = linalg.transpose ins(%kf : tensor<1x2x6x8xf32>)
      outs(%kt0 : tensor<1x2x8x6xf32>) permutation = [0, 1, 3, 2]
  %q3 = tensor.collapse_shape %q [[0, 1], [2], [3]] : tensor<1x2x4x8xf32> into tensor<2x4x8xf32>
  %k3 = tensor.collapse_shape %kt [[0, 1], [2], [3]] : tensor<1x2x8x6xf32> into tensor<2x8x6xf32>
  %v3 = tensor.collapse_shape %v [[0, 1], [2], [3]] : tensor<1x2x6x8xf32> into tensor<2x6x8xf32>
  %zero = arith.constant 0.0 : f32
  %s0 = tensor.empty() : tensor<2x4x6xf32>
  %sz = linalg.fill ins(%zero : f32) outs(%s0 : tensor<2x4x6xf32>) -> tensor<2x4x6xf32>
  %s = linalg.batch_matmul ins(%q3, %k3 : tensor<2x4x8xf32>, tensor<2x8x6xf32>)
      outs(%sz : tensor<2x4x6xf32>) -> tensor<2x4x6xf32>
  %p0 = tensor.empty() : tensor<2x4x6xf32>
  %p = linalg.softmax dimension(2) ins(%s : tensor<2x4x6xf32>)
      outs(%p0 : tensor<2x4x6xf32>) -> tensor<2x4x6xf32>
  %o0 = tensor.empty() : tensor<2x4x8xf32>
  %oz = linalg.fill ins(%zero : f32) outs(%o0 : tensor<2x4x8xf32>) -> tensor<2x4x8xf32>
  %o = linalg.batch_matmul ins(%p, %v3 : tensor<2x4x6xf32>, tensor<2x6x8xf32>)
      outs(%oz : tensor<2x4x8xf32>) -> tensor<2x4x8xf32>
  %o4 = tensor.expand_shape %o [[0, 1], [2], [3]] output_shape [1, 2, 4, 8]
      : tensor<2x4x8xf32> into tensor<1x2x4x8xf32>
  return %o4 : tensor<1x2x4x8xf32>
}

// Errors are one line and exit 2.
// RUN: sh -c 'quantkv-run %s --entry nope; echo "exit=$?"' 2>&1 | FileCheck %s --check-prefix=NOENTRY
// NOENTRY: quantkv-run: error: no function @nope with a body in
// NOENTRY-NEXT: exit=2
// RUN: sh -c 'quantkv-run %s --entry attention --pipeline "no-such-pass"; echo "exit=$?"' 2>&1 | FileCheck %s --check-prefix=BADPASS
// BADPASS: quantkv-run: error: bad pass pipeline 'no-such-pass'
// BADPASS-NEXT: exit=2
// RUN: sh -c 'quantkv-run %s --entry dynamic; echo "exit=$?"' 2>&1 | FileCheck %s --check-prefix=DYNAMIC
// DYNAMIC: quantkv-run: error: @dynamic argument #0: dynamic shapes are not supported (tensor<?xf32>)
// DYNAMIC-NEXT: exit=2
func.func @dynamic(%x: tensor<?xf32>) -> tensor<?xf32> {
  return %x : tensor<?xf32>
}

// linalg.broadcast and arith.extui on signless i8 run too; the named form and
// its generalization agree.
// RUN: quantkv-run %s --entry broadcast_u8 --pipeline "" --against "linalg-generalize-named-ops" | FileCheck %s --check-prefix=BCAST
// BCAST: output 0: tensor<2x3x4xf32>
// BCAST: outputs match
func.func @broadcast_u8(%x: tensor<3x4xi8>, %s: tensor<4xf32>) -> tensor<2x3x4xf32> {
  %e = tensor.empty() : tensor<3x4xf32>
  %f = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>,
                                        affine_map<(d0, d1) -> (d1)>,
                                        affine_map<(d0, d1) -> (d0, d1)>],
                       iterator_types = ["parallel", "parallel"]}
      ins(%x, %s : tensor<3x4xi8>, tensor<4xf32>) outs(%e : tensor<3x4xf32>) {
  ^bb0(%a: i8, %sc: f32, %o: f32):
    %i = arith.extui %a : i8 to i32
    %c = arith.uitofp %i : i32 to f32
    %m = arith.mulf %c, %sc : f32
    linalg.yield %m : f32
  } -> tensor<3x4xf32>
  %b0 = tensor.empty() : tensor<2x3x4xf32>
  %b = linalg.broadcast ins(%f : tensor<3x4xf32>) outs(%b0 : tensor<2x3x4xf32>)
      dimensions = [0]
  return %b : tensor<2x3x4xf32>
}

// One tensor returned twice: two outputs with the same values (the LLVM tail
// crashed on it before quantkv-distinct-result-buffers; both pipelines).
// RUN: quantkv-run %s --entry twice --print-inputs | FileCheck %s --check-prefix=TWICE
// RUN: quantkv-run %s --entry twice --pipeline "quantkv-lower-to-x86" --against "" | FileCheck %s --check-prefix=TWICE-CPU
// TWICE: input 0: tensor<2x3xf32>
// TWICE-NEXT: [[IN:\[.*\]]]
// TWICE: output 0: tensor<2x3xf32>
// TWICE-NEXT: [[OUT:\[.*\]]]
// TWICE: output 1: tensor<2x3xf32>
// TWICE-NEXT: [[OUT]]
// TWICE-CPU: compare output 1 {{.*}}: PASS
// TWICE-CPU: outputs match
func.func @twice(%x: tensor<2x3xf32>) -> (tensor<2x3xf32>, tensor<2x3xf32>) {
  %e = tensor.empty() : tensor<2x3xf32>
  %sq = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>,
                                         affine_map<(d0, d1) -> (d0, d1)>],
                        iterator_types = ["parallel", "parallel"]}
      ins(%x : tensor<2x3xf32>) outs(%e : tensor<2x3xf32>) {
  ^bb0(%a: f32, %o: f32):
    %m = arith.mulf %a, %a : f32
    linalg.yield %m : f32
  } -> tensor<2x3xf32>
  return %sq, %sq : tensor<2x3xf32>, tensor<2x3xf32>
}
