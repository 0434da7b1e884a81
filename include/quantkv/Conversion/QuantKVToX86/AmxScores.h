//===- AmxScores.h - AMX variant of the fused SDPA kernel -------*- C++ -*-===//
//
// Part of the quantkv project, under the Apache License v2.0 with LLVM
// Exceptions.
//
//===----------------------------------------------------------------------===//
//
// With `enable-amx`, each work item of the fused kernel is emitted twice:
// `@<f>_sdpa_item` (AVX-512) and `@<f>_sdpa_item_amx`, whose Q.K scores of a
// K tile are AMX tile multiplies (tdpbf16ps for bf16 math, tdpbsud for int8
// math with per-token K scales). Everything else in the item
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

/// The plan the AMX work item follows: `plan` with the score scratch of the
/// dot-product paths (bf16: Q rows rounded to bf16 and unscaled, the softmax
/// scale per row; int8: s8 Q rows, the row scale x softmax scale) and K read
/// in storage order (no nibble planes).
KernelPlan getAmxItemPlan(const KernelPlan &plan);

/// Per-item scratch of the AMX scores: one K tile in the layout a B tile
/// reads, K[key][d] at [d / g][key][d % g] with g = 2 bf16 (bf16 math) or
/// 4 bytes (int8 math), viewed as i32 groups (flat, for the per-key
/// scatter) and as rows of g x kvTile elements (for amx.tile_load). int8
/// math also keeps the integer dot products and each key's scale and
/// zero point + bias.
struct AmxTileScratch {
  Value groups;
  Value groupRows;
  Value dots, keyScale, keyOffset;
};
AmxTileScratch allocateAmxTileScratch(OpBuilder &b, Location loc,
                                      const KernelPlan &plan);

/// bf16 math. Scores of keys [0, n) of one K tile for every row of the
/// block:
///   scores[r][k] = (qbf[r] . K'[k]) * rowScale[r]
/// `loadKeyRow(k)` returns key k of the tile dequantized and rounded to bf16
/// (D / 16 vectors of 16 f32); `qbf` is memref<rowBlock x D x bf16>,
/// `scores` memref<rowBlock x kvTile x f32>. Keys n .. kvTile - 1 of the
/// last 16-key tile hold unspecified values (the softmax masks them).
void emitAmxTileScores(OpBuilder &b, Location loc, const KernelPlan &plan,
                       const AmxTileScratch &scratch, Value n, Value qbf,
                       Value rowScale, Value scores,
                       function_ref<SmallVector<Value>(Value)> loadKeyRow);

/// What the int8 scores need of key k: its stored integers as u8 plus a
/// bias (a vector<D x i8>: signed K + 2^(bits-1)), the bias, and its
/// scale and zero point as f32.
struct AmxKeyBytes {
  Value bytes;
  int64_t bias = 0;
  Value scale, zeroPoint;
};

/// int8 math with one K scale per token. Scores of keys [0, n):
///   scores[r][k] = (sum_d q8[r][d] u8[k][d] - (zp_k + bias) sum_d q8[r][d])
///                  * s_k * rowScale[r]
/// with tdpbsud (s8 Q rows times u8 K, exact i32 sums). `qi8` is
/// memref<rowBlock x D x i8>, the quantized Q rows.
void emitAmxTileScoresInt8(OpBuilder &b, Location loc, const KernelPlan &plan,
                           const AmxTileScratch &scratch, Value n, Value qi8,
                           Value rowScale, Value scores,
                           function_ref<AmxKeyBytes(Value)> loadKeyBytes);

/// The stored integers of key row `j` of `key` (memref<B x Hkv x S x
/// D or D/2 bytes>) as u8 with a bias that makes them non-negative.
AmxKeyBytes loadKeyBytes(OpBuilder &b, Location loc, const KernelPlan &plan,
                         Value key, Value bi, Value hkv, Value j);

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
