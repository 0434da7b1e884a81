//===- AmxScores.cpp - AMX variant of the fused SDPA kernel ---------------===//
//
// Part of the quantkv project, under the Apache License v2.0 with LLVM
// Exceptions.
//
//===----------------------------------------------------------------------===//
//
// The scores of one K tile as AMX tile multiplies:
//
//   for k in [0, n):                       K' row -> bf16 pairs, scattered
//     pairs[d / 2][k] = (K'[k][d], K'[k][d + 1])   into the B-tile layout
//   for k0 in [0, n) step 16:              16 keys per C tile
//     C = 0                                (rowBlock x 16 f32)
//     for d0 in [0, D) step 32:            A: Q rows, 32 bf16 of D
//       C += A(qbf[:, d0 : d0 + 32]) * B(pairs[d0 / 2 : d0 / 2 + 16][k0 : +16])
//     scores[:, k0 : k0 + 16] = C
//   scores[r] *= rowScale[r]
//
// tdpbf16ps computes C[r][k] += sum_p A[r][2p] B[p][2k] + A[r][2p+1] B[p][2k+1]
// with B[p][2k + i] = K'[k][d0 + 2p + i]: the dot product of Q row r and key
// k over the 32 elements. The products of bf16 values are exact in f32, so
// the result equals the vdpbf16ps path up to the order of the f32 sums.
//
// int8 math (one K scale per token) is the same with groups of 4 bytes:
// the K row as u8 + bias (the VNNI path's encoding) in [D/4][kvTile][4],
// A = rowBlock rows x 64 s8 of the quantized Q, tdpbsud into i32 C
// tiles, then per key (dot - (zp + bias) * sum(q)) * s_k * rowScale. The
// integer sums are exact, so this matches the VNNI path.
//
//===----------------------------------------------------------------------===//

#include "quantkv/Conversion/QuantKVToX86/AmxScores.h"

#include "mlir/Dialect/AMX/AMXDialect.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "quantkv/Runtime/CpuFeatures.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/TargetParser/Host.h"

using namespace mlir;
using namespace mlir::quantkv;

KernelPlan mlir::quantkv::getAmxItemPlan(const KernelPlan &plan) {
  KernelPlan amx = plan;
  // The dot-product paths' scratch and prologue (and no unrolled f32 score
  // loop, which the AMX item replaces).
  if (plan.mathMode == MathMode::int8)
    amx.vnniScores = true;
  else
    amx.bf16Scores = true;
  amx.key.splitNibbles = false;
  // The tile multiplies read the s8 Q rows in storage order and score every
  // key: no nibble-plane Q layout, no transposed-K vector scores. (P x V on
  // VNNI, vnniValues, is independent of the score path and stays.)
  amx.vnniNibblePlanes = false;
  amx.vnniKeyColumns = false;
  amx.vnniQueryParts = false;
  amx.keyScaleGroups = 1;
  return amx;
}

/// Elements of one i32 group of the B-tile layout: 2 bf16 or 4 bytes.
static int64_t groupSize(const KernelPlan &p) {
  return p.mathMode == MathMode::int8 ? 4 : 2;
}

AmxTileScratch mlir::quantkv::allocateAmxTileScratch(OpBuilder &b, Location loc,
                                                     const KernelPlan &p) {
  int64_t g = groupSize(p), groups = p.headDim / g;
  int64_t bytes = groups * p.kvTile * 4;
  Type elem = g == 4 ? Type(b.getI8Type()) : Type(b.getBF16Type());
  Value raw = memref::AllocaOp::create(
      b, loc, MemRefType::get({bytes}, b.getI8Type()), b.getI64IntegerAttr(64));
  Value zero = arith::ConstantIndexOp::create(b, loc, 0);
  AmxTileScratch s;
  s.groups = memref::ViewOp::create(
      b, loc, MemRefType::get({groups * p.kvTile}, b.getI32Type()), raw, zero,
      ValueRange{});
  s.groupRows = memref::ViewOp::create(
      b, loc, MemRefType::get({groups, g * p.kvTile}, elem), raw, zero,
      ValueRange{});
  if (g == 4) {
    auto scratchOf = [&](ArrayRef<int64_t> shape, Type type) -> Value {
      return memref::AllocaOp::create(b, loc, MemRefType::get(shape, type),
                                      b.getI64IntegerAttr(64));
    };
    s.dots = scratchOf({p.rowBlock, p.kvTile}, b.getI32Type());
    s.keyScale = scratchOf({p.kvTile}, b.getF32Type());
    s.keyOffset = scratchOf({p.kvTile}, b.getF32Type());
  }
  return s;
}

namespace {
/// The pieces both score flavours share.
struct TileScores {
  TileScores(OpBuilder &b, Location loc, const KernelPlan &p,
             const AmxTileScratch &s)
      : b(b), loc(loc), p(p), s(s) {}

  Value cIdx(int64_t v) { return arith::ConstantIndexOp::create(b, loc, v); }

  /// Stores `groupsV` (vector<16 x i32>: groups c*16 .. c*16 + 15 of key
  /// k) into the B-tile layout: one scatter with stride kvTile.
  void scatterGroups(Value groupsV, int64_t c, Value k) {
    const int64_t L = p.lanes, T = p.kvTile;
    auto i32x16 = VectorType::get({L}, b.getI32Type());
    SmallVector<int32_t> strides;
    for (int64_t l = 0; l < L; ++l)
      strides.push_back(static_cast<int32_t>(l * T));
    Value strideV = arith::ConstantOp::create(
        b, loc, i32x16, DenseIntElementsAttr::get(i32x16, strides));
    auto maskType = VectorType::get({L}, b.getI1Type());
    Value allLanes = arith::ConstantOp::create(
        b, loc, maskType, DenseElementsAttr::get(maskType, true));
    Value base = arith::AddIOp::create(b, loc, cIdx(c * L * T), k);
    vector::ScatterOp::create(b, loc, Type(), s.groups, ValueRange{base},
                              strideV, allLanes, groupsV);
  }

  /// for k in [0, n): body(k).
  void forKeys(Value n, int64_t step, function_ref<void(Value)> body) {
    scf::ForOp::create(b, loc, cIdx(0), n, cIdx(step), ValueRange{},
                       [&](OpBuilder &, Location, Value k, ValueRange) {
                         body(k);
                         scf::YieldOp::create(b, loc);
                       });
  }

  /// For every 16 keys of [0, n): C = sum over D chunks of A x B, stored at
  /// out[0, k0]. One C tile at a time, straight-line code per chunk: tiles
  /// never cross a block boundary.
  void multiplyTiles(Value n, Value a, Value out) {
    const int64_t L = p.lanes, D = p.headDim, RB = p.rowBlock;
    int64_t g = groupSize(p);
    bool isInt = g == 4;
    Type in = isInt ? Type(b.getI8Type()) : Type(b.getBF16Type());
    Type acc = isInt ? Type(b.getI32Type()) : Type(b.getF32Type());
    auto aType = amx::TileType::get({RB, g * L}, in);
    auto bType = amx::TileType::get({L, g * L}, in);
    auto cType = amx::TileType::get({RB, L}, acc);
    forKeys(n, L, [&](Value k0) {
      Value c = amx::TileZeroOp::create(b, loc, cType);
      Value col = arith::MulIOp::create(b, loc, k0, cIdx(g));
      for (int64_t d0 = 0; d0 < D; d0 += g * L) {
        Value at = amx::TileLoadOp::create(b, loc, aType, a,
                                           ValueRange{cIdx(0), cIdx(d0)});
        Value bt = amx::TileLoadOp::create(b, loc, bType, s.groupRows,
                                           ValueRange{cIdx(d0 / g), col});
        if (isInt) {
          // tdpbsud: s8 Q rows times u8 K.
          auto mul = amx::TileMulIOp::create(b, loc, cType, at, bt, c);
          mul.setIsZextRhs(true);
          c = mul;
        } else {
          c = amx::TileMulFOp::create(b, loc, cType, at, bt, c);
        }
      }
      amx::TileStoreOp::create(b, loc, out, ValueRange{cIdx(0), k0}, c);
    });
  }

  OpBuilder &b;
  Location loc;
  const KernelPlan &p;
  const AmxTileScratch &s;
};
} // namespace

void mlir::quantkv::emitAmxTileScores(
    OpBuilder &b, Location loc, const KernelPlan &p,
    const AmxTileScratch &scratch, Value n, Value qbf, Value rowScale,
    Value scores, function_ref<SmallVector<Value>(Value)> loadKeyRow) {
  const int64_t L = p.lanes, T = p.kvTile, D = p.headDim, RB = p.rowBlock;
  TileScores ts(b, loc, p, scratch);
  Type f32 = b.getF32Type(), bf16 = b.getBF16Type();

  // K' rows -> pair layout. Lane l of the i32 view of 32 bf16 elements
  // starting at 32c is the pair 16c + l.
  SmallVector<int64_t> both;
  for (int64_t l = 0; l < 2 * L; ++l)
    both.push_back(l);
  ts.forKeys(n, 1, [&](Value k) {
    SmallVector<Value> row = loadKeyRow(k);
    for (int64_t c = 0; c < D / (2 * L); ++c) {
      Value wide =
          vector::ShuffleOp::create(b, loc, row[2 * c], row[2 * c + 1], both);
      Value narrow =
          arith::TruncFOp::create(b, loc, VectorType::get({2 * L}, bf16), wide);
      ts.scatterGroups(
          vector::BitCastOp::create(
              b, loc, VectorType::get({L}, b.getI32Type()), narrow),
          c, k);
    }
  });
  ts.multiplyTiles(n, qbf, scores);

  // The per-row scale (softmax scale), as the vdpbf16ps path applies it
  // after the dot product.
  auto vecTy = VectorType::get({L}, f32);
  for (int64_t r = 0; r < RB; ++r) {
    Value sv = vector::BroadcastOp::create(
        b, loc, vecTy, memref::LoadOp::create(b, loc, rowScale, ts.cIdx(r)));
    for (int64_t c = 0; c < T / L; ++c) {
      SmallVector<Value> at = {ts.cIdx(r), ts.cIdx(c * L)};
      Value v = vector::LoadOp::create(b, loc, vecTy, scores, at);
      vector::StoreOp::create(b, loc, arith::MulFOp::create(b, loc, v, sv),
                              scores, at);
    }
  }
}

AmxKeyBytes mlir::quantkv::loadKeyBytes(OpBuilder &b, Location loc,
                                        const KernelPlan &p, Value key,
                                        Value bi, Value hkv, Value j) {
  // As the VNNI path: signed values get +2^(bits-1) by flipping the top bit
  // of each element, 4-bit ones are widened in registers.
  const CacheOperandPlan &cp = p.key;
  const int64_t D = p.headDim;
  Type i8 = b.getI8Type();
  auto splat = [&](int64_t width, int8_t v) -> Value {
    auto type = VectorType::get({width}, i8);
    return arith::ConstantOp::create(
        b, loc, type, DenseElementsAttr::get(type, b.getI8IntegerAttr(v)));
  };
  Value zero = arith::ConstantIndexOp::create(b, loc, 0);
  AmxKeyBytes out;
  if (cp.storage == CacheStorage::Int4) {
    Value packed = vector::LoadOp::create(b, loc, VectorType::get({D / 2}, i8),
                                          key, ValueRange{bi, hkv, j, zero});
    if (cp.isSigned) {
      packed = arith::XOrIOp::create(b, loc, packed,
                                     splat(D / 2, static_cast<int8_t>(0x88)));
      out.bias = 8;
    }
    Value nibbles = vector::BitCastOp::create(
        b, loc, VectorType::get({D}, b.getIntegerType(4)), packed);
    out.bytes =
        arith::ExtUIOp::create(b, loc, VectorType::get({D}, i8), nibbles);
    return out;
  }
  out.bytes = vector::LoadOp::create(b, loc, VectorType::get({D}, i8), key,
                                     ValueRange{bi, hkv, j, zero});
  if (cp.isSigned) {
    out.bytes = arith::XOrIOp::create(b, loc, out.bytes,
                                      splat(D, static_cast<int8_t>(0x80)));
    out.bias = 128;
  }
  return out;
}

void mlir::quantkv::emitAmxTileScoresInt8(
    OpBuilder &b, Location loc, const KernelPlan &p,
    const AmxTileScratch &scratch, Value n, Value qi8, Value rowScale,
    Value scores, function_ref<AmxKeyBytes(Value)> loadKey) {
  const int64_t L = p.lanes, T = p.kvTile, D = p.headDim, RB = p.rowBlock;
  TileScores ts(b, loc, p, scratch);
  Type f32 = b.getF32Type(), i8 = b.getI8Type(), i32 = b.getI32Type();
  auto i32x16 = VectorType::get({L}, i32);

  // K rows (u8 + bias) -> quad layout, and each key's scale and offset
  // zp + bias. Lane l of the i32 view of 64 bytes starting at 64c is the
  // quad 16c + l.
  ts.forKeys(n, 1, [&](Value k) {
    AmxKeyBytes key = loadKey(k);
    for (int64_t c = 0; c < D / (4 * L); ++c) {
      Value chunk = key.bytes;
      if (D > 4 * L)
        chunk = vector::ExtractStridedSliceOp::create(
            b, loc, VectorType::get({4 * L}, i8), key.bytes,
            b.getI64ArrayAttr({c * 4 * L}), b.getI64ArrayAttr({4 * L}),
            b.getI64ArrayAttr({1}));
      ts.scatterGroups(vector::BitCastOp::create(b, loc, i32x16, chunk), c, k);
    }
    Value bias = arith::ConstantOp::create(
        b, loc, f32, b.getF32FloatAttr(static_cast<double>(key.bias)));
    memref::StoreOp::create(b, loc, key.scale, scratch.keyScale, k);
    memref::StoreOp::create(b, loc,
                            arith::AddFOp::create(b, loc, key.zeroPoint, bias),
                            scratch.keyOffset, k);
  });
  ts.multiplyTiles(n, qi8, scratch.dots);

  // score = (dot - (zp + bias) * sum(q)) * s_k * rowScale: the same
  // correction the VNNI path applies per lane, once per key here.
  auto vecTy = VectorType::get({L}, f32);
  for (int64_t r = 0; r < RB; ++r) {
    Value qsum;
    for (int64_t c = 0; c < D / (4 * L); ++c) {
      Value q =
          vector::LoadOp::create(b, loc, VectorType::get({4 * L}, i8), qi8,
                                 ValueRange{ts.cIdx(r), ts.cIdx(c * 4 * L)});
      Value wide =
          arith::ExtSIOp::create(b, loc, VectorType::get({4 * L}, i32), q);
      Value sum =
          vector::ReductionOp::create(b, loc, vector::CombiningKind::ADD, wide);
      qsum = qsum ? arith::AddIOp::create(b, loc, qsum, sum).getResult() : sum;
    }
    Value qsumV = vector::BroadcastOp::create(
        b, loc, vecTy, arith::SIToFPOp::create(b, loc, f32, qsum));
    Value rs = vector::BroadcastOp::create(
        b, loc, vecTy, memref::LoadOp::create(b, loc, rowScale, ts.cIdx(r)));
    for (int64_t c = 0; c < T / L; ++c) {
      Value at = ts.cIdx(c * L);
      Value dot = arith::SIToFPOp::create(
          b, loc, vecTy,
          vector::LoadOp::create(b, loc, i32x16, scratch.dots,
                                 ValueRange{ts.cIdx(r), at}));
      Value off = vector::LoadOp::create(b, loc, vecTy, scratch.keyOffset,
                                         ValueRange{at});
      Value ks = vector::LoadOp::create(b, loc, vecTy, scratch.keyScale,
                                        ValueRange{at});
      Value corrected = arith::SubFOp::create(
          b, loc, dot, arith::MulFOp::create(b, loc, off, qsumV));
      Value v = arith::MulFOp::create(
          b, loc, arith::MulFOp::create(b, loc, corrected, ks), rs);
      vector::StoreOp::create(b, loc, v, scores, ValueRange{ts.cIdx(r), at});
    }
  }
}

Value mlir::quantkv::emitCpuHasAmx(OpBuilder &b, Location loc,
                                   ModuleOp module) {
  auto type = b.getFunctionType({}, {b.getI32Type()});
  if (!module.lookupSymbol(kCpuHasAmxSymbol)) {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(module.getBody());
    auto decl = func::FuncOp::create(b, loc, kCpuHasAmxSymbol, type);
    decl.setPrivate();
  }
  Value answer = func::CallOp::create(b, loc, kCpuHasAmxSymbol,
                                      type.getResults(), ValueRange{})
                     .getResult(0);
  Value zero =
      arith::ConstantOp::create(b, loc, b.getI32Type(), b.getI32IntegerAttr(0));
  return arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ne, answer, zero);
}

void mlir::quantkv::setAmxTargetFeatures(func::FuncOp func) {
  // LLVM replaces, not extends, the target machine's features with a
  // function's "target-features", so the host's list is repeated here.
  SmallVector<std::string> features;
  for (const auto &f : llvm::sys::getHostCPUFeatures())
    if (!f.getKey().starts_with("amx-") && f.getKey() != "avx512vnni" &&
        f.getKey() != "avx512bf16")
      features.push_back(((f.getValue() ? "+" : "-") + f.getKey()).str());
  llvm::sort(features);
  // Every CPU with AMX also has the AVX-512 dot products the item's
  // prologue may use (vpdpbusd for the int8 Q lane sums).
  for (const char *amx :
       {"+avx512vnni", "+avx512bf16", "+amx-tile", "+amx-bf16", "+amx-int8"})
    features.push_back(amx);
  SmallVector<StringRef> refs(features.begin(), features.end());
  func->setAttr("target_features",
                LLVM::TargetFeaturesAttr::get(func.getContext(), refs));
}
