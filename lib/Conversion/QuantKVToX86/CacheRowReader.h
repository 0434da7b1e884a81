//===- CacheRowReader.h - dequantized K/V rows as vectors -------*- C++ -*-===//
//
// Part of the quantkv project, under the Apache License v2.0 with LLVM
// Exceptions.
//
//===----------------------------------------------------------------------===//
//
// Emits the loads that turn one token of a (possibly quantized) K or V cache
// into f32 vectors of 16 lanes in storage order, following a
// CacheOperandPlan: packed int4/int8 widened in registers, token-varying
// scales and zero points applied as one fma per vector (per row, per
// whole-vector group or per element), token-invariant scales left to the
// caller. It also addresses the scale / zero-point tensors, so that a kernel
// emitter needs nothing else to read the cache.
//
//===----------------------------------------------------------------------===//

#ifndef QUANTKV_LIB_CONVERSION_QUANTKVTOX86_CACHEROWREADER_H
#define QUANTKV_LIB_CONVERSION_QUANTKVTOX86_CACHEROWREADER_H

#include "KernelBuilder.h"

#include "quantkv/Conversion/QuantKVToX86/KernelPlan.h"

namespace mlir::quantkv {

class CacheRowReader : public KernelBuilder {
public:
  /// `data` is the 4-d storage memref, `scaleFlat` / `zeroPointFlat` the 1-d
  /// (collapsed) parameter memrefs or null.
  CacheRowReader(OpBuilder &b, Location loc, const CacheOperandPlan &plan,
                 int64_t lanes, Value data, Value scaleFlat,
                 Value zeroPointFlat)
      : KernelBuilder(b, loc, lanes), cp(plan), data(data),
        scaleFlat(scaleFlat), zeroPointFlat(zeroPointFlat) {}

  /// Linear index of the parameters of element (bi, hi, j, d); null `j`
  /// means token 0.
  Value paramIndex(Value bi, Value hi, Value j, Value d);
  /// The scale at `linear`, as f32.
  Value loadScale(Value linear);
  /// The zero point at `linear` as f32 (0 without zero points).
  Value loadZeroPoint(Value linear);

  /// The token-invariant scale and zero point applied to the f32 output row
  /// `row` (the weighted sum over V rows of head (bi, hi), `dim` elements):
  /// row[e] = s_e (row[e] - zp_e), an exact rewrite of sum_j p_j s_e (v_je -
  /// zp_e) when s and zp are the same for every token. The zero point only
  /// where `keep` (a row without visible keys stays 0); `zero` is an f32 0.
  void applyInvariantParams(Value row, Value bi, Value hi, int64_t dim,
                            Value keep, Value zero);
  /// Vectors [firstVec, firstVec + numVecs) of token (bi, hi, j) as f32,
  /// unpacked but not scaled.
  SmallVector<Value> loadRaw(Value bi, Value hi, Value j, int64_t firstVec,
                             int64_t numVecs);
  /// Vectors [0, numVecs) of token (bi, hi, j): (x - zp) * s when the scale
  /// depends on the token, the raw values (as f32) otherwise.
  SmallVector<Value> loadRow(Value bi, Value hi, Value j, int64_t numVecs);

private:
  const CacheOperandPlan &cp;
  Value data, scaleFlat, zeroPointFlat;
};

} // namespace mlir::quantkv

#endif // QUANTKV_LIB_CONVERSION_QUANTKVTOX86_CACHEROWREADER_H
