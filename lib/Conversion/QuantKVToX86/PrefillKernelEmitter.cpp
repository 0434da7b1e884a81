//===- PrefillKernelEmitter.cpp - GEMM-style prefill SDPA kernel ----------===//
//
// Part of the quantkv project, under the Apache License v2.0 with LLVM
// Exceptions.
//
//===----------------------------------------------------------------------===//
//
// Emits the prefill kernel of a KernelPlan whose PrefillPlan is enabled:
//
//   scf.parallel %w in [0, B x Hq x query blocks)
//     func.call @<f>_sdpa_prefill(%w, ...)    // O(tile) scratch per item
//
//   item (b, query head h, rows i0 .. i0 + M - 1):
//     Q^T[d][m] = q[i0 + m][d] x softmax scale (x token-invariant K scale)
//     for j0 in [0, causal end of the block's last row) step T:  // tiles past
//                                              // the diagonal are skipped
//       K'[j][d], V'[j][e] <- dequantize the tile once (math-mode rounded)
//       S^T[j][m] = sum_d K'[j][d] Q^T[d][m]     // keyBlock x rowVectors regs
//       online softmax across keys, 16 rows per vector (no reductions)
//       O[m][e] = O[m][e] c[m] + sum_j P^T[j][m] V'[j][e]  // pvRows x pvVecs
//     out[i0 + m] = O[m] / l[m]  (token-invariant V scale / zero point)
//
// Products of bf16- or f16-rounded values are exact in f32, so the f32 FMAs
// implement the bf16/f16 math modes exactly (only the summation order
// differs from the reference). int8 math quantizes each Q row first and
// contracts the dequantized row in f32, like the row-block kernel's non-VNNI
// path.
// With PrefillPlan::bf16Dot (pass option prefill-bf16-dot) bf16 math runs
// both products on vdpbf16ps instead, from bf16-pair layouts of Q^T, K', P^T
// and V'.
//
//===----------------------------------------------------------------------===//

#include "CacheRowReader.h"
#include "KernelBuilder.h"
#include "quantkv/Conversion/QuantKVToX86/QuantKVToX86.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Dialect/X86Vector/X86VectorDialect.h"
#include "mlir/IR/TypeUtilities.h"

#include <limits>

using namespace mlir;
using namespace mlir::quantkv;

namespace {

class PrefillEmitter : public KernelBuilder {
public:
  PrefillEmitter(OpBuilder &b, Location loc, const KernelPlan &p,
                 const SdpaBuffers &buf)
      : KernelBuilder(b, loc, p.lanes, p.mathMode), p(p), pf(p.prefill),
        buf(buf) {}

  void emit();

private:
  /// bf16 pairs: lane l of the result holds (x[2l], x[2l+1]) of the 32
  /// values `lo ++ hi`, rounded to bf16, as one i32.
  Value pairsOf(Value lo, Value hi) {
    SmallVector<int64_t> all;
    for (int64_t l = 0; l < 2 * p.lanes; ++l)
      all.push_back(l);
    Value both = vector::ShuffleOp::create(b, loc, lo, hi, all);
    return packPairs(both);
  }
  /// Pairs (a[l], c[l]) of two vectors, as bf16 in one i32 per lane.
  Value interleavedPairs(Value a, Value c) {
    SmallVector<int64_t> mask;
    for (int64_t l = 0; l < p.lanes; ++l)
      mask.append({l, p.lanes + l});
    return packPairs(vector::ShuffleOp::create(b, loc, a, c, mask));
  }
  Value packPairs(Value v32) {
    Value bf = fromF32(v32, b.getBF16Type());
    return vector::BitCastOp::create(b, loc, i32VecTy, bf);
  }
  /// An i32 vector (or scalar, broadcast) of bf16 pairs as vector<32xbf16>.
  Value asBf16Pairs(Value v) {
    if (!isa<VectorType>(v.getType()))
      v = splat(v);
    return vector::BitCastOp::create(
        b, loc, VectorType::get({2 * p.lanes}, b.getBF16Type()), v);
  }
  Value dot(Value acc, Value x, Value y) {
    return x86vector::DotBF16Op::create(b, loc, vecTy, acc, x, y);
  }

  //===--------------------------------------------------------------------===//
  // The two microkernels (Q.K scores and P x V) are one register-block loop
  // nest; f32 FMAs and vdpbf16ps differ only in these three operations.
  //===--------------------------------------------------------------------===//

  /// A register of the streamed operand (Q^T or V') at `idx`: f32, or 16
  /// bf16 pairs.
  Value loadDotVector(Value memref, ValueRange idx) {
    if (pf.bf16Dot)
      return asBf16Pairs(vload(i32VecTy, memref, idx));
    return vload(memref, idx);
  }
  /// The broadcast operand (one K' or P value, or bf16 pair) at `idx`.
  Value loadDotBroadcast(Value memref, ValueRange idx) {
    if (pf.bf16Dot)
      return asBf16Pairs(load(memref, idx));
    return splat(load(memref, idx));
  }
  /// acc + broadcast x vector (vfmadd or vdpbf16ps).
  Value dotAccumulate(Value acc, Value broadcast, Value vector) {
    if (pf.bf16Dot)
      return dot(acc, broadcast, vector);
    return fma(broadcast, vector, acc);
  }
  /// rows x cols accumulators (row-major, starting at `init`) over k in
  /// [lb, ub): per k, the cols vectors `vectorAt(k, c)` are loaded once and
  /// each row's `broadcastAt(k, r)` multiplies all of them. The loop body
  /// holds `unroll` consecutive k (ub a multiple of it).
  SmallVector<Value>
  registerBlockLoop(Value lb, Value ub, int64_t unroll, ValueRange init,
                    int64_t rows, int64_t cols,
                    function_ref<Value(Value, int64_t)> vectorAt,
                    function_ref<Value(Value, int64_t)> broadcastAt) {
    return forLoop(lb, ub, cIdx(unroll), init,
                   [&](Value k0, ValueRange acc) -> SmallVector<Value> {
                     SmallVector<Value> next(acc.begin(), acc.end());
                     for (int64_t u = 0; u < unroll; ++u) {
                       Value k = unroll == 1 ? k0 : addi(k0, cIdx(u));
                       SmallVector<Value> vecs;
                       for (int64_t c = 0; c < cols; ++c)
                         vecs.push_back(vectorAt(k, c));
                       for (int64_t r = 0; r < rows; ++r) {
                         Value bcast = broadcastAt(k, r);
                         for (int64_t c = 0; c < cols; ++c)
                           next[r * cols + c] = dotAccumulate(
                               next[r * cols + c], bcast, vecs[c]);
                       }
                     }
                     return next;
                   });
  }

  void prepareQueryRow(Value qRow, Value bi, Value hq, Value hkv, Value i,
                       Value m, Value qT, Value stats);
  void dequantizeTile(Value bi, Value hkv, Value j0, Value n, Value kTile,
                      Value vTile);
  void scoreBlock(Value jb, Value qT, Value kTile, Value sT);
  void softmaxTile(Value j0, Value n, Value bi, Value hq, ArrayRef<Value> rowI,
                   ArrayRef<Value> rowLimit, Value firstLimit, Value sT,
                   Value pT, Value stats);
  void accumulateBlock(Value m0, int64_t col0, Value n, Value sT, Value vTile,
                       Value acc, Value stats);
  void finalizeRow(Value m, Value bi, Value hq, Value hkv, Value i, Value acc,
                   Value stats, Value rowBuf);
  void emitItem(Value w);
  void parallelFor(StringRef suffix, int64_t n, function_ref<void(Value)> body);

  const KernelPlan &p;
  const PrefillPlan &pf;
  SdpaBuffers buf;
  Value softmaxScale;
  Value maskFlat;
};

} // namespace

// Stats rows (vectors of M rows each).
static constexpr int64_t kMax = 0, kSum = 1, kCorr = 2, kBias = 3;

/// Q row i of head hq -> column m of Q^T, scaled, with the per-row bias of a
/// token-invariant K zero point.
void PrefillEmitter::prepareQueryRow(Value qRow, Value bi, Value hq, Value hkv,
                                     Value i, Value m, Value qT, Value stats) {
  const int64_t L = p.lanes, D = p.headDim;
  Value scaleV = splat(softmaxScale);
  for (int64_t c = 0; c < D / L; ++c) {
    Value q =
        vector::LoadOp::create(b, loc, VectorType::get({L}, p.queryType),
                               buf.query, ValueRange{bi, hq, i, cIdx(c * L)});
    vstore(roundToMathMode(toF32(q)), qRow, {cIdx(c * L)});
  }
  if (p.mathMode == MathMode::int8)
    quantizeRowInt8(qRow, {}, D / L);
  if (pf.bf16Dot) {
    // Column m of the pair-major Q^T, unscaled (exactly bf16); the scores
    // are scaled instead.
    for (int64_t c = 0; c < D / (2 * L); ++c) {
      Value pairs = pairsOf(vload(qRow, {cIdx(2 * c * L)}),
                            vload(qRow, {cIdx((2 * c + 1) * L)}));
      for (int64_t l = 0; l < L; ++l)
        store(vector::ExtractOp::create(b, loc, pairs, ArrayRef<int64_t>{l}),
              qT, {cIdx(c * L + l), m});
    }
    store(cF32(0.0), stats, {cIdx(kBias), m});
    return;
  }
  for (int64_t c = 0; c < D / L; ++c)
    vstore(mul(vload(qRow, {cIdx(c * L)}), scaleV), qRow, {cIdx(c * L)});
  const CacheOperandPlan &ck = p.key;
  CacheRowReader keys(b, loc, ck, L, buf.key, buf.keyScale, buf.keyZeroPoint);
  Value bias = forLoop(cIdx(0), cIdx(D), cIdx(1), {cF32(0.0)},
                       [&](Value d, ValueRange acc) -> SmallVector<Value> {
                         Value q = load(qRow, {d});
                         Value sum = acc[0];
                         if (ck.quantized && ck.tokenInvariant) {
                           // q'_d = q_d s_d; bias = sum_d q'_d zp_d.
                           Value linear = keys.paramIndex(bi, hkv, Value(), d);
                           q = mul(q, keys.loadScale(linear));
                           if (ck.hasZeroPoint)
                             sum = add(sum, mul(q, keys.loadZeroPoint(linear)));
                         }
                         store(q, qT, {d, m});
                         return {sum};
                       })[0];
  store(bias, stats, {cIdx(kBias), m});
}

/// K' and V' rows [j0, j0 + n) -> f32 scratch, dequantized and rounded once
/// for every row of the item.
void PrefillEmitter::dequantizeTile(Value bi, Value hkv, Value j0, Value n,
                                    Value kTile, Value vTile) {
  const int64_t L = p.lanes;
  CacheRowReader keys(b, loc, p.key, L, buf.key, buf.keyScale,
                      buf.keyZeroPoint);
  CacheRowReader values(b, loc, p.value, L, buf.value, buf.valueScale,
                        buf.valueZeroPoint);
  if (pf.bf16Dot) {
    // K' rows as D/2 bf16 pairs; V' as pairs of consecutive keys per column
    // (the partner of an odd last key is a real row whose P is 0).
    forEach(cIdx(0), n, cIdx(1), [&](Value jj) {
      SmallVector<Value> k = keys.loadRow(bi, hkv, addi(j0, jj), p.headDim / L);
      for (size_t c = 0; c + 1 < k.size(); c += 2)
        vstore(pairsOf(roundToMathMode(k[c]), roundToMathMode(k[c + 1])), kTile,
               {jj, cIdx(c / 2 * L)});
    });
    Value nPairs = arith::CeilDivUIOp::create(b, loc, n, cIdx(2));
    forEach(cIdx(0), nPairs, cIdx(1), [&](Value jp) {
      Value j = addi(j0, muli(jp, cIdx(2)));
      Value j1 =
          arith::MinUIOp::create(b, loc, addi(j, cIdx(1)), cIdx(p.kvLen - 1));
      SmallVector<Value> v0 = values.loadRow(bi, hkv, j, p.valueHeadDim / L);
      SmallVector<Value> v1 = values.loadRow(bi, hkv, j1, p.valueHeadDim / L);
      for (size_t c = 0; c < v0.size(); ++c)
        vstore(interleavedPairs(roundToMathMode(v0[c]), roundToMathMode(v1[c])),
               vTile, {jp, cIdx(c * L)});
    });
    return;
  }
  forEach(cIdx(0), n, cIdx(1), [&](Value jj) {
    Value j = addi(j0, jj);
    SmallVector<Value> k = keys.loadRow(bi, hkv, j, p.headDim / L);
    for (auto [c, v] : llvm::enumerate(k))
      vstore(roundToMathMode(v), kTile, {jj, cIdx(c * L)});
    SmallVector<Value> v = values.loadRow(bi, hkv, j, p.valueHeadDim / L);
    for (auto [c, x] : llvm::enumerate(v))
      vstore(roundToMathMode(x), vTile, {jj, cIdx(c * L)});
  });
}

/// S^T[jb .. jb + keyBlock)[0 .. M) = K' Q^T: keyBlock x rowVectors
/// accumulators; per d, rowVectors loads of Q^T and one broadcast K' value
/// per key (a vbroadcastss from L1 shared by the key's rowVectors fmas). With
/// bf16 dot products d runs over pairs of D: one vdpbf16ps per (key, row
/// vector) and pair.
void PrefillEmitter::scoreBlock(Value jb, Value qT, Value kTile, Value sT) {
  const int64_t KB = pf.keyBlock, MV = pf.rowVectors, L = p.lanes;
  SmallVector<Value> init(KB * MV, splat(cF32(0.0)));
  SmallVector<Value> keyRow;
  for (int64_t k = 0; k < KB; ++k)
    keyRow.push_back(addi(jb, cIdx(k)));
  Value lb = cIdx(0);
  Value ub = cIdx(pf.bf16Dot ? p.headDim / 2 : p.headDim);
  SmallVector<Value> accs = registerBlockLoop(
      lb, ub, /*unroll=*/2, init, KB, MV,
      [&](Value d, int64_t mv) {
        return loadDotVector(qT, {d, cIdx(mv * L)});
      },
      [&](Value d, int64_t k) {
        return loadDotBroadcast(kTile, {keyRow[k], d});
      });
  for (int64_t k = 0; k < KB; ++k)
    for (int64_t mv = 0; mv < MV; ++mv)
      vstore(accs[k * MV + mv], sT, {keyRow[k], cIdx(mv * L)});
}

/// Online softmax of the tile, 16 rows per vector: mask, running max, exp,
/// running sum and the rescale factor of each row; P (math-mode rounded)
/// replaces S^T.
void PrefillEmitter::softmaxTile(Value j0, Value n, Value bi, Value hq,
                                 ArrayRef<Value> rowI, ArrayRef<Value> rowLimit,
                                 Value firstLimit, Value sT, Value pT,
                                 Value stats) {
  const int64_t L = p.lanes;
  Value nBlocks = arith::CeilDivUIOp::create(b, loc, n, cIdx(pf.keyBlock));
  Value nScored = muli(nBlocks, cIdx(pf.keyBlock));
  Value nI32 = arith::IndexCastOp::create(b, loc, i32, n);
  Value j0I32 = arith::IndexCastOp::create(b, loc, i32, j0);
  // Every key of the tile is visible to every row of the block.
  Value interior = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, n,
                                         cIdx(p.kvTile));
  if (p.causal)
    interior = arith::AndIOp::create(
        b, loc, interior,
        arith::CmpIOp::create(b, loc, arith::CmpIPredicate::sle,
                              addi(j0, cIdx(p.kvTile)), firstLimit));
  for (int64_t mv = 0; mv < pf.rowVectors; ++mv) {
    Value col = cIdx(mv * L);
    Value bias = vload(stats, {cIdx(kBias), col});
    // Mask offsets of the 16 rows (linear index in the flattened mask).
    Value maskRowOff, maskKeyStride;
    if (maskFlat) {
      int64_t rank = p.maskShape.size();
      Value full[4] = {bi, hq, Value(), Value()};
      maskRowOff = splat(cI32(0));
      int64_t stride = 1;
      int64_t keyStride = 0;
      for (int64_t k = rank - 1; k >= 0; --k) {
        int64_t dim = 4 - rank + k;
        if (p.maskShape[k] != 1) {
          if (dim == 3)
            keyStride = stride;
          else if (dim == 2)
            maskRowOff =
                addi(maskRowOff, arith::MulIOp::create(b, loc, rowI[mv],
                                                       splat(cI32(stride))));
          else
            maskRowOff = addi(maskRowOff,
                              splat(arith::IndexCastOp::create(
                                  b, loc, i32, muli(full[dim], cIdx(stride)))));
        }
        stride *= p.maskShape[k];
      }
      maskKeyStride = cI32(keyStride);
    }
    // Pass 1: masked scores and the tile max. Tiles below the causal
    // diagonal of the whole block (and full, without an explicit mask) skip
    // the masking: only the diagonal tiles of a block pay for it.
    bool hasBias = p.key.quantized && p.key.tokenInvariant &&
                   p.key.hasZeroPoint && !pf.bf16Dot;
    auto interiorMax = [&]() -> Value {
      return forLoop(cIdx(0), n, cIdx(1), {splat(negInf())},
                     [&](Value j, ValueRange acc) -> SmallVector<Value> {
                       Value s = vload(sT, {j, col});
                       if (pf.bf16Dot)
                         s = mul(s, splat(softmaxScale));
                       if (hasBias)
                         s = sub(s, bias);
                       if (pf.bf16Dot || hasBias)
                         vstore(s, sT, {j, col});
                       return {maxf(acc[0], s)};
                     })[0];
    };
    auto maskedMax = [&]() -> Value {
      return forLoop(
          cIdx(0), nScored, cIdx(1), {splat(negInf())},
          [&](Value j, ValueRange acc) -> SmallVector<Value> {
            Value jI32 = arith::IndexCastOp::create(b, loc, i32, j);
            Value inTile = arith::CmpIOp::create(
                b, loc, arith::CmpIPredicate::slt, jI32, nI32);
            Value valid = splat(inTile);
            if (p.causal)
              valid = arith::AndIOp::create(
                  b, loc, valid,
                  arith::CmpIOp::create(
                      b, loc, arith::CmpIPredicate::slt,
                      splat(arith::AddIOp::create(b, loc, j0I32, jI32)),
                      rowLimit[mv]));
            Value s = vload(sT, {j, col});
            if (pf.bf16Dot)
              s = mul(s, splat(softmaxScale));
            s = sub(s, bias);
            if (maskFlat) {
              Value key = arith::AddIOp::create(b, loc, j0I32, jI32);
              Value off = addi(maskRowOff, splat(arith::MulIOp::create(
                                               b, loc, key, maskKeyStride)));
              auto mt = VectorType::get({L}, p.maskType);
              Value pad = arith::ConstantOp::create(
                  b, loc, mt,
                  DenseElementsAttr::get(mt, b.getZeroAttr(p.maskType)));
              Value mvals = vector::GatherOp::create(
                  b, loc, mt, maskFlat, ValueRange{cIdx(0)}, off, valid, pad);
              s = add(s, toF32(mvals));
            }
            s = arith::SelectOp::create(b, loc, valid, s, splat(negInf()));
            vstore(s, sT, {j, col});
            return {maxf(acc[0], s)};
          })[0];
    };
    Value tileMax;
    if (maskFlat) {
      tileMax = maskedMax();
    } else {
      auto ifOp = scf::IfOp::create(b, loc, TypeRange{vecTy}, interior,
                                    /*withElseRegion=*/true);
      {
        OpBuilder::InsertionGuard guard(b);
        b.setInsertionPointToStart(&ifOp.getThenRegion().front());
        scf::YieldOp::create(b, loc, interiorMax());
        b.setInsertionPointToStart(&ifOp.getElseRegion().front());
        scf::YieldOp::create(b, loc, maskedMax());
      }
      tileMax = ifOp.getResult(0);
    }
    Value mOld = vload(stats, {cIdx(kMax), col});
    Value mNew = maxf(mOld, tileMax);
    Value mUse = maxToSubtract(mNew);
    Value corr = expNonPositive(sub(mOld, mUse));
    // Pass 2: p = exp(s - m), its sum, and P for P x V.
    Value psum;
    if (pf.bf16Dot) {
      // P^T as pairs of consecutive keys: keys past n hold -inf scores
      // (keyBlock is even), so an odd last key's partner is 0.
      Value nPairs = arith::CeilDivUIOp::create(b, loc, n, cIdx(2));
      psum =
          forLoop(cIdx(0), nPairs, cIdx(1), {splat(cF32(0.0))},
                  [&](Value jp, ValueRange acc) -> SmallVector<Value> {
                    Value j = muli(jp, cIdx(2));
                    Value e0 = expNonPositive(sub(vload(sT, {j, col}), mUse));
                    Value e1 = expNonPositive(
                        sub(vload(sT, {addi(j, cIdx(1)), col}), mUse));
                    vstore(interleavedPairs(e0, e1), pT, {jp, col});
                    return {add(acc[0], add(e0, e1))};
                  })[0];
    } else {
      psum = forLoop(cIdx(0), n, cIdx(1), {splat(cF32(0.0))},
                     [&](Value j, ValueRange acc) -> SmallVector<Value> {
                       Value e = expNonPositive(sub(vload(sT, {j, col}), mUse));
                       vstore(roundToMathMode(e), sT, {j, col});
                       return {add(acc[0], e)};
                     })[0];
    }
    Value lNew = add(mul(vload(stats, {cIdx(kSum), col}), corr), psum);
    vstore(mNew, stats, {cIdx(kMax), col});
    vstore(lNew, stats, {cIdx(kSum), col});
    vstore(corr, stats, {cIdx(kCorr), col});
  }
}

/// O[m0 .. m0 + pvRows)[col0 .. col0 + pvVectors x 16) =
///   O c + sum_j P^T[j][m] V'[j]: pvRows x pvVectors accumulators; per key,
/// pvVectors loads of V' and one broadcast P value per row (with bf16 dot
/// products, per pair of keys).
void PrefillEmitter::accumulateBlock(Value m0, int64_t col0, Value n, Value sT,
                                     Value vTile, Value acc, Value stats) {
  const int64_t R = pf.pvRows, C = pf.pvVectors, L = p.lanes;
  SmallVector<Value> rows, init;
  for (int64_t r = 0; r < R; ++r) {
    Value m = addi(m0, cIdx(r));
    rows.push_back(m);
    Value corr = splat(load(stats, {cIdx(kCorr), m}));
    for (int64_t c = 0; c < C; ++c)
      init.push_back(mul(vload(acc, {m, cIdx(col0 + c * L)}), corr));
  }
  Value ub = pf.bf16Dot ? arith::CeilDivUIOp::create(b, loc, n, cIdx(2)) : n;
  Value lb = cIdx(0);
  SmallVector<Value> accs = registerBlockLoop(
      lb, ub, /*unroll=*/1, init, R, C,
      [&](Value j, int64_t c) {
        return loadDotVector(vTile, {j, cIdx(col0 + c * L)});
      },
      [&](Value j, int64_t r) {
        return loadDotBroadcast(sT, {j, rows[r]});
      });
  for (int64_t r = 0; r < R; ++r)
    for (int64_t c = 0; c < C; ++c)
      vstore(accs[r * C + c], acc, {rows[r], cIdx(col0 + c * L)});
}

/// Writes O[m] / l[m] (0 when every key is masked) to output row i, with the
/// token-invariant V scale and zero point applied after the weighted sum.
void PrefillEmitter::finalizeRow(Value m, Value bi, Value hq, Value hkv,
                                 Value i, Value acc, Value stats,
                                 Value rowBuf) {
  const int64_t L = p.lanes, vVecs = p.valueHeadDim / L;
  Value zero = cF32(0.0);
  Value l = load(stats, {cIdx(kSum), m});
  auto [positive, inv] = inverseOrZero(l, zero);
  Value invV = splat(inv);
  for (int64_t c = 0; c < vVecs; ++c)
    vstore(mul(vload(acc, {m, cIdx(c * L)}), invV), rowBuf, {cIdx(c * L)});
  const CacheOperandPlan &cv = p.value;
  if (cv.quantized && cv.tokenInvariant) {
    CacheRowReader(b, loc, cv, L, buf.value, buf.valueScale, buf.valueZeroPoint)
        .applyInvariantParams(rowBuf, bi, hkv, p.valueHeadDim, positive, zero);
  }
  for (int64_t c = 0; c < vVecs; ++c)
    vector::StoreOp::create(b, loc,
                            fromF32(vload(rowBuf, {cIdx(c * L)}), p.outputType),
                            buf.output, ValueRange{bi, hq, i, cIdx(c * L)});
}

void PrefillEmitter::emitItem(Value w) {
  const int64_t M = pf.rows, MV = pf.rowVectors, L = p.lanes;
  const int64_t D = p.headDim, Dv = p.valueHeadDim, T = p.kvTile;

  // Query blocks alternate from both ends of the head (0, N-1, 1, N-2 ..):
  // with causal masking late blocks cost more, and the static schedule
  // hands each thread a contiguous range of items.
  Value slot = remui(w, pf.numQueryBlocks);
  Value half = divui(slot, 2);
  Value fromEnd =
      arith::SubIOp::create(b, loc, cIdx(pf.numQueryBlocks - 1), half);
  Value isOdd = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ne,
                                      remui(slot, 2), cIdx(0));
  Value qb = arith::SelectOp::create(b, loc, isOdd, fromEnd, half);
  Value t = divui(w, pf.numQueryBlocks);
  Value hq = remui(t, p.qHeads);
  Value bi = divui(t, p.qHeads);
  Value hkv = divui(hq, p.groupSize);
  Value i0 = muli(qb, cIdx(M));

  // bf16 dot products keep Q^T, K', V' and P^T as bf16 pairs in i32.
  Value qT, kTile, vTile, pT;
  if (pf.bf16Dot) {
    qT = scratchOf({D / 2, M}, i32);
    kTile = scratchOf({pf.tileRows, D / 2}, i32);
    vTile = scratchOf({T / 2, Dv}, i32);
    pT = scratchOf({pf.tileRows / 2, M}, i32);
  } else {
    qT = scratch({D, M});
    kTile = scratch({pf.tileRows, D});
    vTile = scratch({T, Dv});
  }
  Value sT = scratch({pf.tileRows, M});
  Value acc = scratch({M, Dv});
  Value stats = scratch({4, M}); // max, sum, rescale, K bias
  Value qRow = scratch({D});
  Value rowBuf = scratch({Dv});

  // Rows past the end of the head repeat the last row (their results are
  // not written), so every register block is full.
  Value lastRow = cIdx(p.qLen - 1);
  forEach(cIdx(0), cIdx(M), cIdx(1), [&](Value m) {
    Value i = arith::MinUIOp::create(b, loc, addi(i0, m), lastRow);
    prepareQueryRow(qRow, bi, hq, hkv, i, m, qT, stats);
  });
  Value zeroV = splat(cF32(0.0));
  for (int64_t mv = 0; mv < MV; ++mv) {
    vstore(splat(negInf()), stats, {cIdx(kMax), cIdx(mv * L)});
    vstore(zeroV, stats, {cIdx(kSum), cIdx(mv * L)});
  }
  forEach(cIdx(0), cIdx(M), cIdx(1), [&](Value m) {
    for (int64_t c = 0; c < Dv / L; ++c)
      vstore(zeroV, acc, {m, cIdx(c * L)});
  });

  // Query position of each lane (i32) and, with causal masking, the first
  // invisible key of each row. The block stops at the causal limit of its
  // last row: tiles entirely above the diagonal are never touched.
  Value iotaV = laneIota();
  Value i0I32 = arith::IndexCastOp::create(b, loc, i32, i0);
  SmallVector<Value> rowI, rowLimit;
  for (int64_t mv = 0; mv < MV; ++mv) {
    Value iv = addi(splat(addi(i0I32, cI32(mv * L))), iotaV);
    iv = arith::MinSIOp::create(b, loc, iv, splat(cI32(p.qLen - 1)));
    rowI.push_back(iv);
    rowLimit.push_back(addi(iv, splat(cI32(p.causalOffset + 1))));
  }
  // First invisible key of the block's first row (causal).
  Value firstLimit = addi(i0, cIdx(p.causalOffset + 1));
  Value kvEnd = cIdx(p.kvLen);
  if (p.causal) {
    Value last = arith::MinUIOp::create(b, loc, addi(i0, cIdx(M - 1)), lastRow);
    Value limit = addi(last, cIdx(p.causalOffset + 1));
    kvEnd = arith::MaxSIOp::create(b, loc, minsi(kvEnd, limit), cIdx(0));
  }

  forEach(cIdx(0), kvEnd, cIdx(T), [&](Value j0) {
    Value n = arith::MinUIOp::create(b, loc, cIdx(T),
                                     arith::SubIOp::create(b, loc, kvEnd, j0));
    dequantizeTile(bi, hkv, j0, n, kTile, vTile);
    Value nScored =
        muli(arith::CeilDivUIOp::create(b, loc, n, cIdx(pf.keyBlock)),
             cIdx(pf.keyBlock));
    forEach(cIdx(0), nScored, cIdx(pf.keyBlock),
            [&](Value jb) { scoreBlock(jb, qT, kTile, sT); });
    // Rows [n, nScored) of the K tile are scored too (and masked): zero
    // them, stale stack bits may be denormals whose fma assists cost ~100x.
    Type kElem = cast<MemRefType>(kTile.getType()).getElementType();
    int64_t kCols = cast<MemRefType>(kTile.getType()).getShape()[1];
    Value zeroK = kElem.isF32() ? splat(cF32(0.0))
                                : splat(arith::ConstantOp::create(
                                      b, loc, i32, b.getI32IntegerAttr(0)));
    forEach(n, nScored, cIdx(1), [&](Value j) {
      for (int64_t c = 0; c < kCols; c += L)
        vstore(zeroK, kTile, {j, cIdx(c)});
    });
    softmaxTile(j0, n, bi, hq, rowI, rowLimit, firstLimit, sT, pT, stats);
    forEach(cIdx(0), cIdx(M), cIdx(pf.pvRows), [&](Value m0) {
      for (int64_t col0 = 0; col0 < Dv; col0 += pf.pvVectors * L)
        accumulateBlock(m0, col0, n, pf.bf16Dot ? pT : sT, vTile, acc, stats);
    });
  });

  Value nRows = arith::MinUIOp::create(
      b, loc, cIdx(M), arith::SubIOp::create(b, loc, cIdx(p.qLen), i0));
  forEach(cIdx(0), nRows, cIdx(1), [&](Value m) {
    finalizeRow(m, bi, hq, hkv, addi(i0, m), acc, stats, rowBuf);
  });
}

/// scf.parallel over [0, n) calling a private function that holds
/// `body(iv)`: the item's scratch lives in a function entry block (allocated
/// once per call), and the loop body stays one block for scf-to-openmp.
void PrefillEmitter::parallelFor(StringRef suffix, int64_t n,
                                 function_ref<void(Value)> body) {
  SmallVector<Value *> captured = {
      &buf.query,  &buf.key,        &buf.keyScale,       &buf.keyZeroPoint,
      &buf.value,  &buf.valueScale, &buf.valueZeroPoint, &buf.mask,
      &buf.output, &softmaxScale};
  SmallVector<Value> outer;
  for (Value *v : captured)
    if (*v)
      outer.push_back(*v);
  func::FuncOp parentFunc = enclosingFunc();
  std::string name =
      outlineItem(parentFunc,
                  (parentFunc.getSymName() + "_sdpa_" + suffix).str(), captured,
                  [&](Value item) {
                    if (buf.mask)
                      maskFlat = flatten(buf.mask);
                    body(item);
                  })
          .first;
  Value lb = cIdx(0), ub = cIdx(n), step = cIdx(1);
  parallelCall(lb, ub, step, name, outer);
}

void PrefillEmitter::emit() {
  buf.keyScale = flatten(buf.keyScale);
  buf.keyZeroPoint = flatten(buf.keyZeroPoint);
  buf.valueScale = flatten(buf.valueScale);
  buf.valueZeroPoint = flatten(buf.valueZeroPoint);
  softmaxScale = p.dynamicScale ? buf.dynamicScale : cF32(p.softmaxScale);
  parallelFor("prefill", pf.getNumItems(p.batch, p.qHeads),
              [&](Value w) { emitItem(w); });
}

void mlir::quantkv::emitPrefillKernel(OpBuilder &builder, Location loc,
                                      const KernelPlan &plan,
                                      const SdpaBuffers &buffers) {
  PrefillEmitter(builder, loc, plan, buffers).emit();
}
