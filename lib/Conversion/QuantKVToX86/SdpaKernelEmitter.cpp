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
//     func.call @<f>_sdpa_item(%w, ...)       // O(tile) scratch per item
//   [scf.parallel over (b, kv head, row block): log-sum-exp merge of splits]
//
// with, when the plan has an AMX variant, a second item function chosen at run
// time. The code is written at the granularity of one vector register (16 x
// f32), so that what reaches LLVM is already the register-level schedule; the
// pieces of the emitter are listed in SdpaEmitter.h.
//
//===----------------------------------------------------------------------===//

#include "SdpaEmitter.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"

using namespace mlir;
using namespace mlir::quantkv;

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
