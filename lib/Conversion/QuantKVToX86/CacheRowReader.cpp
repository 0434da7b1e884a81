//===- CacheRowReader.cpp - dequantized K/V rows as vectors ---------------===//
//
// Part of the quantkv project, under the Apache License v2.0 with LLVM
// Exceptions.
//
//===----------------------------------------------------------------------===//

#include "CacheRowReader.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/TypeUtilities.h"

using namespace mlir;
using namespace mlir::quantkv;

Value CacheRowReader::paramIndex(Value bi, Value hi, Value j, Value d) {
  Value idx[4] = {bi, hi, j ? j : cIdx(0), d};
  Value linear = cIdx(0);
  int64_t stride = 1;
  for (int k = 3; k >= 0; --k) {
    if (cp.scaleShape[k] == 1)
      continue;
    Value term = idx[k];
    if (cp.groupShape[k] != 1)
      term = arith::DivUIOp::create(b, loc, term, cIdx(cp.groupShape[k]));
    if (stride != 1)
      term = arith::MulIOp::create(b, loc, term, cIdx(stride));
    linear = arith::AddIOp::create(b, loc, linear, term);
    stride *= cp.scaleShape[k];
  }
  return linear;
}

Value CacheRowReader::loadScale(Value linear) {
  return toF32(memref::LoadOp::create(b, loc, scaleFlat, linear));
}

Value CacheRowReader::loadZeroPoint(Value linear) {
  if (!cp.hasZeroPoint)
    return cF32(0.0);
  if (isa<FloatType>(cp.zeroPointType))
    return toF32(memref::LoadOp::create(b, loc, zeroPointFlat, linear));
  bool isSigned = !cast<IntegerType>(cp.zeroPointType).isUnsigned();
  Value raw;
  if (cp.zeroPointPacked) {
    // Two 4-bit zero points per byte along their last dim; odd columns live
    // in the high nibble.
    int64_t n = cp.zeroPointLastDim;
    Value row = arith::DivUIOp::create(b, loc, linear, cIdx(n));
    Value col = arith::RemUIOp::create(b, loc, linear, cIdx(n));
    Value byteIdx = arith::AddIOp::create(
        b, loc, arith::MulIOp::create(b, loc, row, cIdx((n + 1) / 2)),
        arith::DivUIOp::create(b, loc, col, cIdx(2)));
    Value byte = memref::LoadOp::create(b, loc, zeroPointFlat, byteIdx);
    Type i8 = b.getI8Type();
    Value odd = arith::IndexCastOp::create(
        b, loc, i8, arith::RemUIOp::create(b, loc, col, cIdx(2)));
    Value four = arith::ConstantOp::create(b, loc, i8, b.getI8IntegerAttr(4));
    Value shift = arith::MulIOp::create(b, loc, odd, four);
    if (isSigned) {
      Value up = arith::ShLIOp::create(
          b, loc, byte, arith::SubIOp::create(b, loc, four, shift));
      raw = arith::ShRSIOp::create(b, loc, up, four);
    } else {
      Value down = arith::ShRUIOp::create(b, loc, byte, shift);
      raw = arith::AndIOp::create(
          b, loc, down,
          arith::ConstantOp::create(b, loc, i8, b.getI8IntegerAttr(15)));
    }
  } else {
    raw = memref::LoadOp::create(b, loc, zeroPointFlat, linear);
  }
  if (isSigned)
    return arith::SIToFPOp::create(b, loc, b.getF32Type(), raw);
  return arith::UIToFPOp::create(b, loc, b.getF32Type(), raw);
}

SmallVector<Value> CacheRowReader::loadRaw(Value bi, Value hi, Value j,
                                           int64_t firstVec, int64_t numVecs) {
  SmallVector<Value> out;
  if (cp.storage == CacheStorage::Float) {
    for (int64_t c = 0; c < numVecs; ++c)
      out.push_back(toF32(vload(VectorType::get({lanes}, cp.elementType), data,
                                {bi, hi, j, cIdx((firstVec + c) * lanes)})));
    return out;
  }
  // Packed bytes, widened in registers: int4 as vector.bitcast to i4 and an
  // extension to i8 (the narrow-type rewrites make it shifts and an
  // interleave), then one int -> float conversion per vector.
  Type i8 = b.getI8Type();
  int64_t total = numVecs * lanes;
  Value bytes;
  if (cp.storage == CacheStorage::Int4) {
    Value packed = vload(VectorType::get({total / 2}, i8), data,
                         {bi, hi, j, cIdx(firstVec * lanes / 2)});
    Value nibbles = vector::BitCastOp::create(
        b, loc, VectorType::get({total}, b.getIntegerType(4)), packed);
    auto wide = VectorType::get({total}, i8);
    bytes = cp.isSigned
                ? arith::ExtSIOp::create(b, loc, wide, nibbles).getResult()
                : arith::ExtUIOp::create(b, loc, wide, nibbles).getResult();
  } else {
    bytes = vload(VectorType::get({total}, i8), data,
                  {bi, hi, j, cIdx(firstVec * lanes)});
  }
  for (int64_t c = 0; c < numVecs; ++c) {
    Value slice = bytes;
    if (numVecs > 1)
      slice = vector::ExtractStridedSliceOp::create(
          b, loc, VectorType::get({lanes}, i8), bytes,
          b.getI64ArrayAttr({c * lanes}), b.getI64ArrayAttr({lanes}),
          b.getI64ArrayAttr({1}));
    out.push_back(
        cp.isSigned
            ? arith::SIToFPOp::create(b, loc, vecTy, slice).getResult()
            : arith::UIToFPOp::create(b, loc, vecTy, slice).getResult());
  }
  return out;
}

SmallVector<Value> CacheRowReader::loadRow(Value bi, Value hi, Value j,
                                           int64_t numVecs) {
  SmallVector<Value> out = loadRaw(bi, hi, j, /*firstVec=*/0, numVecs);
  if (!cp.quantized || cp.tokenInvariant)
    return out;

  // x * s + (-zp * s): one fma per vector.
  auto negZs = [&](Value z, Value s) -> Value {
    return arith::NegFOp::create(b, loc, arith::MulFOp::create(b, loc, z, s));
  };
  Value rowS, rowNzs;
  for (int64_t c = 0; c < numVecs; ++c) {
    Value s, nzs;
    if (cp.alongD == ScaleAlongD::PerElement) {
      // Lane l takes the parameters of group l / gd.
      int64_t gd = cp.groupShape[3];
      s = splat(cF32(0.0));
      nzs = splat(cF32(0.0));
      for (int64_t g = 0; g < lanes / gd; ++g) {
        Value linear = paramIndex(bi, hi, j, cIdx(c * lanes + g * gd));
        Value gs = loadScale(linear);
        Value gz = cp.hasZeroPoint ? negZs(loadZeroPoint(linear), gs) : Value();
        for (int64_t l = g * gd; l < (g + 1) * gd; ++l) {
          s = vector::InsertOp::create(b, loc, gs, s, ArrayRef<int64_t>{l});
          if (gz)
            nzs =
                vector::InsertOp::create(b, loc, gz, nzs, ArrayRef<int64_t>{l});
        }
      }
      if (!cp.hasZeroPoint)
        nzs = Value();
    } else if (cp.alongD == ScaleAlongD::PerRow && rowS) {
      s = rowS;
      nzs = rowNzs;
    } else {
      Value linear = paramIndex(bi, hi, j, cIdx(c * lanes));
      Value ss = loadScale(linear);
      s = splat(ss);
      nzs = cp.hasZeroPoint ? splat(negZs(loadZeroPoint(linear), ss)) : Value();
      rowS = s;
      rowNzs = nzs;
    }
    out[c] = nzs ? vector::FMAOp::create(b, loc, out[c], s, nzs).getResult()
                 : arith::MulFOp::create(b, loc, out[c], s).getResult();
  }
  return out;
}

void CacheRowReader::applyInvariantParams(Value row, Value bi, Value hi,
                                          int64_t dim, Value keep, Value zero) {
  forEach(cIdx(0), cIdx(dim), cIdx(1), [&](Value e) {
    Value linear = paramIndex(bi, hi, Value(), e);
    Value s = loadScale(linear);
    Value z =
        arith::SelectOp::create(b, loc, keep, loadZeroPoint(linear), zero);
    store(mul(s, sub(load(row, {e}), z)), row, {e});
  });
}
