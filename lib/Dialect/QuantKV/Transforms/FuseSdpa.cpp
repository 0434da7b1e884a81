//===- FuseSdpa.cpp - fuse attention into quantkv.sdpa --------------------===//
//
// Part of the quantkv project, under the Apache License v2.0 with LLVM
// Exceptions.
//
//===----------------------------------------------------------------------===//

#include "quantkv/Dialect/QuantKV/Transforms/Passes.h"

#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"
#include "quantkv/Dialect/QuantKV/IR/QuantKVOps.h"

namespace mlir::quantkv {
#define GEN_PASS_DEF_QUANTKVFUSESDPAPASS
#include "quantkv/Dialect/QuantKV/Transforms/Passes.h.inc"
} // namespace mlir::quantkv

using namespace mlir;
using namespace mlir::quantkv;

void mlir::quantkv::populateFuseSdpaPatterns(RewritePatternSet &patterns,
                                             StringRef mathMode) {}

namespace {
struct QuantKVFuseSdpaPass
    : public quantkv::impl::QuantKVFuseSdpaPassBase<QuantKVFuseSdpaPass> {
  using Base::Base;
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    populateFuseSdpaPatterns(patterns, mathMode);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};
} // namespace
