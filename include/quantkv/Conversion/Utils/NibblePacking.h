//===- NibblePacking.h - 4-bit storage <-> integer tensors ------*- C++ -*-===//
//
// Part of the quantkv project, under the Apache License v2.0 with LLVM
// Exceptions.
//
//===----------------------------------------------------------------------===//
//
// Tensor-level conversions between the packed 4-bit storage ABI (see
// StorageTypeConverter.h: element 2i in the low nibble of byte i of the last
// dim, an odd last dim padded) and one-element-per-value integer tensors.
// Each is one linalg.generic, so it bufferizes and lowers like any other
// linalg op and costs one pass over the data (the reference path favours
// obviousness over speed).
//
//===----------------------------------------------------------------------===//

#ifndef QUANTKV_CONVERSION_UTILS_NIBBLEPACKING_H
#define QUANTKV_CONVERSION_UTILS_NIBBLEPACKING_H

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"

namespace mlir::quantkv {

/// Unpacks `packed` (tensor<... x ceil(N/2) x i8>) into a tensor of `shape`
/// (last dim N) with element type `elementType`: i8 gives each nibble sign-
/// (`isSigned`) or zero-extended, i4 gives the nibble bits. `shape` must be
/// static and of rank >= 1.
///
///   %u = linalg.generic {indexing_maps = [(d0, d1) -> (d0, d1 floordiv 2),
///                                          (d0, d1) -> (d0, d1)]}
///        ins(%packed : tensor<4x3xi8>) outs(%e : tensor<4x6xi8>) {
///     ^bb0(%byte: i8, %out: i8):
///       // shift right by 4 * (d1 mod 2), then sign- or zero-extend the nibble
///   } -> tensor<4x6xi8>
Value unpackNibbles(OpBuilder &builder, Location loc, Value packed,
                    ArrayRef<int64_t> shape, bool isSigned, Type elementType);

/// Packs `values` (tensor<... x N x i8 or i4>, static, holding 4-bit values in
/// their low bits) into the storage form tensor<... x ceil(N/2) x i8>: the
/// byte at j is (values[2j] & 0xF) | (values[2j+1] << 4), the high nibble zero
/// past the end of an odd row.
Value packNibbles(OpBuilder &builder, Location loc, Value values);

} // namespace mlir::quantkv

#endif // QUANTKV_CONVERSION_UTILS_NIBBLEPACKING_H
