//===- QuantKVAttrs.h - quantkv attributes ----------------------*- C++ -*-===//
//
// Part of the quantkv project, under the Apache License v2.0 with LLVM
// Exceptions.
//
//===----------------------------------------------------------------------===//

#ifndef QUANTKV_DIALECT_QUANTKV_IR_QUANTKVATTRS_H
#define QUANTKV_DIALECT_QUANTKV_IR_QUANTKVATTRS_H

#include "mlir/IR/Attributes.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/DialectImplementation.h"

#include "quantkv/Dialect/QuantKV/IR/QuantKVAttrInterfaces.h.inc"
#include "quantkv/Dialect/QuantKV/IR/QuantKVEnums.h.inc"

#define GET_ATTRDEF_CLASSES
#include "quantkv/Dialect/QuantKV/IR/QuantKVAttrs.h.inc"

namespace mlir::quantkv {

/// Range [qmin, qmax] of a quantized storage type (si4, ui4, si8, ui8, si32).
std::pair<int64_t, int64_t> getStorageRange(IntegerType type);

/// Returns "si4", "f32", ...: the element type as the user wrote it.
std::string typeToString(Type type);

} // namespace mlir::quantkv

#endif // QUANTKV_DIALECT_QUANTKV_IR_QUANTKVATTRS_H
