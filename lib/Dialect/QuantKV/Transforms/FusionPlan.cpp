//===- FusionPlan.cpp - decide the fused quantkv.sdpa ---------------------===//
//
// Part of the quantkv project, under the Apache License v2.0 with LLVM
// Exceptions.
//
//===----------------------------------------------------------------------===//
//
// What the matchers leave open: which math mode reproduces the input's
// precision, how the mask broadcasts, and which granularity each cache's
// scale maps to. Decided here, before anything is built, so that a failure
// leaves the IR untouched.
//
//===----------------------------------------------------------------------===//

#include "quantkv/Dialect/QuantKV/Transforms/AttentionMatcher.h"

#include "mlir/IR/PatternMatch.h"

#define DEBUG_TYPE "quantkv-fuse-sdpa"

using namespace mlir;
using namespace mlir::quantkv;

/// The math mode an `auto` fusion keeps: the precision every contraction
/// operand already has (strict when all are f32). Mixed precisions have no
/// mode that computes the same thing. In bf16/f16 quantkv.sdpa rounds every
/// contraction input (Q, K', P and V') as the unfused graph (the RFC's
/// pattern with a TypeCast after each DynamicDequantize) does.
static FailureOr<MathMode> getInputMathMode(const AttentionMatch &match,
                                            std::string &why) {
  Type types[] = {
      cast<RankedTensorType>(match.query.getType()).getElementType(),
      match.key.computeType, match.softmax.probsType, match.value.computeType};
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

static bool isComputeFloat(Type type) {
  return isa<Float32Type, Float16Type, BFloat16Type>(type);
}

/// The mask's shape over the probabilities' dims: each mask dim reads one
/// of them, in order, or broadcasts (a unit dim read at 0).
static LogicalResult getMaskShape(const AttentionMatch &match,
                                  SmallVectorImpl<int64_t> &shape,
                                  std::string &why) {
  Value mask = match.softmax.mask;
  if (!mask)
    return success();
  auto maskType = cast<RankedTensorType>(mask.getType());
  if (!maskType.hasStaticShape() ||
      !isComputeFloat(maskType.getElementType())) {
    why = "mask is not a static f32/f16/bf16 tensor";
    return failure();
  }
  shape.assign(match.rank, 1);
  int64_t next = 0;
  for (auto [t, expr] : llvm::enumerate(match.softmax.maskMap.getResults())) {
    int64_t size = maskType.getDimSize(t);
    if (auto c = dyn_cast<AffineConstantExpr>(expr)) {
      if (c.getValue() == 0 && size == 1)
        continue;
      why = "mask is read at a constant index";
      return failure();
    }
    auto dim = dyn_cast<AffineDimExpr>(expr);
    if (!dim || dim.getPosition() < next) {
      why = "mask is read transposed or at a computed index";
      return failure();
    }
    next = dim.getPosition() + 1;
    shape[dim.getPosition()] = size;
  }
  return success();
}

FailureOr<SdpaFusionPlan>
mlir::quantkv::planSdpaFusion(linalg::LinalgOp outputOp,
                              std::optional<MathMode> mathMode,
                              std::string &why) {
  FailureOr<AttentionMatch> match = matchAttention(outputOp, why);
  if (failed(match))
    return failure();
  SdpaFusionPlan plan;
  plan.match = *match;
  plan.pad = 4 - match->rank;

  if (mathMode) {
    plan.mathMode = *mathMode;
  } else {
    FailureOr<MathMode> inputMode = getInputMathMode(*match, why);
    if (failed(inputMode))
      return failure();
    plan.mathMode = *inputMode;
  }

  auto resultType = cast<RankedTensorType>(outputOp->getResult(0).getType());
  auto queryType = cast<RankedTensorType>(match->query.getType());
  if (!isComputeFloat(resultType.getElementType()) ||
      !isComputeFloat(queryType.getElementType()) ||
      !queryType.hasStaticShape()) {
    why = "Q or the result is not a static f32/f16/bf16 tensor";
    return failure();
  }
  if (failed(getMaskShape(*match, plan.maskShape, why)))
    return failure();

  // The quantization layouts, checked without building anything.
  IRRewriter rewriter(outputOp.getContext());
  std::string reason;
  FailureOr<QuantOperands> key =
      buildQuantOperands(rewriter, outputOp.getLoc(), match->key,
                         match->scoresSizes, plan.pad, reason, /*dryRun=*/true);
  if (failed(key)) {
    why = "K: " + reason;
    return failure();
  }
  FailureOr<QuantOperands> value =
      buildQuantOperands(rewriter, outputOp.getLoc(), match->value,
                         match->outputSizes, plan.pad, reason, /*dryRun=*/true);
  if (failed(value)) {
    why = "V: " + reason;
    return failure();
  }
  plan.keyQuant = key->granularity;
  plan.valueQuant = value->granularity;
  return plan;
}
