//===- SdpaEmitter.h - the row-block SDPA kernel emitter -------*- C++ -*-===//
//
// Part of the quantkv project, under the Apache License v2.0 with LLVM
// Exceptions.
//
//===----------------------------------------------------------------------===//
//
// The emitter of the row-block (decode) flash-attention kernel of a
// KernelPlan (docs/X86Kernel.md). Its members are defined by purpose:
//
//   SdpaKernelEmitter.cpp  the driver: outlined parallel loops, the AMX
//                          variant, the split partial buffers
//   SdpaWorkItem.cpp       one work item: Q rows, the tile loop, online
//                          softmax, P x V on f32 FMAs
//   SdpaScores.cpp         Q.K of a tile (f32 FMAs, vdpbf16ps, VNNI dispatch)
//   SdpaCacheRows.cpp      K/V rows and their quantization parameters
//   SdpaIntrinsics.cpp     single x86 instructions as LLVM intrinsic calls
//   SdpaVnniScores.cpp     int8 math: Q x K on vpdpbusd
//   SdpaVnniValues.cpp     int8 math: P quantization and P x V on vpdpbusd
//   SdpaOutput.cpp         the output rows and the merge of split partials
//
//===----------------------------------------------------------------------===//

#ifndef QUANTKV_LIB_CONVERSION_QUANTKVTOX86_SDPAEMITTER_H
#define QUANTKV_LIB_CONVERSION_QUANTKVTOX86_SDPAEMITTER_H

#include "CacheRowReader.h"
#include "KernelBuilder.h"

#include "quantkv/Conversion/QuantKVToX86/AmxScores.h"
#include "quantkv/Conversion/QuantKVToX86/KernelPlan.h"
#include "quantkv/Conversion/QuantKVToX86/QuantKVToX86.h"

#include "mlir/IR/BuiltinOps.h"

#include <algorithm>

namespace mlir::quantkv {

class SdpaEmitter : public KernelBuilder {
public:
  SdpaEmitter(OpBuilder &b, Location loc, const KernelPlan &p,
              const SdpaBuffers &buf)
      : KernelBuilder(b, loc, p.lanes, p.mathMode), p(p), buf(buf) {
    // A small row block streams K/V fast: prefetch K about 8 KiB ahead (two
    // tiles of int4 K at D = 128, one of int8) and V one tile ahead. Larger
    // blocks spend 4x longer per key, so one tile of K (and this tile's V)
    // is already far enough (measured, 1 thread).
    int64_t keyTileBytes =
        p.kvTile *
        (p.key.storage == CacheStorage::Int4 ? p.headDim / 2 : p.headDim);
    bool smallBlock = p.rowBlock <= 2;
    kPrefetchTiles =
        smallBlock ? std::clamp<int64_t>(8192 / keyTileBytes, 1, 2) : 1;
    vPrefetchTiles = smallBlock ? 1 : 0;
  }

  void emit();

private:
  //===--------------------------------------------------------------------===//
  // Driver (SdpaKernelEmitter.cpp)
  //===--------------------------------------------------------------------===//

  /// Emits scf.parallel over [0, n) whose body calls a private function
  /// holding `body(iv)`. Outlining keeps each item's scratch (memref.alloca) in
  /// a function entry block: allocated once per call, never growing the stack
  /// across iterations, and the loop body stays a single block whichever way
  /// the loop is lowered (sequential, or omp.wsloop inside an alloca scope).
  /// With `amxBody`, a second function `<name>_amx` holds it, and a second
  /// loop calls that one when quantkv_cpu_has_amx() (asked before the loops).
  void parallelFor(StringRef suffix, int64_t n, function_ref<void(Value)> body,
                   function_ref<void(Value)> amxBody = nullptr);

  /// The AMX variant of the work item: the same item emitted for the AMX plan
  /// (AmxScores.h), whose scores are tile multiplies.
  void emitAmxWorkItem(Value w);

  /// The AMX item's scores of the tile of keys [j0, j0 + n) (AmxScores.h).
  void emitAmxScores(const AmxTileScratch &scratch, Value bi, Value hkv,
                     Value j0, Value n, Value qbfBuf, Value qi8Buf, Value rsBuf,
                     Value sBuf);

  //===--------------------------------------------------------------------===//
  // One work item (SdpaWorkItem.cpp)
  //===--------------------------------------------------------------------===//

  /// One (batch, kv head, row block, split) item: its Q rows, the loop over
  /// key tiles, and its output rows or split partials.
  void emitWorkItem(Value w);

  struct RowIndex {
    Value head; // query head
    Value i;    // query position
  };

  /// What the pieces of a work item share: its indices, its scratch (null
  /// when the plan does not use it) and loop-invariant values.
  struct WorkItem {
    Value bi, hkv;
    SmallVector<RowIndex> rows;
    /// f32 Q rows (scaled), scores then P of the tile, accumulators, and the
    /// stats rows (indices cMax, cSum, cCorr, cBias) per row.
    Value qBuf, sBuf, accBuf, stats;
    Value cMax, cSum, cCorr, cBias;
    /// The tile's dequantized V when P x V takes many passes.
    Value vTileBuf;
    /// bf16 dot products: rounded Q rows, unscaled; with VNNI too: the score
    /// scale of each row.
    Value qbfBuf, rsBuf;
    /// VNNI scores: s8 Q rows, f32 lane sums (zero points), -bias x lane
    /// sums (i32), and per scale group -bias x sum q, sum q (key columns).
    Value qi8Buf, qslBuf, qbBuf, qgBuf;
    /// VNNI P x V: P halves, dequantization factors, integer corrections.
    Value pBuf, pfBuf, corrBuf;
    AmxTileScratch amxScratch;
    /// The split's last key + 1 (i32), the causal limit of each row (i32),
    /// the lane positions, and the row scales of 8 / RB reduced VNNI scores.
    Value kvEndI32;
    SmallVector<Value> rowLimit;
    Value iotaV, rowScales8;
  };

  /// Q rows -> f32 scratch, pre-multiplied by the softmax scale (and by a
  /// token-invariant K scale, whose zero point becomes a per-row bias); the
  /// int8 forms of the VNNI paths; stats and accumulators reset.
  void prepareQueryRows(const WorkItem &it);
  /// The scores of the tile of keys [j0, j0 + n) for every row (sBuf): each
  /// K row is unpacked and dequantized once for all rows (SdpaScores.cpp).
  void scoreTile(const WorkItem &it, Value j0, Value n);
  /// Online softmax over the tile, 16 keys per vector: mask, running max,
  /// exp, running sum and rescale factor per row; P replaces the scores.
  void softmaxTile(const WorkItem &it, Value j0);
  /// softmaxTile for int8 VNNI P x V (the same P, a shorter instruction
  /// mix): the rows' maxima and sums go through one transpose tree each,
  /// the rescale factors are one vector exp, and P is expShifted.
  void softmaxTileRows(const WorkItem &it, Value j0);
  /// Row r's scores of the tile with the mask, the K bias and the key range
  /// applied (-inf outside it); `tileMax` gets their lane-wise maximum.
  SmallVector<Value> maskedScores(const WorkItem &it, Value j0, int64_t r,
                                  Value &tileMax);
  /// acc = acc * corr + P x V for the tile of keys [j0, j0 + n).
  void accumulateTile(const WorkItem &it, Value j0, Value n);

  /// VNNI scores: the per-group sums of s8 Q row `codeRow` of qi8Buf (key
  /// columns), its nibble-plane order (int4 K) and its lane sums (one key at
  /// a time).
  void layoutQueryCodes(const WorkItem &it, Value codeRow);
  /// KernelPlan::vnniQueryParts: row r of qBuf (Q' with the K scale folded
  /// in) rounded to 21 bits relative to its max |Q'|: the s8 parts go to
  /// qi8Buf rows 3r (top) .. 3r + 2 (lo), the unit to rsBuf, the rounded
  /// values back to qBuf.
  void quantizeQueryParts(const WorkItem &it, int64_t r);
  /// s8 Q rows per query row: the parts of Q', or the row itself.
  int64_t queryCodeRows() const { return p.vnniQueryParts ? 3 : 1; }
  /// int8 math: Q row r of `qBuf` is quantized per row (quantizeRowInt8),
  /// its codes written to `qi8Buf` when given. Returns the row scale (0 for
  /// an all-zero row).
  Value quantizeQueryRow(Value qBuf, Value r, Value qi8Buf = Value());

  //===--------------------------------------------------------------------===//
  // K/V rows and quantization parameters (SdpaCacheRows.cpp)
  //===--------------------------------------------------------------------===//

  /// Scale indexing and parameter loads are CacheRowReader's (shared with
  /// the prefill kernel); it needs no storage memref for them.
  CacheRowReader parameters(const CacheOperandPlan &cp, Value scaleFlat,
                            Value zeroPointFlat);

  /// Linear index, in the parameter tensor, of the scale of element
  /// (bi, hi, j, d) of a cache operand. Null `j` means token 0.
  Value paramIndex(const CacheOperandPlan &cp, Value bi, Value hi, Value j,
                   Value d);

  Value loadScale(const CacheOperandPlan &cp, Value flat, Value linear);

  /// The zero point at `linear` as f32 (0 without zero points).
  Value loadZeroPoint(const CacheOperandPlan &cp, Value flat, Value linear);

  /// Scale and zero point of vector `vecIdx` (16 consecutive elements along
  /// D) of token j, as vectors, for PerElement granularity.
  std::pair<Value, Value> loadParamVectors(const CacheOperandPlan &cp,
                                           Value scaleFlat, Value zpFlat,
                                           Value bi, Value hi, Value j,
                                           int64_t vecIdx);

  /// The scale (or zero point) entries of cache operand `cp` for the keys
  /// j .. j + 15, one vector per scale group g of a row (lane i = key
  /// j + i): the 16 x `groups` entries are contiguous, read with one masked
  /// load (keys at or past `kvEnd` are not read) and de-interleaved by
  /// shuffles. Integer zero points come back as i32, the rest as f32.
  SmallVector<Value> paramsOfKeys(const CacheOperandPlan &cp, int64_t groups,
                                  Value flat, Value bi, Value hkv, Value j,
                                  Value kvEndI32, bool zeroPoint);

  /// Loads `numVecs` vectors of token j of a cache operand starting at vector
  /// `firstVec`, unpacked and converted to f32 (not yet scaled). 4-bit data
  /// is loaded packed and widened in registers: vector.bitcast to i4 and
  /// arith.ext to i8, which the narrow-type rewrites turn into shifts and an
  /// interleave.
  SmallVector<Value> loadRaw(const CacheOperandPlan &cp, Value mem, Value bi,
                             Value hi, Value j, int64_t firstVec,
                             int64_t numVecs);

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
                                int64_t numVecs);

  /// Loads and dequantizes vectors of token j: (x - zp) * scale, computed as
  /// one fma x * s + (-zp * s) with the scale broadcast per group. Operands
  /// whose scale does not depend on the token are returned unscaled (their
  /// scale is folded elsewhere).
  SmallVector<Value> loadDequantized(const CacheOperandPlan &cp, Value mem,
                                     Value scaleFlat, Value zpFlat, Value bi,
                                     Value hi, Value j, int64_t firstVec,
                                     int64_t numVecs);

  /// Key j + k of a block of `blockKeys` keys whose first key j is a multiple
  /// of `blockKeys` and lies before the end of the cache: clamped to the last
  /// cache row only when the cache length is not a multiple of `blockKeys`
  /// (otherwise the whole block is in the cache, statically).
  Value blockRow(Value j, int64_t k, int64_t blockKeys);

  /// The first of `blockKeys` consecutive rows to prefetch from `ahead` on,
  /// moved back so that the whole block lies in the cache: one clamp per
  /// block instead of one per row (a prefetch near the end may cover rows
  /// already read, which costs nothing). `ahead` itself when the cache is
  /// shorter than a block.
  Value prefetchBlockStart(Value ahead, int64_t blockKeys);

  /// Row k of the prefetch block that starts at `start`
  /// (prefetchBlockStart): clamped to the last cache row only when the
  /// cache is shorter than a block.
  Value prefetchBlockRow(Value start, int64_t k, int64_t blockKeys);

  /// Prefetches every cache line of token j of a cache operand (and its
  /// token-varying scale entry); nothing when the plan has no software
  /// prefetch.
  void prefetchRow(const CacheOperandPlan &cp, Value mem, Value scaleFlat,
                   Value bi, Value hi, Value j, int64_t dim);

  //===--------------------------------------------------------------------===//
  // x86 instructions (SdpaIntrinsics.cpp)
  //===--------------------------------------------------------------------===//

  /// Calls LLVM intrinsic `intrinsic` through the private helper `name`
  /// (created on first use).
  /// `immediates` (operand index, value) are intrinsic operands that must be
  /// constants (immarg): they are materialized inside the helper, which
  /// takes only the other operands.
  Value callIntrinsic(StringRef name, StringRef intrinsic, Type result,
                      ArrayRef<Type> argTypes, ValueRange args,
                      ArrayRef<std::pair<unsigned, int64_t>> immediates = {});

  /// vpermps: lane l of the result is lane idx[l] & 15 of `table`.
  Value permute(Value table, Value idx);

  /// vpdpbusd: acc + sum over each 4-byte lane of u8(a) * s8(b). The
  /// intrinsic sits in a private helper function (inlined by LLVM) because
  /// the buffer deallocation passes reject ops without memory-effect
  /// information, which llvm.call_intrinsic is, in functions they analyze.
  Value dpbusd(Value acc, Value a, Value bv);

  /// The low and high nibbles of 64 packed int4 bytes as u8 codes (signed
  /// codes biased by +8: the nibble's top bit flipped): the low plane is an
  /// and/xor (one vpternlog), the high plane one vgf2p8affineqb (bit matrix
  /// of a logical shift right by 4, xor constant 8 for the bias), or a shift
  /// and an and/xor without GFNI.
  std::pair<Value, Value> nibblePlanes(Value bytes, bool isSigned);

  /// The u8 vpdpbusd operands of 64 bytes of K or V codes: int4 as its low
  /// and high nibble planes (nibblePlanes), int8 as the bytes themselves;
  /// signed codes are biased into u8 (the top bit flipped).
  SmallVector<Value> vnniCodeOperands(Value bytes, bool int4, bool isSigned);

  /// e^{x - m} for x <= m (x = -inf gives 0) to about 2^-18 relative, the
  /// precision int8 P needs: t = (x - m) log2(e), a degree-5 polynomial of
  /// 2^{t - round(t)}, and vscalefps for the power of two. t < -125 gives
  /// exactly 0, as in expNonPositive, so no denormal reaches the P
  /// quantization. 12 vector ops against 16 for expNonPositive(x - m).
  Value expShifted(Value x, Value m);

  /// vcvtps2dq: f32 -> i32 rounded to nearest even (the default MXCSR
  /// mode), one instruction instead of a round and a truncation.
  Value cvtRound(Value v);

  /// vrangeps (imm 0b1011): the element of larger magnitude, sign cleared,
  /// i.e. max(|x|, |y|) in one instruction.
  Value maxAbs(Value x, Value y);

  //===--------------------------------------------------------------------===//
  // int8 math: Q x K on VNNI (SdpaVnniScores.cpp)
  //===--------------------------------------------------------------------===//

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

  /// Lane vector of one per-group value for the 16 i32 lanes of a VNNI
  /// chunk: lane l covers elements base + l * epl .. base + (l + 1) * epl - 1
  /// of the row, which lie in one group (groups along D are multiples of
  /// 16 >= epl). Float parameters of several groups are loaded as one vector
  /// and spread over the lanes with a shuffle; others are inserted by lane
  /// masks.
  Value laneGroupVector(const CacheOperandPlan &cp, Value flat, Value bi,
                        Value hi, Value j, int64_t base, int64_t epl,
                        bool floatParam, function_ref<Value(Value)> valueAt);

  /// int8 math with VNNI: the scores of token j for every row of the block.
  /// K is read as u8 with a bias (signed codes: top bit flipped), 64 bytes
  /// per chunk; int4 K is split into its low and high nibble planes (an and
  /// and a shift, no interleave) and contracted with the even and odd planes
  /// of the s8 Q row, so each i32 lane holds the dot product of 8 elements.
  /// The accumulator starts at -bias x (lane sum of Q) (exact integers), a
  /// zero point is removed with the f32 lane sums, the group scale
  /// multiplies each lane, and the lanes are summed by the caller.
  SmallVector<Value> vnniScores(Value bi, Value hkv, Value j, Value qi8Buf,
                                Value qslBuf, Value qbBuf);

  /// Transposes 16 vectors of 16 x i32 (row i lane l -> row l lane i) in
  /// four stages of single-instruction shuffles (64 shuffles).
  SmallVector<Value> transpose16(SmallVector<Value> m);

  /// int8 math, VNNI scores of the 16 keys j .. j + 15 for every row of the
  /// block, one f32 vector of 16 keys per row (already scaled), with no
  /// horizontal reduction: each 64-byte chunk of the 16 K rows is transposed
  /// at dword granularity in registers, so that vector d holds dword d of
  /// every key, and vpdpbusd multiplies it by the broadcast dword d of the s8
  /// Q row. One i32 accumulator per row and scale group; the group's scale
  /// (a vector over the keys) multiplies it after the group's partial dot.
  SmallVector<Value> vnniScoresOfKeys(Value bi, Value hkv, Value j,
                                      Value kvEndI32, Value qi8Buf,
                                      Value qgBuf);

  //===--------------------------------------------------------------------===//
  // int8 math: P x V on VNNI (SdpaVnniValues.cpp)
  //===--------------------------------------------------------------------===//

  /// V codes enter vpdpbusd as u8 w = v - beta: signed codes get their top
  /// bit flipped (int4: w = v + 8, int8: w = v + 128), unsigned ones pass.
  int64_t vnniValueBeta() const {
    if (!p.value.isSigned)
      return 0;
    return p.value.storage == CacheStorage::Int4 ? -8 : -128;
  }

  /// Position, in a row of pBuf, of the i32 holding P of keys 4 jq .. 4 jq
  /// + 3. With 64-key groups the halves are packed by vpackssdw/vpacksswb,
  /// whose 128-bit lanes leave the 4-key dwords of 4 vectors interleaved:
  /// quad jq = 16 b + 4 c + l sits at dword 16 b + 4 l + c.
  Value pDwordIndex(Value jq);

  /// Stores the two s8 halves of the quantized P vectors `q` (16 keys each,
  /// |q| <= 16383) of row r, group g: hi = q >> 7, lo = q & 127. Groups of
  /// 4 vectors are narrowed with two packs (signed saturation never
  /// triggers), the halves split on 16-bit words. Returns those words
  /// (vpackssdw of vectors 2k, 2k + 1; none for other tile sizes).
  SmallVector<Value> storePHalves(ArrayRef<Value> q, Value pBuf, Value cr,
                                  Value cg);

  /// Quantizes the tile's P (sBuf, times the token-varying V scale of each
  /// group) per row and group to 14 bits relative to the tile maximum:
  /// q = round(x * 16383 / max|x|), stored as two s8 halves hi = q >> 7,
  /// lo = q & 127 (q = 128 hi + lo) in pBuf[half][r][g][key]. pfBuf gets
  /// max|x| / 16383 and corrBuf the integer correction sum_j q_j (beta -
  /// zp_j) that removes the u8 bias and zero point.
  void quantizeP(Value sBuf, Value pBuf, Value pfBuf, Value corrBuf, Value bi,
                 Value hkv, Value j0, Value kvEndI32);

  /// acc = acc * corr + P x V for the tile on VNNI. Four consecutive V rows
  /// are transposed bytewise in registers (the four 16-byte slices of a
  /// column in one register, one vpermb): transposed column u lane m holds
  /// byte 16u + m of the four rows, i.e. one i32 lane per element (int8) or
  /// per nibble pair (int4, split into low/high planes: elements 32u + 2m
  /// and 32u + 2m + 1, the even/odd plane layout of the accumulators).
  /// vpdpbusd multiplies the u8 codes with the broadcast s8 halves of P of
  /// the same 4 keys. The int32 tile sums 128 acc_hi + acc_lo + correction
  /// are exact; they are converted and folded into the f32 accumulators once
  /// per tile.
  void vnniPV(Value pBuf, Value pfBuf, Value corrBuf, Value accBuf, Value stats,
              Value cCorr, Value bi, Value hkv, Value j0, Value n);

  //===--------------------------------------------------------------------===//
  // Output rows and split merge (SdpaOutput.cpp)
  //===--------------------------------------------------------------------===//

  /// The query head and position of row `row` of kv head `hkv`'s rows.
  RowIndex rowIndex(Value hkv, Value row) {
    Value hl = divui(row, p.qLen);
    Value i = remui(row, p.qLen);
    return {addi(muli(hkv, cIdx(p.groupSize)), hl), i};
  }

  /// Writes row `r` of `acc` (unnormalized sum with softmax denominator `l`)
  /// to the output row (bi, head, i), applying the token-invariant V scale.
  void finalizeRow(Value acc, Value r, Value l, Value bi, Value hkv,
                   RowIndex ri, Value rowBuf);

  /// Merges the split partials of one (batch, kv head, row block):
  ///   M = max_s m_s, l = sum_s exp(m_s - M) l_s,
  ///   acc = sum_s exp(m_s - M) acc_s.
  void emitMerge(Value item);

  const KernelPlan &p;
  SdpaBuffers buf;
  Value softmaxScale;
  /// Split partials: accumulators, maxima and sums per (item, row).
  Value partAcc, partM, partL;
  ModuleOp module;
  /// Emitting the AMX variant of the work item (AmxScores.h).
  bool amxScores = false;
  /// Prefetch distances of the VNNI key-column path, in tiles (set by the
  /// constructor).
  int64_t kPrefetchTiles, vPrefetchTiles;
};

} // namespace mlir::quantkv

#endif // QUANTKV_LIB_CONVERSION_QUANTKVTOX86_SDPAEMITTER_H
