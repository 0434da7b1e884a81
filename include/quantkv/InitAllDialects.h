//===- InitAllDialects.h - register every dialect quantkv uses --*- C++ -*-===//
//
// Part of the quantkv project, under the Apache License v2.0 with LLVM
// Exceptions.
//
//===----------------------------------------------------------------------===//

#ifndef QUANTKV_INITALLDIALECTS_H
#define QUANTKV_INITALLDIALECTS_H

#include "mlir/IR/DialectRegistry.h"

namespace mlir::quantkv {

/// Adds the quantkv dialect, every upstream dialect and their extensions
/// (bufferization models, LLVM translations) to `registry`.
void registerAllDialects(DialectRegistry &registry);

} // namespace mlir::quantkv

#endif // QUANTKV_INITALLDIALECTS_H
