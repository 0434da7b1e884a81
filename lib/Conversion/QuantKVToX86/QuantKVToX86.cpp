//===- QuantKVToX86.cpp - x86 lowering of quantkv.sdpa --------------------===//
//
// Part of the quantkv project, under the Apache License v2.0 with LLVM
// Exceptions.
//
//===----------------------------------------------------------------------===//

#include "quantkv/Conversion/Passes.h"

namespace mlir::quantkv {
#define GEN_PASS_DEF_QUANTKVLOWERTOX86PASS
#include "quantkv/Conversion/Passes.h.inc"
} // namespace mlir::quantkv

using namespace mlir;

namespace {
struct QuantKVLowerToX86Pass
    : public quantkv::impl::QuantKVLowerToX86PassBase<QuantKVLowerToX86Pass> {
  using Base::Base;
  void runOnOperation() override {
    getOperation().emitError("quantkv-lower-to-x86 is not implemented yet");
    signalPassFailure();
  }
};
} // namespace
