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
  amx.bf16Scores = true;
  amx.key.splitNibbles = false;
  return amx;
}

AmxTileScratch mlir::quantkv::allocateAmxTileScratch(OpBuilder &b,
                                                     Location loc,
                                                     const KernelPlan &p) {
  int64_t pairs = p.headDim / 2, bytes = pairs * p.kvTile * 4;
  Value raw = memref::AllocaOp::create(
      b, loc, MemRefType::get({bytes}, b.getI8Type()), b.getI64IntegerAttr(64));
  Value zero = arith::ConstantIndexOp::create(b, loc, 0);
  AmxTileScratch s;
  s.pairs = memref::ViewOp::create(
      b, loc, MemRefType::get({pairs * p.kvTile}, b.getI32Type()), raw, zero,
      ValueRange{});
  s.pairRows = memref::ViewOp::create(
      b, loc, MemRefType::get({pairs, 2 * p.kvTile}, b.getBF16Type()), raw,
      zero, ValueRange{});
  return s;
}

void mlir::quantkv::emitAmxTileScores(
    OpBuilder &b, Location loc, const KernelPlan &p,
    const AmxTileScratch &scratch, Value n, Value qbf, Value rowScale,
    Value scores, function_ref<SmallVector<Value>(Value)> loadKeyRow) {
  const int64_t L = p.lanes, T = p.kvTile, D = p.headDim, RB = p.rowBlock;
  auto cIdx = [&](int64_t v) -> Value {
    return arith::ConstantIndexOp::create(b, loc, v);
  };
  Type f32 = b.getF32Type(), bf16 = b.getBF16Type(), i32 = b.getI32Type();
  auto i32x16 = VectorType::get({L}, i32);

  // K' rows -> pair layout. Lane l of the i32 view of 32 bf16 elements
  // starting at d0 is the pair d0 / 2 + l: one scatter with stride kvTile.
  SmallVector<int32_t> strides;
  for (int64_t l = 0; l < L; ++l)
    strides.push_back(static_cast<int32_t>(l * T));
  Value strideV = arith::ConstantOp::create(
      b, loc, i32x16, DenseIntElementsAttr::get(i32x16, strides));
  auto maskType = VectorType::get({L}, b.getI1Type());
  Value allLanes = arith::ConstantOp::create(
      b, loc, maskType, DenseElementsAttr::get(maskType, true));
  SmallVector<int64_t> both;
  for (int64_t l = 0; l < 2 * L; ++l)
    both.push_back(l);
  scf::ForOp::create(
      b, loc, cIdx(0), n, cIdx(1), ValueRange{},
      [&](OpBuilder &, Location, Value k, ValueRange) {
        SmallVector<Value> row = loadKeyRow(k);
        for (int64_t c = 0; c < D / (2 * L); ++c) {
          Value wide = vector::ShuffleOp::create(b, loc, row[2 * c],
                                                 row[2 * c + 1], both);
          Value narrow = arith::TruncFOp::create(
              b, loc, VectorType::get({2 * L}, bf16), wide);
          Value pairsV = vector::BitCastOp::create(b, loc, i32x16, narrow);
          Value base = arith::AddIOp::create(b, loc, cIdx(c * L * T), k);
          vector::ScatterOp::create(b, loc, Type(), scratch.pairs,
                                    ValueRange{base}, strideV, allLanes,
                                    pairsV);
        }
        scf::YieldOp::create(b, loc);
      });

  // One C tile of rowBlock x 16 keys at a time; the D chunks accumulate in
  // it (straight-line code: tiles never cross a block boundary).
  auto aType = amx::TileType::get({RB, 2 * L}, bf16);
  auto bType = amx::TileType::get({L, 2 * L}, bf16);
  auto cType = amx::TileType::get({RB, L}, f32);
  scf::ForOp::create(
      b, loc, cIdx(0), n, cIdx(L), ValueRange{},
      [&](OpBuilder &, Location, Value k0, ValueRange) {
        Value acc = amx::TileZeroOp::create(b, loc, cType);
        Value col = arith::MulIOp::create(b, loc, k0, cIdx(2));
        for (int64_t d0 = 0; d0 < D; d0 += 2 * L) {
          Value a = amx::TileLoadOp::create(b, loc, aType, qbf,
                                            ValueRange{cIdx(0), cIdx(d0)});
          Value bt = amx::TileLoadOp::create(
              b, loc, bType, scratch.pairRows, ValueRange{cIdx(d0 / 2), col});
          acc = amx::TileMulFOp::create(b, loc, cType, a, bt, acc);
        }
        amx::TileStoreOp::create(b, loc, scores, ValueRange{cIdx(0), k0}, acc);
        scf::YieldOp::create(b, loc);
      });

  // The per-row scale (softmax scale), as the vdpbf16ps path applies it
  // after the dot product.
  auto vecTy = VectorType::get({L}, f32);
  for (int64_t r = 0; r < RB; ++r) {
    Value s = vector::BroadcastOp::create(
        b, loc, vecTy, memref::LoadOp::create(b, loc, rowScale, cIdx(r)));
    for (int64_t c = 0; c < T / L; ++c) {
      SmallVector<Value> at = {cIdx(r), cIdx(c * L)};
      Value v = vector::LoadOp::create(b, loc, vecTy, scores, at);
      vector::StoreOp::create(b, loc, arith::MulFOp::create(b, loc, v, s),
                              scores, at);
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
  Value answer =
      func::CallOp::create(b, loc, kCpuHasAmxSymbol, type.getResults(),
                           ValueRange{})
          .getResult(0);
  Value zero = arith::ConstantOp::create(b, loc, b.getI32Type(),
                                         b.getI32IntegerAttr(0));
  return arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ne, answer,
                               zero);
}

void mlir::quantkv::setAmxTargetFeatures(func::FuncOp func) {
  // LLVM replaces, not extends, the target machine's features with a
  // function's "target-features", so the host's list is repeated here.
  SmallVector<std::string> features;
  for (const auto &f : llvm::sys::getHostCPUFeatures())
    if (!f.getKey().starts_with("amx-"))
      features.push_back(((f.getValue() ? "+" : "-") + f.getKey()).str());
  llvm::sort(features);
  for (const char *amx : {"+amx-tile", "+amx-bf16", "+amx-int8"})
    features.push_back(amx);
  SmallVector<StringRef> refs(features.begin(), features.end());
  func->setAttr("target_features",
                LLVM::TargetFeaturesAttr::get(func.getContext(), refs));
}
