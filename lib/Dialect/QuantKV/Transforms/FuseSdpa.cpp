//===- FuseSdpa.cpp - fuse attention into quantkv.sdpa --------------------===//
//
// Part of the quantkv project, under the Apache License v2.0 with LLVM
// Exceptions.
//
//===----------------------------------------------------------------------===//
//
// The rewrite: once AttentionMatcher has recognized
//
//   %s = Q x dequant(K)^T ; %p = softmax(%s * c + mask) ; %o = %p x dequant(V)
//
// %o is replaced by
//
//   %o = quantkv.sdpa q(Q) k(Kq) k_scale(..) v(Vq) v_scale(..) mask(..)
//          outs(tensor.empty) {scale = c, causal = .., math_mode = ..}
//
// with rank-2/3 operands padded to rank 4 by tensor.expand_shape (the result
// collapsed back), signless storage bitcast to si*/ui*, and scale / zero
// point reshaped to the granularity's shape. The rest of the chain becomes
// dead and is erased by the driver.
//
//===----------------------------------------------------------------------===//

#include "quantkv/Dialect/QuantKV/Transforms/Passes.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"
#include "quantkv/Dialect/QuantKV/IR/QuantKVOps.h"
#include "quantkv/Dialect/QuantKV/Transforms/AttentionMatcher.h"

#define DEBUG_TYPE "quantkv-fuse-sdpa"

namespace mlir::quantkv {
#define GEN_PASS_DEF_QUANTKVFUSESDPAPASS
#include "quantkv/Dialect/QuantKV/Transforms/Passes.h.inc"
} // namespace mlir::quantkv

using namespace mlir;
using namespace mlir::quantkv;

namespace {
/// Rewrites the P x V contraction of a recognized attention into one
/// quantkv.sdpa.
///
/// Before:
///   %k  = quantkv.dequantize %kq scale(%ks ...) : ... -> tensor<2x4x8x16xf32>
///   %s  = linalg.batch_matmul / contract (%q, %k^T) -> tensor<..xSqxSkvxf32>
///   %sc = linalg.generic { mulf %s, 0.25 }
///   %p  = linalg.softmax dimension(3) ins(%sc ..)
///   %o  = linalg.contract (%p, dequantize(%vq)) -> tensor<..xSqxDvxf32>
/// After:
///   %o = quantkv.sdpa q(%q) k(%kq) k_scale(%ks) v(%vq) v_scale(%vs)
///          outs(%empty) {scale = 0.25, math_mode = #quantkv.math_mode<strict>}
struct FuseSdpaPattern : public OpInterfaceRewritePattern<linalg::LinalgOp> {
  FuseSdpaPattern(MLIRContext *ctx, std::optional<MathMode> mathMode)
      : OpInterfaceRewritePattern(ctx), mathMode(mathMode) {}

  LogicalResult matchAndRewrite(linalg::LinalgOp op,
                                PatternRewriter &rewriter) const override {
    // Cheap filter first: the root is a contraction.
    if (op.getNumDpsInputs() < 2 || op.getNumReductionLoops() != 1)
      return rewriter.notifyMatchFailure(op, "not a single-reduction "
                                             "two-input contraction");
    std::string why;
    FailureOr<SdpaFusionPlan> plan = planSdpaFusion(op, mathMode, why);
    if (failed(plan))
      return rewriter.notifyMatchFailure(op, why);
    const AttentionMatch *match = &plan->match;
    auto resultType = cast<RankedTensorType>(op->getResult(0).getType());
    auto queryType = cast<RankedTensorType>(match->query.getType());
    int64_t pad = plan->pad;

    // The plan checked the layouts: building the operands cannot fail.
    Location loc = op.getLoc();
    rewriter.setInsertionPoint(op);
    std::string unused;
    QuantOperands key = *buildQuantOperands(
        rewriter, loc, match->key, match->scoresSizes, pad, unused, false);
    QuantOperands value = *buildQuantOperands(
        rewriter, loc, match->value, match->outputSizes, pad, unused, false);

    auto padded = [&](ArrayRef<int64_t> shape) {
      SmallVector<int64_t> result(pad, 1);
      llvm::append_range(result, shape);
      return result;
    };
    Value query =
        reshapeTo(rewriter, loc, match->query, padded(queryType.getShape()));
    Value mask;
    if (match->softmax.mask)
      mask = reshapeTo(rewriter, loc, match->softmax.mask, plan->maskShape);
    auto fusedType = RankedTensorType::get(padded(resultType.getShape()),
                                           resultType.getElementType());
    Value init = tensor::EmptyOp::create(rewriter, loc, fusedType.getShape(),
                                         fusedType.getElementType());
    MLIRContext *ctx = rewriter.getContext();
    CausalAlignmentAttr causal;
    if (match->softmax.causal)
      causal = CausalAlignmentAttr::get(ctx, *match->softmax.causal);
    auto sdpa = SdpaOp::create(
        rewriter, loc, fusedType, query, key.storage, key.scale, key.zeroPoint,
        value.storage, value.scale, value.zeroPoint, mask,
        /*dynamic_scale=*/Value(), init, key.granularity, value.granularity,
        rewriter.getF32FloatAttr(static_cast<float>(match->scale)),
        causal, MathModeAttr::get(ctx, plan->mathMode),
        KLayoutAttr::get(ctx,
                         match->keyTransposed ? KLayout::bds : KLayout::bsd));
    Value result =
        reshapeTo(rewriter, loc, sdpa.getResult(), resultType.getShape());
    rewriter.replaceOp(op, result);
    return success();
  }

private:
  std::optional<MathMode> mathMode;
};
} // namespace

/// Parses a math-mode option: nullopt for "auto" (and on error, with
/// `valid` cleared).
static std::optional<MathMode> parseMathMode(StringRef mathMode, bool &valid) {
  valid = true;
  if (mathMode == "auto")
    return std::nullopt;
  if (std::optional<MathMode> mode = symbolizeMathMode(mathMode))
    return mode;
  valid = false;
  return std::nullopt;
}

void mlir::quantkv::populateFuseSdpaPatterns(RewritePatternSet &patterns,
                                             StringRef mathMode) {
  bool valid;
  std::optional<MathMode> mode = parseMathMode(mathMode, valid);
  patterns.add<FuseSdpaPattern>(patterns.getContext(), mode);
}

namespace {
struct QuantKVFuseSdpaPass
    : public quantkv::impl::QuantKVFuseSdpaPassBase<QuantKVFuseSdpaPass> {
  using Base::Base;
  void runOnOperation() override {
    bool valid;
    parseMathMode(mathMode, valid);
    if (!valid) {
      getOperation()->emitError()
          << "quantkv-fuse-sdpa: math-mode must be auto, strict, bf16, f16 "
             "or int8, got '"
          << mathMode << "'";
      return signalPassFailure();
    }
    RewritePatternSet patterns(&getContext());
    populateFuseSdpaPatterns(patterns, mathMode);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};
} // namespace
