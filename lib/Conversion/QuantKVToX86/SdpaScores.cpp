//===- SdpaScores.cpp - the scores of one key tile ------------------------===//
//
// Part of the quantkv project, under the Apache License v2.0 with LLVM
// Exceptions.
//
//===----------------------------------------------------------------------===//
//
// Q.K for every row of a work item over one tile of keys, by the dot product
// the plan chose: f32 FMAs on dequantized (math-mode rounded) K rows,
// vdpbf16ps on bf16 pairs (bf16 math), or the int8 VNNI paths of
// SdpaVnniScores.cpp; AMX items leave the whole tile to their tile
// multiplies. Each K row is unpacked and dequantized once for all rows of
// the block, and the per-row sums are reduced horizontally together.
//
//===----------------------------------------------------------------------===//

#include "SdpaEmitter.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Dialect/X86Vector/X86VectorDialect.h"
#include "llvm/Support/MathExtras.h"

using namespace mlir;
using namespace mlir::quantkv;

void SdpaEmitter::scoreTile(const WorkItem &it, Value j0, Value n) {
  const CacheOperandPlan &ck = p.key;
  const int64_t RB = p.rowBlock, T = p.kvTile, L = p.lanes,
                dVecs = p.headDim / p.lanes;
  // The AMX variant scores the whole tile with tile multiplies; the
  // vector score loops below then cover no keys.
  Value nVector = n;
  if (amxScores) {
    emitAmxScores(it.amxScratch, it.bi, it.hkv, j0, n, it.qbfBuf, it.qi8Buf,
                  it.rsBuf, it.sBuf);
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
    prefetchRow(ck, buf.key, buf.keyScale, it.bi, it.hkv, ahead, p.headDim);
    prefetchRow(p.value, buf.value, buf.valueScale, it.bi, it.hkv, j,
                p.valueHeadDim);
    SmallVector<Value> sums;
    if (p.vnniScores) {
      sums = vnniScores(it.bi, it.hkv, j, it.qi8Buf, it.qslBuf, it.qbBuf);
    } else if (p.bf16Scores) {
      // vdpbf16ps: each f32 lane accumulates one bf16 pair of Q and K'.
      SmallVector<Value> k =
          loadDequantized(ck, buf.key, buf.keyScale, buf.keyZeroPoint, it.bi,
                          it.hkv, j, 0, dVecs);
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
          Value q = vload(bf32, it.qbfBuf, {cIdx(r), cIdx(c * 2 * L)});
          acc[c % 2] =
              x86vector::DotBF16Op::create(b, loc, vecTy, acc[c % 2], q, kb[c]);
        }
        sums.push_back(add(acc[0], acc[1]));
      }
    } else {
      SmallVector<Value> k =
          loadDequantized(ck, buf.key, buf.keyScale, buf.keyZeroPoint, it.bi,
                          it.hkv, j, 0, dVecs);
      for (int64_t r = 0; r < RB; ++r) {
        // Two independent fma chains hide the fma latency.
        Value acc[2];
        for (int64_t c = 0; c < dVecs; ++c) {
          Value q = vload(vecTy, it.qBuf, {cIdx(r), cIdx(c * L)});
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
      Value kStart = prefetchBlockStart(kAhead, L);
      // (With VNNI P x V, its own loop prefetches the next tile's V.)
      Value vStart = p.vnniValues ? Value() : prefetchBlockStart(vAhead, L);
      for (int64_t k = 0; k < L; ++k) {
        prefetchRow(ck, buf.key, Value(), it.bi, it.hkv,
                    prefetchBlockRow(kStart, k, L), p.headDim);
        if (vStart)
          prefetchRow(p.value, buf.value, Value(), it.bi, it.hkv,
                      prefetchBlockRow(vStart, k, L), p.valueHeadDim);
      }
      auto prefetchScales = [&](const CacheOperandPlan &cp, Value flat,
                                int64_t groups, Value ahead) {
        if (!cp.quantized || cp.tokenInvariant || !p.softwarePrefetch)
          return;
        int64_t bytes = L * groups * 4;
        for (int64_t off = 0; off < bytes; off += 64)
          memref::PrefetchOp::create(
              b, loc, flat,
              ValueRange{paramIndex(
                  cp, it.bi, it.hkv,
                  clampRow(addi(ahead, cIdx(off / 4 / groups))), cIdx(0))},
              /*isWrite=*/false, /*localityHint=*/3, /*isDataCache=*/true);
      };
      prefetchScales(ck, buf.keyScale, p.keyScaleGroups, kAhead);
      prefetchScales(p.value, buf.valueScale, p.valueScaleGroups,
                     p.vnniValues ? addi(j, cIdx(T)) : vAhead);
      SmallVector<Value> sc =
          vnniScoresOfKeys(it.bi, it.hkv, j, it.kvEndI32, it.qi8Buf, it.qgBuf);
      for (int64_t r = 0; r < RB; ++r)
        vstore(mul(sc[r], splat(load(it.rsBuf, cIdx(r)))), it.sBuf,
               {cIdx(r), jj});
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
        reduced = mul(reduced, it.rowScales8);
      for (int64_t u = 0; u < unroll; ++u)
        for (int64_t r = 0; r < RB; ++r)
          store(vector::ExtractOp::create(b, loc, reduced,
                                          ArrayRef<int64_t>{u * RB + r}),
                it.sBuf, {cIdx(r), addi(jj, cIdx(u))});
      return SmallVector<Value>{};
    });
  }
  // The key-column loop above covers every key.
  if (p.vnniKeyColumns)
    return;
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
            sc = mul(sc, load(it.rsBuf, cIdx(r)));
          store(sc, it.sBuf, {cIdx(r), jj});
        }
        continue;
      }
      Value reduced = multiReduce(ArrayRef<Value>(sums).slice(r0, n));
      if (p.vnniScores || p.bf16Scores)
        reduced = mul(reduced,
                      vload(VectorType::get({n}, f32), it.rsBuf, {cIdx(r0)}));
      for (int64_t r = 0; r < n; ++r)
        store(vector::ExtractOp::create(b, loc, reduced, ArrayRef<int64_t>{r}),
              it.sBuf, {cIdx(r0 + r), jj});
    }
    return SmallVector<Value>{};
  });
}
