//===- SdpaCacheRows.cpp - K/V rows of the row-block kernel ---------------===//
//
// Part of the quantkv project, under the Apache License v2.0 with LLVM
// Exceptions.
//
//===----------------------------------------------------------------------===//
//
// The row-block kernel's view of a K or V cache: quantization parameters
// (through CacheRowReader, shared with the prefill kernel), their per-lane and
// per-key vectors, cache rows unpacked and dequantized to f32 registers
// (nibble planes by table lookup), and the software prefetch of rows.
//
//===----------------------------------------------------------------------===//

#include "SdpaEmitter.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

using namespace mlir;
using namespace mlir::quantkv;

CacheRowReader SdpaEmitter::parameters(const CacheOperandPlan &cp,
                                       Value scaleFlat, Value zeroPointFlat) {
  return CacheRowReader(b, loc, cp, p.lanes, /*data=*/Value(), scaleFlat,
                        zeroPointFlat);
}

Value SdpaEmitter::paramIndex(const CacheOperandPlan &cp, Value bi, Value hi,
                              Value j, Value d) {
  return parameters(cp, Value(), Value()).paramIndex(bi, hi, j, d);
}

Value SdpaEmitter::loadScale(const CacheOperandPlan &cp, Value flat,
                             Value linear) {
  return parameters(cp, flat, Value()).loadScale(linear);
}

Value SdpaEmitter::loadZeroPoint(const CacheOperandPlan &cp, Value flat,
                                 Value linear) {
  return parameters(cp, Value(), flat).loadZeroPoint(linear);
}

std::pair<Value, Value>
SdpaEmitter::loadParamVectors(const CacheOperandPlan &cp, Value scaleFlat,
                              Value zpFlat, Value bi, Value hi, Value j,
                              int64_t vecIdx) {
  int64_t gd = cp.groupShape[3];
  int64_t n = p.lanes / gd;
  SmallVector<Value> scales, zps;
  for (int64_t e = 0; e < n; ++e) {
    Value linear = paramIndex(cp, bi, hi, j, cIdx(vecIdx * p.lanes + e * gd));
    scales.push_back(loadScale(cp, scaleFlat, linear));
    zps.push_back(loadZeroPoint(cp, zpFlat, linear));
  }
  // Lane l takes group entry l / gd (lane inserts: no shape casts, whose
  // lowering needs poison values).
  auto expand = [&](ArrayRef<Value> values) -> Value {
    Value v = splat(cF32(0.0));
    for (int64_t l = 0; l < p.lanes; ++l)
      v = vector::InsertOp::create(b, loc, values[l / gd], v,
                                   ArrayRef<int64_t>{l});
    return v;
  };
  return {expand(scales), expand(zps)};
}

SmallVector<Value> SdpaEmitter::paramsOfKeys(const CacheOperandPlan &cp,
                                             int64_t groups, Value flat,
                                             Value bi, Value hkv, Value j,
                                             Value kvEndI32, bool zeroPoint) {
  int64_t NG = groups, L = p.lanes, n = L * NG;
  Type elem = cast<MemRefType>(flat.getType()).getElementType();
  auto blockTy = VectorType::get({n}, elem);
  auto idxTy = VectorType::get({n}, i32);
  SmallVector<int32_t> keyOf;
  for (int64_t e = 0; e < n; ++e)
    keyOf.push_back(e / NG);
  Value keys = arith::AddIOp::create(
      b, loc,
      vector::BroadcastOp::create(b, loc, idxTy,
                                  arith::IndexCastOp::create(b, loc, i32, j)),
      arith::ConstantOp::create(b, loc, idxTy,
                                DenseIntElementsAttr::get(idxTy, keyOf)));
  Value mask = arith::CmpIOp::create(
      b, loc, arith::CmpIPredicate::slt, keys,
      vector::BroadcastOp::create(b, loc, idxTy, kvEndI32));
  Value pad = arith::ConstantOp::create(
      b, loc, blockTy, DenseElementsAttr::get(blockTy, b.getZeroAttr(elem)));
  Value block = vector::MaskedLoadOp::create(
      b, loc, blockTy, flat, ValueRange{paramIndex(cp, bi, hkv, j, cIdx(0))},
      mask, pad);
  if (zeroPoint && isa<IntegerType>(cp.zeroPointType)) {
    if (cast<IntegerType>(cp.zeroPointType).isUnsigned())
      block = arith::ExtUIOp::create(b, loc, idxTy, block);
    else
      block = arith::ExtSIOp::create(b, loc, idxTy, block);
  } else {
    block = toF32(block);
  }
  if (NG == 1)
    return {block};
  SmallVector<Value> out;
  for (int64_t g = 0; g < NG; ++g) {
    SmallVector<int64_t> pick;
    for (int64_t i = 0; i < L; ++i)
      pick.push_back(g + NG * i);
    out.push_back(vector::ShuffleOp::create(b, loc, block, block, pick));
  }
  return out;
}

SmallVector<Value> SdpaEmitter::loadRaw(const CacheOperandPlan &cp, Value mem,
                                        Value bi, Value hi, Value j,
                                        int64_t firstVec, int64_t numVecs) {
  return CacheRowReader(b, loc, cp, p.lanes, mem, Value(), Value())
      .loadRaw(bi, hi, j, firstVec, numVecs);
}

SmallVector<Value> SdpaEmitter::loadPlanes(const CacheOperandPlan &cp,
                                           Value mem, Value scaleFlat,
                                           Value zpFlat, Value bi, Value hi,
                                           Value j, int64_t firstVec,
                                           int64_t numVecs) {
  assert(firstVec % 2 == 0 && numVecs % 2 == 0 && "nibble planes pair up");
  int64_t L = p.lanes;
  SmallVector<Attribute> codes;
  for (int64_t l = 0; l < L; ++l)
    codes.push_back(b.getF32FloatAttr(cp.isSigned && l >= 8 ? l - 16 : l));
  Value codeV = arith::ConstantOp::create(b, loc, vecTy,
                                          DenseElementsAttr::get(vecTy, codes));
  auto bytesTy = VectorType::get({L}, b.getI8Type());
  auto wideTy = VectorType::get({L}, i32);
  bool scaled = cp.quantized && !cp.tokenInvariant;
  SmallVector<Value> out;
  Value table = codeV;
  for (int64_t c = firstVec / 2; c < (firstVec + numVecs) / 2; ++c) {
    if (scaled && (c == firstVec / 2 || cp.alongD != ScaleAlongD::PerRow)) {
      Value linear = paramIndex(cp, bi, hi, j, cIdx(c * 2 * L));
      Value ss = loadScale(cp, scaleFlat, linear);
      if (cp.hasZeroPoint) {
        Value zz = loadZeroPoint(cp, zpFlat, linear);
        table = fma(codeV, splat(ss),
                    splat(arith::NegFOp::create(b, loc, mul(zz, ss))));
      } else {
        table = mul(codeV, splat(ss));
      }
    }
    Value packed = vload(bytesTy, mem, {bi, hi, j, cIdx(c * L)});
    Value x = arith::ExtUIOp::create(b, loc, wideTy, packed);
    Value xHi = arith::ShRUIOp::create(b, loc, x, splatInt(wideTy, 4));
    out.push_back(permute(table, x));
    out.push_back(permute(table, xHi));
  }
  return out;
}

SmallVector<Value>
SdpaEmitter::loadDequantized(const CacheOperandPlan &cp, Value mem,
                             Value scaleFlat, Value zpFlat, Value bi, Value hi,
                             Value j, int64_t firstVec, int64_t numVecs) {
  if (cp.splitNibbles) {
    SmallVector<Value> vecs =
        loadPlanes(cp, mem, scaleFlat, zpFlat, bi, hi, j, firstVec, numVecs);
    for (Value &v : vecs)
      v = roundToMathMode(v);
    return vecs;
  }
  SmallVector<Value> vecs = loadRaw(cp, mem, bi, hi, j, firstVec, numVecs);
  if (cp.quantized && !cp.tokenInvariant) {
    Value rowScale, rowBias;
    for (int64_t c = 0; c < numVecs; ++c) {
      int64_t gv = firstVec + c;
      Value s, nzs;
      switch (cp.alongD) {
      case ScaleAlongD::PerRow:
      case ScaleAlongD::PerVector: {
        if (cp.alongD == ScaleAlongD::PerRow && rowScale) {
          s = rowScale;
          nzs = rowBias;
          break;
        }
        // Nibble planes: vectors 2c and 2c + 1 both cover elements
        // 32c .. 32c + 31, inside one group.
        int64_t elem = cp.splitNibbles ? gv / 2 * 2 * p.lanes : gv * p.lanes;
        if (cp.splitNibbles && gv % 2 == 1 && c > 0) {
          s = rowScale;
          nzs = rowBias;
          break;
        }
        Value linear = paramIndex(cp, bi, hi, j, cIdx(elem));
        Value ss = loadScale(cp, scaleFlat, linear);
        Value zz = loadZeroPoint(cp, zpFlat, linear);
        s = splat(ss);
        nzs = cp.hasZeroPoint
                  ? splat(arith::NegFOp::create(b, loc, mul(zz, ss)))
                  : Value();
        rowScale = s;
        rowBias = nzs;
        break;
      }
      case ScaleAlongD::PerElement: {
        auto [sv, zv] = loadParamVectors(cp, scaleFlat, zpFlat, bi, hi, j, gv);
        s = sv;
        nzs = cp.hasZeroPoint
                  ? arith::NegFOp::create(b, loc, mul(zv, sv)).getResult()
                  : Value();
        break;
      }
      }
      vecs[c] = nzs ? fma(vecs[c], s, nzs) : mul(vecs[c], s);
    }
  }
  for (Value &v : vecs)
    v = roundToMathMode(v);
  return vecs;
}

Value SdpaEmitter::blockRow(Value j, int64_t k, int64_t blockKeys) {
  Value row = addi(j, cIdx(k));
  if (p.kvLen % blockKeys == 0)
    return row;
  return arith::MinUIOp::create(b, loc, row, cIdx(p.kvLen - 1));
}

Value SdpaEmitter::prefetchBlockStart(Value ahead, int64_t blockKeys) {
  if (p.kvLen < blockKeys)
    return ahead;
  return arith::MinUIOp::create(b, loc, ahead, cIdx(p.kvLen - blockKeys));
}

Value SdpaEmitter::prefetchBlockRow(Value start, int64_t k, int64_t blockKeys) {
  Value row = addi(start, cIdx(k));
  if (p.kvLen >= blockKeys)
    return row;
  return arith::MinUIOp::create(b, loc, row, cIdx(p.kvLen - 1));
}

void SdpaEmitter::prefetchRow(const CacheOperandPlan &cp, Value mem,
                              Value scaleFlat, Value bi, Value hi, Value j,
                              int64_t dim) {
  if (!p.softwarePrefetch)
    return;
  int64_t bytes = cp.storage == CacheStorage::Int4   ? dim / 2
                  : cp.storage == CacheStorage::Int8 ? dim
                                                     : dim * 4;
  int64_t elemsPerLine = cp.storage == CacheStorage::Int4
                             ? 128
                             : (cp.storage == CacheStorage::Int8 ? 64 : 16);
  int64_t storedDim = cp.storage == CacheStorage::Int4 ? dim / 2 : dim;
  for (int64_t off = 0; off < bytes; off += 64) {
    int64_t col = off / 64 * elemsPerLine;
    if (cp.storage == CacheStorage::Int4)
      col /= 2;
    if (col >= storedDim)
      break;
    memref::PrefetchOp::create(b, loc, mem, ValueRange{bi, hi, j, cIdx(col)},
                               /*isWrite=*/false, /*localityHint=*/3,
                               /*isDataCache=*/true);
  }
  if (scaleFlat && cp.quantized && !cp.tokenInvariant)
    memref::PrefetchOp::create(b, loc, scaleFlat,
                               ValueRange{paramIndex(cp, bi, hi, j, cIdx(0))},
                               /*isWrite=*/false,
                               /*localityHint=*/3, /*isDataCache=*/true);
}
