//===- Passes.h - quantkv transformation passes -----------------*- C++ -*-===//
//
// Part of the quantkv project, under the Apache License v2.0 with LLVM
// Exceptions.
//
//===----------------------------------------------------------------------===//

#ifndef QUANTKV_DIALECT_QUANTKV_TRANSFORMS_PASSES_H
#define QUANTKV_DIALECT_QUANTKV_TRANSFORMS_PASSES_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Pass/Pass.h"
#include "quantkv/Dialect/QuantKV/IR/QuantKVDialect.h"

namespace mlir {
class RewritePatternSet;
namespace quantkv {

#define GEN_PASS_DECL
#include "quantkv/Dialect/QuantKV/Transforms/Passes.h.inc"

/// Patterns that rewrite attention over dequantized K/V into quantkv.sdpa.
/// `mathMode` is "auto", "strict", "bf16", "f16" or "int8".
void populateFuseSdpaPatterns(RewritePatternSet &patterns,
                              StringRef mathMode = "auto");

#define GEN_PASS_REGISTRATION
#include "quantkv/Dialect/QuantKV/Transforms/Passes.h.inc"

} // namespace quantkv
} // namespace mlir

#endif // QUANTKV_DIALECT_QUANTKV_TRANSFORMS_PASSES_H
