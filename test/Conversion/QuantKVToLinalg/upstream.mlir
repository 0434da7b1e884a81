// RUN: quantkv-opt %s --quantkv-lower-to-linalg --split-input-file | FileCheck %s

// A module without quantkv ops: a signless i4 argument is packed at the ABI
// like si4 and unpacked once (nibble bits truncated to i4) so that the
// upstream ops keep their i4 operand; the
// linalg.softmax is decomposed into generics.

// CHECK-LABEL: func.func @upstream
// CHECK-SAME: (%[[X:.*]]: tensor<3x2xi8>, %[[W:.*]]: tensor<4x2xf32>) -> (tensor<3x2xf32>, tensor<3x2xi8>)
// CHECK: %[[U:.*]] = linalg.generic {{.*}} ins(%[[X]] : tensor<3x2xi8>) outs(%{{.*}} : tensor<3x4xi4>)
// CHECK:   arith.trunci %{{.*}} : i8 to i4
// CHECK: linalg.generic {{.*}} ins(%[[U]] : tensor<3x4xi4>)
// CHECK:   arith.extsi %{{.*}} : i4 to i32
// CHECK: linalg.matmul
// CHECK-NOT: linalg.softmax
// CHECK: math.exp
// The returned i4 argument is its packed storage again: no pack generic.
// CHECK: return %{{.*}}, %[[X]] : tensor<3x2xf32>, tensor<3x2xi8>
func.func @upstream(%x: tensor<3x4xi4>, %w: tensor<4x2xf32>)
    -> (tensor<3x2xf32>, tensor<3x4xi4>) {
  %e = tensor.empty() : tensor<3x4xf32>
  %f = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>,
                                        affine_map<(d0, d1) -> (d0, d1)>],
                       iterator_types = ["parallel", "parallel"]}
      ins(%x : tensor<3x4xi4>) outs(%e : tensor<3x4xf32>) {
  ^bb0(%a: i4, %o: f32):
    %i = arith.extsi %a : i4 to i32
    %c = arith.sitofp %i : i32 to f32
    linalg.yield %c : f32
  } -> tensor<3x4xf32>
  %z = tensor.empty() : tensor<3x2xf32>
  %cst = arith.constant 0.0 : f32
  %zf = linalg.fill ins(%cst : f32) outs(%z : tensor<3x2xf32>) -> tensor<3x2xf32>
  %m = linalg.matmul ins(%f, %w : tensor<3x4xf32>, tensor<4x2xf32>)
      outs(%zf : tensor<3x2xf32>) -> tensor<3x2xf32>
  %s = tensor.empty() : tensor<3x2xf32>
  %sm = linalg.softmax dimension(1) ins(%m : tensor<3x2xf32>)
      outs(%s : tensor<3x2xf32>) -> tensor<3x2xf32>
  return %sm, %x : tensor<3x2xf32>, tensor<3x4xi4>
}

// -----

// si8/ui8 arguments become signless i8 with no conversion code.
// CHECK-LABEL: func.func @passthrough
// CHECK-SAME: (%[[A:.*]]: tensor<4xi8>) -> tensor<4xi8>
// CHECK-NEXT: return %[[A]] : tensor<4xi8>
func.func @passthrough(%a: tensor<4xui8>) -> tensor<4xui8> {
  return %a : tensor<4xui8>
}

// -----

// An i4 value computed in the function is packed at the return.
// CHECK-LABEL: func.func @pack_result
// CHECK-SAME: -> tensor<2x2xi8>
// CHECK: %[[T:.*]] = linalg.generic {{.*}} outs(%{{.*}} : tensor<2x3xi4>)
// CHECK: %[[P:.*]] = linalg.generic {{.*}} outs(%{{.*}} : tensor<2x2xi8>)
// CHECK:   %[[LO:.*]] = tensor.extract %[[T]]
// CHECK:   arith.extui %[[LO]] : i4 to i8
// CHECK:   arith.cmpi ult
// CHECK: return %[[P]] : tensor<2x2xi8>
func.func @pack_result(%x: tensor<2x3xi8>) -> tensor<2x3xi4> {
  %e = tensor.empty() : tensor<2x3xi4>
  %t = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>,
                                        affine_map<(d0, d1) -> (d0, d1)>],
                       iterator_types = ["parallel", "parallel"]}
      ins(%x : tensor<2x3xi8>) outs(%e : tensor<2x3xi4>) {
  ^bb0(%a: i8, %o: i4):
    %c = arith.trunci %a : i8 to i4
    linalg.yield %c : i4
  } -> tensor<2x3xi4>
  return %t : tensor<2x3xi4>
}
