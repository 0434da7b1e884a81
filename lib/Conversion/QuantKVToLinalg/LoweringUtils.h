//===- LoweringUtils.h - builders shared by the linalg lowering -*- C++ -*-===//
//
// Part of the quantkv project, under the Apache License v2.0 with LLVM
// Exceptions.
//
//===----------------------------------------------------------------------===//
//
// Builders that the per-op patterns share: reading a quantized operand's
// integers out of the storage ABI, mapping elements to their scale entry, and
// one dequantization generic used by quantkv.dequantize and quantkv.sdpa.
//
//===----------------------------------------------------------------------===//

#ifndef QUANTKV_LIB_CONVERSION_QUANTKVTOLINALG_LOWERINGUTILS_H
#define QUANTKV_LIB_CONVERSION_QUANTKVTOLINALG_LOWERINGUTILS_H

#include "quantkv/Dialect/QuantKV/IR/QuantKVAttrs.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"

namespace mlir::quantkv::lowering {

/// A tensor with one signless integer per element (i8 for 4/8-bit types, i32
/// for si32) holding the values of `storage`, the storage form of a tensor of
/// `logicalType`: unpacks 4-bit data, else returns `storage`.
Value getIntegerValues(OpBuilder &b, Location loc, Value storage,
                       RankedTensorType logicalType);

/// Converts `value` (a scalar of the storage element type standing for an
/// element of `logicalElement`) to f32: sitofp/uitofp by the logical
/// signedness for integers, extf for f16/bf16.
Value convertToF32(OpBuilder &b, Location loc, Value value,
                   Type logicalElement);

/// Converts an f32 scalar to `type` (f32, f16 or bf16; truncf rounds to
/// nearest even).
Value convertFromF32(OpBuilder &b, Location loc, Value value, Type type);

/// The map from the loop dims of a source of `srcShape` to the index of its
/// scale entry (`scaleShape`, as `granularity` lays it out): a constant 0 on
/// broadcast dims, `d floordiv group` elsewhere.
AffineMap getScaleMap(GranularityAttrInterface granularity,
                      ArrayRef<int64_t> srcShape, ArrayRef<int64_t> scaleShape,
                      MLIRContext *ctx);

/// Builds (x - zp) * scale in f32 over `storage` (the storage form of a
/// tensor of `logicalType`), then converts to `resultElement`. `zeroPoint`
/// (storage form of `zeroPointType`) may be null.
Value buildDequantize(OpBuilder &b, Location loc, Value storage,
                      RankedTensorType logicalType, Value scale,
                      Value zeroPoint, RankedTensorType zeroPointType,
                      GranularityAttrInterface granularity, Type resultElement);

/// A tensor of `shape` x `elementType` filled with `value`.
Value buildFilled(OpBuilder &b, Location loc, ArrayRef<int64_t> shape,
                  Type elementType, double value);

} // namespace mlir::quantkv::lowering

#endif // QUANTKV_LIB_CONVERSION_QUANTKVTOLINALG_LOWERINGUTILS_H
