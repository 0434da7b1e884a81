//===- KernelPlan.cpp - tiling plan of the fused SDPA kernel --------------===//
//
// Part of the quantkv project, under the Apache License v2.0 with LLVM
// Exceptions.
//
//===----------------------------------------------------------------------===//

#include "quantkv/Conversion/QuantKVToX86/KernelPlan.h"

#include "mlir/IR/BuiltinTypes.h"
#include "llvm/Support/MathExtras.h"

#include <algorithm>
#include <cmath>

using namespace mlir;
using namespace mlir::quantkv;

/// Largest divisor of `n` that is at most `limit`.
static int64_t largestDivisorAtMost(int64_t n, int64_t limit) {
  for (int64_t d = std::min(n, limit); d > 1; --d)
    if (n % d == 0)
      return d;
  return 1;
}

static LogicalResult planCacheOperand(SdpaOp op, Value cache, Value scale,
                                      Value zeroPoint,
                                      GranularityAttrInterface granularity,
                                      int64_t lanes, bool foldableScales,
                                      CacheOperandPlan &plan, StringRef name,
                                      std::string &reason) {
  auto cacheType = cast<RankedTensorType>(cache.getType());
  Type element = cacheType.getElementType();
  plan.elementType = element;
  if (auto intType = dyn_cast<IntegerType>(element)) {
    plan.storage =
        intType.getWidth() == 4 ? CacheStorage::Int4 : CacheStorage::Int8;
    plan.isSigned = !intType.isUnsigned();
  } else {
    plan.storage = CacheStorage::Float;
    return success();
  }
  plan.quantized = true;
  auto scaleType = cast<RankedTensorType>(scale.getType());
  plan.scaleType = scaleType.getElementType();
  SmallVector<int64_t> group, expanded;
  granularity.getScaleIndexing(cacheType.getShape(), scaleType.getShape(),
                               group, expanded);
  if (group.size() != 4 || expanded.size() != 4) {
    reason = (name + " granularity does not normalize to 4-d").str();
    return failure();
  }
  for (int i = 0; i < 4; ++i) {
    plan.groupShape[i] = group[i];
    plan.scaleShape[i] = expanded[i];
  }
  if (zeroPoint) {
    auto zpType = cast<RankedTensorType>(zeroPoint.getType());
    plan.hasZeroPoint = true;
    plan.zeroPointType = zpType.getElementType();
    auto zpInt = dyn_cast<IntegerType>(plan.zeroPointType);
    plan.zeroPointPacked = zpInt && zpInt.getWidth() == 4;
    plan.zeroPointLastDim = zpType.getRank() ? zpType.getShape().back() : 1;
  }
  plan.tokenInvariant = foldableScales && plan.scaleShape[2] == 1;
  int64_t gd = plan.groupShape[3];
  if (plan.scaleShape[3] == 1)
    plan.alongD = ScaleAlongD::PerRow;
  else if (gd % lanes == 0)
    plan.alongD = ScaleAlongD::PerVector;
  else if (lanes % gd == 0)
    plan.alongD = ScaleAlongD::PerElement;
  else if (!plan.tokenInvariant) {
    reason = (name + " groups of " + Twine(gd) +
              " along D neither fill nor tile a vector of " + Twine(lanes))
                 .str();
    return failure();
  }
  return success();
}

/// Whether a cache operand can be read as even/odd nibble planes: 4-bit
/// storage, whole 32-element blocks along D, and one scale (or none in the
/// loop) per block, so that each 16-lane plane vector needs one broadcast.
static bool nibblePlanesApply(const CacheOperandPlan &cp, int64_t dim) {
  if (cp.storage != CacheStorage::Int4 || dim % 32 != 0)
    return false;
  if (cp.tokenInvariant || cp.alongD == ScaleAlongD::PerRow)
    return true;
  return cp.alongD == ScaleAlongD::PerVector && cp.groupShape[3] % 32 == 0;
}

/// Chooses the dedicated prefill kernel for long query blocks. Below
/// `prefillMinQueryLen` rows per head the row-block kernel (registers hold
/// all rows of a block, K/V rows unpacked in registers) needs no scratch
/// traffic and wins; from 16 rows on, a padded 16-row vector of the prefill
/// kernel is at least fully used once and its GEMM-style microkernels do not
/// pay a horizontal reduction per key and row.
static void planPrefill(KernelPlan &plan, const X86KernelOptions &options) {
  PrefillPlan &pf = plan.prefill;
  if (options.prefillMinQueryLen <= 0 || plan.qLen < options.prefillMinQueryLen)
    return;
  // The f32 scratch of one item (K and V tiles, Q^T, S^T, accumulators) must
  // stay far below L2.
  if (plan.headDim > 512 || plan.valueHeadDim > 512) {
    pf.declined = "head dims above 512 exceed the prefill scratch budget";
    return;
  }
  int64_t lanes = plan.lanes;
  pf.rowVectors =
      std::clamp<int64_t>(llvm::divideCeil(plan.qLen, lanes), 1,
                          std::max<int64_t>(1, options.prefillRowVectors));
  pf.rows = pf.rowVectors * lanes;
  pf.numQueryBlocks = llvm::divideCeil(plan.qLen, pf.rows);
  // S^T block: keyBlock keys x rowVectors vectors of 16 rows in 24
  // accumulators (8 left for the Q^T vectors and the broadcast K' values).
  // A divisor of kvTile (no scored keys past a full tile) when one is at
  // least half of the register budget.
  int64_t cap = std::clamp<int64_t>(24 / pf.rowVectors, 4, 12);
  pf.keyBlock = largestDivisorAtMost(plan.kvTile, cap);
  if (2 * pf.keyBlock < cap)
    pf.keyBlock = cap;
  pf.tileRows = llvm::alignTo(plan.kvTile, pf.keyBlock);
  // P x V block: pvRows x pvVectors accumulators, at most 24.
  pf.pvVectors = largestDivisorAtMost(plan.valueHeadDim / lanes, 4);
  pf.pvRows = largestDivisorAtMost(pf.rows, 24 / pf.pvVectors);
  // Key pairs of P x V never straddle the scored keys: keyBlock is even.
  pf.bf16Dot = options.prefillBf16Dot && options.hasAvx512Bf16 &&
               plan.mathMode == MathMode::bf16 && plan.headDim % 32 == 0 &&
               pf.keyBlock % 2 == 0;
  pf.enabled = true;
}

FailureOr<KernelPlan> KernelPlan::build(SdpaOp op,
                                        const X86KernelOptions &options,
                                        std::string &reason) {
  KernelPlan plan;
  if (!options.hasAvx512) {
    reason = "the fused kernel needs AVX-512 (F, BW, DQ)";
    return failure();
  }
  for (Value v : op->getOperands())
    if (auto t = dyn_cast<RankedTensorType>(v.getType()))
      if (!t.hasStaticShape()) {
        reason = "dynamic shapes are not handled by the fused kernel";
        return failure();
      }
  if (op.getKeyLayout() != KLayout::bsd) {
    reason = "key_layout bds is not handled by the fused kernel";
    return failure();
  }
  plan.batch = op.getBatchSize();
  plan.qHeads = op.getNumQueryHeads();
  plan.kvHeads = op.getNumKVHeads();
  plan.qLen = op.getQueryLength();
  plan.kvLen = op.getKVLength();
  plan.headDim = op.getHeadDim();
  plan.valueHeadDim = op.getValueHeadDim();
  if (plan.batch == 0 || plan.qHeads == 0 || plan.qLen == 0 ||
      plan.kvLen == 0) {
    reason = "empty problem";
    return failure();
  }
  plan.groupSize = plan.qHeads / plan.kvHeads;
  plan.rowsPerKVHead = plan.groupSize * plan.qLen;
  plan.lanes = 16;
  if (plan.headDim % plan.lanes || plan.valueHeadDim % plan.lanes) {
    reason = "head dims must be multiples of " + std::to_string(plan.lanes);
    return failure();
  }
  plan.mathMode = op.getMathMode();
  plan.queryType = op.getQuery().getType().getElementType();
  plan.outputType = op.getInit().getType().getElementType();

  // bf16/f16 math rounds K' and V' themselves, (x - zp) * scale, before each
  // contraction: moving a token-invariant scale out of the loop would round
  // (x - zp) instead, so those modes scale every element.
  bool foldableScales =
      plan.mathMode != MathMode::bf16 && plan.mathMode != MathMode::f16;
  if (failed(planCacheOperand(op, op.getKey(), op.getKeyScale(),
                              op.getKeyZeroPoint(), op.getKeyQuantAttr(),
                              plan.lanes, foldableScales, plan.key, "key",
                              reason)) ||
      failed(planCacheOperand(op, op.getValue(), op.getValueScale(),
                              op.getValueZeroPoint(), op.getValueQuantAttr(),
                              plan.lanes, foldableScales, plan.value, "value",
                              reason)))
    return failure();

  if (auto causal = op.getCausalAttr()) {
    plan.causal = causal.getValue();
    plan.causalOffset = *plan.causal == CausalAlignment::bottom_right
                            ? plan.kvLen - plan.qLen
                            : 0;
  }
  if (Value mask = op.getMask()) {
    auto maskType = cast<RankedTensorType>(mask.getType());
    plan.hasMask = true;
    plan.maskShape.assign(maskType.getShape().begin(),
                          maskType.getShape().end());
    plan.maskType = maskType.getElementType();
  }
  plan.dynamicScale = static_cast<bool>(op.getDynamicScale());
  if (auto scale = op.getScaleAttr())
    plan.softmaxScale = scale.getValueAsDouble();
  else
    plan.softmaxScale = 1.0 / std::sqrt(static_cast<double>(plan.headDim));

  // VNNI integer scores: integer K whose scale is one per token or per whole
  // vector group along D (the scale is folded after the group's partial dot
  // product), 64-byte rows.
  const CacheOperandPlan &k = plan.key;
  bool vnniInt8 = options.hasVnni && plan.mathMode == MathMode::int8 &&
                  k.storage != CacheStorage::Float && plan.headDim % 64 == 0;
  plan.vnniScores =
      vnniInt8 && !k.tokenInvariant &&
      (k.alongD == ScaleAlongD::PerRow || k.alongD == ScaleAlongD::PerVector);
  // A token-invariant K scale (per channel, per tensor) folded into Q makes
  // Q' = q s non-integer: it is carried as 21 bits in three s8 parts. (The
  // upper 14 bits' dot, < 2^14 x 2^7 x D, is an exact i32 and the low
  // part's, < 2^14 x D, an exact f32 up to D = 1024.) Only for int4 K as
  // nibble planes: int8 K unpacks cheaply for the f32 scores, and three
  // vpdpbusd per element measured slower there (GQA, from DRAM).
  plan.vnniQueryParts = vnniInt8 && k.tokenInvariant &&
                        k.storage == CacheStorage::Int4 &&
                        plan.headDim % 128 == 0 && plan.headDim <= 1024;
  plan.vnniScores |= plan.vnniQueryParts;

  plan.vnniNibblePlanes = plan.vnniScores && k.storage == CacheStorage::Int4 &&
                          plan.headDim % 128 == 0;

  plan.vnniKeyColumns =
      plan.vnniQueryParts ||
      (plan.vnniScores && k.groupShape[2] == 1 && !k.zeroPointPacked &&
       (k.storage == CacheStorage::Int8 || plan.vnniNibblePlanes));
  if (plan.vnniKeyColumns && !plan.vnniQueryParts &&
      k.alongD != ScaleAlongD::PerRow)
    plan.keyScaleGroups = plan.headDim / k.groupShape[3];

  plan.bf16Scores = options.hasAvx512Bf16 && plan.mathMode == MathMode::bf16 &&
                    !(k.quantized && k.tokenInvariant) &&
                    plan.headDim % 32 == 0;
  plan.useVpermb = options.hasAvx512Vbmi;
  plan.useGfni = options.hasGfni;
  plan.softwarePrefetch = options.softwarePrefetch;

  // Tiling. Rows of one K/V head are blocked so that each unpacked K/V row
  // serves the whole block from registers.
  plan.kvTile =
      std::max<int64_t>(plan.lanes, llvm::alignTo(options.kvTile, plan.lanes));
  plan.rowBlock = largestDivisorAtMost(plan.rowsPerKVHead, options.maxRowBlock);
  plan.numRowBlocks = plan.rowsPerKVHead / plan.rowBlock;
  int64_t valueVectors = plan.valueHeadDim / plan.lanes;
  plan.valueVectorsPerStep = largestDivisorAtMost(
      valueVectors,
      std::max<int64_t>(1, options.accumulatorRegisters / (plan.rowBlock + 1)));

  plan.valueTileInScratch = valueVectors / plan.valueVectorsPerStep > 2;

  // AMX tiles hold at most 16 rows of 64 bytes: a row block of up to 16 Q
  // rows times 32 bf16 (or 64 int8) of D per tile multiply. bf16 math
  // rounds both contraction inputs to bf16, which tdpbf16ps multiplies
  // exactly; int8 math with one K scale per token is an exact integer dot
  // product (tdpbsud) scaled once per key.
  bool amxBf16 = plan.mathMode == MathMode::bf16 && plan.headDim % 32 == 0;
  bool amxInt8 = plan.mathMode == MathMode::int8 &&
                 k.storage != CacheStorage::Float && !k.tokenInvariant &&
                 k.alongD == ScaleAlongD::PerRow && plan.headDim % 64 == 0;
  plan.amxVariant = options.enableAmx && (amxBf16 || amxInt8) &&
                    plan.rowBlock <= 16 && plan.kvTile % 16 == 0;

  // Even/odd nibble planes (see CacheOperandPlan::splitNibbles) for f32
  // contractions of int4 K and V whose scale is constant over 32 elements.
  // The VNNI and bf16 score paths consume K in storage order.
  plan.key.splitNibbles = nibblePlanesApply(plan.key, plan.headDim) &&
                          !plan.vnniScores && !plan.bf16Scores;
  plan.value.splitNibbles = nibblePlanesApply(plan.value, plan.valueHeadDim) &&
                            plan.valueVectorsPerStep % 2 == 0;

  // VNNI P x V: the V scale must be constant over the 16 bytes of a V row
  // that one transposed vector covers (32 int4 / 16 int8 elements), so that
  // one broadcast P operand serves the vector.
  const CacheOperandPlan &v = plan.value;
  if (options.hasVnni && plan.mathMode == MathMode::int8 && v.quantized &&
      plan.kvTile <= 256) {
    int64_t rowBytes = v.storage == CacheStorage::Int4 ? plan.valueHeadDim / 2
                                                       : plan.valueHeadDim;
    int64_t block = v.storage == CacheStorage::Int4 ? 32 : 16;
    bool scaleOk = v.tokenInvariant || (v.groupShape[2] == 1 &&
                                        (v.alongD == ScaleAlongD::PerRow ||
                                         (v.alongD == ScaleAlongD::PerVector &&
                                          v.groupShape[3] % block == 0)));
    auto zpInt = dyn_cast_or_null<IntegerType>(v.zeroPointType);
    bool zpOk = !v.hasZeroPoint || v.tokenInvariant ||
                (zpInt && !v.zeroPointPacked && zpInt.getWidth() <= 8);
    plan.vnniValues = rowBytes % 64 == 0 && scaleOk && zpOk;
  }
  if (plan.vnniValues) {
    if (!v.tokenInvariant && v.alongD != ScaleAlongD::PerRow)
      plan.valueScaleGroups = plan.valueHeadDim / v.groupShape[3];
    // Accumulators per row and transposed column: 2 halves of P x (2 nibble
    // planes for int4); at most 16 of them per pass.
    int64_t perColumn = v.storage == CacheStorage::Int4 ? 4 : 2;
    int64_t columns = (v.storage == CacheStorage::Int4 ? plan.valueHeadDim / 2
                                                       : plan.valueHeadDim) /
                      16;
    plan.vnniRowsPerPass = largestDivisorAtMost(
        plan.rowBlock, std::max<int64_t>(1, 16 / perColumn));
    plan.vnniColumnsPerPass = largestDivisorAtMost(
        columns, std::max<int64_t>(1, 16 / (perColumn * plan.vnniRowsPerPass)));
    // int4 accumulators hold even/odd planes of each 32-element block.
    plan.value.splitNibbles = v.storage == CacheStorage::Int4;
    plan.valueTileInScratch = false;
  }

  // Split the keys until there are enough parallel items (flash-decoding).
  int64_t items = plan.batch * plan.kvHeads * plan.numRowBlocks;
  int64_t splits = 1;
  if (items < options.targetParallelism)
    splits = std::min<int64_t>(
        llvm::divideCeil(options.targetParallelism, items),
        std::max<int64_t>(1, plan.kvLen / options.minSplitLen));
  plan.splitLen =
      llvm::alignTo(llvm::divideCeil(plan.kvLen, splits), plan.kvTile);
  plan.numSplits = llvm::divideCeil(plan.kvLen, plan.splitLen);
  planPrefill(plan, options);
  return plan;
}
