//===- QuantKVOps.h - quantkv operations ------------------------*- C++ -*-===//
//
// Part of the quantkv project, under the Apache License v2.0 with LLVM
// Exceptions.
//
//===----------------------------------------------------------------------===//

#ifndef QUANTKV_DIALECT_QUANTKV_IR_QUANTKVOPS_H
#define QUANTKV_DIALECT_QUANTKV_IR_QUANTKVOPS_H

#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/Interfaces/DestinationStyleOpInterface.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#include "quantkv/Dialect/QuantKV/IR/QuantKVAttrs.h"
#include "quantkv/Dialect/QuantKV/IR/QuantKVDialect.h"

#define GET_OP_CLASSES
#include "quantkv/Dialect/QuantKV/IR/QuantKVOps.h.inc"

#endif // QUANTKV_DIALECT_QUANTKV_IR_QUANTKVOPS_H
