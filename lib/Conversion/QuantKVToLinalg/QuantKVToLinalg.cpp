//===- QuantKVToLinalg.cpp - reference lowering of quantkv ----------------===//
//
// Part of the quantkv project, under the Apache License v2.0 with LLVM
// Exceptions.
//
//===----------------------------------------------------------------------===//

#include "quantkv/Conversion/Passes.h"

namespace mlir::quantkv {
#define GEN_PASS_DEF_QUANTKVLOWERTOLINALGPASS
#include "quantkv/Conversion/Passes.h.inc"
} // namespace mlir::quantkv

using namespace mlir;

namespace {
struct QuantKVLowerToLinalgPass
    : public quantkv::impl::QuantKVLowerToLinalgPassBase<
          QuantKVLowerToLinalgPass> {
  void runOnOperation() override {
    getOperation().emitError("quantkv-lower-to-linalg is not implemented yet");
    signalPassFailure();
  }
};
} // namespace
