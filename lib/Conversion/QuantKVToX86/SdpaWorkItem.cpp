//===- SdpaWorkItem.cpp - one work item of the row-block kernel -----------===//
//
// Part of the quantkv project, under the Apache License v2.0 with LLVM
// Exceptions.
//
//===----------------------------------------------------------------------===//
//
// One (batch, kv head, row block, split) work item:
//
//   q rows of the block -> f32, x softmax scale (x token-invariant K scale)
//   scf.for %j0 in [kvStart, kvEnd) step kvTile {
//     scf.for %j in tile { K row j: load packed, unpack, dequantize once;
//                          s[r][j] = q_r . k_j for every row r }
//     per row: mask, online max / exp / sum, rescale factor
//     scf.for %j in tile { V row j: load packed, unpack, dequantize once;
//                          acc[r] += p[r][j] * v_j (register block) }
//   }
//   finalize (acc / l, token-invariant V scale) or write the split partials
//
// The scores of a tile come from scoreTile (SdpaScores.cpp); with int8 math
// on VNNI, P x V is quantizeP / vnniPV (SdpaVnniValues.cpp) instead of the
// f32 FMAs here.
//
//===----------------------------------------------------------------------===//

#include "SdpaEmitter.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "llvm/Support/MathExtras.h"

using namespace mlir;
using namespace mlir::quantkv;

Value SdpaEmitter::quantizeQueryRow(Value qBuf, Value r, Value qi8Buf) {
  auto [rowScale, isZero] =
      quantizeRowInt8(qBuf, r, p.headDim / p.lanes, qi8Buf);
  return arith::SelectOp::create(b, loc, isZero, cF32(0.0), rowScale);
}

void SdpaEmitter::emitWorkItem(Value w) {
  const int64_t RB = p.rowBlock, T = p.kvTile, L = p.lanes;
  const int64_t D = p.headDim, Dv = p.valueHeadDim, vVecs = Dv / L;

  WorkItem it;
  Value sp = remui(w, p.numSplits);
  Value t = divui(w, p.numSplits);
  Value rb = remui(t, p.numRowBlocks);
  t = divui(t, p.numRowBlocks);
  it.hkv = remui(t, p.kvHeads);
  it.bi = divui(t, p.kvHeads);

  it.qBuf = scratch({RB, D});
  it.sBuf = scratch({RB, T});
  it.accBuf = scratch({RB, Dv});
  it.stats = scratch({4, RB}); // max, sum, rescale, K bias
  if (p.valueTileInScratch)
    it.vTileBuf = scratch({T, Dv});
  if (p.bf16Scores) {
    it.qbfBuf = scratchOf({RB, D}, b.getBF16Type());
    it.rsBuf = scratch({RB});
  }
  if (p.vnniScores) {
    // s8 Q rows: one per row, or the parts of each row's Q'.
    int64_t codeRows = queryCodeRows() * RB;
    int64_t laneVecs = D / (L * vnniElemsPerLane());
    it.qi8Buf = scratchOf({codeRows, D}, b.getI8Type());
    if (p.vnniKeyColumns) {
      it.qgBuf = scratchOf({codeRows, 2 * p.keyScaleGroups}, i32);
    } else {
      if (p.key.hasZeroPoint)
        it.qslBuf = scratch({RB, laneVecs * L});
      if (vnniKeyBias())
        it.qbBuf = scratchOf({RB, laneVecs * L}, i32);
    }
    it.rsBuf = scratch({RB});
  }
  if (amxScores)
    it.amxScratch = allocateAmxTileScratch(b, loc, p);
  Value rowBuf = scratch({Dv});
  // VNNI P x V: P halves per (half, row, group, 4 keys), dequantization
  // factor and integer bias/zero-point correction per (row, group).
  if (p.vnniValues) {
    int64_t NG = p.valueScaleGroups;
    it.pBuf = scratchOf({2, RB, NG, T}, b.getI8Type());
    it.pfBuf = scratch({RB, NG});
    it.corrBuf = scratchOf({RB, NG}, i32);
  }
  it.cMax = cIdx(0);
  it.cSum = cIdx(1);
  it.cCorr = cIdx(2);
  it.cBias = cIdx(3);

  Value rowBase = muli(rb, cIdx(RB));
  for (int64_t r = 0; r < RB; ++r)
    it.rows.push_back(rowIndex(it.hkv, addi(rowBase, cIdx(r))));

  prepareQueryRows(it);

  // Key range of this split, cut at the causal diagonal of the block's last
  // row (whole tiles past it are skipped).
  Value kvStart = muli(sp, cIdx(p.splitLen));
  Value kvEnd = arith::MinUIOp::create(b, loc, addi(kvStart, cIdx(p.splitLen)),
                                       cIdx(p.kvLen));
  if (p.causal) {
    Value maxLimit;
    for (int64_t r = 0; r < RB; ++r) {
      Value lim = addi(it.rows[r].i, cIdx(p.causalOffset + 1));
      maxLimit = maxLimit
                     ? arith::MaxSIOp::create(b, loc, maxLimit, lim).getResult()
                     : lim;
      it.rowLimit.push_back(arith::IndexCastOp::create(b, loc, i32, lim));
    }
    kvEnd = arith::MinSIOp::create(b, loc, kvEnd, maxLimit);
    kvEnd = arith::MaxSIOp::create(b, loc, kvEnd, kvStart);
  }
  it.kvEndI32 = arith::IndexCastOp::create(b, loc, i32, kvEnd);

  it.iotaV = laneIota();

  // VNNI scores of 8 / RB keys are reduced together: lane u * RB + r of the
  // reduced vector is multiplied by the scale of row r.
  if (p.vnniScores && RB <= 4 && llvm::isPowerOf2_64(RB)) {
    auto v8 = VectorType::get({8}, f32);
    Value scales = vector::BroadcastOp::create(b, loc, v8, cF32(0.0));
    for (int64_t l = 0; l < 8; ++l)
      scales = vector::InsertOp::create(b, loc, load(it.rsBuf, cIdx(l % RB)),
                                        scales, ArrayRef<int64_t>{l});
    it.rowScales8 = scales;
  }

  forLoop(kvStart, kvEnd, cIdx(T), {}, [&](Value j0, ValueRange) {
    Value n = arith::MinUIOp::create(b, loc, cIdx(T),
                                     arith::SubIOp::create(b, loc, kvEnd, j0));
    scoreTile(it, j0, n);
    softmaxTile(it, j0);
    accumulateTile(it, j0, n);
    return SmallVector<Value>{};
  });

  if (p.numSplits == 1) {
    for (int64_t r = 0; r < RB; ++r)
      finalizeRow(it.accBuf, cIdx(r), load(it.stats, {it.cSum, cIdx(r)}), it.bi,
                  it.hkv, it.rows[r], rowBuf);
    return;
  }
  for (int64_t r = 0; r < RB; ++r) {
    Value cr = cIdx(r);
    store(load(it.stats, {it.cMax, cr}), partM, {w, cr});
    store(load(it.stats, {it.cSum, cr}), partL, {w, cr});
    for (int64_t c = 0; c < vVecs; ++c)
      vstore(vload(it.accBuf, {cr, cIdx(c * L)}), partAcc,
             {w, cr, cIdx(c * L)});
  }
}

void SdpaEmitter::prepareQueryRows(const WorkItem &it) {
  const int64_t RB = p.rowBlock, L = p.lanes, D = p.headDim,
                dVecs = p.headDim / p.lanes, vVecs = p.valueHeadDim / p.lanes;
  Value scaleV = splat(softmaxScale);
  const CacheOperandPlan &ck = p.key;
  for (int64_t r = 0; r < RB; ++r) {
    Value cr = cIdx(r);
    for (int64_t c = 0; c < dVecs; ++c) {
      Value q = vload(VectorType::get({L}, p.queryType), buf.query,
                      {it.bi, it.rows[r].head, it.rows[r].i, cIdx(c * L)});
      q = roundToMathMode(toF32(q));
      vstore(q, it.qBuf, {cr, cIdx(c * L)});
      if (p.bf16Scores)
        vstore(fromF32(q, b.getBF16Type()), it.qbfBuf, {cr, cIdx(c * L)});
    }
    if (p.bf16Scores)
      store(softmaxScale, it.rsBuf, cr);
    if (p.mathMode == MathMode::int8) {
      Value rowScale =
          quantizeQueryRow(it.qBuf, cr, p.vnniQueryParts ? Value() : it.qi8Buf);
      if (p.vnniScores && !p.vnniQueryParts) {
        store(mul(rowScale, softmaxScale), it.rsBuf, cr);
        layoutQueryCodes(it, cr);
      }
    }
    for (int64_t c = 0; c < dVecs; ++c) {
      Value q = vload(vecTy, it.qBuf, {cr, cIdx(c * L)});
      vstore(mul(q, scaleV), it.qBuf, {cr, cIdx(c * L)});
    }
    Value bias = cF32(0.0);
    if (ck.quantized && ck.tokenInvariant) {
      forLoop(cIdx(0), cIdx(D), cIdx(1), {},
              [&](Value d, ValueRange) -> SmallVector<Value> {
                Value linear = paramIndex(ck, it.bi, it.hkv, Value(), d);
                Value s = loadScale(ck, buf.keyScale, linear);
                store(mul(load(it.qBuf, {cr, d}), s), it.qBuf, {cr, d});
                return {};
              });
      if (p.vnniQueryParts) {
        quantizeQueryParts(it, r);
        for (int64_t part = 0; part < queryCodeRows(); ++part)
          layoutQueryCodes(it, cIdx(queryCodeRows() * r + part));
      }
      // The zero point's bias, of the Q' the scores see (rounded to 21 bits
      // with Q' parts).
      if (ck.hasZeroPoint)
        bias = forLoop(
            cIdx(0), cIdx(D), cIdx(1), {bias},
            [&](Value d, ValueRange acc) -> SmallVector<Value> {
              Value linear = paramIndex(ck, it.bi, it.hkv, Value(), d);
              Value z = loadZeroPoint(ck, buf.keyZeroPoint, linear);
              Value q = load(it.qBuf, {cr, d});
              return {
                  arith::AddFOp::create(b, loc, acc[0], mul(q, z)).getResult()};
            })[0];
    }
    if (ck.splitNibbles) {
      // K arrives as even/odd planes per 32-element block: de-interleave
      // the Q row once so that q_even . k_lo + q_odd . k_hi = q . k.
      SmallVector<int64_t> evens, odds;
      for (int64_t l = 0; l < L; ++l) {
        evens.push_back(2 * l);
        odds.push_back(2 * l + 1);
      }
      for (int64_t c = 0; c < dVecs; c += 2) {
        Value a = vload(vecTy, it.qBuf, {cr, cIdx(c * L)});
        Value a2 = vload(vecTy, it.qBuf, {cr, cIdx((c + 1) * L)});
        Value ev = vector::ShuffleOp::create(b, loc, a, a2, evens);
        Value od = vector::ShuffleOp::create(b, loc, a, a2, odds);
        vstore(ev, it.qBuf, {cr, cIdx(c * L)});
        vstore(od, it.qBuf, {cr, cIdx((c + 1) * L)});
      }
    }
    store(negInf(), it.stats, {it.cMax, cr});
    store(cF32(0.0), it.stats, {it.cSum, cr});
    store(bias, it.stats, {it.cBias, cr});
    Value zeroV = splat(cF32(0.0));
    for (int64_t c = 0; c < vVecs; ++c)
      vstore(zeroV, it.accBuf, {cr, cIdx(c * L)});
  }
}

void SdpaEmitter::layoutQueryCodes(const WorkItem &it, Value codeRow) {
  const int64_t L = p.lanes, D = p.headDim;
  auto bytes64 = VectorType::get({64}, b.getI8Type());
  auto i32x16 = VectorType::get({L}, i32);
  int64_t span = L * vnniElemsPerLane();
  if (it.qgBuf) {
    // Per scale group g: -bias x sum of q over the group (the i32
    // accumulator start) and the sum itself (zero points).
    int64_t NG = p.keyScaleGroups, groupLen = D / NG;
    for (int64_t g = 0; g < NG; ++g) {
      Value sum = forLoop(cIdx(g * groupLen), cIdx((g + 1) * groupLen), cIdx(1),
                          {cI32(0)},
                          [&](Value d, ValueRange acc) -> SmallVector<Value> {
                            Value q = arith::ExtSIOp::create(
                                b, loc, i32, load(it.qi8Buf, {codeRow, d}));
                            return {addi(acc[0], q)};
                          })[0];
      store(arith::MulIOp::create(b, loc, sum, cI32(-vnniKeyBias())), it.qgBuf,
            {codeRow, cIdx(g)});
      store(sum, it.qgBuf, {codeRow, cIdx(NG + g)});
    }
  }
  if (p.vnniNibblePlanes) {
    // K chunks of 128 elements arrive as low (even) and high (odd) nibble
    // planes: store each chunk of the s8 Q row as its 64 even elements
    // followed by its 64 odd ones.
    auto bytes128 = VectorType::get({128}, b.getI8Type());
    SmallVector<int64_t> planes;
    for (int64_t h = 0; h < 2; ++h)
      for (int64_t e = 0; e < 64; ++e)
        planes.push_back(2 * e + h);
    for (int64_t c = 0; c < D / 128; ++c) {
      Value q = vload(bytes128, it.qi8Buf, {codeRow, cIdx(c * 128)});
      vstore(vector::ShuffleOp::create(b, loc, q, q, planes), it.qi8Buf,
             {codeRow, cIdx(c * 128)});
    }
  }
  if (!it.qslBuf && !it.qbBuf)
    return;
  // Lane sums of the one-key-at-a-time path (its rows are the Q rows).
  Value ones = splatInt(bytes64, 1);
  Value zeroI = splatInt(i32x16, 0);
  for (int64_t c = 0; c < D / span; ++c) {
    Value sum = zeroI;
    for (int64_t pl = 0; pl < span / 64; ++pl)
      sum = dpbusd(
          sum, ones,
          vload(bytes64, it.qi8Buf, {codeRow, cIdx(c * span + pl * 64)}));
    if (it.qslBuf)
      vstore(arith::SIToFPOp::create(b, loc, vecTy, sum), it.qslBuf,
             {codeRow, cIdx(c * 16)});
    if (it.qbBuf)
      vstore(muli(sum, splatInt(i32x16, -vnniKeyBias())), it.qbBuf,
             {codeRow, cIdx(c * 16)});
  }
}

void SdpaEmitter::quantizeQueryParts(const WorkItem &it, int64_t r) {
  auto i32x16 = VectorType::get({p.lanes}, i32);
  auto i8x16 = VectorType::get({p.lanes}, b.getI8Type());
  // 21 bits, |w| < 2^20; the f32 row keeps the rounded values (the zero
  // point's bias is computed from them).
  Value unit =
      quantizeRow(
          it.qBuf, cIdx(r), p.headDim / p.lanes, 1048575.0,
          [&](int64_t c, Value w) {
            // w = 2^14 top + 2^7 mid + lo, top in [-64, 63], mid and
            // lo in [0, 127].
            Value wi = arith::FPToSIOp::create(b, loc, i32x16, w);
            Value parts[3] = {
                arith::ShRSIOp::create(b, loc, wi, splatInt(i32x16, 14)),
                arith::AndIOp::create(
                    b, loc,
                    arith::ShRSIOp::create(b, loc, wi, splatInt(i32x16, 7)),
                    splatInt(i32x16, 127)),
                arith::AndIOp::create(b, loc, wi, splatInt(i32x16, 127))};
            for (auto [k, part] : llvm::enumerate(parts))
              vstore(arith::TruncIOp::create(b, loc, i8x16, part), it.qi8Buf,
                     {cIdx(queryCodeRows() * r + k), cIdx(c * p.lanes)});
          })
          .first;
  store(unit, it.rsBuf, cIdx(r));
}

SmallVector<Value> SdpaEmitter::maskedScores(const WorkItem &it, Value j0,
                                             int64_t r, Value &tileMax) {
  const int64_t L = p.lanes, tVecs = p.kvTile / p.lanes;
  Value j0I32 = arith::IndexCastOp::create(b, loc, i32, j0);
  Value cr = cIdx(r);
  // The per-row K bias is the zero point of a token-invariant K scale
  // folded into Q: statically 0 otherwise.
  const CacheOperandPlan &ck = p.key;
  Value bias;
  if (ck.quantized && ck.tokenInvariant && ck.hasZeroPoint)
    bias = splat(load(it.stats, {it.cBias, cr}));
  SmallVector<Value> s(tVecs);
  tileMax = Value();
  for (int64_t c = 0; c < tVecs; ++c) {
    Value jv = addi(splat(addi(j0I32, cI32(c * L))), it.iotaV);
    Value valid = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::slt, jv,
                                        splat(it.kvEndI32));
    if (p.causal)
      valid = arith::AndIOp::create(
          b, loc, valid,
          arith::CmpIOp::create(b, loc, arith::CmpIPredicate::slt, jv,
                                splat(it.rowLimit[r])));
    Value sv = vload(vecTy, it.sBuf, {cr, cIdx(c * L)});
    if (bias)
      sv = sub(sv, bias);
    if (p.hasMask) {
      int64_t rank = p.maskShape.size();
      Value full[4] = {it.bi, it.rows[r].head, it.rows[r].i,
                       addi(j0, cIdx(c * L))};
      SmallVector<Value> idx;
      for (int64_t k = 0; k < rank; ++k)
        idx.push_back(p.maskShape[k] == 1 ? cIdx(0) : full[4 - rank + k]);
      Value m;
      if (p.maskShape.back() == 1) {
        m = splat(toF32(load(buf.mask, idx)));
      } else {
        auto mt = VectorType::get({L}, p.maskType);
        Value pad = arith::ConstantOp::create(
            b, loc, mt, DenseElementsAttr::get(mt, b.getZeroAttr(p.maskType)));
        m = toF32(vector::MaskedLoadOp::create(b, loc, mt, buf.mask, idx, valid,
                                               pad));
      }
      sv = add(sv, m);
    }
    sv = arith::SelectOp::create(b, loc, valid, sv, splat(negInf()));
    s[c] = sv;
    // (int8 VNNI path: scores are finite or -inf, so vmaxps alone is
    // exact.)
    tileMax = !tileMax       ? sv
              : p.vnniValues ? fastMax(tileMax, sv)
                             : maxf(tileMax, sv);
  }
  return s;
}

void SdpaEmitter::softmaxTile(const WorkItem &it, Value j0) {
  if (p.vnniValues)
    return softmaxTileRows(it, j0);
  const int64_t RB = p.rowBlock, L = p.lanes, tVecs = p.kvTile / p.lanes;
  for (int64_t r = 0; r < RB; ++r) {
    Value cr = cIdx(r);
    Value tileMax;
    SmallVector<Value> s = maskedScores(it, j0, r, tileMax);
    Value mOld = load(it.stats, {it.cMax, cr});
    Value mNew = maxf(mOld, treeReduce(tileMax, /*isMax=*/true));
    Value mUse = maxToSubtract(mNew);
    Value corr = math::ExpOp::create(b, loc, sub(mOld, mUse));
    Value mUseV = splat(mUse);
    Value psum;
    for (int64_t c = 0; c < tVecs; ++c) {
      // s <= mUse (or both -inf): the softmax exp of the prefill kernel.
      Value e = expNonPositive(sub(s[c], mUseV));
      psum = psum ? add(psum, e) : e;
      vstore(roundToMathMode(e), it.sBuf, {cr, cIdx(c * L)});
    }
    Value lNew = add(mul(load(it.stats, {it.cSum, cr}), corr),
                     treeReduce(psum, /*isMax=*/false));
    store(mNew, it.stats, {it.cMax, cr});
    store(lNew, it.stats, {it.cSum, cr});
    store(corr, it.stats, {it.cCorr, cr});
  }
}

void SdpaEmitter::softmaxTileRows(const WorkItem &it, Value j0) {
  const int64_t RB = p.rowBlock, L = p.lanes, tVecs = p.kvTile / p.lanes;
  assert(RB <= L && "one rescale factor per lane");
  // Rows of a power-of-two block share one transpose tree for their maxima
  // and one for their sums; others reduce row by row.
  bool together = llvm::isPowerOf2_64(RB) && RB > 1;
  auto reduceRows = [&](ArrayRef<Value> vecs, bool isMax) {
    SmallVector<Value> out;
    if (!together) {
      for (Value v : vecs)
        out.push_back(treeReduce(v, isMax, /*finite=*/true));
      return out;
    }
    Value all = multiReduce(vecs, [&](Value x, Value y) {
      return isMax ? fastMax(x, y) : add(x, y);
    });
    for (int64_t r = 0; r < RB; ++r)
      out.push_back(
          vector::ExtractOp::create(b, loc, all, ArrayRef<int64_t>{r}));
    return out;
  };
  SmallVector<SmallVector<Value>> s(RB);
  SmallVector<Value> tileMax(RB);
  for (int64_t r = 0; r < RB; ++r)
    s[r] = maskedScores(it, j0, r, tileMax[r]);
  SmallVector<Value> tMax = reduceRows(tileMax, /*isMax=*/true);
  // The rows' rescale factors e^{m_old - m_new} are one vector exp.
  Value args = splat(cF32(0.0));
  SmallVector<Value> mUse(RB);
  for (int64_t r = 0; r < RB; ++r) {
    Value cr = cIdx(r);
    Value mOld = load(it.stats, {it.cMax, cr});
    Value mNew = maxf(mOld, tMax[r]);
    mUse[r] = maxToSubtract(mNew);
    store(mNew, it.stats, {it.cMax, cr});
    args = vector::InsertOp::create(b, loc, sub(mOld, mUse[r]), args,
                                    ArrayRef<int64_t>{r});
  }
  Value corr = expNonPositive(args);
  SmallVector<Value> psums;
  for (int64_t r = 0; r < RB; ++r) {
    Value cr = cIdx(r);
    Value psum;
    for (int64_t c = 0; c < tVecs; ++c) {
      Value e = expShifted(s[r][c], mUse[r]);
      psum = psum ? add(psum, e) : e;
      vstore(e, it.sBuf, {cr, cIdx(c * L)});
    }
    psums.push_back(psum);
  }
  SmallVector<Value> sums = reduceRows(psums, /*isMax=*/false);
  for (int64_t r = 0; r < RB; ++r) {
    Value cr = cIdx(r);
    Value c = vector::ExtractOp::create(b, loc, corr, ArrayRef<int64_t>{r});
    store(add(mul(load(it.stats, {it.cSum, cr}), c), sums[r]), it.stats,
          {it.cSum, cr});
    store(c, it.stats, {it.cCorr, cr});
  }
}

void SdpaEmitter::accumulateTile(const WorkItem &it, Value j0, Value n) {
  const int64_t RB = p.rowBlock, L = p.lanes, vVecs = p.valueHeadDim / p.lanes;
  if (p.vnniValues) {
    quantizeP(it.sBuf, it.pBuf, it.pfBuf, it.corrBuf, it.bi, it.hkv, j0,
              it.kvEndI32);
    vnniPV(it.pBuf, it.pfBuf, it.corrBuf, it.accBuf, it.stats, it.cCorr, it.bi,
           it.hkv, j0, n);
    return;
  }

  // acc = acc * corr + P x V, a register block of rows x value vectors at
  // a time. With few passes each pass unpacks its slice of the V rows; with
  // many (large row blocks, prefill) the tile is dequantized once into an
  // L1-resident f32 scratch that every pass reads.
  int64_t step = p.valueVectorsPerStep;
  if (it.vTileBuf)
    forLoop(cIdx(0), n, cIdx(1), {}, [&](Value jj, ValueRange) {
      SmallVector<Value> v = loadDequantized(p.value, buf.value, buf.valueScale,
                                             buf.valueZeroPoint, it.bi, it.hkv,
                                             addi(j0, jj), 0, vVecs);
      for (int64_t c = 0; c < vVecs; ++c)
        vstore(v[c], it.vTileBuf, {jj, cIdx(c * L)});
      return SmallVector<Value>{};
    });
  for (int64_t vb = 0; vb < vVecs; vb += step) {
    SmallVector<Value> init;
    for (int64_t r = 0; r < RB; ++r) {
      Value corr = splat(load(it.stats, {it.cCorr, cIdx(r)}));
      for (int64_t c = 0; c < step; ++c)
        init.push_back(
            mul(vload(vecTy, it.accBuf, {cIdx(r), cIdx((vb + c) * L)}), corr));
    }
    SmallVector<Value> accs = forLoop(
        cIdx(0), n, cIdx(1), init,
        [&](Value jj, ValueRange acc) -> SmallVector<Value> {
          SmallVector<Value> v;
          if (it.vTileBuf) {
            for (int64_t c = 0; c < step; ++c)
              v.push_back(vload(vecTy, it.vTileBuf, {jj, cIdx((vb + c) * L)}));
          } else {
            v = loadDequantized(p.value, buf.value, buf.valueScale,
                                buf.valueZeroPoint, it.bi, it.hkv, addi(j0, jj),
                                vb, step);
          }
          SmallVector<Value> next;
          for (int64_t r = 0; r < RB; ++r) {
            Value pr = splat(load(it.sBuf, {cIdx(r), jj}));
            for (int64_t c = 0; c < step; ++c)
              next.push_back(fma(pr, v[c], acc[r * step + c]));
          }
          return next;
        });
    for (int64_t r = 0; r < RB; ++r)
      for (int64_t c = 0; c < step; ++c)
        vstore(accs[r * step + c], it.accBuf, {cIdx(r), cIdx((vb + c) * L)});
  }
}
