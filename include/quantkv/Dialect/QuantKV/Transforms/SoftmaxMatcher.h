//===- SoftmaxMatcher.h - recognize softmax(scale * S + mask) ---*- C++ -*-===//
//
// Part of the quantkv project, under the Apache License v2.0 with LLVM
// Exceptions.
//
//===----------------------------------------------------------------------===//
//
// Recognizes the probabilities a P x V contraction reads:
//
//   P = softmax_lastdim(select(causal(i, j), -inf, S * c + mask))
//
// with the softmax as linalg.softmax or decomposed (max-reduce, subtract,
// exp, sum-reduce, divide), the scale as a multiply by (or a divide by) a
// constant, the mask as an added tensor and the causal mask as a select on an
// index comparison, each optional, in any split into linalg ops.
//
//===----------------------------------------------------------------------===//

#ifndef QUANTKV_DIALECT_QUANTKV_TRANSFORMS_SOFTMAXMATCHER_H
#define QUANTKV_DIALECT_QUANTKV_TRANSFORMS_SOFTMAXMATCHER_H

#include "quantkv/Dialect/QuantKV/IR/QuantKVAttrs.h"
#include "quantkv/Dialect/QuantKV/Transforms/ExprTree.h"

namespace mlir::quantkv {

/// What softmax(scale * S + mask) was found. Maps are over the
/// probabilities' index space ([batch..., Sq, Skv]).
struct SoftmaxMatch {
  /// The raw scores S (a contraction result), read as P is.
  Value scores;
  /// The multiplier applied to S (1 when none).
  double scale = 1.0;
  /// The additive mask, read at `maskMap`.
  Value mask;
  AffineMap maskMap;
  std::optional<CausalAlignment> causal;
  /// Element type the P x V contraction reads.
  Type probsType;
  /// Non-element-wise ops of the pattern (softmax, reductions): their
  /// results must have no user outside the pattern.
  SmallVector<Operation *> ops;
};

/// Matches `probs`, the expression P x V multiplies by V, over the loops of
/// P x V (static sizes `rootSizes`); `probsMap` gives P's dims
/// ([batch..., Sq, Skv]) among those loops. `builder` accumulates the
/// inlined ops. On failure, `why` says what did not fit.
FailureOr<SoftmaxMatch> matchSoftmax(ExprTreeBuilder &builder,
                                     const ExprNode *probs, AffineMap probsMap,
                                     ArrayRef<int64_t> rootSizes,
                                     std::string &why);

} // namespace mlir::quantkv

#endif // QUANTKV_DIALECT_QUANTKV_TRANSFORMS_SOFTMAXMATCHER_H
