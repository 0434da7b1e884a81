//===- AmxScores.h - AMX variant of the fused SDPA kernel -------*- C++ -*-===//
//
// Part of the quantkv project, under the Apache License v2.0 with LLVM
// Exceptions.
//
//===----------------------------------------------------------------------===//
//
// With `enable-amx`, each work item of the fused kernel is emitted twice:
// `@<f>_sdpa_item` (AVX-512) and `@<f>_sdpa_item_amx`, whose Q.K scores of a
// K tile are AMX tile multiplies (tdpbf16ps). Everything else in the item
// (online softmax, P.V, finalization) is the shared emitter code. The
// parallel loop calls the AMX item when `quantkv_cpu_has_amx()` (the runtime
// query of quantkv/Runtime/CpuFeatures.h) says the running CPU can execute
// it, the AVX-512 one otherwise. docs/X86Kernel.md describes the layout.
//
//===----------------------------------------------------------------------===//

#ifndef QUANTKV_CONVERSION_QUANTKVTOX86_AMXSCORES_H
#define QUANTKV_CONVERSION_QUANTKVTOX86_AMXSCORES_H

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "quantkv/Conversion/QuantKVToX86/KernelPlan.h"

namespace mlir::quantkv {

/// The plan the AMX work item follows: `plan` with the bf16 score scratch
/// (Q rows rounded to bf16 and unscaled, the softmax scale per row) and K
/// read in storage order (no nibble planes).
KernelPlan getAmxItemPlan(const KernelPlan &plan);

/// Per-item scratch of the AMX scores: one dequantized K tile in the pair
/// (VNNI) layout a bf16 B tile reads, K'[key][d] at [d / 2][key][d % 2],
/// viewed as i32 pairs (flat, for the per-key scatter) and as bf16 rows of
/// 2 x kvTile elements (for amx.tile_load).
struct AmxTileScratch {
  Value pairs;
  Value pairRows;
};
AmxTileScratch allocateAmxTileScratch(OpBuilder &b, Location loc,
                                      const KernelPlan &plan);

/// Scores of keys [0, n) of one K tile for every row of the block:
///   scores[r][k] = (qbf[r] . K'[k]) * rowScale[r]
/// `loadKeyRow(k)` returns key k of the tile dequantized and rounded to bf16
/// (D / 16 vectors of 16 f32); `qbf` is memref<rowBlock x D x bf16>,
/// `scores` memref<rowBlock x kvTile x f32>. Keys n .. kvTile - 1 of the
/// last 16-key tile hold unspecified values (the softmax masks them).
void emitAmxTileScores(OpBuilder &b, Location loc, const KernelPlan &plan,
                       const AmxTileScratch &scratch, Value n, Value qbf,
                       Value rowScale, Value scores,
                       function_ref<SmallVector<Value>(Value)> loadKeyRow);

/// Declares `quantkv_cpu_has_amx` in `module` (once) and calls it: an i1
/// that is true when the AMX variant may run.
Value emitCpuHasAmx(OpBuilder &b, Location loc, ModuleOp module);

/// Gives the outlined AMX item function the target features of the host
/// (what the JIT compiles for) plus AMX, so that it compiles whatever the
/// compiling CPU has. It must not be inlined into callers without them,
/// which LLVM's inliner guarantees for functions with more features.
void setAmxTargetFeatures(func::FuncOp func);

} // namespace mlir::quantkv

#endif // QUANTKV_CONVERSION_QUANTKVTOX86_AMXSCORES_H
