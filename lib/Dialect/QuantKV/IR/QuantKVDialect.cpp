//===- QuantKVDialect.cpp - quantkv dialect -------------------------------===//
//
// Part of the quantkv project, under the Apache License v2.0 with LLVM
// Exceptions.
//
//===----------------------------------------------------------------------===//

#include "quantkv/Dialect/QuantKV/IR/QuantKVDialect.h"
#include "quantkv/Dialect/QuantKV/IR/QuantKVAttrs.h"
#include "quantkv/Dialect/QuantKV/IR/QuantKVOps.h"

using namespace mlir;
using namespace mlir::quantkv;

#include "quantkv/Dialect/QuantKV/IR/QuantKVOpsDialect.cpp.inc"

void QuantKVDialect::initialize() {
  registerAttributes();
  addOperations<
#define GET_OP_LIST
#include "quantkv/Dialect/QuantKV/IR/QuantKVOps.cpp.inc"
      >();
}
