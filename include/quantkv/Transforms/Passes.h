//===- Passes.h - quantkv passes on upstream IR -----------------*- C++ -*-===//
//
// Part of the quantkv project, under the Apache License v2.0 with LLVM
// Exceptions.
//
//===----------------------------------------------------------------------===//
//
// Passes of the quantkv pipelines that act on upstream dialects only (no
// quantkv op): preparations the upstream passes of the LLVM tail rely on.
//
//===----------------------------------------------------------------------===//

#ifndef QUANTKV_TRANSFORMS_PASSES_H
#define QUANTKV_TRANSFORMS_PASSES_H

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Pass/Pass.h"

namespace mlir::quantkv {

#define GEN_PASS_DECL
#include "quantkv/Transforms/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "quantkv/Transforms/Passes.h.inc"

} // namespace mlir::quantkv

#endif // QUANTKV_TRANSFORMS_PASSES_H
