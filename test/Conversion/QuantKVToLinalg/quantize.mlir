// RUN: quantkv-opt %s --quantkv-lower-to-linalg --split-input-file | FileCheck %s

// s4 per tensor: divide, round half to even, saturate to [-8, 7] (maxnumf
// first, so NaN gives qmin), convert, then pack pairs into bytes: element 2j
// in the low nibble, 2j+1 shifted to the high nibble, and the high nibble
// past the end of an odd row zero.

// CHECK-LABEL: func.func @quantize_s4
// CHECK-SAME: (%[[X:.*]]: tensor<2x5xf32>, %[[S:.*]]: tensor<1xf32>) -> tensor<2x3xi8>
// CHECK: %[[V:.*]] = linalg.generic {{.*}} ins(%[[X]], %[[S]] : tensor<2x5xf32>, tensor<1xf32>) outs(%{{.*}} : tensor<2x5xi8>)
// CHECK:   %[[Q:.*]] = arith.divf
// CHECK:   %[[R:.*]] = math.roundeven %[[Q]]
// CHECK:   %[[LO:.*]] = arith.constant -8.000000e+00 : f32
// CHECK:   %[[C1:.*]] = arith.maxnumf %[[R]], %[[LO]]
// CHECK:   %[[HI:.*]] = arith.constant 7.000000e+00 : f32
// CHECK:   %[[C2:.*]] = arith.minnumf %[[C1]], %[[HI]]
// CHECK:   %[[I:.*]] = arith.fptosi %[[C2]] : f32 to i32
// CHECK:   arith.trunci %[[I]] : i32 to i8
// CHECK: %[[P:.*]] = linalg.generic {{.*}} outs(%{{.*}} : tensor<2x3xi8>)
// CHECK:   %[[J:.*]] = linalg.index 1
// CHECK:   %[[LOW:.*]] = arith.muli %[[J]], %{{.*}} : index
// CHECK:   %[[HIGH:.*]] = arith.addi %[[LOW]], %{{.*}} : index
// CHECK:   tensor.extract %[[V]][%{{.*}}, %[[LOW]]]
// CHECK:   %[[IN:.*]] = arith.cmpi ult, %[[HIGH]], %{{.*}} : index
// CHECK:   arith.select %[[IN]]
// CHECK:   arith.shli
// CHECK:   arith.ori
// CHECK: return %[[P]] : tensor<2x3xi8>
func.func @quantize_s4(%x: tensor<2x5xf32>, %s: tensor<1xf32>) -> tensor<2x5xsi4> {
  %q = quantkv.quantize %x scale(%s : tensor<1xf32>)
      granularity(#quantkv.per_tensor) : tensor<2x5xf32> -> tensor<2x5xsi4>
  return %q : tensor<2x5xsi4>
}

// -----

// u8 with a zero point added after rounding and the range [0, 255]; no pack.

// CHECK-LABEL: func.func @quantize_u8_zp
// CHECK-SAME: -> tensor<4x8xi8>
// CHECK:   %[[R:.*]] = math.roundeven
// CHECK:   %[[Z:.*]] = arith.uitofp %{{.*}} : i8 to f32
// CHECK:   %[[A:.*]] = arith.addf %[[R]], %[[Z]]
// CHECK:   arith.constant 0.000000e+00 : f32
// CHECK:   arith.constant 2.550000e+02 : f32
// CHECK-NOT: arith.ori
func.func @quantize_u8_zp(%x: tensor<4x8xf32>, %s: tensor<8xf32>,
                          %z: tensor<8xui8>) -> tensor<4x8xui8> {
  %q = quantkv.quantize %x scale(%s : tensor<8xf32>)
      zero_point(%z : tensor<8xui8>) granularity(#quantkv.per_channel<axis = 1>)
      : tensor<4x8xf32> -> tensor<4x8xui8>
  return %q : tensor<4x8xui8>
}
