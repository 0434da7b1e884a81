//===- QuantKVToLinalg.cpp - the quantkv-lower-to-linalg pass -------------===//
//
// Part of the quantkv project, under the Apache License v2.0 with LLVM
// Exceptions.
//
//===----------------------------------------------------------------------===//
//
// The pass shell: the storage-ABI signature conversion plus the per-op
// patterns of DequantizeToLinalg.cpp, QuantizeToLinalg.cpp,
// TypecastToLinalg.cpp and SdpaToLinalg.cpp, then the decomposition of
// linalg aggregate ops (linalg.softmax) so that the bufferization + loops tail
// can run any module, including upstream-only ones.
//
//===----------------------------------------------------------------------===//

#include "quantkv/Conversion/QuantKVToLinalg/QuantKVToLinalg.h"
#include "quantkv/Conversion/Passes.h"
#include "quantkv/Conversion/Utils/StorageTypeConverter.h"
#include "quantkv/Dialect/QuantKV/IR/QuantKVDialect.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Transforms/WalkPatternRewriteDriver.h"

namespace mlir::quantkv {
#define GEN_PASS_DEF_QUANTKVLOWERTOLINALGPASS
#include "quantkv/Conversion/Passes.h.inc"
} // namespace mlir::quantkv

using namespace mlir;
using namespace mlir::quantkv;

void mlir::quantkv::populateQuantKVToLinalgConversionPatterns(
    const TypeConverter &converter, RewritePatternSet &patterns) {
  populateDequantizeToLinalgPatterns(converter, patterns);
  populateQuantizeToLinalgPatterns(converter, patterns);
  populateTypecastToLinalgPatterns(converter, patterns);
  populateSdpaToLinalgPatterns(converter, patterns);
  populateStorageTensorOpPatterns(converter, patterns);
}

namespace {
/// Replaces an op implementing linalg's AggregatedOpInterface (e.g.
/// linalg.softmax) by its upstream decomposition into linalg.generic/fill ops.
struct DecomposeAggregatedOp
    : public OpInterfaceRewritePattern<linalg::AggregatedOpInterface> {
  using OpInterfaceRewritePattern::OpInterfaceRewritePattern;

  LogicalResult matchAndRewrite(linalg::AggregatedOpInterface op,
                                PatternRewriter &rewriter) const override {
    FailureOr<SmallVector<Value>> values = op.decomposeOperation(rewriter);
    if (failed(values))
      return rewriter.notifyMatchFailure(op, "op has no decomposition");
    rewriter.replaceOp(op, *values);
    return success();
  }
};

struct QuantKVLowerToLinalgPass
    : public quantkv::impl::QuantKVLowerToLinalgPassBase<
          QuantKVLowerToLinalgPass> {
  void runOnOperation() override {
    MLIRContext *ctx = &getContext();
    StorageTypeConverter converter;
    ConversionTarget target(*ctx);
    target.addLegalDialect<arith::ArithDialect, linalg::LinalgDialect,
                           math::MathDialect, tensor::TensorDialect>();
    configureQuantKVToLinalgTarget(target);
    RewritePatternSet patterns(ctx);
    populateQuantKVToLinalgConversionPatterns(converter, patterns);
    populateStorageSignatureConversion(converter, patterns, target);
    if (failed(applyPartialConversion(getOperation(), target,
                                      std::move(patterns))))
      return signalPassFailure();

    RewritePatternSet decompose(ctx);
    populateDecomposeLinalgAggregatePatterns(decompose);
    walkAndApplyPatterns(getOperation(), std::move(decompose));
  }
};
} // namespace

void mlir::quantkv::configureQuantKVToLinalgTarget(ConversionTarget &target) {
  target.addIllegalDialect<QuantKVDialect>();
  target.markUnknownOpDynamicallyLegal([](Operation *) { return true; });
  target.addDynamicallyLegalOp<tensor::BitcastOp, tensor::ExpandShapeOp,
                               tensor::CollapseShapeOp>(
      [](Operation *op) { return !isQuantizedStorageTensorOp(op); });
}

void mlir::quantkv::populateDecomposeLinalgAggregatePatterns(
    RewritePatternSet &patterns) {
  patterns.add<DecomposeAggregatedOp>(patterns.getContext());
}
