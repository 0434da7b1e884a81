//===- AttentionMatcher.h - recognize compressed-K/V attention --*- C++ -*-===//
//
// Part of the quantkv project, under the Apache License v2.0 with LLVM
// Exceptions.
//
//===----------------------------------------------------------------------===//
//
// Walks up from a P x V contraction and checks that it computes
//
//   softmax(scale * Q . dequant(K)^T + mask) . dequant(V)
//
// for the sdpa operand layouts: the contractions run over the right dims,
// K/V heads are shared by consecutive query heads (GQA), and every
// intermediate has no user outside the pattern.
//
//===----------------------------------------------------------------------===//

#ifndef QUANTKV_DIALECT_QUANTKV_TRANSFORMS_ATTENTIONMATCHER_H
#define QUANTKV_DIALECT_QUANTKV_TRANSFORMS_ATTENTIONMATCHER_H

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "quantkv/Dialect/QuantKV/Transforms/DequantMatcher.h"
#include "quantkv/Dialect/QuantKV/Transforms/SoftmaxMatcher.h"

namespace mlir::quantkv {

/// A recognized attention, ready to be rewritten.
struct AttentionMatch {
  /// Q x K^T and P x V.
  linalg::LinalgOp scoresOp, outputOp;
  Value query;
  DequantMatch key, value;
  SoftmaxMatch softmax;
  /// Static sizes of the two contractions' iteration spaces.
  SmallVector<int64_t> scoresSizes, outputSizes;
  /// Rank of Q / the result (2 to 4); the fused op pads it to 4.
  int64_t rank = 4;
  /// The multiplier of Q . K^T: the softmax's, times constants Q or K were
  /// multiplied by.
  double scale = 1.0;
  bool keyTransposed = false;
};

/// Matches the attention computed by `outputOp`; `why` says what did not fit.
FailureOr<AttentionMatch> matchAttention(linalg::LinalgOp outputOp,
                                         std::string &why);

/// A matched attention whose fused form has been decided: everything the
/// rewrite needs, every check done (nothing is built yet).
struct SdpaFusionPlan {
  AttentionMatch match;
  MathMode mathMode;
  /// Leading unit dims that make the operands rank 4.
  int64_t pad = 0;
  /// The mask's shape over the probabilities' dims (1 where it broadcasts).
  SmallVector<int64_t> maskShape;
  /// Granularities the K and V operands will carry.
  GranularityAttrInterface keyQuant, valueQuant;
};

/// Matches `outputOp` and decides the fused op: the math mode (`mathMode`,
/// or when unset the precision the input already computes in), the mask
/// and the quantization layouts. Fails, saying why in `why`, when any of
/// them has no quantkv.sdpa equivalent.
FailureOr<SdpaFusionPlan> planSdpaFusion(linalg::LinalgOp outputOp,
                                         std::optional<MathMode> mathMode,
                                         std::string &why);

} // namespace mlir::quantkv

#endif // QUANTKV_DIALECT_QUANTKV_TRANSFORMS_ATTENTIONMATCHER_H
