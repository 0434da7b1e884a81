//===- SdpaVnniScores.cpp - int8 Q x K on vpdpbusd ------------------------===//
//
// Part of the quantkv project, under the Apache License v2.0 with LLVM
// Exceptions.
//
//===----------------------------------------------------------------------===//
//
// int8 math scores on VNNI (KernelPlan::vnniScores): the s8 Q row against u8
// (bias-flipped) K codes, int4 K as low/high nibble planes, either one key at a
// time (lanes summed by the caller) or 16 keys at a time with K transposed in
// registers (KernelPlan::vnniKeyColumns). Group scales and zero points are
// applied to the exact i32 partial dot products.
//
//===----------------------------------------------------------------------===//

#include "SdpaEmitter.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/TypeUtilities.h"

using namespace mlir;
using namespace mlir::quantkv;

Value SdpaEmitter::laneGroupVector(const CacheOperandPlan &cp, Value flat,
                                   Value bi, Value hi, Value j, int64_t base,
                                   int64_t epl, bool floatParam,
                                   function_ref<Value(Value)> valueAt) {
  int64_t span = p.lanes * epl;
  int64_t g = cp.groupShape[3];
  if (cp.alongD == ScaleAlongD::PerRow || g >= span)
    return splat(valueAt(paramIndex(cp, bi, hi, j, cIdx(base))));
  int64_t groups = span / g;
  if (floatParam) {
    Type elem = cast<MemRefType>(flat.getType()).getElementType();
    Value v = toF32(vload(VectorType::get({groups}, elem), flat,
                          {paramIndex(cp, bi, hi, j, cIdx(base))}));
    SmallVector<int64_t> spread;
    for (int64_t l = 0; l < p.lanes; ++l)
      spread.push_back(l * epl / g);
    return vector::ShuffleOp::create(b, loc, v, v, spread);
  }
  Value v = splat(valueAt(paramIndex(cp, bi, hi, j, cIdx(base))));
  for (int64_t first = g; first < span; first += g) {
    SmallVector<bool> lanes;
    for (int64_t l = 0; l < p.lanes; ++l)
      lanes.push_back(epl * l >= first);
    auto maskType = VectorType::get({p.lanes}, b.getI1Type());
    Value mask = arith::ConstantOp::create(
        b, loc, maskType, DenseElementsAttr::get(maskType, lanes));
    Value s = splat(valueAt(paramIndex(cp, bi, hi, j, cIdx(base + first))));
    v = arith::SelectOp::create(b, loc, mask, s, v);
  }
  return v;
}

SmallVector<Value> SdpaEmitter::vnniScores(Value bi, Value hkv, Value j,
                                           Value qi8Buf, Value qslBuf,
                                           Value qbBuf) {
  const CacheOperandPlan &cp = p.key;
  int64_t D = p.headDim;
  Type i8 = b.getI8Type();
  auto bytes64 = VectorType::get({64}, i8);
  auto i32x16 = VectorType::get({p.lanes}, i32);
  int64_t epl = vnniElemsPerLane(), span = p.lanes * epl;
  int64_t chunks = D / span;
  bool floatScale = isa<FloatType>(cp.scaleType);
  // Operand vectors of each chunk: {lo, hi} planes, or the chunk itself.
  SmallVector<SmallVector<Value, 2>> kc(chunks);
  SmallVector<Value> scaleV, negZ;
  Value nibbleBytes;
  if (cp.storage == CacheStorage::Int4 && !p.vnniNibblePlanes) {
    Value packed =
        vload(VectorType::get({D / 2}, i8), buf.key, {bi, hkv, j, cIdx(0)});
    if (cp.isSigned)
      packed = arith::XOrIOp::create(
          b, loc, packed,
          splatInt(VectorType::get({D / 2}, i8), static_cast<int8_t>(0x88)));
    Value nibbles = vector::BitCastOp::create(
        b, loc, VectorType::get({D}, b.getIntegerType(4)), packed);
    nibbleBytes =
        arith::ExtUIOp::create(b, loc, VectorType::get({D}, i8), nibbles);
  }
  for (int64_t c = 0; c < chunks; ++c) {
    if (p.vnniNibblePlanes) {
      Value packed = vload(bytes64, buf.key, {bi, hkv, j, cIdx(c * 64)});
      // x + 8 of a two's complement nibble is x with its top bit flipped.
      if (cp.isSigned)
        packed = arith::XOrIOp::create(
            b, loc, packed, splatInt(bytes64, static_cast<int8_t>(0x88)));
      Value low = splatInt(bytes64, 0x0F);
      kc[c].push_back(arith::AndIOp::create(b, loc, packed, low));
      kc[c].push_back(arith::AndIOp::create(
          b, loc, arith::ShRUIOp::create(b, loc, packed, splatInt(bytes64, 4)),
          low));
    } else if (nibbleBytes) {
      kc[c].push_back(chunks == 1
                          ? nibbleBytes
                          : vector::ExtractStridedSliceOp::create(
                                b, loc, bytes64, nibbleBytes,
                                b.getI64ArrayAttr({c * 64}),
                                b.getI64ArrayAttr({64}), b.getI64ArrayAttr({1}))
                                .getResult());
    } else {
      Value bytes = vload(bytes64, buf.key, {bi, hkv, j, cIdx(c * 64)});
      llvm::append_range(kc[c],
                         vnniCodeOperands(bytes, /*int4=*/false, cp.isSigned));
    }
    scaleV.push_back(laneGroupVector(
        cp, buf.keyScale, bi, hkv, j, c * span, epl, floatScale,
        [&](Value l) { return loadScale(cp, buf.keyScale, l); }));
    if (cp.hasZeroPoint)
      negZ.push_back(
          laneGroupVector(cp, buf.keyZeroPoint, bi, hkv, j, c * span, epl,
                          false, [&](Value l) -> Value {
                            return arith::NegFOp::create(
                                b, loc, loadZeroPoint(cp, buf.keyZeroPoint, l));
                          }));
  }
  Value zeroI = splatInt(i32x16, 0);
  SmallVector<Value> sums;
  for (int64_t r = 0; r < p.rowBlock; ++r) {
    Value t;
    for (int64_t c = 0; c < chunks; ++c) {
      Value acc = qbBuf ? vload(i32x16, qbBuf, {cIdx(r), cIdx(c * 16)}) : zeroI;
      for (size_t pl = 0; pl < kc[c].size(); ++pl) {
        Value q = vload(bytes64, qi8Buf, {cIdx(r), cIdx(c * span + pl * 64)});
        acc = dpbusd(acc, kc[c][pl], q);
      }
      Value f = arith::SIToFPOp::create(b, loc, vecTy, acc);
      if (!negZ.empty())
        f = fma(negZ[c], vload(vecTy, qslBuf, {cIdx(r), cIdx(c * 16)}), f);
      t = t ? fma(f, scaleV[c], t) : mul(f, scaleV[c]);
    }
    sums.push_back(t);
  }
  return sums;
}

SmallVector<Value> SdpaEmitter::transpose16(SmallVector<Value> m) {
  // Each stage's masks are single in-lane or 128-bit-block instructions
  // (vpunpck{l,h}dq, vpunpck{l,h}qdq, vshufi64x2) rather than two-source
  // permutes: they need no index registers and do not overwrite a source.
  auto shuffle = [&](Value x, Value y, function_ref<int64_t(int64_t)> src) {
    SmallVector<int64_t> mask;
    for (int64_t l = 0; l < 16; ++l)
      mask.push_back(src(l));
    return vector::ShuffleOp::create(b, loc, x, y, mask).getResult();
  };
  // Within each 128-bit block, interleave the low (or high) halves of x and
  // y in units of `width` dwords (1: vpunpck*dq, 2: vpunpck*qdq).
  auto unpack = [&](Value x, Value y, int64_t width, bool high) {
    return shuffle(x, y, [&](int64_t l) {
      int64_t k = l % 4;
      int64_t fromY = (k / width) % 2 ? 16 : 0;
      int64_t elem = (high ? 2 : 0) + k % width + k / (2 * width) * width;
      return fromY + 4 * (l / 4) + elem;
    });
  };
  // Blocks 0, 2 (even) or 1, 3 (odd) of x, then of y.
  auto blocks = [&](Value x, Value y, bool odd) {
    return shuffle(x, y, [&](int64_t l) {
      int64_t k = l / 4;
      return (k / 2) * 16 + (2 * (k % 2) + (odd ? 1 : 0)) * 4 + l % 4;
    });
  };
  SmallVector<Value> t(16), u(16);
  for (int64_t i = 0; i < 16; i += 2) {
    t[i] = unpack(m[i], m[i + 1], 1, false);
    t[i + 1] = unpack(m[i], m[i + 1], 1, true);
  }
  for (int64_t i = 0; i < 16; i += 4) {
    u[i] = unpack(t[i], t[i + 2], 2, false);
    u[i + 1] = unpack(t[i], t[i + 2], 2, true);
    u[i + 2] = unpack(t[i + 1], t[i + 3], 2, false);
    u[i + 3] = unpack(t[i + 1], t[i + 3], 2, true);
  }
  for (int64_t i = 0; i < 4; ++i) {
    t[i] = blocks(u[i], u[i + 4], false);
    t[i + 4] = blocks(u[i], u[i + 4], true);
    t[i + 8] = blocks(u[i + 8], u[i + 12], false);
    t[i + 12] = blocks(u[i + 8], u[i + 12], true);
  }
  for (int64_t i = 0; i < 8; ++i) {
    m[i] = blocks(t[i], t[i + 8], false);
    m[i + 8] = blocks(t[i], t[i + 8], true);
  }
  return m;
}

SmallVector<Value> SdpaEmitter::vnniScoresOfKeys(Value bi, Value hkv, Value j,
                                                 Value kvEndI32, Value qi8Buf,
                                                 Value qgBuf) {
  const CacheOperandPlan &cp = p.key;
  const int64_t L = p.lanes, D = p.headDim;
  Type i8 = b.getI8Type();
  auto bytes64 = VectorType::get({64}, i8);
  auto i32x16 = VectorType::get({L}, i32);
  bool int4 = cp.storage == CacheStorage::Int4;
  int64_t epd = int4 ? 8 : 4, span = 16 * epd, chunks = D / span;
  int64_t NG = p.keyScaleGroups, groupLen = D / NG;
  // With Q' parts the K scale and zero point are in Q' and the row bias.
  bool parts = p.vnniQueryParts;
  int64_t H = queryCodeRows();
  SmallVector<Value> scales;
  if (!parts)
    scales = paramsOfKeys(cp, NG, buf.keyScale, bi, hkv, j, kvEndI32, false);
  SmallVector<Value> negZ;
  if (cp.hasZeroPoint && !parts)
    for (Value z :
         paramsOfKeys(cp, NG, buf.keyZeroPoint, bi, hkv, j, kvEndI32, true)) {
      if (!isa<FloatType>(getElementTypeOrSelf(z.getType())))
        z = arith::SIToFPOp::create(b, loc, vecTy, z);
      negZ.push_back(arith::NegFOp::create(b, loc, z));
    }
  SmallVector<Value> rowIdx;
  for (int64_t k = 0; k < 16; ++k)
    rowIdx.push_back(blockRow(j, k, 16));
  // The Q dwords are the same for every group of 16 keys. Hoisted out of
  // the key loop, their broadcasts (rows x planes x 16 per chunk: 128 for a
  // GQA block of 4 at D = 128) spill, and every vpdpbusd then reloads a
  // 64-byte vector: one full-width load per multiply, which on Zen 4 (one
  // 64-byte load per cycle) bounds the loop above the vpdpbusd rate. Kept
  // in the loop, each is a 4-byte {1to16} memory operand of its vpdpbusd.
  Value qOffset = zeroVaryingWith(j);
  // One accumulator per (s8 Q row, plane): two independent vpdpbusd chains
  // per row and group instead of one twice as long. The s8 Q rows are the
  // block's rows, or the parts of each (qr = r * H + part).
  SmallVector<Value> score(p.rowBlock);
  SmallVector<SmallVector<Value, 2>> acc(p.rowBlock * H);
  for (int64_t c = 0; c < chunks; ++c) {
    SmallVector<Value> rows;
    for (int64_t k = 0; k < 16; ++k)
      rows.push_back(vector::BitCastOp::create(
          b, loc, i32x16,
          vload(bytes64, buf.key, {bi, hkv, rowIdx[k], cIdx(c * 64)})));
    SmallVector<Value> cols = transpose16(rows);
    for (int64_t d = 0; d < 16; ++d) {
      int64_t g = NG == 1 ? 0 : (c * span + d * epd) / groupLen;
      Value col = vector::BitCastOp::create(b, loc, bytes64, cols[d]);
      SmallVector<Value> planes = vnniCodeOperands(col, int4, cp.isSigned);
      for (int64_t qr = 0; qr < p.rowBlock * H; ++qr) {
        if (acc[qr].empty()) {
          acc[qr].push_back(vector::BroadcastOp::create(
              b, loc, i32x16, load(qgBuf, {cIdx(qr), cIdx(g)})));
          acc[qr].resize(planes.size(), splatInt(i32x16, 0));
        }
        for (size_t pl = 0; pl < planes.size(); ++pl) {
          // Dword d of the Q plane (even / odd elements for int4).
          Value qw = vector::ExtractOp::create(
              b, loc,
              vector::BitCastOp::create(
                  b, loc, VectorType::get({1}, i32),
                  vload(VectorType::get({4}, i8), qi8Buf,
                        {cIdx(qr),
                         addi(qOffset, cIdx(c * span + pl * 64 + 4 * d))})),
              ArrayRef<int64_t>{0});
          Value qOp = vector::BitCastOp::create(
              b, loc, bytes64, vector::BroadcastOp::create(b, loc, i32x16, qw));
          acc[qr][pl] = dpbusd(acc[qr][pl], planes[pl], qOp);
        }
      }
      // Last dword of a group: fold the group into the f32 scores.
      if ((c * span + (d + 1) * epd) % groupLen != 0)
        continue;
      for (int64_t r = 0; r < p.rowBlock; ++r) {
        auto planeSum = [&](int64_t qr) {
          Value sum = acc[qr][0];
          for (Value a : ArrayRef<Value>(acc[qr]).drop_front())
            sum = addi(sum, a);
          acc[qr].clear();
          return sum;
        };
        Value f;
        if (parts) {
          // Q' = unit x (2^7 (2^7 top + mid) + lo): the upper 14 bits'
          // dot is exact in i32 (modulo 2^32; the total fits), the low
          // part's in f32 (KernelPlan::vnniQueryParts).
          Value top = planeSum(H * r);
          Value upper =
              addi(arith::ShLIOp::create(b, loc, top, splatInt(i32x16, 7)),
                   planeSum(H * r + 1));
          f = fma(arith::SIToFPOp::create(b, loc, vecTy, upper),
                  splat(cF32(128.0)),
                  arith::SIToFPOp::create(b, loc, vecTy, planeSum(H * r + 2)));
        } else {
          f = arith::SIToFPOp::create(b, loc, vecTy, planeSum(r));
        }
        if (!negZ.empty())
          f = fma(negZ[g],
                  splat(toF32(arith::SIToFPOp::create(
                      b, loc, f32, load(qgBuf, {cIdx(r), cIdx(NG + g)})))),
                  f);
        if (parts)
          score[r] = score[r] ? add(score[r], f) : f;
        else
          score[r] = score[r] ? fma(f, scales[g], score[r]) : mul(f, scales[g]);
      }
    }
  }
  return score;
}
