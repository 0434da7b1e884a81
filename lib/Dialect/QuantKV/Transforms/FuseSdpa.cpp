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

/// The math mode an `auto` fusion keeps: the precision every contraction
/// operand already has (strict when all are f32). Mixed precisions have no
/// mode that computes the same thing.
static FailureOr<MathMode> getInputMathMode(const AttentionMatch &match,
                                            std::string &why) {
  Type types[] = {
      cast<RankedTensorType>(match.query.getType()).getElementType(),
      match.key.computeType, match.softmax.probsType,
      match.value.computeType};
  if (llvm::all_of(types, [](Type t) { return t.isF32(); }))
    return MathMode::strict;
  if (llvm::all_of(types, [](Type t) { return t.isBF16(); }))
    return MathMode::bf16;
  if (llvm::all_of(types, [](Type t) { return t.isF16(); }))
    return MathMode::f16;
  why = "Q, K, P and V are read in mixed precisions, which no math mode "
        "reproduces; pass math-mode explicitly to choose one";
  return failure();
}

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
    if (op.getNumDpsInputs() != 2 || op.getNumReductionLoops() != 1)
      return rewriter.notifyMatchFailure(op, "not a single-reduction "
                                             "two-input contraction");
    std::string why;
    FailureOr<AttentionMatch> match = matchAttention(op, why);
    if (failed(match))
      return rewriter.notifyMatchFailure(op, why);

    MathMode mode;
    if (mathMode) {
      mode = *mathMode;
    } else {
      FailureOr<MathMode> inputMode = getInputMathMode(*match, why);
      if (failed(inputMode))
        return rewriter.notifyMatchFailure(op, why);
      mode = *inputMode;
    }

    auto resultType = cast<RankedTensorType>(op->getResult(0).getType());
    auto queryType = cast<RankedTensorType>(match->query.getType());
    if (!isa<Float32Type, Float16Type, BFloat16Type>(
            resultType.getElementType()) ||
        !isa<Float32Type, Float16Type, BFloat16Type>(
            queryType.getElementType()))
      return rewriter.notifyMatchFailure(op, "Q or the result is not "
                                             "f32/f16/bf16");
    int64_t pad = 4 - match->rank;

    // Mask: each dim reads one probabilities dim in order, or broadcasts.
    SmallVector<int64_t> maskShape;
    if (Value mask = match->softmax.mask) {
      auto maskType = cast<RankedTensorType>(mask.getType());
      if (!maskType.hasStaticShape() ||
          !isa<Float32Type, Float16Type, BFloat16Type>(
              maskType.getElementType()))
        return rewriter.notifyMatchFailure(op, "mask is not a static "
                                               "f32/f16/bf16 tensor");
      AffineMap map = match->softmax.maskMap;
      maskShape.assign(match->rank, 1);
      int64_t next = 0;
      for (auto [t, expr] : llvm::enumerate(map.getResults())) {
        int64_t size = maskType.getDimSize(t);
        if (auto c = dyn_cast<AffineConstantExpr>(expr)) {
          if (c.getValue() == 0 && size == 1)
            continue;
          return rewriter.notifyMatchFailure(op, "mask read at a constant");
        }
        auto dim = dyn_cast<AffineDimExpr>(expr);
        if (!dim || dim.getPosition() < next)
          return rewriter.notifyMatchFailure(
              op, "mask is read transposed or at a computed index");
        next = dim.getPosition() + 1;
        maskShape[dim.getPosition()] = size;
      }
    }

    // Validate the quantization layouts before building anything.
    std::string keyWhy, valueWhy;
    if (failed(buildQuantOperands(rewriter, op.getLoc(), match->key,
                                  match->scoresSizes, pad, keyWhy,
                                  /*dryRun=*/true)))
      return rewriter.notifyMatchFailure(op, "K: " + keyWhy);
    if (failed(buildQuantOperands(rewriter, op.getLoc(), match->value,
                                  match->outputSizes, pad, valueWhy,
                                  /*dryRun=*/true)))
      return rewriter.notifyMatchFailure(op, "V: " + valueWhy);

    Location loc = op.getLoc();
    rewriter.setInsertionPoint(op);
    QuantOperands key = *buildQuantOperands(
        rewriter, loc, match->key, match->scoresSizes, pad, keyWhy, false);
    QuantOperands value = *buildQuantOperands(
        rewriter, loc, match->value, match->outputSizes, pad, valueWhy, false);

    auto padded = [&](ArrayRef<int64_t> shape) {
      SmallVector<int64_t> result(pad, 1);
      llvm::append_range(result, shape);
      return result;
    };
    Value query = reshapeTo(rewriter, loc, match->query,
                            padded(queryType.getShape()));
    Value mask;
    if (match->softmax.mask)
      mask = reshapeTo(rewriter, loc, match->softmax.mask, maskShape);
    auto fusedType =
        RankedTensorType::get(padded(resultType.getShape()),
                              resultType.getElementType());
    Value init = tensor::EmptyOp::create(rewriter, loc, fusedType.getShape(),
                                         fusedType.getElementType());
    MLIRContext *ctx = rewriter.getContext();
    CausalAlignmentAttr causal;
    if (match->softmax.causal)
      causal = CausalAlignmentAttr::get(ctx, *match->softmax.causal);
    auto sdpa = SdpaOp::create(
        rewriter, loc, fusedType, query, key.storage, key.scale,
        key.zeroPoint, value.storage, value.scale, value.zeroPoint, mask,
        /*dynamic_scale=*/Value(), init, key.granularity, value.granularity,
        rewriter.getF32FloatAttr(static_cast<float>(match->softmax.scale)),
        causal, MathModeAttr::get(ctx, mode),
        KLayoutAttr::get(ctx, match->keyTransposed ? KLayout::bds
                                                   : KLayout::bsd));
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
