//===- AttentionMatcher.cpp - recognize compressed-K/V attention ----------===//
//
// Part of the quantkv project, under the Apache License v2.0 with LLVM
// Exceptions.
//
//===----------------------------------------------------------------------===//

#include "quantkv/Dialect/QuantKV/Transforms/AttentionMatcher.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/LinalgInterfaces.h"
#include "mlir/IR/Matchers.h"
#include "llvm/ADT/SetVector.h"

#include <cmath>

#define DEBUG_TYPE "quantkv-fuse-sdpa"

using namespace mlir;
using namespace mlir::quantkv;

namespace {
/// The loops of a batched contraction `out[batch.., m, n] += a[batch.., m, k]
/// * b[...]`: `batch` in the output's order.
struct ContractionDims {
  SmallVector<unsigned> batch;
  unsigned m, n, k;
  SmallVector<int64_t> sizes;
  /// What is multiplied, over the loops: `lhs` reads M (Q or P), `rhs` does
  /// not (K or V). Producers fused into the contraction are inlined.
  const ExprNode *lhs = nullptr, *rhs = nullptr;
  /// [batch..., M, K] over the loops: how Q / P is read.
  AffineMap lhsMap;
};
} // namespace

/// True when the expression reads loop `dim` anywhere.
static bool readsLoop(const ExprNode *node, unsigned dim) {
  if (node->kind == ExprNode::Kind::Index && node->index.isFunctionOfDim(dim))
    return true;
  if (node->isLeaf() && node->map && node->map.isFunctionOfDim(dim))
    return true;
  return llvm::any_of(node->operands,
                      [&](const ExprNode *o) { return readsLoop(o, dim); });
}

/// Matches `out[batch.., m, n] += lhs * rhs` summed over one loop `k`, with
/// `lhs` and `rhs` any expressions (named matmuls, linalg.contract and
/// generics, producers fused into them included).
static FailureOr<ContractionDims> matchContraction(linalg::LinalgOp op,
                                                   ExprTreeBuilder &builder,
                                                   StringRef name,
                                                   std::string &why) {
  auto fail = [&](const Twine &reason) {
    why = (name + " " + reason).str();
    return failure();
  };
  if (!op || op.getNumDpsInputs() < 2 || op.getNumDpsInits() != 1 ||
      op->getNumResults() != 1 || !op.hasPureTensorSemantics())
    return fail("is not a tensor linalg op with one result");
  // yield(acc + x * y), the accumulator read once.
  Block *body = op.getBlock();
  Value acc = op.getMatchingBlockArgument(op.getDpsInitOperand(0));
  auto add =
      body->getTerminator()->getOperand(0).getDefiningOp<arith::AddFOp>();
  if (!add || !acc.hasOneUse())
    return fail("is not a multiply-accumulate contraction");
  Value product = add.getLhs() == acc ? add.getRhs() : add.getLhs();
  auto mul = product.getDefiningOp<arith::MulFOp>();
  if ((add.getLhs() != acc && add.getRhs() != acc) || !mul ||
      mul->getBlock() != body)
    return fail("is not a multiply-accumulate contraction");
  SmallVector<unsigned> reductions;
  op.getReductionDims(reductions);
  if (reductions.size() != 1)
    return fail("does not contract exactly one dim");
  ContractionDims result;
  result.k = reductions[0];
  result.sizes = op.getStaticLoopRanges();
  if (llvm::any_of(result.sizes, ShapedType::isDynamic))
    return fail("has dynamic sizes");
  MLIRContext *ctx = op.getContext();
  AffineMap outMap = op.getMatchingIndexingMap(op.getDpsInitOperand(0));
  unsigned outRank = outMap.getNumResults();
  if (outRank < 2 || outRank > 4 || !outMap.isProjectedPermutation() ||
      outRank + 1 != op.getNumLoops() || outMap.isFunctionOfDim(result.k))
    return fail("result is not [batch..., M, N] of rank 2 to 4");
  for (unsigned r = 0; r + 2 < outRank; ++r)
    result.batch.push_back(
        cast<AffineDimExpr>(outMap.getResult(r)).getPosition());
  result.m = cast<AffineDimExpr>(outMap.getResult(outRank - 2)).getPosition();
  result.n = cast<AffineDimExpr>(outMap.getResult(outRank - 1)).getPosition();
  SmallVector<AffineExpr> lhs;
  for (unsigned d : result.batch)
    lhs.push_back(getAffineDimExpr(d, ctx));
  lhs.push_back(getAffineDimExpr(result.m, ctx));
  lhs.push_back(getAffineDimExpr(result.k, ctx));
  result.lhsMap = AffineMap::get(op.getNumLoops(), 0, lhs, ctx);
  if (getSplatFloat(op.getDpsInitOperand(0)->get()) != 0.0)
    return fail("accumulates into a tensor that is not zero-filled");

  AffineMap loops = AffineMap::getMultiDimIdentityMap(op.getNumLoops(), ctx);
  const ExprNode *x =
      builder.buildInBody(op, mul.getLhs(), loops, result.sizes);
  const ExprNode *y =
      builder.buildInBody(op, mul.getRhs(), loops, result.sizes);
  bool xReadsM = readsLoop(x, result.m), yReadsM = readsLoop(y, result.m);
  if (xReadsM == yReadsM)
    return fail("does not multiply an [.., M, K] operand by a [.., K, N] one");
  result.lhs = xReadsM ? x : y;
  result.rhs = xReadsM ? y : x;
  if (readsLoop(result.lhs, result.n) || !readsLoop(result.lhs, result.k) ||
      !readsLoop(result.rhs, result.k))
    return fail("does not multiply an [.., M, K] operand by a [.., K, N] one");
  return result;
}

/// Checks that `match` reads its storage at [batch..., seq, dim] (or
/// [batch..., dim, seq] when `allowTransposed`), with the head dim shared by
/// `Hq / Hkv` consecutive query heads.
static LogicalResult checkStorageMap(const DequantMatch &match,
                                     const ContractionDims &dims, unsigned seq,
                                     unsigned dim, bool allowTransposed,
                                     bool &transposed, StringRef name,
                                     std::string &why) {
  auto type = cast<RankedTensorType>(match.storage.getType());
  AffineMap map = match.storageMap;
  MLIRContext *ctx = map.getContext();
  unsigned numBatch = dims.batch.size();
  if (type.getRank() != numBatch + 2 || map.getNumResults() != numBatch + 2) {
    why = (name + " storage rank does not match the contraction").str();
    return failure();
  }
  SmallVector<AffineExpr> batch;
  for (auto [i, d] : llvm::enumerate(dims.batch)) {
    AffineExpr e = getAffineDimExpr(d, ctx);
    // The head dim of a rank-4 attention may be shared (GQA / MQA).
    if (i == 1) {
      int64_t hq = dims.sizes[d], hkv = type.getDimSize(1);
      if (hkv <= 0 || hq % hkv != 0) {
        why = (name + " heads do not divide the query heads").str();
        return failure();
      }
      if (hq != hkv)
        e = simplifyWithBounds(e.floorDiv(hq / hkv), dims.sizes);
    }
    batch.push_back(e);
  }
  auto expect = [&](unsigned a, unsigned b) {
    SmallVector<AffineExpr> exprs = batch;
    exprs.push_back(getAffineDimExpr(a, ctx));
    exprs.push_back(getAffineDimExpr(b, ctx));
    return AffineMap::get(map.getNumDims(), 0, exprs, ctx);
  };
  transposed = false;
  if (map == expect(seq, dim))
    return success();
  if (allowTransposed && map == expect(dim, seq)) {
    transposed = true;
    return success();
  }
  std::string str;
  llvm::raw_string_ostream os(str);
  os << name << " is read at " << map << ", expected " << expect(seq, dim)
     << (allowTransposed ? " (or with the last two dims swapped)" : "")
     << ": the contraction is not over the head dim, or heads are not "
        "shared by consecutive query heads";
  why = str;
  return failure();
}

/// Checks that the intermediates of the pattern have no user outside it.
static LogicalResult checkNoOutsideUsers(const AttentionMatch &match,
                                         ExprTreeBuilder &builder,
                                         std::string &why) {
  llvm::SmallPtrSet<Operation *, 32> pattern(builder.getInlinedOps().begin(),
                                             builder.getInlinedOps().end());
  pattern.insert(match.softmax.ops.begin(), match.softmax.ops.end());
  pattern.insert(match.scoresOp);
  pattern.insert(match.outputOp);
  // Intermediates: what is computed from the scores or from the K/V
  // storage inside the pattern (not the masks or scale tensors, which may
  // be shared, e.g. one causal mask for every layer).
  llvm::SetVector<Operation *> chain;
  chain.insert(match.scoresOp);
  for (const DequantMatch *dq : {&match.key, &match.value}) {
    if (dq->dequantizeOp) {
      chain.insert(dq->dequantizeOp);
      pattern.insert(dq->dequantizeOp);
    }
    for (Operation *user : dq->storage.getUsers())
      if (pattern.contains(user) && user != match.outputOp)
        chain.insert(user);
  }
  for (unsigned i = 0; i < chain.size(); ++i)
    for (Operation *user : chain[i]->getUsers())
      if (pattern.contains(user) && user != match.outputOp)
        chain.insert(user);
  for (Operation *op : chain)
    for (Operation *user : op->getUsers())
      if (!pattern.contains(user)) {
        std::string str;
        llvm::raw_string_ostream os(str);
        os << "intermediate " << op->getName()
           << " has a user outside the attention (" << user->getName() << ")";
        why = str;
        return failure();
      }
  return success();
}

FailureOr<AttentionMatch>
mlir::quantkv::matchAttention(linalg::LinalgOp outputOp, std::string &why) {
  AttentionMatch match;
  match.outputOp = outputOp;
  ExprTreeBuilder builder(outputOp.getContext());
  FailureOr<ContractionDims> outDims =
      matchContraction(outputOp, builder, "P x V", why);
  if (failed(outDims))
    return failure();

  FailureOr<SoftmaxMatch> softmax =
      matchSoftmax(builder, outDims->lhs, outDims->lhsMap, outDims->sizes, why);
  if (failed(softmax))
    return failure();
  match.softmax = *softmax;

  auto scoresOp = softmax->scores.getDefiningOp<linalg::LinalgOp>();
  FailureOr<ContractionDims> scoreDims =
      matchContraction(scoresOp, builder, "Q x K^T", why);
  if (failed(scoreDims))
    return failure();
  match.scoresOp = scoresOp;
  if (scoreDims->batch.size() != outDims->batch.size()) {
    why = "Q x K^T and P x V have different batch dims";
    return failure();
  }
  // P's last dim (the keys) must be what P x V contracts.
  int64_t sq = scoreDims->sizes[scoreDims->m];
  int64_t skv = scoreDims->sizes[scoreDims->n];
  if (outDims->sizes[outDims->m] != sq || outDims->sizes[outDims->k] != skv) {
    why = "P x V does not contract the keys of the scores";
    return failure();
  }
  match.rank = scoreDims->batch.size() + 2;
  match.scoresSizes = scoreDims->sizes;
  match.outputSizes = outDims->sizes;

  // Q: a tensor read as [batch..., M, K] (through the contraction's own
  // promotion to the accumulator type, which is exact), possibly times a
  // constant folded into the scale when no tensor holds the product.
  match.scale = softmax->scale;
  const ExprNode *q = scoreDims->lhs;
  if (q->getOp<arith::ExtFOp>())
    q = q->operands[0];
  auto asQuery = [&](const ExprNode *node) -> Value {
    if (node->isLeaf() && node->map == scoreDims->lhsMap)
      return node->tensor;
    if (node->origin && node->originMap == scoreDims->lhsMap)
      return node->origin;
    return Value();
  };
  match.query = asQuery(q);
  if (!match.query && q->getOp<arith::MulFOp>() && q->type.isF32()) {
    for (int side = 0; side < 2 && !match.query; ++side) {
      std::optional<double> c = q->operands[side]->getFloatConstant();
      Value query = asQuery(q->operands[1 - side]);
      if (c && *c != 0.0 && query) {
        match.query = query;
        match.scale *= *c;
      }
    }
  }
  if (!match.query) {
    why = "Q is not a tensor read as [batch..., M, K]";
    return failure();
  }

  // K: read by Q x K^T at [b, h/G, n, k] (or [b, h/G, k, n]: K^T stored).
  FailureOr<DequantMatch> key = matchDequant(scoreDims->rhs, why);
  if (failed(key)) {
    why = "K: " + why;
    return failure();
  }
  match.key = *key;
  match.scale *= key->factor;
  // quantkv.sdpa carries the scale as an f32 that must be finite and non-zero
  // (a constant inf, a division by a denormal or a product that over- or
  // underflows f32 would otherwise build an op that does not verify).
  if (float scale = static_cast<float>(match.scale);
      !std::isfinite(scale) || scale == 0.0f) {
    why.clear();
    llvm::raw_string_ostream(why) << "the folded scale " << match.scale
                                  << " is not a finite non-zero f32";
    return failure();
  }
  if (failed(checkStorageMap(*key, *scoreDims, scoreDims->n, scoreDims->k,
                             /*allowTransposed=*/true, match.keyTransposed, "K",
                             why)))
    return failure();

  // V: read by P x V at [b, h/G, k, n].
  FailureOr<DequantMatch> value = matchDequant(outDims->rhs, why);
  if (failed(value)) {
    why = "V: " + why;
    return failure();
  }
  match.value = *value;
  if (value->factor != 1.0) {
    why = "V is multiplied by a constant after dequantization";
    return failure();
  }
  bool valueTransposed = false;
  if (failed(checkStorageMap(*value, *outDims, outDims->k, outDims->n,
                             /*allowTransposed=*/false, valueTransposed, "V",
                             why)))
    return failure();
  if (match.rank == 4 &&
      cast<RankedTensorType>(key->storage.getType()).getDimSize(1) !=
          cast<RankedTensorType>(value->storage.getType()).getDimSize(1)) {
    why = "K and V have different head counts";
    return failure();
  }
  if (failed(checkNoOutsideUsers(match, builder, why)))
    return failure();
  return match;
}
