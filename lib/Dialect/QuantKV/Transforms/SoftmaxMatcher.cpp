//===- SoftmaxMatcher.cpp - recognize softmax(scale * S + mask) -----------===//
//
// Part of the quantkv project, under the Apache License v2.0 with LLVM
// Exceptions.
//
//===----------------------------------------------------------------------===//

#include "quantkv/Dialect/QuantKV/Transforms/SoftmaxMatcher.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/Utils/Utils.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/IR/Matchers.h"
#include "quantkv/Dialect/QuantKV/IR/QuantKVOps.h"
#include "llvm/Support/raw_ostream.h"
#include <cmath>

#define DEBUG_TYPE "quantkv-fuse-sdpa"

using namespace mlir;
using namespace mlir::quantkv;

/// A fill value that removes a score from the softmax: -inf, or a finite
/// value so negative that exp(fill - max) is 0 for any score of realistic
/// magnitude (|s| < 1e8); frameworks use -1e9 or the f32 lowest value.
static bool isMaskedOutFill(const ExprNode *node) {
  std::optional<double> value = node->getFloatConstant();
  return value && *value <= -1.0e9;
}

//===----------------------------------------------------------------------===//
// Causal mask
//===----------------------------------------------------------------------===//

/// The affine function of the root dims an index-derived scalar computes
/// (linalg.index, casts, +, -, * constant, integral constants).
static std::optional<AffineExpr> getIndexFunction(const ExprNode *node,
                                                  MLIRContext *ctx) {
  switch (node->kind) {
  case ExprNode::Kind::Index:
    return node->index;
  case ExprNode::Kind::Const: {
    if (auto i = node->getIntConstant())
      return getAffineConstantExpr(*i, ctx);
    if (auto f = node->getFloatConstant(); f && *f == std::floor(*f))
      return getAffineConstantExpr(static_cast<int64_t>(*f), ctx);
    return std::nullopt;
  }
  case ExprNode::Kind::Leaf:
    return std::nullopt;
  case ExprNode::Kind::Op:
    break;
  }
  Operation *op = node->op;
  if (isa<arith::IndexCastOp, arith::IndexCastUIOp, arith::SIToFPOp,
          arith::UIToFPOp, arith::ExtSIOp, arith::ExtUIOp>(op))
    return getIndexFunction(node->operands[0], ctx);
  if (node->operands.size() != 2)
    return std::nullopt;
  auto lhs = getIndexFunction(node->operands[0], ctx);
  auto rhs = getIndexFunction(node->operands[1], ctx);
  if (!lhs || !rhs)
    return std::nullopt;
  if (isa<arith::AddIOp, arith::AddFOp>(op))
    return *lhs + *rhs;
  if (isa<arith::SubIOp, arith::SubFOp>(op))
    return *lhs - *rhs;
  if (isa<arith::MulIOp, arith::MulFOp>(op) &&
      (isa<AffineConstantExpr>(*lhs) || isa<AffineConstantExpr>(*rhs)))
    return *lhs * *rhs;
  return std::nullopt;
}

/// Coefficients of a linear `expr` over `numDims` dims, plus the constant.
static std::optional<SmallVector<int64_t>> getCoefficients(AffineExpr expr,
                                                           unsigned numDims) {
  MLIRContext *ctx = expr.getContext();
  auto evalAt = [&](int64_t unitDim) -> std::optional<int64_t> {
    SmallVector<AffineExpr> values;
    for (unsigned d = 0; d < numDims; ++d)
      values.push_back(getAffineConstantExpr(d == unitDim ? 1 : 0, ctx));
    AffineExpr v = simplifyAffineExpr(expr.replaceDims(values), numDims, 0);
    if (auto c = dyn_cast<AffineConstantExpr>(v))
      return c.getValue();
    return std::nullopt;
  };
  if (!expr.isPureAffine())
    return std::nullopt;
  auto base = evalAt(-1);
  if (!base)
    return std::nullopt;
  SmallVector<int64_t> coefficients;
  for (unsigned d = 0; d < numDims; ++d) {
    auto v = evalAt(d);
    if (!v)
      return std::nullopt;
    coefficients.push_back(*v - *base);
  }
  coefficients.push_back(*base);
  return coefficients;
}

/// Matches `cond` (true where `fillWhenTrue` says the key is masked out) as
/// a causal mask; `i` / `j` are the query / key dims.
static FailureOr<CausalAlignment>
matchCausal(const ExprNode *cond, bool fillWhenTrue, unsigned numDims,
            unsigned i, unsigned j, int64_t sq, int64_t skv, std::string &why) {
  why = "select condition is not a causal comparison of the query and key "
        "indices";
  if (!cond->isOp() || cond->operands.size() != 2)
    return failure();
  // Normalize to F > 0 with F = lhs - rhs (+1 for >=), negated for < / <=.
  int sign = 0, shift = 0;
  bool isUnsignedPred = false;
  if (auto cmp = cond->getOp<arith::CmpIOp>()) {
    using P = arith::CmpIPredicate;
    switch (cmp.getPredicate()) {
    case P::ugt:
      isUnsignedPred = true;
      [[fallthrough]];
    case P::sgt:
      sign = 1;
      break;
    case P::uge:
      isUnsignedPred = true;
      [[fallthrough]];
    case P::sge:
      sign = 1;
      shift = 1;
      break;
    case P::ult:
      isUnsignedPred = true;
      [[fallthrough]];
    case P::slt:
      sign = -1;
      break;
    case P::ule:
      isUnsignedPred = true;
      [[fallthrough]];
    case P::sle:
      sign = -1;
      shift = 1;
      break;
    default:
      return failure();
    }
  } else if (auto cmp = cond->getOp<arith::CmpFOp>()) {
    using P = arith::CmpFPredicate;
    switch (cmp.getPredicate()) {
    case P::OGT:
    case P::UGT:
      sign = 1;
      break;
    case P::OGE:
    case P::UGE:
      sign = 1;
      shift = 1;
      break;
    case P::OLT:
    case P::ULT:
      sign = -1;
      break;
    case P::OLE:
    case P::ULE:
      sign = -1;
      shift = 1;
      break;
    default:
      return failure();
    }
  } else {
    return failure();
  }
  MLIRContext *ctx = cond->type.getContext();
  auto lhs = getIndexFunction(cond->operands[0], ctx);
  auto rhs = getIndexFunction(cond->operands[1], ctx);
  if (!lhs || !rhs)
    return failure();
  auto lhsCoef = getCoefficients(*lhs, numDims);
  auto rhsCoef = getCoefficients(*rhs, numDims);
  if (!lhsCoef || !rhsCoef)
    return failure();
  // Unsigned compares agree with signed ones on non-negative sides only.
  if (isUnsignedPred &&
      (llvm::any_of(*lhsCoef, [](int64_t c) { return c < 0; }) ||
       llvm::any_of(*rhsCoef, [](int64_t c) { return c < 0; })))
    return failure();
  SmallVector<int64_t> f;
  for (auto [a, b] : llvm::zip(*lhsCoef, *rhsCoef))
    f.push_back(sign * (a - b));
  f.back() += shift;
  for (unsigned d = 0; d < numDims; ++d)
    if (d != i && d != j && f[d] != 0)
      return failure();
  // masked <=> j - i > t.
  int64_t t;
  if (f[j] == 1 && f[i] == -1 && fillWhenTrue) {
    t = -f.back(); // j - i + c > 0
  } else if (f[j] == -1 && f[i] == 1 && !fillWhenTrue) {
    t = f.back() - 1; // kept <=> i - j + c > 0 <=> j - i <= c - 1
  } else {
    return failure();
  }
  if (t == 0)
    return CausalAlignment::top_left;
  if (t == skv - sq) {
    if (sq > skv) {
      why = "bottom-right causal mask with more queries than keys masks "
            "whole rows out (NaN unfused, zeros fused)";
      return failure();
    }
    return CausalAlignment::bottom_right;
  }
  why = "select masks keys j > i + " + std::to_string(t) +
        ", which is neither top-left (0) nor bottom-right (" +
        std::to_string(skv - sq) + ") causal";
  return failure();
}

//===----------------------------------------------------------------------===//
// Scores: select(causal, -inf, S * c + mask)
//===----------------------------------------------------------------------===//

/// True when `node` reads a contraction result (the scores side).
static bool readsContraction(const ExprNode *node) {
  bool found = false;
  forEachLeaf(node, [&](const ExprNode *leaf) {
    if (auto op = leaf->tensor.getDefiningOp<linalg::LinalgOp>())
      found |= op.getNumReductionLoops() > 0;
  });
  return found;
}

/// The mask addend as a tensor and map, if it is one.
static bool getMaskTensor(const ExprNode *node, Value &mask, AffineMap &map) {
  if (readsContraction(node))
    return false;
  if (node->getOp<arith::ExtFOp>() && node->operands[0]->isLeaf())
    node = node->operands[0];
  if (node->isLeaf() && node->map) {
    mask = node->tensor;
    map = node->map;
    return true;
  }
  if (node->origin) {
    mask = node->origin;
    map = node->originMap;
    return true;
  }
  return false;
}

static LogicalResult matchScores(const ExprNode *node, AffineMap probsMap,
                                 ArrayRef<int64_t> shape, SoftmaxMatch &match,
                                 std::string &why) {
  unsigned rank = shape.size();
  auto probsDim = [&](unsigned r) {
    return cast<AffineDimExpr>(probsMap.getResult(r)).getPosition();
  };
  bool seenSelect = false, seenMask = false;
  while (true) {
    if (auto select = node->getOp<arith::SelectOp>()) {
      if (seenSelect) {
        why = "more than one select on the scores";
        return failure();
      }
      seenSelect = true;
      bool fillWhenTrue;
      if (isMaskedOutFill(node->operands[1]))
        fillWhenTrue = true;
      else if (isMaskedOutFill(node->operands[2]))
        fillWhenTrue = false;
      else {
        why = "select on the scores does not fill with -inf (or <= -1e9)";
        return failure();
      }
      FailureOr<CausalAlignment> causal =
          matchCausal(node->operands[0], fillWhenTrue, probsMap.getNumDims(),
                      probsDim(rank - 2), probsDim(rank - 1), shape[rank - 2],
                      shape[rank - 1], why);
      if (failed(causal))
        return failure();
      match.causal = *causal;
      node = node->operands[fillWhenTrue ? 2 : 1];
      continue;
    }
    if (node->getOp<arith::AddFOp>()) {
      if (seenMask) {
        why = "more than one addition on the scores";
        return failure();
      }
      seenMask = true;
      int side = -1;
      for (int s = 1; s >= 0 && side < 0; --s)
        if (getMaskTensor(node->operands[s], match.mask, match.maskMap))
          side = s;
      if (side < 0) {
        why = "addend of the scores is not a mask tensor";
        return failure();
      }
      node = node->operands[1 - side];
      continue;
    }
    if (node->getOp<arith::ExtFOp>()) {
      node = node->operands[0];
      continue;
    }
    // The scale applies to the raw scores, before any mask.
    std::optional<double> scale;
    if (node->getOp<arith::MulFOp>()) {
      for (int s = 0; s < 2 && !scale; ++s)
        if ((scale = node->operands[s]->getFloatConstant()))
          node = node->operands[1 - s];
      if (!scale) {
        why = "scores are multiplied by a non-constant";
        return failure();
      }
    } else if (node->getOp<arith::DivFOp>()) {
      std::optional<double> divisor = node->operands[1]->getFloatConstant();
      if (!divisor || *divisor == 0.0) {
        why = "scores are divided by a non-constant";
        return failure();
      }
      scale = 1.0 / *divisor;
      node = node->operands[0];
    }
    if (scale)
      match.scale = *scale;
    if (node->getOp<arith::ExtFOp>())
      node = node->operands[0];
    if (node->isLeaf() && node->map) {
      if (node->map != probsMap) {
        why = "scores are read transposed or broadcast";
        return failure();
      }
      match.scores = node->tensor;
      // The mask map, from the loops to P's dims (another loop becomes an
      // invalid constant index).
      if (match.mask) {
        MLIRContext *ctx = probsMap.getContext();
        SmallVector<AffineExpr> toProbs(probsMap.getNumDims(),
                                        getAffineConstantExpr(-1, ctx));
        for (unsigned r = 0; r < rank; ++r)
          toProbs[probsDim(r)] = getAffineDimExpr(r, ctx);
        match.maskMap =
            match.maskMap.replaceDimsAndSymbols(toProbs, {}, rank, 0);
      }
      return success();
    }
    std::string str;
    llvm::raw_string_ostream os(str);
    os << "unexpected computation on the scores";
    if (node->isOp())
      os << ": " << node->op->getName() << (scale ? " under the scale" : "");
    why = str;
    return failure();
  }
}

//===----------------------------------------------------------------------===//
// Softmax
//===----------------------------------------------------------------------===//

/// Matches a reduction over the last of `shape`'s dims, read from the
/// probabilities' space at `readMap`; returns its input's expression.
template <typename... CombinerOps>
static const ExprNode *
matchLastDimReduction(ExprTreeBuilder &builder, const ExprNode *leaf,
                      AffineMap probsMap, ArrayRef<int64_t> rootSizes,
                      ArrayRef<int64_t> shape, SoftmaxMatch &match,
                      std::string &why) {
  unsigned rank = shape.size();
  why = "softmax is not a max/sum reduction over the key (last) dim";
  if (!leaf->isLeaf() || !leaf->map)
    return nullptr;
  auto op = leaf->tensor.getDefiningOp<linalg::LinalgOp>();
  if (!op || op.getNumDpsInputs() < 1 || op.getNumDpsInits() != 1 ||
      op->getNumResults() != 1 || op.getNumLoops() != rank ||
      op.getStaticLoopRanges() != SmallVector<int64_t>(shape))
    return nullptr;
  auto iterators = op.getIteratorTypesArray();
  for (unsigned d = 0; d < rank; ++d)
    if (linalg::isReductionIterator(iterators[d]) != (d == rank - 1))
      return nullptr;
  // The result is read (and written) at P's leading dims, with an optional
  // trailing unit dim (keepdim).
  auto isReducedMap = [&](AffineMap map, AffineMap dims) {
    unsigned n = map.getNumResults();
    if (n != rank - 1 && n != rank)
      return false;
    for (unsigned d = 0; d < rank - 1; ++d)
      if (map.getResult(d) != dims.getResult(d))
        return false;
    return n == rank - 1 || map.getResult(rank - 1) ==
                                getAffineConstantExpr(0, map.getContext());
  };
  OpOperand *init = op.getDpsInitOperand(0);
  AffineMap ownLoops = AffineMap::getMultiDimIdentityMap(rank, op.getContext());
  if (!isReducedMap(leaf->map, probsMap) ||
      !isReducedMap(op.getMatchingIndexingMap(init), ownLoops))
    return nullptr;
  Block *body = op.getBlock();
  Operation *combiner = body->getTerminator()->getOperand(0).getDefiningOp();
  if (!combiner || !isa<CombinerOps...>(combiner))
    return nullptr;
  // combiner(x, acc) in either order; x may be computed in the body (a
  // producer fused into the reduction).
  Value out = op.getMatchingBlockArgument(init);
  Value in;
  if (combiner->getOperand(1) == out)
    in = combiner->getOperand(0);
  else if (combiner->getOperand(0) == out)
    in = combiner->getOperand(1);
  if (!in || in == out)
    return nullptr;
  // Identities: 0 for the sum; -inf (or the lowest f32) for the max, or NaN
  // for maxnumf, which ignores it (upstream's softmax decomposition).
  bool isSum = isa<arith::AddFOp>(combiner);
  bool ignoresNaN = isa<arith::MaxNumFOp>(combiner);
  std::optional<double> start = getSplatFloat(init->get());
  if (!start || !(isSum ? *start == 0.0
                        : *start <= -3.0e38 ||
                              (ignoresNaN && std::isnan(*start)))) {
    why = isSum ? "sum reduction does not start at 0"
                : "max reduction does not start at -inf (or the lowest f32, "
                  "or NaN for maxnumf)";
    return nullptr;
  }
  match.ops.push_back(op);
  // The reduction's loops are P's dims.
  return builder.buildInBody(op, in, probsMap, rootSizes);
}

FailureOr<SoftmaxMatch> mlir::quantkv::matchSoftmax(ExprTreeBuilder &builder,
                                                    const ExprNode *node,
                                                    AffineMap probsMap,
                                                    ArrayRef<int64_t> rootSizes,
                                                    std::string &why) {
  SoftmaxMatch match;
  unsigned rank = probsMap.getNumResults();
  SmallVector<int64_t> shape;
  for (AffineExpr e : probsMap.getResults())
    shape.push_back(rootSizes[cast<AffineDimExpr>(e).getPosition()]);
  // The contraction's own promotion (extf to the accumulator type) is exact;
  // a narrowing cast before it is P's precision.
  if (node->getOp<arith::ExtFOp>())
    node = node->operands[0];
  match.probsType = node->type;
  if ((node->getOp<TypecastOp>() || node->getOp<arith::TruncFOp>()) &&
      node->operands[0]->type.isF32())
    node = node->operands[0];

  const ExprNode *scores = nullptr;
  if (node->isLeaf() && node->map) {
    auto softmax = node->tensor.getDefiningOp<linalg::SoftmaxOp>();
    if (!softmax) {
      why = "P of P x V is not a softmax";
      return failure();
    }
    if (node->map != probsMap) {
      why = "softmax result is read transposed or broadcast";
      return failure();
    }
    if (softmax.getDimension() != rank - 1) {
      why = "softmax is over dim " + std::to_string(softmax.getDimension()) +
            ", not over the keys (last dim)";
      return failure();
    }
    if (!isa<RankedTensorType>(softmax.getInput().getType())) {
      why = "softmax input is not a tensor";
      return failure();
    }
    match.ops.push_back(softmax);
    scores = builder.build(softmax.getInput(), probsMap, rootSizes);
  } else {
    // exp(x - max) / sum(exp(x - max))
    if (!node->getOp<arith::DivFOp>()) {
      why = "P of P x V is neither linalg.softmax nor exp(x - max) / sum";
      return failure();
    }
    const ExprNode *numerator = node->operands[0];
    const ExprNode *sub =
        numerator->getOp<math::ExpOp>() ? numerator->operands[0] : nullptr;
    if (!sub || !sub->getOp<arith::SubFOp>()) {
      why = "softmax numerator is not exp(x - max)";
      return failure();
    }
    const ExprNode *sumInput = matchLastDimReduction<arith::AddFOp>(
        builder, node->operands[1], probsMap, rootSizes, shape, match, why);
    if (!sumInput)
      return failure();
    if (!isEqualExpr(sumInput, numerator)) {
      why = "softmax denominator does not sum its numerator";
      return failure();
    }
    const ExprNode *maxInput =
        matchLastDimReduction<arith::MaximumFOp, arith::MaxNumFOp>(
            builder, sub->operands[1], probsMap, rootSizes, shape, match, why);
    if (!maxInput)
      return failure();
    if (!isEqualExpr(maxInput, sub->operands[0])) {
      why = "softmax subtracts the max of another tensor";
      return failure();
    }
    scores = sub->operands[0];
  }
  if (failed(matchScores(scores, probsMap, shape, match, why)))
    return failure();
  return match;
}
