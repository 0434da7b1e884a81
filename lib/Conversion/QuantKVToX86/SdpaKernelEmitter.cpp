//===- SdpaKernelEmitter.cpp - the fused online-softmax SDPA kernel -------===//
//
// Part of the quantkv project, under the Apache License v2.0 with LLVM
// Exceptions.
//
//===----------------------------------------------------------------------===//
//
// Emits, for one KernelPlan, the flash-attention kernel on memrefs:
//
//   scf.parallel %w in [0, items)             // (b, kv head, row block, split)
//     memref.alloca_scope {                   // O(tile) scratch per item
//       q rows of the block -> f32, x softmax scale (x token-invariant K scale)
//       scf.for %j0 in [kvStart, kvEnd) step kvTile {
//         scf.for %j in tile { K row j: load packed, unpack, dequantize once;
//                              s[r][j] = q_r . k_j for every row r }
//         per row: mask, online max / exp / sum, rescale factor
//         scf.for %j in tile { V row j: load packed, unpack, dequantize once;
//                              acc[r] += p[r][j] * v_j (register block) }
//       }
//       finalize (acc / l, token-invariant V scale) or write the split partials
//     }
//   [scf.parallel over (b, kv head, row block): log-sum-exp merge of splits]
//
// The code is written at the granularity of one vector register (16 x f32),
// so that what reaches LLVM is already the register-level schedule.
//
//===----------------------------------------------------------------------===//

#include "quantkv/Conversion/QuantKVToX86/QuantKVToX86.h"

#include "CacheRowReader.h"
#include "KernelBuilder.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Dialect/X86Vector/X86VectorDialect.h"
#include "mlir/IR/TypeUtilities.h"
#include "quantkv/Conversion/QuantKVToX86/AmxScores.h"
#include "llvm/Support/MathExtras.h"

#include <limits>

using namespace mlir;
using namespace mlir::quantkv;

namespace {

class SdpaEmitter : public KernelBuilder {
public:
  SdpaEmitter(OpBuilder &b, Location loc, const KernelPlan &p,
              const SdpaBuffers &buf)
      : KernelBuilder(b, loc, p.lanes, p.mathMode), p(p), buf(buf) {
    // A small row block streams K/V fast: prefetch K two tiles and V one
    // tile ahead. Larger blocks spend 4x longer per key, so one tile of K
    // (and this tile's V) is already far enough (measured, 1 thread).
    if (p.rowBlock > 2) {
      kPrefetchTiles = 1;
      vPrefetchTiles = 0;
    }
  }

  void emit();

private:
  //===--------------------------------------------------------------------===//
  // Quantization parameters
  //===--------------------------------------------------------------------===//

  /// Scale indexing and parameter loads are CacheRowReader's (shared with
  /// the prefill kernel); it needs no storage memref for them.
  CacheRowReader parameters(const CacheOperandPlan &cp, Value scaleFlat,
                            Value zeroPointFlat) {
    return CacheRowReader(b, loc, cp, p.lanes, /*data=*/Value(), scaleFlat,
                          zeroPointFlat);
  }

  /// Linear index, in the parameter tensor, of the scale of element
  /// (bi, hi, j, d) of a cache operand. Null `j` means token 0.
  Value paramIndex(const CacheOperandPlan &cp, Value bi, Value hi, Value j,
                   Value d) {
    return parameters(cp, Value(), Value()).paramIndex(bi, hi, j, d);
  }

  Value loadScale(const CacheOperandPlan &cp, Value flat, Value linear) {
    return parameters(cp, flat, Value()).loadScale(linear);
  }

  /// The zero point at `linear` as f32 (0 without zero points).
  Value loadZeroPoint(const CacheOperandPlan &cp, Value flat, Value linear) {
    return parameters(cp, Value(), flat).loadZeroPoint(linear);
  }

  /// Scale and zero point of vector `vecIdx` (16 consecutive elements along
  /// D) of token j, as vectors, for PerElement granularity.
  std::pair<Value, Value> loadParamVectors(const CacheOperandPlan &cp,
                                           Value scaleFlat, Value zpFlat,
                                           Value bi, Value hi, Value j,
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

  //===--------------------------------------------------------------------===//
  // K/V rows
  //===--------------------------------------------------------------------===//

  /// Loads `numVecs` vectors of token j of a cache operand starting at vector
  /// `firstVec`, unpacked and converted to f32 (not yet scaled). 4-bit data
  /// is loaded packed and widened in registers: vector.bitcast to i4 and
  /// arith.ext to i8, which the narrow-type rewrites turn into shifts and an
  /// interleave.
  SmallVector<Value> loadRaw(const CacheOperandPlan &cp, Value mem, Value bi,
                             Value hi, Value j, int64_t firstVec,
                             int64_t numVecs) {
    return CacheRowReader(b, loc, cp, p.lanes, mem, Value(), Value())
        .loadRaw(bi, hi, j, firstVec, numVecs);
  }

  /// Nibble planes (CacheOperandPlan::splitNibbles) of vectors
  /// [firstVec, firstVec + numVecs) of token j, dequantized by table lookup.
  /// A 4-bit code has 16 values, so each 32-element block builds the table
  /// of its dequantized values in one register, `(code - zp) * s` computed
  /// as fma(code, s, -zp * s) exactly like the per-element path, and its 16
  /// bytes, widened to i32 lanes (vpmovzxbd), index the table with vpermps,
  /// which reads the low 4 bits of each lane: the low nibble directly, the
  /// high one after a shift by 4. No interleave, no int -> float conversion.
  /// Vector 2c holds the even elements of block c, vector 2c + 1 the odd.
  SmallVector<Value> loadPlanes(const CacheOperandPlan &cp, Value mem,
                                Value scaleFlat, Value zpFlat, Value bi,
                                Value hi, Value j, int64_t firstVec,
                                int64_t numVecs) {
    assert(firstVec % 2 == 0 && numVecs % 2 == 0 && "nibble planes pair up");
    int64_t L = p.lanes;
    SmallVector<Attribute> codes;
    for (int64_t l = 0; l < L; ++l)
      codes.push_back(b.getF32FloatAttr(cp.isSigned && l >= 8 ? l - 16 : l));
    Value codeV = arith::ConstantOp::create(
        b, loc, vecTy, DenseElementsAttr::get(vecTy, codes));
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

  /// vpermps: lane l of the result is lane idx[l] & 15 of `table`.
  Value permute(Value table, Value idx) {
    auto i32x16 = VectorType::get({p.lanes}, i32);
    return callIntrinsic("__quantkv_vpermps_512",
                         "llvm.x86.avx512.permvar.sf.512", vecTy,
                         {vecTy, i32x16}, {table, idx});
  }

  /// Loads and dequantizes vectors of token j: (x - zp) * scale, computed as
  /// one fma x * s + (-zp * s) with the scale broadcast per group. Operands
  /// whose scale does not depend on the token are returned unscaled (their
  /// scale is folded elsewhere).
  SmallVector<Value> loadDequantized(const CacheOperandPlan &cp, Value mem,
                                     Value scaleFlat, Value zpFlat, Value bi,
                                     Value hi, Value j, int64_t firstVec,
                                     int64_t numVecs) {
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
          auto [sv, zv] =
              loadParamVectors(cp, scaleFlat, zpFlat, bi, hi, j, gv);
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

  /// Prefetches every cache line of token j of a cache operand (and its
  /// token-varying scale entry).
  void prefetchRow(const CacheOperandPlan &cp, Value mem, Value scaleFlat,
                   Value bi, Value hi, Value j, int64_t dim) {
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

  //===--------------------------------------------------------------------===//
  // Kernel pieces
  //===--------------------------------------------------------------------===//

  struct RowIndex {
    Value head; // query head
    Value i;    // query position
  };
  RowIndex rowIndex(Value hkv, Value row) {
    Value hl = divui(row, p.qLen);
    Value i = remui(row, p.qLen);
    return {addi(muli(hkv, cIdx(p.groupSize)), hl), i};
  }

  /// Writes row `r` of `acc` (unnormalized sum with softmax denominator `l`)
  /// to the output row (bi, head, i), applying the token-invariant V scale.
  void finalizeRow(Value acc, Value r, Value l, Value bi, Value hkv,
                   RowIndex ri, Value rowBuf) {
    Value zero = cF32(0.0);
    Value positive =
        arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OGT, l, zero);
    Value inv = arith::SelectOp::create(
        b, loc, positive, arith::DivFOp::create(b, loc, cF32(1.0), l), zero);
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
    if (cv.quantized && cv.tokenInvariant) {
      // out = s * (sum_j p_j v_j / l - zp): exact rewrite of sum_j p_j * s *
      // (v_j - zp) / l when the scale is the same for every token.
      forLoop(cIdx(0), cIdx(p.valueHeadDim), cIdx(1), {},
              [&](Value e, ValueRange) -> SmallVector<Value> {
                Value linear = paramIndex(cv, bi, hkv, Value(), e);
                Value s = loadScale(cv, buf.valueScale, linear);
                Value z = loadZeroPoint(cv, buf.valueZeroPoint, linear);
                z = arith::SelectOp::create(b, loc, positive, z, zero);
                Value o = load(rowBuf, e);
                store(mul(s, sub(o, z)), rowBuf, e);
                return {};
              });
    }
    for (int64_t c = 0; c < vv; ++c) {
      Value o = vload(vecTy, rowBuf, {cIdx(c * p.lanes)});
      vstore(fromF32(o, p.outputType), buf.output,
             {bi, ri.head, ri.i, cIdx(c * p.lanes)});
    }
  }

  /// int8 math: Q row r of `qBuf` is quantized per row (quantizeRowInt8),
  /// its codes written to `qi8Buf` when given. Returns the row scale (0 for
  /// an all-zero row).
  Value quantizeQueryRow(Value qBuf, Value r, Value qi8Buf = Value()) {
    auto [rowScale, isZero] =
        quantizeRowInt8(qBuf, r, p.headDim / p.lanes, qi8Buf);
    return arith::SelectOp::create(b, loc, isZero, cF32(0.0), rowScale);
  }

  /// vpdpbusd: acc + sum over each 4-byte lane of u8(a) * s8(b). The
  /// intrinsic sits in a private helper function (inlined by LLVM) because
  /// the buffer deallocation passes reject ops without memory-effect
  /// information, which llvm.call_intrinsic is, in functions they analyze.
  Value dpbusd(Value acc, Value a, Value bv) {
    auto i32x16 = VectorType::get({p.lanes}, i32);
    auto bytes64 = VectorType::get({64}, b.getI8Type());
    return callIntrinsic("__quantkv_vpdpbusd_512",
                         "llvm.x86.avx512.vpdpbusd.512", i32x16,
                         {i32x16, bytes64, bytes64}, {acc, a, bv});
  }

  /// Calls LLVM intrinsic `intrinsic` through the private helper `name`
  /// (created on first use).
  /// `immediates` (operand index, value) are intrinsic operands that must be
  /// constants (immarg): they are materialized inside the helper, which
  /// takes only the other operands.
  Value callIntrinsic(StringRef name, StringRef intrinsic, Type result,
                      ArrayRef<Type> argTypes, ValueRange args,
                      ArrayRef<std::pair<unsigned, int64_t>> immediates = {}) {
    // (Inside scf.for body builders the enclosing ops are not linked yet:
    // the module was recorded when emission started.)
    auto immediateAt = [&](unsigned i) {
      return llvm::find_if(immediates, [&](auto im) { return im.first == i; });
    };
    SmallVector<Type> passed;
    for (unsigned i = 0; i < argTypes.size(); ++i)
      if (immediateAt(i) == immediates.end())
        passed.push_back(argTypes[i]);
    auto type = LLVM::LLVMFunctionType::get(result, passed);
    if (!module.lookupSymbol(name)) {
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(module.getBody());
      auto func =
          LLVM::LLVMFuncOp::create(b, loc, name, type, LLVM::Linkage::Internal);
      Block *entry = func.addEntryBlock(b);
      b.setInsertionPointToStart(entry);
      SmallVector<Value> operands;
      unsigned next = 0;
      for (unsigned i = 0; i < argTypes.size(); ++i) {
        auto im = immediateAt(i);
        if (im == immediates.end())
          operands.push_back(entry->getArgument(next++));
        else
          operands.push_back(LLVM::ConstantOp::create(
              b, loc, argTypes[i], b.getIntegerAttr(argTypes[i], im->second)));
      }
      Value r = LLVM::CallIntrinsicOp::create(
                    b, loc, result, b.getStringAttr(intrinsic), operands)
                    .getResult(0);
      LLVM::ReturnOp::create(b, loc, r);
    }
    return LLVM::CallOp::create(b, loc, TypeRange{result}, name, args)
        .getResult();
  }

  /// Lane vector of one per-group value for the 16 i32 lanes of a VNNI
  /// chunk: lane l covers elements base + l * epl .. base + (l + 1) * epl - 1
  /// of the row, which lie in one group (groups along D are multiples of
  /// 16 >= epl). Float parameters of several groups are loaded as one vector
  /// and spread over the lanes with a shuffle; others are inserted by lane
  /// masks.
  Value laneGroupVector(const CacheOperandPlan &cp, Value flat, Value bi,
                        Value hi, Value j, int64_t base, int64_t epl,
                        bool floatParam, function_ref<Value(Value)> valueAt) {
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

  /// Elements of K covered by one i32 lane of a VNNI chunk: 8 for int4 read
  /// as nibble planes (4 even elements in the low-nibble operand, 4 odd in
  /// the high), 4 in storage order.
  int64_t vnniElemsPerLane() const { return p.vnniNibblePlanes ? 8 : 4; }

  /// The bias that makes signed K codes unsigned for vpdpbusd (0 unsigned).
  int64_t vnniKeyBias() const {
    if (!p.key.isSigned)
      return 0;
    return p.key.storage == CacheStorage::Int4 ? 8 : 128;
  }

  /// int8 math with VNNI: the scores of token j for every row of the block.
  /// K is read as u8 with a bias (signed codes: top bit flipped), 64 bytes
  /// per chunk; int4 K is split into its low and high nibble planes (an and
  /// and a shift, no interleave) and contracted with the even and odd planes
  /// of the s8 Q row, so each i32 lane holds the dot product of 8 elements.
  /// The accumulator starts at -bias x (lane sum of Q) (exact integers), a
  /// zero point is removed with the f32 lane sums, the group scale
  /// multiplies each lane, and the lanes are summed by the caller.
  SmallVector<Value> vnniScores(Value bi, Value hkv, Value j, Value qi8Buf,
                                Value qslBuf, Value qbBuf) {
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
            b, loc,
            arith::ShRUIOp::create(b, loc, packed, splatInt(bytes64, 4)), low));
      } else if (nibbleBytes) {
        kc[c].push_back(
            chunks == 1
                ? nibbleBytes
                : vector::ExtractStridedSliceOp::create(
                      b, loc, bytes64, nibbleBytes, b.getI64ArrayAttr({c * 64}),
                      b.getI64ArrayAttr({64}), b.getI64ArrayAttr({1}))
                      .getResult());
      } else {
        Value bytes = vload(bytes64, buf.key, {bi, hkv, j, cIdx(c * 64)});
        if (cp.isSigned)
          bytes = arith::XOrIOp::create(
              b, loc, bytes, splatInt(bytes64, static_cast<int8_t>(0x80)));
        kc[c].push_back(bytes);
      }
      scaleV.push_back(laneGroupVector(
          cp, buf.keyScale, bi, hkv, j, c * span, epl, floatScale,
          [&](Value l) { return loadScale(cp, buf.keyScale, l); }));
      if (cp.hasZeroPoint)
        negZ.push_back(laneGroupVector(
            cp, buf.keyZeroPoint, bi, hkv, j, c * span, epl, false,
            [&](Value l) -> Value {
              return arith::NegFOp::create(
                  b, loc, loadZeroPoint(cp, buf.keyZeroPoint, l));
            }));
    }
    Value zeroI = splatInt(i32x16, 0);
    SmallVector<Value> sums;
    for (int64_t r = 0; r < p.rowBlock; ++r) {
      Value t;
      for (int64_t c = 0; c < chunks; ++c) {
        Value acc =
            qbBuf ? vload(i32x16, qbBuf, {cIdx(r), cIdx(c * 16)}) : zeroI;
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

  //===--------------------------------------------------------------------===//
  // int8 math: P x V on VNNI (KernelPlan::vnniValues)
  //===--------------------------------------------------------------------===//

  /// V codes enter vpdpbusd as u8 w = v - beta: signed codes get their top
  /// bit flipped (int4: w = v + 8, int8: w = v + 128), unsigned ones pass.
  int64_t vnniValueBeta() const {
    if (!p.value.isSigned)
      return 0;
    return p.value.storage == CacheStorage::Int4 ? -8 : -128;
  }

  /// The scale (or zero point) entries of cache operand `cp` for the keys
  /// j .. j + 15, one vector per scale group g of a row (lane i = key
  /// j + i): the 16 x `groups` entries are contiguous, read with one masked
  /// load (keys at or past `kvEnd` are not read) and de-interleaved by
  /// shuffles. Integer zero points come back as i32, the rest as f32.
  SmallVector<Value> paramsOfKeys(const CacheOperandPlan &cp, int64_t groups,
                                  Value flat, Value bi, Value hkv, Value j,
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

  /// Transposes 16 vectors of 16 x i32 (row i lane l -> row l lane i) in
  /// four butterfly stages of two-source shuffles (64 shuffles).
  SmallVector<Value> transpose16(SmallVector<Value> m) {
    for (int64_t h = 8; h >= 1; h /= 2) {
      SmallVector<int64_t> first, second;
      for (int64_t l = 0; l < 16; ++l) {
        first.push_back((l & h) ? 16 + l - h : l);
        second.push_back((l & h) ? 16 + l : l + h);
      }
      for (int64_t i = 0; i < 16; ++i) {
        if (i & h)
          continue;
        Value a = m[i], c = m[i + h];
        m[i] = vector::ShuffleOp::create(b, loc, a, c, first);
        m[i + h] = vector::ShuffleOp::create(b, loc, a, c, second);
      }
    }
    return m;
  }

  /// int8 math, VNNI scores of the 16 keys j .. j + 15 for every row of the
  /// block, one f32 vector of 16 keys per row (already scaled), with no
  /// horizontal reduction: each 64-byte chunk of the 16 K rows is transposed
  /// at dword granularity in registers, so that vector d holds dword d of
  /// every key, and vpdpbusd multiplies it by the broadcast dword d of the s8
  /// Q row. One i32 accumulator per row and scale group; the group's scale
  /// (a vector over the keys) multiplies it after the group's partial dot.
  SmallVector<Value> vnniScoresOfKeys(Value bi, Value hkv, Value j,
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
    SmallVector<Value> scales =
        paramsOfKeys(cp, NG, buf.keyScale, bi, hkv, j, kvEndI32, false);
    SmallVector<Value> negZ;
    if (cp.hasZeroPoint)
      for (Value z :
           paramsOfKeys(cp, NG, buf.keyZeroPoint, bi, hkv, j, kvEndI32, true)) {
        if (!isa<FloatType>(getElementTypeOrSelf(z.getType())))
          z = arith::SIToFPOp::create(b, loc, vecTy, z);
        negZ.push_back(arith::NegFOp::create(b, loc, z));
      }
    SmallVector<Value> rowIdx;
    for (int64_t k = 0; k < 16; ++k)
      rowIdx.push_back(
          arith::MinUIOp::create(b, loc, addi(j, cIdx(k)), cIdx(p.kvLen - 1)));
    SmallVector<Value> score(p.rowBlock), acc(p.rowBlock);
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
        SmallVector<Value> planes;
        if (int4) {
          auto [lo, hi] = nibblePlanes(col, cp.isSigned);
          planes = {lo, hi};
        } else {
          if (cp.isSigned)
            col = arith::XOrIOp::create(
                b, loc, col, splatInt(bytes64, static_cast<int8_t>(0x80)));
          planes.push_back(col);
        }
        for (int64_t r = 0; r < p.rowBlock; ++r) {
          if (!acc[r])
            acc[r] = vector::BroadcastOp::create(
                b, loc, i32x16, load(qgBuf, {cIdx(r), cIdx(g)}));
          for (size_t pl = 0; pl < planes.size(); ++pl) {
            // Dword d of the Q plane (even / odd elements for int4).
            Value qw = vector::ExtractOp::create(
                b, loc,
                vector::BitCastOp::create(
                    b, loc, VectorType::get({1}, i32),
                    vload(VectorType::get({4}, i8), qi8Buf,
                          {cIdx(r), cIdx(c * span + pl * 64 + 4 * d)})),
                ArrayRef<int64_t>{0});
            Value qOp = vector::BitCastOp::create(
                b, loc, bytes64,
                vector::BroadcastOp::create(b, loc, i32x16, qw));
            acc[r] = dpbusd(acc[r], planes[pl], qOp);
          }
        }
        // Last dword of a group: fold the group into the f32 scores.
        if ((c * span + (d + 1) * epd) % groupLen != 0)
          continue;
        for (int64_t r = 0; r < p.rowBlock; ++r) {
          Value f = arith::SIToFPOp::create(b, loc, vecTy, acc[r]);
          if (!negZ.empty())
            f = fma(negZ[g],
                    splat(toF32(arith::SIToFPOp::create(
                        b, loc, f32, load(qgBuf, {cIdx(r), cIdx(NG + g)})))),
                    f);
          score[r] = score[r] ? fma(f, scales[g], score[r]) : mul(f, scales[g]);
          acc[r] = Value();
        }
      }
    }
    return score;
  }

  /// The low and high nibbles of 64 packed int4 bytes as u8 codes (signed
  /// codes biased by +8: the nibble's top bit flipped): the low plane is an
  /// and/xor (one vpternlog), the high plane one vgf2p8affineqb (bit matrix
  /// of a logical shift right by 4, xor constant 8 for the bias).
  std::pair<Value, Value> nibblePlanes(Value bytes, bool isSigned) {
    auto bytes64 = VectorType::get({64}, b.getI8Type());
    Value lo = arith::AndIOp::create(b, loc, bytes, splatInt(bytes64, 0x0F));
    if (isSigned)
      lo = arith::XOrIOp::create(b, loc, lo, splatInt(bytes64, 0x08));
    // Row i of the matrix (byte 7 - i of each qword) selects the source
    // bits of result bit i: bit i + 4 for i < 4, none above.
    SmallVector<int8_t> rows = {0,    0,    0,   0, static_cast<int8_t>(0x80),
                                0x40, 0x20, 0x10};
    SmallVector<int8_t> matrix;
    for (int64_t i = 0; i < 64; ++i)
      matrix.push_back(rows[i % 8]);
    Value m = arith::ConstantOp::create(
        b, loc, bytes64,
        DenseElementsAttr::get(bytes64, ArrayRef<int8_t>(matrix)));
    StringRef name =
        isSigned ? "__quantkv_gf2p8_shr4_xor8_512" : "__quantkv_gf2p8_shr4_512";
    Value hi = callIntrinsic(name, "llvm.x86.vgf2p8affineqb.512", bytes64,
                             {bytes64, bytes64, b.getI8Type()}, {bytes, m},
                             {{2, isSigned ? 8 : 0}});
    return {lo, hi};
  }

  /// vcvtps2dq: f32 -> i32 rounded to nearest even (the default MXCSR
  /// mode), one instruction instead of a round and a truncation.
  Value cvtRound(Value v) {
    auto i32x16 = VectorType::get({p.lanes}, i32);
    Value pass = splatInt(i32x16, 0);
    Value all = arith::ConstantOp::create(b, loc, b.getI16Type(),
                                          b.getI16IntegerAttr(-1));
    return callIntrinsic(
        "__quantkv_vcvtps2dq_512", "llvm.x86.avx512.mask.cvtps2dq.512", i32x16,
        {vecTy, i32x16, b.getI16Type(), i32}, {v, pass, all}, {{3, 4}});
  }

  /// vrangeps (imm 0b1011): the element of larger magnitude, sign cleared,
  /// i.e. max(|x|, |y|) in one instruction.
  Value maxAbs(Value x, Value y) {
    Value all = arith::ConstantOp::create(b, loc, b.getI16Type(),
                                          b.getI16IntegerAttr(-1));
    return callIntrinsic("__quantkv_vrangeps_512",
                         "llvm.x86.avx512.mask.range.ps.512", vecTy,
                         {vecTy, vecTy, i32, vecTy, b.getI16Type(), i32},
                         {x, y, splat(cF32(0.0)), all}, {{2, 11}, {5, 4}});
  }

  /// Position, in a row of pBuf, of the i32 holding P of keys 4 jq .. 4 jq
  /// + 3. With 64-key groups the halves are packed by vpackssdw/vpacksswb,
  /// whose 128-bit lanes leave the 4-key dwords of 4 vectors interleaved:
  /// quad jq = 16 b + 4 c + l sits at dword 16 b + 4 l + c.
  Value pDwordIndex(Value jq) {
    if (p.kvTile % 64 != 0)
      return jq;
    Value blk = divui(jq, 16), in = remui(jq, 16);
    return addi(muli(blk, cIdx(16)),
                addi(muli(remui(in, 4), cIdx(4)), divui(in, 4)));
  }

  /// Stores the two s8 halves of the quantized P vectors `q` (16 keys each,
  /// |q| <= 16383) of row r, group g: hi = q >> 7, lo = q & 127. Groups of
  /// 4 vectors are narrowed with two packs (signed saturation never
  /// triggers), the halves split on 16-bit words. Returns those words
  /// (vpackssdw of vectors 2k, 2k + 1; none for other tile sizes).
  SmallVector<Value> storePHalves(ArrayRef<Value> q, Value pBuf, Value cr,
                                  Value cg) {
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

  /// Quantizes the tile's P (sBuf, times the token-varying V scale of each
  /// group) per row and group to 14 bits relative to the tile maximum:
  /// q = round(x * 16383 / max|x|), stored as two s8 halves hi = q >> 7,
  /// lo = q & 127 (q = 128 hi + lo) in pBuf[half][r][g][key]. pfBuf gets
  /// max|x| / 16383 and corrBuf the integer correction sum_j q_j (beta -
  /// zp_j) that removes the u8 bias and zero point.
  void quantizeP(Value sBuf, Value pBuf, Value pfBuf, Value corrBuf, Value bi,
                 Value hkv, Value j0, Value kvEndI32) {
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
        sv[c] =
            paramsOfKeys(cv, NG, buf.valueScale, bi, hkv, j, kvEndI32, false);
      if (zpVar)
        for (Value z : paramsOfKeys(cv, NG, buf.valueZeroPoint, bi, hkv, j,
                                    kvEndI32, true))
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

  /// acc = acc * corr + P x V for the tile on VNNI. Four consecutive V rows
  /// are transposed bytewise in registers (two levels of two-source byte
  /// shuffles, vpermt2b): transposed column u lane m holds byte 16u + m of
  /// the four rows, i.e. one i32 lane per element (int8) or per nibble pair
  /// (int4, split into low/high planes: elements 32u + 2m and 32u + 2m + 1,
  /// the even/odd plane layout of the accumulators). vpdpbusd multiplies the
  /// u8 codes with the broadcast s8 halves of P of the same 4 keys. The
  /// int32 tile sums 128 acc_hi + acc_lo + correction are exact; they are
  /// converted and folded into the f32 accumulators once per tile.
  void vnniPV(Value pBuf, Value pfBuf, Value corrBuf, Value accBuf, Value stats,
              Value cCorr, Value bi, Value hkv, Value j0, Value n) {
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
                rowIdx.push_back(arith::MinUIOp::create(
                    b, loc, addi(addi(j0, muli(jq, cIdx(4))), cIdx(k)),
                    cIdx(p.kvLen - 1)));
              DenseMap<int64_t, SmallVector<Value>> chunkRows;
              DenseMap<int64_t, Value> pairs; // (chunk, half, rowPair)
              auto pairsOf = [&](int64_t c, int64_t half, int64_t rp) {
                int64_t key = (c * 2 + half) * 2 + rp;
                if (pairs.count(key))
                  return pairs[key];
                SmallVector<Value> &rows = chunkRows[c];
                if (rows.empty())
                  for (int64_t k = 0; k < 4; ++k)
                    rows.push_back(vload(bytes64, buf.value,
                                         {bi, hkv, rowIdx[k], cIdx(c * 64)}));
                // Word w of 128-bit lane l pairs byte 32 half + 16 (w / 4) +
                // 4 l + w % 4 of the two rows, so that the in-lane word
                // unpacks below (vpunpckl/hwd) finish the transpose.
                SmallVector<int64_t> mask;
                for (int64_t l = 0; l < 4; ++l)
                  for (int64_t w = 0; w < 8; ++w) {
                    int64_t src = 32 * half + 16 * (w / 4) + 4 * l + w % 4;
                    mask.append({src, 64 + src});
                  }
                return pairs[key] = vector::ShuffleOp::create(
                           b, loc, rows[2 * rp], rows[2 * rp + 1], mask);
              };
              // The first pass prefetches the next tile's V rows: spread
              // over the P x V loop, the requests keep DRAM busy while the
              // scores of the next tile do not need V yet.
              if (r0 == 0 && u0 == 0)
                for (int64_t k = 0; k < 4; ++k)
                  prefetchRow(cv, buf.value, Value(), bi, hkv,
                              arith::MinUIOp::create(
                                  b, loc, addi(rowIdx[k], cIdx(p.kvTile)),
                                  cIdx(p.kvLen - 1)),
                              p.valueHeadDim);
              SmallVector<Value> next(acc.begin(), acc.end());
              Value pIdx = pDwordIndex(jq);
              for (int64_t u = u0; u < u0 + CP; ++u) {
                int64_t c = u / 4, q = u % 4;
                Value ab = pairsOf(c, q / 2, 0), cd = pairsOf(c, q / 2, 1);
                // vpunpcklwd (q even) / vpunpckhwd (q odd).
                SmallVector<int64_t> mask;
                for (int64_t l = 0; l < 4; ++l)
                  for (int64_t k = 0; k < 4; ++k) {
                    int64_t w = 16 * l + 2 * (k + 4 * (q % 2));
                    mask.append({w, w + 1, 64 + w, 64 + w + 1});
                  }
                Value col = vector::ShuffleOp::create(b, loc, ab, cd, mask);
                SmallVector<Value> planeV;
                if (int4) {
                  auto [lo, hi] = nibblePlanes(col, cv.isSigned);
                  planeV = {lo, hi};
                } else {
                  if (cv.isSigned)
                    col = arith::XOrIOp::create(
                        b, loc, col,
                        splatInt(bytes64, static_cast<int8_t>(0x80)));
                  planeV.push_back(col);
                }
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
            Value fix = vector::BroadcastOp::create(
                b, loc, i32x16, load(corrBuf, {cr, cIdx(g)}));
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

  void emitWorkItem(Value w);
  /// Prefetch distances of the VNNI key-column path, in tiles.
  int64_t kPrefetchTiles = 2, vPrefetchTiles = 1;
  void emitAmxWorkItem(Value w);
  void emitAmxScores(const AmxTileScratch &scratch, Value bi, Value hkv,
                     Value j0, Value n, Value qbfBuf, Value qi8Buf, Value rsBuf,
                     Value sBuf);
  void emitMerge(Value item);
  void parallelFor(StringRef suffix, int64_t n, function_ref<void(Value)> body,
                   function_ref<void(Value)> amxBody = nullptr);

  const KernelPlan &p;
  SdpaBuffers buf;
  Value softmaxScale;
  Value partAcc, partM, partL;
  ModuleOp module;
  /// Emitting the AMX variant of the work item (AmxScores.h).
  bool amxScores = false;
};

} // namespace

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

/// Merges the split partials of one (batch, kv head, row block):
///   M = max_s m_s, l = sum_s exp(m_s - M) l_s,
///   acc = sum_s exp(m_s - M) acc_s.
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

/// The AMX variant of the work item: the same item emitted for the AMX plan
/// (AmxScores.h), whose scores are tile multiplies.
void SdpaEmitter::emitAmxWorkItem(Value w) {
  KernelPlan amxPlan = getAmxItemPlan(p);
  SdpaEmitter amx(b, loc, amxPlan, buf);
  amx.softmaxScale = softmaxScale;
  amx.partAcc = partAcc;
  amx.partM = partM;
  amx.partL = partL;
  amx.module = module;
  amx.amxScores = true;
  amx.emitWorkItem(w);
}

/// The AMX item's scores of the tile of keys [j0, j0 + n) (AmxScores.h).
void SdpaEmitter::emitAmxScores(const AmxTileScratch &scratch, Value bi,
                                Value hkv, Value j0, Value n, Value qbfBuf,
                                Value qi8Buf, Value rsBuf, Value sBuf) {
  const CacheOperandPlan &ck = p.key;
  // The prefetches of the vector score loop: the next tile's K row and this
  // tile's V row.
  auto prefetch = [&](Value j) {
    Value ahead = arith::MinUIOp::create(b, loc, addi(j, cIdx(p.kvTile)),
                                         cIdx(p.kvLen - 1));
    prefetchRow(ck, buf.key, buf.keyScale, bi, hkv, ahead, p.headDim);
    prefetchRow(p.value, buf.value, buf.valueScale, bi, hkv, j, p.valueHeadDim);
  };
  if (p.mathMode == MathMode::int8) {
    emitAmxTileScoresInt8(
        b, loc, p, scratch, n, qi8Buf, rsBuf, sBuf, [&](Value jj) {
          Value j = addi(j0, jj);
          prefetch(j);
          AmxKeyBytes key = loadKeyBytes(b, loc, p, buf.key, bi, hkv, j);
          Value linear = paramIndex(ck, bi, hkv, j, cIdx(0));
          key.scale = loadScale(ck, buf.keyScale, linear);
          key.zeroPoint = loadZeroPoint(ck, buf.keyZeroPoint, linear);
          return key;
        });
    return;
  }
  emitAmxTileScores(b, loc, p, scratch, n, qbfBuf, rsBuf, sBuf, [&](Value jj) {
    Value j = addi(j0, jj);
    prefetch(j);
    return loadDequantized(ck, buf.key, buf.keyScale, buf.keyZeroPoint, bi, hkv,
                           j, 0, p.headDim / p.lanes);
  });
}

/// Emits scf.parallel over [0, n) whose body calls a private function
/// holding `body(iv)`. Outlining keeps each item's scratch (memref.alloca) in
/// a function entry block: allocated once per call, never growing the stack
/// across iterations, and the loop body stays a single block whichever way
/// the loop is lowered (sequential, or omp.wsloop inside an alloca scope).
/// With `amxBody`, a second function `<name>_amx` holds it, and a second
/// loop calls that one when quantkv_cpu_has_amx() (asked before the loops).
void SdpaEmitter::parallelFor(StringRef suffix, int64_t n,
                              function_ref<void(Value)> body,
                              function_ref<void(Value)> amxBody) {
  // Everything the body reads becomes an argument of the outlined function.
  SmallVector<Value *> captured = {&buf.query,
                                   &buf.key,
                                   &buf.keyScale,
                                   &buf.keyZeroPoint,
                                   &buf.value,
                                   &buf.valueScale,
                                   &buf.valueZeroPoint,
                                   &buf.mask,
                                   &buf.output,
                                   &softmaxScale,
                                   &partAcc,
                                   &partM,
                                   &partL};
  SmallVector<Value> outer;
  for (Value *v : captured)
    if (*v)
      outer.push_back(*v);

  func::FuncOp parentFunc = enclosingFunc();
  std::string base = (parentFunc.getSymName() + "_sdpa_" + suffix).str();
  std::string name = outlineItem(parentFunc, base, captured, body).first;
  std::string amxName;
  Value useAmx;
  if (amxBody) {
    auto [outlined, func] =
        outlineItem(parentFunc, base + "_amx", captured, amxBody);
    amxName = outlined;
    setAmxTargetFeatures(func);
    useAmx = emitCpuHasAmx(b, loc, parentFunc->getParentOfType<ModuleOp>());
  }

  auto loopCalling = [&](StringRef callee) {
    Value zero = cIdx(0), one = cIdx(1), ub = cIdx(n);
    parallelCall(zero, ub, one, callee, outer);
  };
  if (!amxBody) {
    loopCalling(name);
    return;
  }
  // One loop per variant, chosen outside them: the loop body must stay a
  // single block for convert-scf-to-openmp.
  auto choice = scf::IfOp::create(b, loc, useAmx, /*withElseRegion=*/true);
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPoint(choice.thenBlock()->getTerminator());
  loopCalling(amxName);
  b.setInsertionPoint(choice.elseBlock()->getTerminator());
  loopCalling(name);
}

void SdpaEmitter::emit() {
  module = b.getInsertionBlock()->getParentOp()->getParentOfType<ModuleOp>();
  buf.keyScale = flatten(buf.keyScale);
  buf.keyZeroPoint = flatten(buf.keyZeroPoint);
  buf.valueScale = flatten(buf.valueScale);
  buf.valueZeroPoint = flatten(buf.valueZeroPoint);
  softmaxScale = p.dynamicScale ? buf.dynamicScale : cF32(p.softmaxScale);

  int64_t items = p.getNumItems();
  if (p.numSplits > 1) {
    partAcc = memref::AllocOp::create(
        b, loc, MemRefType::get({items, p.rowBlock, p.valueHeadDim}, f32),
        b.getI64IntegerAttr(64));
    partM = memref::AllocOp::create(b, loc,
                                    MemRefType::get({items, p.rowBlock}, f32));
    partL = memref::AllocOp::create(b, loc,
                                    MemRefType::get({items, p.rowBlock}, f32));
  }
  auto amxItem = [&](Value w) { emitAmxWorkItem(w); };
  parallelFor(
      "item", items, [&](Value w) { emitWorkItem(w); },
      p.amxVariant ? function_ref<void(Value)>(amxItem) : nullptr);
  if (p.numSplits > 1)
    parallelFor("merge", items / p.numSplits,
                [&](Value item) { emitMerge(item); });
}

void mlir::quantkv::emitSdpaKernel(OpBuilder &builder, Location loc,
                                   const KernelPlan &plan,
                                   const SdpaBuffers &buffers) {
  SdpaEmitter(builder, loc, plan, buffers).emit();
}
