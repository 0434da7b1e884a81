//===- QuantKVDialect.h - quantkv dialect -----------------------*- C++ -*-===//
//
// Part of the quantkv project, under the Apache License v2.0 with LLVM
// Exceptions.
//
//===----------------------------------------------------------------------===//

#ifndef QUANTKV_DIALECT_QUANTKV_IR_QUANTKVDIALECT_H
#define QUANTKV_DIALECT_QUANTKV_IR_QUANTKVDIALECT_H

#include "mlir/IR/Dialect.h"

#include "quantkv/Dialect/QuantKV/IR/QuantKVOpsDialect.h.inc"

#endif // QUANTKV_DIALECT_QUANTKV_IR_QUANTKVDIALECT_H
