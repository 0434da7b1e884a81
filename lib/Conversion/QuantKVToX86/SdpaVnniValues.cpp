//===- SdpaVnniValues.cpp - int8 P x V on vpdpbusd ------------------------===//
//
// Part of the quantkv project, under the Apache License v2.0 with LLVM
// Exceptions.
//
//===----------------------------------------------------------------------===//
//
// int8 math P x V on VNNI (KernelPlan::vnniValues): P of a tile is quantized
// per row and V scale group to 14 bits stored as two s8 halves, multiplied
// with the u8 V codes (four rows transposed bytewise in registers) by
// vpdpbusd, and the exact i32 sums are folded into the f32 accumulators once
// per tile.
//
//===----------------------------------------------------------------------===//

#include "SdpaEmitter.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

using namespace mlir;
using namespace mlir::quantkv;

Value SdpaEmitter::pDwordIndex(Value jq) {
  if (p.kvTile % 64 != 0)
    return jq;
  Value blk = divui(jq, 16), in = remui(jq, 16);
  return addi(muli(blk, cIdx(16)),
              addi(muli(remui(in, 4), cIdx(4)), divui(in, 4)));
}

SmallVector<Value> SdpaEmitter::storePHalves(ArrayRef<Value> q, Value pBuf,
                                             Value cr, Value cg) {
  auto i32x16 = VectorType::get({p.lanes}, i32);
  auto i16x32 = VectorType::get({32}, b.getI16Type());
  auto i8x64 = VectorType::get({64}, b.getI8Type());
  auto i8x16 = VectorType::get({p.lanes}, b.getI8Type());
  if (p.kvTile % 64 != 0) {
    for (auto [c, v] : llvm::enumerate(q)) {
      Value hi = arith::ShRSIOp::create(b, loc, v, splatInt(i32x16, 7));
      Value lo = arith::AndIOp::create(b, loc, v, splatInt(i32x16, 127));
      Value halves[2] = {hi, lo};
      for (auto [half, h] : llvm::enumerate(halves))
        vstore(arith::TruncIOp::create(b, loc, i8x16, h), pBuf,
               {cIdx(half), cr, cg, cIdx(c * p.lanes)});
    }
    return {};
  }
  SmallVector<Value> packed;
  for (size_t c = 0; c < q.size(); c += 4) {
    SmallVector<Value> hiW, loW;
    for (size_t k = 0; k < 4; k += 2) {
      Value w = callIntrinsic("__quantkv_vpackssdw_512",
                              "llvm.x86.avx512.packssdw.512", i16x32,
                              {i32x16, i32x16}, {q[c + k], q[c + k + 1]});
      packed.push_back(w);
      hiW.push_back(arith::ShRSIOp::create(b, loc, w, splatInt(i16x32, 7)));
      loW.push_back(arith::AndIOp::create(b, loc, w, splatInt(i16x32, 127)));
    }
    SmallVector<Value> *halves[2] = {&hiW, &loW};
    for (auto [half, wordsPtr] : llvm::enumerate(halves)) {
      SmallVector<Value> &words = *wordsPtr;
      Value bytes = callIntrinsic("__quantkv_vpacksswb_512",
                                  "llvm.x86.avx512.packsswb.512", i8x64,
                                  {i16x32, i16x32}, {words[0], words[1]});
      vstore(bytes, pBuf, {cIdx(half), cr, cg, cIdx(c * p.lanes)});
    }
  }
  return packed;
}

void SdpaEmitter::quantizeP(Value sBuf, Value pBuf, Value pfBuf, Value corrBuf,
                            Value bi, Value hkv, Value j0, Value kvEndI32) {
  const CacheOperandPlan &cv = p.value;
  int64_t NG = p.valueScaleGroups, L = p.lanes, tVecs = p.kvTile / L;
  bool fold = !cv.tokenInvariant;
  bool zpVar = fold && cv.hasZeroPoint;
  int64_t beta = vnniValueBeta();
  auto i32x16 = VectorType::get({L}, i32);
  SmallVector<SmallVector<Value>> sv(tVecs), dv(tVecs);
  for (int64_t c = 0; c < tVecs; ++c) {
    Value j = addi(j0, cIdx(c * L));
    if (fold)
      sv[c] = paramsOfKeys(cv, NG, buf.valueScale, bi, hkv, j, kvEndI32, false);
    if (zpVar)
      for (Value z :
           paramsOfKeys(cv, NG, buf.valueZeroPoint, bi, hkv, j, kvEndI32, true))
        dv[c].push_back(
            arith::SubIOp::create(b, loc, splatInt(i32x16, beta), z));
  }
  // The (row, group) pairs are handled in chunks of n (a power of two up
  // to 16, flat index r * NG + g): their maxima and correction sums are
  // reduced together into one vector each (lane i = pair i0 + i), so the
  // divisions, factors and corrections of a chunk are one vector each.
  int64_t pairs = p.rowBlock * NG, n = 1;
  while (n < 16 && pairs % (2 * n) == 0)
    n *= 2;
  auto flat = [&](Value memref) -> Value {
    return memref::CollapseShapeOp::create(
        b, loc, memref, ArrayRef<ReassociationIndices>{{0, 1}});
  };
  Value pfFlat = flat(pfBuf), corrFlat = flat(corrBuf);
  auto fn = VectorType::get({n}, f32);
  auto in = VectorType::get({n}, i32);
  // With 64-key tiles the zero-point correction sum_j q_j (beta - zp_j)
  // is one vpmaddwd per pair of P vectors on the 16-bit words that
  // storePHalves packs anyway, against (beta - zp) packed the same way
  // once per tile and group (|q| <= 16383 and beta - zp fit in 16 bits).
  auto i16x32 = VectorType::get({32}, b.getI16Type());
  bool maddCorr = zpVar && p.kvTile % 64 == 0;
  SmallVector<SmallVector<Value>> dvWords(NG);
  if (maddCorr)
    for (int64_t g = 0; g < NG; ++g)
      for (int64_t c = 0; c < tVecs; c += 2)
        dvWords[g].push_back(callIntrinsic(
            "__quantkv_vpackssdw_512", "llvm.x86.avx512.packssdw.512", i16x32,
            {i32x16, i32x16}, {dv[c][g], dv[c + 1][g]}));
  Value scale = vector::BroadcastOp::create(b, loc, fn, cF32(16383.0));
  Value inv = vector::BroadcastOp::create(b, loc, fn, cF32(1.0 / 16383.0));
  Value floor = vector::BroadcastOp::create(b, loc, fn, cF32(1e-30));
  DenseMap<int64_t, SmallVector<Value>> pvOfRow;
  auto xOf = [&](int64_t r, int64_t g) {
    SmallVector<Value> &pv = pvOfRow[r];
    if (pv.empty())
      for (int64_t c = 0; c < tVecs; ++c)
        pv.push_back(vload(vecTy, sBuf, {cIdx(r), cIdx(c * L)}));
    SmallVector<Value> x;
    for (int64_t c = 0; c < tVecs; ++c)
      x.push_back(fold ? mul(pv[c], sv[c][g]) : pv[c]);
    return x;
  };
  for (int64_t i0 = 0; i0 < pairs; i0 += n) {
    pvOfRow.clear();
    SmallVector<Value> amaxes;
    for (int64_t i = i0; i < i0 + n; ++i) {
      SmallVector<Value> x = xOf(i / NG, i % NG);
      Value amax;
      for (int64_t c = 0; c < tVecs; ++c) {
        // vrangeps: the larger magnitude, sign cleared (p >= 0 alone
        // needs a plain max).
        if (!amax)
          amax = fold ? math::AbsFOp::create(b, loc, x[c]).getResult() : x[c];
        else
          amax = fold ? maxAbs(amax, x[c]) : fastMax(amax, x[c]);
      }
      amaxes.push_back(amax);
    }
    Value m =
        multiReduce(amaxes, [&](Value x, Value y) { return fastMax(x, y); });
    // An all-zero tile (every key masked) quantizes to zeros with any
    // finite factor: the floor avoids a division by zero.
    Value k = arith::DivFOp::create(b, loc, scale, fastMax(m, floor));
    vstore(mul(m, inv), pfFlat, {cIdx(i0)});
    SmallVector<Value> sums;
    for (int64_t i = i0; i < i0 + n; ++i) {
      int64_t r = i / NG, g = i % NG;
      SmallVector<Value> x = xOf(r, g);
      SmallVector<int64_t> lane(L, i - i0);
      Value kV = vector::ShuffleOp::create(b, loc, k, k, lane);
      Value sum;
      SmallVector<Value> q;
      for (int64_t c = 0; c < tVecs; ++c) {
        q.push_back(cvtRound(mul(x[c], kV)));
        if (maddCorr)
          continue;
        Value term = zpVar ? muli(q[c], dv[c][g]) : q[c];
        sum = sum ? addi(sum, term) : term;
      }
      SmallVector<Value> words = storePHalves(q, pBuf, cIdx(r), cIdx(g));
      if (maddCorr)
        for (auto [w, d] : llvm::zip_equal(words, dvWords[g])) {
          Value term = callIntrinsic("__quantkv_vpmaddwd_512",
                                     "llvm.x86.avx512.pmaddw.d.512", i32x16,
                                     {i16x32, i16x32}, {w, d});
          sum = sum ? addi(sum, term) : term;
        }
      sums.push_back(sum);
    }
    Value total =
        multiReduce(sums, [&](Value x, Value y) { return addi(x, y); });
    if (!zpVar)
      total = beta ? muli(total,
                          vector::BroadcastOp::create(b, loc, in, cI32(beta)))
                   : splatInt(in, 0);
    vstore(total, corrFlat, {cIdx(i0)});
  }
}

void SdpaEmitter::vnniPV(Value pBuf, Value pfBuf, Value corrBuf, Value accBuf,
                         Value stats, Value cCorr, Value bi, Value hkv,
                         Value j0, Value n) {
  const CacheOperandPlan &cv = p.value;
  const int64_t L = p.lanes;
  bool int4 = cv.storage == CacheStorage::Int4;
  int64_t rowBytes = int4 ? p.valueHeadDim / 2 : p.valueHeadDim;
  int64_t columns = rowBytes / 16, planes = int4 ? 2 : 1;
  int64_t elemsPerColumn = int4 ? 32 : 16;
  int64_t NG = p.valueScaleGroups;
  int64_t groupLen = p.valueHeadDim / NG;
  Type i8 = b.getI8Type();
  auto bytes64 = VectorType::get({64}, i8);
  auto i32x16 = VectorType::get({L}, i32);
  Value quads = divui(addi(n, cIdx(3)), 4);
  int64_t RP = p.vnniRowsPerPass, CP = p.vnniColumnsPerPass;
  auto accIndex = [&](int64_t r, int64_t u, int64_t pl, int64_t half) {
    return ((r * CP + u) * planes + pl) * 2 + half;
  };
  int64_t numPasses = (p.rowBlock / RP) * (columns / CP);
  for (int64_t r0 = 0; r0 < p.rowBlock; r0 += RP) {
    for (int64_t u0 = 0; u0 < columns; u0 += CP) {
      SmallVector<Value> init(RP * CP * planes * 2, splatInt(i32x16, 0));
      SmallVector<Value> accs = forLoop(
          cIdx(0), quads, cIdx(1), init,
          [&](Value jq, ValueRange acc) -> SmallVector<Value> {
            // The four V rows of keys 4 jq .. 4 jq + 3 (clamped inside the
            // cache: keys past the tile end have P = 0).
            SmallVector<Value> rowIdx;
            for (int64_t k = 0; k < 4; ++k)
              rowIdx.push_back(blockRow(addi(j0, muli(jq, cIdx(4))), k, 4));
            // Column u (16 bytes of each row) as u8 dwords of the four
            // keys: the four 16-byte slices are concatenated (vinserti) and
            // transposed 4 x 16 by one byte permute. vpermb (AVX512_VBMI)
            // is called directly: as a vector.shuffle, LLVM folds the
            // concatenation into a slower two-source vpermt2b.
            auto columnOf = [&](int64_t u) -> Value {
              auto bytes16 = VectorType::get({16}, i8);
              SmallVector<Value> slices;
              for (int64_t k = 0; k < 4; ++k)
                slices.push_back(vload(bytes16, buf.value,
                                       {bi, hkv, rowIdx[k], cIdx(16 * u)}));
              auto concat = [&](Value x, Value y) {
                int64_t n = cast<VectorType>(x.getType()).getNumElements();
                return vector::ShuffleOp::create(
                    b, loc, x, y,
                    llvm::to_vector(llvm::seq<int64_t>(0, 2 * n)));
              };
              Value all = concat(concat(slices[0], slices[1]),
                                 concat(slices[2], slices[3]));
              SmallVector<int8_t> mask;
              for (int64_t i = 0; i < 16; ++i)
                for (int64_t k = 0; k < 4; ++k)
                  mask.push_back(16 * k + i);
              if (!p.useVpermb)
                return vector::ShuffleOp::create(
                    b, loc, all, all, llvm::to_vector_of<int64_t>(mask));
              Value idx = arith::ConstantOp::create(
                  b, loc, bytes64,
                  DenseElementsAttr::get(bytes64, ArrayRef<int8_t>(mask)));
              return callIntrinsic("__quantkv_vpermb_512",
                                   "llvm.x86.avx512.permvar.qi.512", bytes64,
                                   {bytes64, bytes64}, {all, idx});
            };
            // The passes prefetch the next tile's V rows (row k of each
            // quad in pass k mod passes): spread over the P x V loops, the
            // requests keep DRAM busy while the scores of the next tile do
            // not need V yet, without crowding the fill buffers of one pass.
            int64_t pass = (r0 / RP) * (columns / CP) + u0 / CP;
            SmallVector<int64_t> rowsToPrefetch;
            for (int64_t k = 0; k < 4; ++k)
              if (k % numPasses == pass)
                rowsToPrefetch.push_back(k);
            if (!rowsToPrefetch.empty()) {
              Value ahead = addi(addi(j0, muli(jq, cIdx(4))), cIdx(p.kvTile));
              Value start = prefetchBlockStart(ahead, 4);
              for (int64_t k : rowsToPrefetch)
                prefetchRow(cv, buf.value, Value(), bi, hkv,
                            prefetchBlockRow(start, k, 4), p.valueHeadDim);
            }
            SmallVector<Value> next(acc.begin(), acc.end());
            Value pIdx = pDwordIndex(jq);
            for (int64_t u = u0; u < u0 + CP; ++u) {
              Value col = columnOf(u);
              SmallVector<Value> planeV =
                  vnniCodeOperands(col, int4, cv.isSigned);
              int64_t g = NG == 1 ? 0 : u * elemsPerColumn / groupLen;
              for (int64_t r = 0; r < RP; ++r) {
                for (int64_t half = 0; half < 2; ++half) {
                  // The s8 halves of P of the 4 keys, as one i32.
                  Value pw = vector::ExtractOp::create(
                      b, loc,
                      vector::BitCastOp::create(
                          b, loc, VectorType::get({1}, i32),
                          vload(VectorType::get({4}, i8), pBuf,
                                {cIdx(half), cIdx(r0 + r), cIdx(g),
                                 muli(pIdx, cIdx(4))})),
                      ArrayRef<int64_t>{0});
                  Value pOp = vector::BitCastOp::create(
                      b, loc, bytes64,
                      vector::BroadcastOp::create(b, loc, i32x16, pw));
                  for (int64_t pl = 0; pl < planes; ++pl) {
                    Value &a = next[accIndex(r, u - u0, pl, half)];
                    a = dpbusd(a, planeV[pl], pOp);
                  }
                }
              }
            }
            return next;
          });
      for (int64_t r = 0; r < RP; ++r) {
        Value cr = cIdx(r0 + r);
        Value corr = splat(load(stats, {cCorr, cr}));
        for (int64_t u = u0; u < u0 + CP; ++u) {
          int64_t g = NG == 1 ? 0 : u * elemsPerColumn / groupLen;
          Value pf = splat(load(pfBuf, {cr, cIdx(g)}));
          Value fix = vector::BroadcastOp::create(b, loc, i32x16,
                                                  load(corrBuf, {cr, cIdx(g)}));
          for (int64_t pl = 0; pl < planes; ++pl) {
            Value hi = accs[accIndex(r, u - u0, pl, 0)];
            Value lo = accs[accIndex(r, u - u0, pl, 1)];
            Value tot = addi(
                addi(arith::ShLIOp::create(b, loc, hi, splatInt(i32x16, 7)),
                     lo),
                fix);
            Value f = arith::SIToFPOp::create(b, loc, vecTy, tot);
            int64_t vi = int4 ? 2 * u + pl : u;
            Value a = vload(vecTy, accBuf, {cr, cIdx(vi * L)});
            vstore(fma(f, pf, mul(a, corr)), accBuf, {cr, cIdx(vi * L)});
          }
        }
      }
    }
  }
}
