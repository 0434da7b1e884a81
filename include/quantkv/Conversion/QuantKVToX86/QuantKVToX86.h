//===- QuantKVToX86.h - x86 lowering of quantkv.sdpa ------------*- C++ -*-===//
//
// Part of the quantkv project, under the Apache License v2.0 with LLVM
// Exceptions.
//
//===----------------------------------------------------------------------===//

#ifndef QUANTKV_CONVERSION_QUANTKVTOX86_QUANTKVTOX86_H
#define QUANTKV_CONVERSION_QUANTKVTOX86_QUANTKVTOX86_H

#include "mlir/IR/Builders.h"
#include "mlir/Transforms/DialectConversion.h"
#include "quantkv/Conversion/QuantKVToX86/KernelPlan.h"

namespace mlir::quantkv {

/// The memrefs (storage ABI) one fused kernel reads and writes. Optional
/// operands are null.
struct SdpaBuffers {
  Value query, key, keyScale, keyZeroPoint, value, valueScale, valueZeroPoint;
  Value mask;
  /// f32 scalar, or null when the plan has a static softmax scale.
  Value dynamicScale;
  Value output;
};

/// Emits the tiled online-softmax kernel of `plan` at the builder's insertion
/// point: it reads the inputs of `buffers` and writes every element of
/// `buffers.output`. Its only buffers are O(tile) stack scratch and, with KV
/// splits, O(items x rowBlock x Dv) partial results.
void emitSdpaKernel(OpBuilder &builder, Location loc, const KernelPlan &plan,
                    const SdpaBuffers &buffers);

/// Emits the dedicated prefill kernel of `plan` (plan.prefill.enabled):
/// GEMM-style Sq x Skv tiles with causal tile skipping. Its only buffers are
/// O(tile) stack scratch per work item.
void emitPrefillKernel(OpBuilder &builder, Location loc, const KernelPlan &plan,
                       const SdpaBuffers &buffers);

/// Adds the pattern rewriting quantkv.sdpa (with storage-typed operands from
/// `converter`) to the fused kernel whenever KernelPlan::build accepts it.
void populateQuantKVToX86ConversionPatterns(const TypeConverter &converter,
                                            RewritePatternSet &patterns,
                                            const X86KernelOptions &options,
                                            PatternBenefit benefit = 2);

/// Target-level clean-ups of the emitted kernel: MLIR's i4 -> i8 vector
/// rewrites (shifts and interleaves instead of scalarized i4 extension) and
/// the polynomial approximation of the vector exp.
void populateX86KernelFinalizationPatterns(RewritePatternSet &patterns);

} // namespace mlir::quantkv

#endif // QUANTKV_CONVERSION_QUANTKVTOX86_QUANTKVTOX86_H
