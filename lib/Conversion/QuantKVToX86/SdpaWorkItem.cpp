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
// The dot products are f32 FMAs, vdpbf16ps (bf16 math) or, for int8 math,
// the VNNI paths of SdpaVnniScores.cpp / SdpaVnniValues.cpp.
//
//===----------------------------------------------------------------------===//

#include "SdpaEmitter.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Dialect/X86Vector/X86VectorDialect.h"
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
  const int64_t D = p.headDim, Dv = p.valueHeadDim;
  const int64_t dVecs = D / L, vVecs = Dv / L, tVecs = T / L;

  Value sp = remui(w, p.numSplits);
  Value t = divui(w, p.numSplits);
  Value rb = remui(t, p.numRowBlocks);
  t = divui(t, p.numRowBlocks);
  Value hkv = remui(t, p.kvHeads);
  Value bi = divui(t, p.kvHeads);

  Value qBuf = scratch({RB, D});
  Value sBuf = scratch({RB, T});
  Value accBuf = scratch({RB, Dv});
  Value stats = scratch({4, RB}); // max, sum, rescale, K bias
  // VNNI: s8 Q rows, f32 lane sums (zero points), -bias x lane sums (i32),
  // row scales.
  Value qi8Buf, qslBuf, qbBuf, rsBuf;
  Value qgBuf;    // VNNI key columns: per group -bias x sum q, sum q (i32)
  Value vTileBuf; // dequantized V tile when P x V takes many passes
  if (p.valueTileInScratch)
    vTileBuf = scratch({T, Dv});
  Value qbfBuf; // bf16 dot products: rounded Q rows, unscaled
  if (p.bf16Scores) {
    qbfBuf = scratchOf({RB, D}, b.getBF16Type());
    rsBuf = scratch({RB});
  }
  if (p.vnniScores) {
    int64_t laneVecs = D / (L * vnniElemsPerLane());
    qi8Buf = scratchOf({RB, D}, b.getI8Type());
    if (p.key.hasZeroPoint)
      qslBuf = scratch({RB, laneVecs * L});
    if (vnniKeyBias())
      qbBuf = scratchOf({RB, laneVecs * L}, i32);
    if (p.vnniKeyColumns)
      qgBuf = scratchOf({RB, 2 * p.keyScaleGroups}, i32);
    rsBuf = scratch({RB});
  }
  AmxTileScratch amxScratch;
  if (amxScores)
    amxScratch = allocateAmxTileScratch(b, loc, p);
  Value rowBuf = scratch({Dv});
  // VNNI P x V: P halves per (half, row, group, 4 keys), dequantization
  // factor and integer bias/zero-point correction per (row, group).
  Value pBuf, pfBuf, corrBuf;
  if (p.vnniValues) {
    int64_t NG = p.valueScaleGroups;
    pBuf = scratchOf({2, RB, NG, T}, b.getI8Type());
    pfBuf = scratch({RB, NG});
    corrBuf = scratchOf({RB, NG}, i32);
  }
  Value cMax = cIdx(0), cSum = cIdx(1), cCorr = cIdx(2), cBias = cIdx(3);

  Value rowBase = muli(rb, cIdx(RB));
  SmallVector<RowIndex> rows;
  SmallVector<Value> rowIdx;
  for (int64_t r = 0; r < RB; ++r) {
    Value row = addi(rowBase, cIdx(r));
    rowIdx.push_back(row);
    rows.push_back(rowIndex(hkv, row));
  }

  // Query rows -> f32 scratch, pre-multiplied by the softmax scale (and by a
  // token-invariant K scale, whose zero point becomes a per-row bias).
  Value scaleV = splat(softmaxScale);
  const CacheOperandPlan &ck = p.key;
  for (int64_t r = 0; r < RB; ++r) {
    Value cr = cIdx(r);
    for (int64_t c = 0; c < dVecs; ++c) {
      Value q = vload(VectorType::get({L}, p.queryType), buf.query,
                      {bi, rows[r].head, rows[r].i, cIdx(c * L)});
      q = roundToMathMode(toF32(q));
      vstore(q, qBuf, {cr, cIdx(c * L)});
      if (p.bf16Scores)
        vstore(fromF32(q, b.getBF16Type()), qbfBuf, {cr, cIdx(c * L)});
    }
    if (p.bf16Scores)
      store(softmaxScale, rsBuf, cr);
    if (p.mathMode == MathMode::int8) {
      Value rowScale = quantizeQueryRow(qBuf, cr, qi8Buf);
      if (p.vnniScores) {
        store(mul(rowScale, softmaxScale), rsBuf, cr);
        auto bytes64 = VectorType::get({64}, b.getI8Type());
        auto i32x16 = VectorType::get({L}, i32);
        int64_t span = L * vnniElemsPerLane();
        if (qgBuf) {
          // Per scale group g: -bias x sum of q over the group (the i32
          // accumulator start) and the sum itself (zero points).
          int64_t NG = p.keyScaleGroups, groupLen = D / NG;
          for (int64_t g = 0; g < NG; ++g) {
            Value sum = forLoop(
                cIdx(g * groupLen), cIdx((g + 1) * groupLen), cIdx(1),
                {cI32(0)}, [&](Value d, ValueRange acc) -> SmallVector<Value> {
                  Value q = arith::ExtSIOp::create(b, loc, i32,
                                                   load(qi8Buf, {cr, d}));
                  return {addi(acc[0], q)};
                })[0];
            store(arith::MulIOp::create(b, loc, sum, cI32(-vnniKeyBias())),
                  qgBuf, {cr, cIdx(g)});
            store(sum, qgBuf, {cr, cIdx(NG + g)});
          }
        }
        if (p.vnniNibblePlanes) {
          // K chunks of 128 elements arrive as low (even) and high (odd)
          // nibble planes: store each chunk of the s8 Q row as its 64 even
          // elements followed by its 64 odd ones.
          auto bytes128 = VectorType::get({128}, b.getI8Type());
          SmallVector<int64_t> planes;
          for (int64_t h = 0; h < 2; ++h)
            for (int64_t e = 0; e < 64; ++e)
              planes.push_back(2 * e + h);
          for (int64_t c = 0; c < D / 128; ++c) {
            Value q = vload(bytes128, qi8Buf, {cr, cIdx(c * 128)});
            vstore(vector::ShuffleOp::create(b, loc, q, q, planes), qi8Buf,
                   {cr, cIdx(c * 128)});
          }
        }
        Value ones = splatInt(bytes64, 1);
        Value zeroI = splatInt(i32x16, 0);
        for (int64_t c = 0; c < D / span; ++c) {
          Value sum = zeroI;
          for (int64_t pl = 0; pl < span / 64; ++pl)
            sum =
                dpbusd(sum, ones,
                       vload(bytes64, qi8Buf, {cr, cIdx(c * span + pl * 64)}));
          if (qslBuf)
            vstore(arith::SIToFPOp::create(b, loc, vecTy, sum), qslBuf,
                   {cr, cIdx(c * 16)});
          if (qbBuf)
            vstore(muli(sum, splatInt(i32x16, -vnniKeyBias())), qbBuf,
                   {cr, cIdx(c * 16)});
        }
      }
    }
    for (int64_t c = 0; c < dVecs; ++c) {
      Value q = vload(vecTy, qBuf, {cr, cIdx(c * L)});
      vstore(mul(q, scaleV), qBuf, {cr, cIdx(c * L)});
    }
    Value bias = cF32(0.0);
    if (ck.quantized && ck.tokenInvariant) {
      bias = forLoop(
          cIdx(0), cIdx(D), cIdx(1), {bias},
          [&](Value d, ValueRange acc) -> SmallVector<Value> {
            Value linear = paramIndex(ck, bi, hkv, Value(), d);
            Value s = loadScale(ck, buf.keyScale, linear);
            Value z = loadZeroPoint(ck, buf.keyZeroPoint, linear);
            Value q = mul(load(qBuf, {cr, d}), s);
            store(q, qBuf, {cr, d});
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
        Value a = vload(vecTy, qBuf, {cr, cIdx(c * L)});
        Value a2 = vload(vecTy, qBuf, {cr, cIdx((c + 1) * L)});
        Value ev = vector::ShuffleOp::create(b, loc, a, a2, evens);
        Value od = vector::ShuffleOp::create(b, loc, a, a2, odds);
        vstore(ev, qBuf, {cr, cIdx(c * L)});
        vstore(od, qBuf, {cr, cIdx((c + 1) * L)});
      }
    }
    store(negInf(), stats, {cMax, cr});
    store(cF32(0.0), stats, {cSum, cr});
    store(bias, stats, {cBias, cr});
    Value zeroV = splat(cF32(0.0));
    for (int64_t c = 0; c < vVecs; ++c)
      vstore(zeroV, accBuf, {cr, cIdx(c * L)});
  }

  // Key range of this split, cut at the causal diagonal of the block's last
  // row (whole tiles past it are skipped).
  Value kvStart = muli(sp, cIdx(p.splitLen));
  Value kvEnd = arith::MinUIOp::create(b, loc, addi(kvStart, cIdx(p.splitLen)),
                                       cIdx(p.kvLen));
  SmallVector<Value> rowLimit; // last visible key + 1, as i32, per row
  if (p.causal) {
    Value maxLimit;
    for (int64_t r = 0; r < RB; ++r) {
      Value lim = addi(rows[r].i, cIdx(p.causalOffset + 1));
      maxLimit = maxLimit
                     ? arith::MaxSIOp::create(b, loc, maxLimit, lim).getResult()
                     : lim;
      rowLimit.push_back(arith::IndexCastOp::create(b, loc, i32, lim));
    }
    kvEnd = arith::MinSIOp::create(b, loc, kvEnd, maxLimit);
    kvEnd = arith::MaxSIOp::create(b, loc, kvEnd, kvStart);
  }
  Value kvEndI32 = arith::IndexCastOp::create(b, loc, i32, kvEnd);

  SmallVector<int32_t> iota;
  for (int64_t l = 0; l < L; ++l)
    iota.push_back(l);
  auto iotaType = VectorType::get({L}, i32);
  Value iotaV = arith::ConstantOp::create(
      b, loc, iotaType, DenseIntElementsAttr::get(iotaType, iota));

  // VNNI scores of 8 / RB keys are reduced together: lane u * RB + r of the
  // reduced vector is multiplied by the scale of row r.
  Value rowScales8;
  if (p.vnniScores && RB <= 4 && llvm::isPowerOf2_64(RB)) {
    auto v8 = VectorType::get({8}, f32);
    rowScales8 = vector::BroadcastOp::create(b, loc, v8, cF32(0.0));
    for (int64_t l = 0; l < 8; ++l)
      rowScales8 = vector::InsertOp::create(b, loc, load(rsBuf, cIdx(l % RB)),
                                            rowScales8, ArrayRef<int64_t>{l});
  }

  forLoop(kvStart, kvEnd, cIdx(T), {}, [&](Value j0, ValueRange) {
    Value n = arith::MinUIOp::create(b, loc, cIdx(T),
                                     arith::SubIOp::create(b, loc, kvEnd, j0));
    // The AMX variant scores the whole tile with tile multiplies; the
    // vector score loops below then cover no keys.
    Value nVector = n;
    if (amxScores) {
      emitAmxScores(amxScratch, bi, hkv, j0, n, qbfBuf, qi8Buf, rsBuf, sBuf);
      nVector = cIdx(0);
    }
    // Scores: each K row is unpacked and dequantized once for all rows.
    // `scoreSums` returns the block's per-row dot product vectors of key jj.
    auto scoreSums = [&](Value jj) -> SmallVector<Value> {
      Value j = addi(j0, jj);
      // Software prefetch: the next tile's K row and this tile's V row. The
      // out-of-order window alone keeps too few cache lines in flight to
      // stream at DRAM bandwidth.
      Value ahead =
          arith::MinUIOp::create(b, loc, addi(j, cIdx(T)), cIdx(p.kvLen - 1));
      prefetchRow(ck, buf.key, buf.keyScale, bi, hkv, ahead, p.headDim);
      prefetchRow(p.value, buf.value, buf.valueScale, bi, hkv, j,
                  p.valueHeadDim);
      SmallVector<Value> sums;
      if (p.vnniScores) {
        sums = vnniScores(bi, hkv, j, qi8Buf, qslBuf, qbBuf);
      } else if (p.bf16Scores) {
        // vdpbf16ps: each f32 lane accumulates one bf16 pair of Q and K'.
        SmallVector<Value> k = loadDequantized(
            ck, buf.key, buf.keyScale, buf.keyZeroPoint, bi, hkv, j, 0, dVecs);
        auto bf32 = VectorType::get({2 * L}, b.getBF16Type());
        SmallVector<Value> kb;
        SmallVector<int64_t> both;
        for (int64_t l = 0; l < 2 * L; ++l)
          both.push_back(l);
        for (int64_t c = 0; c + 1 < dVecs; c += 2)
          kb.push_back(
              fromF32(vector::ShuffleOp::create(b, loc, k[c], k[c + 1], both),
                      b.getBF16Type()));
        for (int64_t r = 0; r < RB; ++r) {
          Value acc[2] = {splat(cF32(0.0)), splat(cF32(0.0))};
          for (size_t c = 0; c < kb.size(); ++c) {
            Value q = vload(bf32, qbfBuf, {cIdx(r), cIdx(c * 2 * L)});
            acc[c % 2] = x86vector::DotBF16Op::create(b, loc, vecTy, acc[c % 2],
                                                      q, kb[c]);
          }
          sums.push_back(add(acc[0], acc[1]));
        }
      } else {
        SmallVector<Value> k = loadDequantized(
            ck, buf.key, buf.keyScale, buf.keyZeroPoint, bi, hkv, j, 0, dVecs);
        for (int64_t r = 0; r < RB; ++r) {
          // Two independent fma chains hide the fma latency.
          Value acc[2];
          for (int64_t c = 0; c < dVecs; ++c) {
            Value q = vload(vecTy, qBuf, {cIdx(r), cIdx(c * L)});
            Value &a = acc[c % 2];
            a = a ? fma(q, k[c], a) : mul(q, k[c]);
          }
          sums.push_back(acc[1] ? add(acc[0], acc[1]) : acc[0]);
        }
      }
      return sums;
    };
    // With the plain f32 dot products and a small block, U = 8 / RB keys are
    // scored per iteration and their RB x U sums reduced by one transpose-add
    // tree: a lone key's 16-lane reduction is four shuffle levels, U keys
    // share most of them. The remaining n mod U keys take one at a time.
    int64_t unroll = 1;
    if (!p.bf16Scores && RB <= 4 && llvm::isPowerOf2_64(RB))
      unroll = 8 / RB;
    Value nMain = cIdx(0);
    if (p.vnniKeyColumns) {
      // 16 keys at a time, K transposed in registers: the scores of a row
      // come out as one vector of 16 keys (keys past the tile end are
      // clamped to the last cache row and masked by the softmax below).
      unroll = 1;
      nMain = nVector;
      forLoop(cIdx(0), nVector, cIdx(L), {}, [&](Value jj, ValueRange) {
        Value j = addi(j0, jj);
        // Prefetch K and V rows (and their scale rows: 16 keys x groups,
        // contiguous) `kPrefetchTiles` / `vPrefetchTiles` tiles ahead: at
        // DRAM speed the out-of-order window alone keeps too few lines in
        // flight.
        Value kAhead = addi(j, cIdx(kPrefetchTiles * T));
        Value vAhead = addi(j, cIdx(vPrefetchTiles * T));
        auto clampRow = [&](Value r) {
          return arith::MinUIOp::create(b, loc, r, cIdx(p.kvLen - 1));
        };
        for (int64_t k = 0; k < L; ++k) {
          prefetchRow(ck, buf.key, Value(), bi, hkv,
                      clampRow(addi(kAhead, cIdx(k))), p.headDim);
          // (With VNNI P x V, its own loop prefetches the next tile's V.)
          if (!p.vnniValues)
            prefetchRow(p.value, buf.value, Value(), bi, hkv,
                        clampRow(addi(vAhead, cIdx(k))), p.valueHeadDim);
        }
        auto prefetchScales = [&](const CacheOperandPlan &cp, Value flat,
                                  int64_t groups, Value ahead) {
          if (!cp.quantized || cp.tokenInvariant)
            return;
          int64_t bytes = L * groups * 4;
          for (int64_t off = 0; off < bytes; off += 64)
            memref::PrefetchOp::create(
                b, loc, flat,
                ValueRange{paramIndex(
                    cp, bi, hkv, clampRow(addi(ahead, cIdx(off / 4 / groups))),
                    cIdx(0))},
                /*isWrite=*/false, /*localityHint=*/3, /*isDataCache=*/true);
        };
        prefetchScales(ck, buf.keyScale, p.keyScaleGroups, kAhead);
        prefetchScales(p.value, buf.valueScale, p.valueScaleGroups,
                       p.vnniValues ? addi(j, cIdx(T)) : vAhead);
        SmallVector<Value> sc =
            vnniScoresOfKeys(bi, hkv, j, kvEndI32, qi8Buf, qgBuf);
        for (int64_t r = 0; r < RB; ++r)
          vstore(mul(sc[r], splat(load(rsBuf, cIdx(r)))), sBuf, {cIdx(r), jj});
        return SmallVector<Value>{};
      });
    }
    if (unroll > 1 && !p.vnniKeyColumns) {
      nMain = arith::SubIOp::create(b, loc, nVector, remui(nVector, unroll));
      forLoop(cIdx(0), nMain, cIdx(unroll), {}, [&](Value jj, ValueRange) {
        SmallVector<Value> all;
        for (int64_t u = 0; u < unroll; ++u)
          llvm::append_range(all, scoreSums(addi(jj, cIdx(u))));
        Value reduced = multiReduce(all);
        if (p.vnniScores)
          reduced = mul(reduced, rowScales8);
        for (int64_t u = 0; u < unroll; ++u)
          for (int64_t r = 0; r < RB; ++r)
            store(vector::ExtractOp::create(b, loc, reduced,
                                            ArrayRef<int64_t>{u * RB + r}),
                  sBuf, {cIdx(r), addi(jj, cIdx(u))});
        return SmallVector<Value>{};
      });
    }
    forLoop(nMain, nVector, cIdx(1), {}, [&](Value jj, ValueRange) {
      SmallVector<Value> sums = scoreSums(jj);
      // The block's rows are reduced together (a transpose-add tree), which
      // costs about half of one horizontal reduction per row.
      for (int64_t r0 = 0; r0 < RB; r0 += 8) {
        int64_t n = std::min<int64_t>(8, RB - r0);
        if (!llvm::isPowerOf2_64(n)) {
          for (int64_t r = r0; r < r0 + n; ++r) {
            Value sc = treeReduce(sums[r], /*isMax=*/false);
            if (p.vnniScores || p.bf16Scores)
              sc = mul(sc, load(rsBuf, cIdx(r)));
            store(sc, sBuf, {cIdx(r), jj});
          }
          continue;
        }
        Value reduced = multiReduce(ArrayRef<Value>(sums).slice(r0, n));
        if (p.vnniScores || p.bf16Scores)
          reduced =
              mul(reduced, vload(VectorType::get({n}, f32), rsBuf, {cIdx(r0)}));
        for (int64_t r = 0; r < n; ++r)
          store(
              vector::ExtractOp::create(b, loc, reduced, ArrayRef<int64_t>{r}),
              sBuf, {cIdx(r0 + r), jj});
      }
      return SmallVector<Value>{};
    });

    // Online softmax over the tile, 16 keys per vector.
    Value j0I32 = arith::IndexCastOp::create(b, loc, i32, j0);
    for (int64_t r = 0; r < RB; ++r) {
      Value cr = cIdx(r);
      SmallVector<Value> s(tVecs);
      Value bias = splat(load(stats, {cBias, cr}));
      Value tileMax;
      for (int64_t c = 0; c < tVecs; ++c) {
        Value jv = addi(splat(addi(j0I32, cI32(c * L))), iotaV);
        Value valid = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::slt,
                                            jv, splat(kvEndI32));
        if (p.causal)
          valid = arith::AndIOp::create(
              b, loc, valid,
              arith::CmpIOp::create(b, loc, arith::CmpIPredicate::slt, jv,
                                    splat(rowLimit[r])));
        Value sv = sub(vload(vecTy, sBuf, {cr, cIdx(c * L)}), bias);
        if (p.hasMask) {
          int64_t rank = p.maskShape.size();
          Value full[4] = {bi, rows[r].head, rows[r].i, addi(j0, cIdx(c * L))};
          SmallVector<Value> idx;
          for (int64_t k = 0; k < rank; ++k)
            idx.push_back(p.maskShape[k] == 1 ? cIdx(0) : full[4 - rank + k]);
          Value m;
          if (p.maskShape.back() == 1) {
            m = splat(toF32(load(buf.mask, idx)));
          } else {
            auto mt = VectorType::get({L}, p.maskType);
            Value pad = arith::ConstantOp::create(
                b, loc, mt,
                DenseElementsAttr::get(mt, b.getZeroAttr(p.maskType)));
            m = toF32(vector::MaskedLoadOp::create(b, loc, mt, buf.mask, idx,
                                                   valid, pad));
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
      Value mOld = load(stats, {cMax, cr});
      Value mNew = maxf(mOld, treeReduce(tileMax, /*isMax=*/true,
                                         /*finite=*/p.vnniValues));
      // A row with nothing visible yet keeps max -inf; subtracting 0 instead
      // keeps exp(-inf - -inf) from producing NaN.
      Value isEmpty = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OEQ,
                                            mNew, negInf());
      Value mUse = arith::SelectOp::create(b, loc, isEmpty, cF32(0.0), mNew);
      Value corr = math::ExpOp::create(b, loc, sub(mOld, mUse));
      Value mUseV = splat(mUse);
      Value psum;
      for (int64_t c = 0; c < tVecs; ++c) {
        Value e = math::ExpOp::create(b, loc, sub(s[c], mUseV));
        psum = psum ? add(psum, e) : e;
        vstore(roundToMathMode(e), sBuf, {cr, cIdx(c * L)});
      }
      Value lNew = add(mul(load(stats, {cSum, cr}), corr),
                       treeReduce(psum, /*isMax=*/false));
      store(mNew, stats, {cMax, cr});
      store(lNew, stats, {cSum, cr});
      store(corr, stats, {cCorr, cr});
    }

    if (p.vnniValues) {
      quantizeP(sBuf, pBuf, pfBuf, corrBuf, bi, hkv, j0, kvEndI32);
      vnniPV(pBuf, pfBuf, corrBuf, accBuf, stats, cCorr, bi, hkv, j0, n);
      return SmallVector<Value>{};
    }

    // acc = acc * corr + P x V, a register block of rows x value vectors at
    // a time. With few passes each pass unpacks its slice of the V rows; with
    // many (large row blocks, prefill) the tile is dequantized once into an
    // L1-resident f32 scratch that every pass reads.
    int64_t step = p.valueVectorsPerStep;
    if (vTileBuf)
      forLoop(cIdx(0), n, cIdx(1), {}, [&](Value jj, ValueRange) {
        SmallVector<Value> v = loadDequantized(
            p.value, buf.value, buf.valueScale, buf.valueZeroPoint, bi, hkv,
            addi(j0, jj), 0, vVecs);
        for (int64_t c = 0; c < vVecs; ++c)
          vstore(v[c], vTileBuf, {jj, cIdx(c * L)});
        return SmallVector<Value>{};
      });
    for (int64_t vb = 0; vb < vVecs; vb += step) {
      SmallVector<Value> init;
      for (int64_t r = 0; r < RB; ++r) {
        Value corr = splat(load(stats, {cCorr, cIdx(r)}));
        for (int64_t c = 0; c < step; ++c)
          init.push_back(
              mul(vload(vecTy, accBuf, {cIdx(r), cIdx((vb + c) * L)}), corr));
      }
      SmallVector<Value> accs = forLoop(
          cIdx(0), n, cIdx(1), init,
          [&](Value jj, ValueRange acc) -> SmallVector<Value> {
            SmallVector<Value> v;
            if (vTileBuf) {
              for (int64_t c = 0; c < step; ++c)
                v.push_back(vload(vecTy, vTileBuf, {jj, cIdx((vb + c) * L)}));
            } else {
              v = loadDequantized(p.value, buf.value, buf.valueScale,
                                  buf.valueZeroPoint, bi, hkv, addi(j0, jj), vb,
                                  step);
            }
            SmallVector<Value> next;
            for (int64_t r = 0; r < RB; ++r) {
              Value pr = splat(load(sBuf, {cIdx(r), jj}));
              for (int64_t c = 0; c < step; ++c)
                next.push_back(fma(pr, v[c], acc[r * step + c]));
            }
            return next;
          });
      for (int64_t r = 0; r < RB; ++r)
        for (int64_t c = 0; c < step; ++c)
          vstore(accs[r * step + c], accBuf, {cIdx(r), cIdx((vb + c) * L)});
    }
    return SmallVector<Value>{};
  });

  if (p.numSplits == 1) {
    for (int64_t r = 0; r < RB; ++r)
      finalizeRow(accBuf, cIdx(r), load(stats, {cSum, cIdx(r)}), bi, hkv,
                  rows[r], rowBuf);
    return;
  }
  for (int64_t r = 0; r < RB; ++r) {
    Value cr = cIdx(r);
    store(load(stats, {cMax, cr}), partM, {w, cr});
    store(load(stats, {cSum, cr}), partL, {w, cr});
    for (int64_t c = 0; c < vVecs; ++c)
      vstore(vload(vecTy, accBuf, {cr, cIdx(c * L)}), partAcc,
             {w, cr, cIdx(c * L)});
  }
}
