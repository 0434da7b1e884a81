//===- SdpaOutput.cpp - output rows and split merge -----------------------===//
//
// Part of the quantkv project, under the Apache License v2.0 with LLVM
// Exceptions.
//
//===----------------------------------------------------------------------===//
//
// The end of a work item: normalized output rows (with the token-invariant V
// scale and zero point), and the log-sum-exp merge of the partial results of a
// split key range.
//
//===----------------------------------------------------------------------===//

#include "SdpaEmitter.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

using namespace mlir;
using namespace mlir::quantkv;

void SdpaEmitter::finalizeRow(Value acc, Value r, Value l, Value bi, Value hkv,
                              RowIndex ri, Value rowBuf) {
  Value zero = cF32(0.0);
  auto [positive, inv] = inverseOrZero(l, zero);
  Value invV = splat(inv);
  int64_t vv = p.valueHeadDim / p.lanes;
  if (p.value.splitNibbles) {
    // The accumulators hold even/odd planes per 32-element block:
    // interleave them back into storage order once per row.
    int64_t L = p.lanes;
    SmallVector<int64_t> first, second;
    for (int64_t l = 0; l < L / 2; ++l) {
      first.append({l, L + l});
      second.append({L / 2 + l, L + L / 2 + l});
    }
    for (int64_t c = 0; c < vv; c += 2) {
      Value even = vload(vecTy, acc, {r, cIdx(c * L)});
      Value odd = vload(vecTy, acc, {r, cIdx((c + 1) * L)});
      Value lo = vector::ShuffleOp::create(b, loc, even, odd, first);
      Value hiV = vector::ShuffleOp::create(b, loc, even, odd, second);
      vstore(mul(lo, invV), rowBuf, {cIdx(c * L)});
      vstore(mul(hiV, invV), rowBuf, {cIdx((c + 1) * L)});
    }
  } else {
    for (int64_t c = 0; c < vv; ++c) {
      Value a = vload(vecTy, acc, {r, cIdx(c * p.lanes)});
      vstore(mul(a, invV), rowBuf, {cIdx(c * p.lanes)});
    }
  }
  const CacheOperandPlan &cv = p.value;
  if (cv.quantized && cv.tokenInvariant)
    parameters(cv, buf.valueScale, buf.valueZeroPoint)
        .applyInvariantParams(rowBuf, bi, hkv, p.valueHeadDim, positive, zero);
  for (int64_t c = 0; c < vv; ++c) {
    Value o = vload(vecTy, rowBuf, {cIdx(c * p.lanes)});
    vstore(fromF32(o, p.outputType), buf.output,
           {bi, ri.head, ri.i, cIdx(c * p.lanes)});
  }
}

void SdpaEmitter::emitMerge(Value item) {
  const int64_t RB = p.rowBlock, L = p.lanes, vVecs = p.valueHeadDim / L;
  Value rb = remui(item, p.numRowBlocks);
  Value t = divui(item, p.numRowBlocks);
  Value hkv = remui(t, p.kvHeads);
  Value bi = divui(t, p.kvHeads);
  Value first = muli(item, cIdx(p.numSplits));
  Value last = addi(first, cIdx(p.numSplits));
  Value accBuf = scratch({1, p.valueHeadDim});
  Value rowBuf = scratch({p.valueHeadDim});
  for (int64_t r = 0; r < RB; ++r) {
    Value cr = cIdx(r);
    Value mMax = forLoop(first, last, cIdx(1), {negInf()},
                         [&](Value s, ValueRange m) -> SmallVector<Value> {
                           return {maxf(m[0], load(partM, {s, cr}))};
                         })[0];
    Value isEmpty = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OEQ,
                                          mMax, negInf());
    Value mUse = arith::SelectOp::create(b, loc, isEmpty, cF32(0.0), mMax);
    SmallVector<Value> init = {cF32(0.0)};
    for (int64_t c = 0; c < vVecs; ++c)
      init.push_back(splat(cF32(0.0)));
    SmallVector<Value> sums = forLoop(
        first, last, cIdx(1), init,
        [&](Value s, ValueRange acc) -> SmallVector<Value> {
          Value wgt =
              math::ExpOp::create(b, loc, sub(load(partM, {s, cr}), mUse));
          SmallVector<Value> next = {
              add(acc[0], mul(wgt, load(partL, {s, cr})))};
          Value wv = splat(wgt);
          for (int64_t c = 0; c < vVecs; ++c)
            next.push_back(fma(wv, vload(vecTy, partAcc, {s, cr, cIdx(c * L)}),
                               acc[1 + c]));
          return next;
        });
    for (int64_t c = 0; c < vVecs; ++c)
      vstore(sums[1 + c], accBuf, {cIdx(0), cIdx(c * L)});
    Value row = addi(muli(rb, cIdx(RB)), cr);
    finalizeRow(accBuf, cIdx(0), sums[0], bi, hkv, rowIndex(hkv, row), rowBuf);
  }
}
