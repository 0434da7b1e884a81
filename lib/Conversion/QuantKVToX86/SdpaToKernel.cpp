//===- SdpaToKernel.cpp - quantkv.sdpa -> fused x86 kernel pattern --------===//
//
// Part of the quantkv project, under the Apache License v2.0 with LLVM
// Exceptions.
//
//===----------------------------------------------------------------------===//

#include "quantkv/Conversion/QuantKVToX86/QuantKVToX86.h"

#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Math/Transforms/Passes.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/Vector/Transforms/VectorRewritePatterns.h"
#include "quantkv/Dialect/QuantKV/IR/QuantKVOps.h"
#include "llvm/Support/Debug.h"

#define DEBUG_TYPE "quantkv-lower-to-x86"

using namespace mlir;
using namespace mlir::quantkv;

namespace {

/// Rewrites a quantkv.sdpa the kernel plan accepts into the fused kernel on
/// buffers of its (storage-typed) operands:
///
///   %o = quantkv.sdpa q(%q) k(%k : tensor<1x8x4096x128xsi4>) ...
/// becomes
///   %kb = bufferization.to_buffer %k' : tensor<1x8x4096x64xi8> -> memref<...>
///   ...
///   %ob = memref.alloc() : memref<1x32x1x128xf32>
///   scf.parallel ... { memref.alloca_scope { <kernel> } }
///   %o = bufferization.to_tensor %ob restrict writable
struct SdpaToFusedKernel : public OpConversionPattern<SdpaOp> {
  SdpaToFusedKernel(const TypeConverter &converter, MLIRContext *ctx,
                    const X86KernelOptions &options, PatternBenefit benefit)
      : OpConversionPattern(converter, ctx, benefit), options(options) {}

  LogicalResult
  matchAndRewrite(SdpaOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    std::string reason;
    FailureOr<KernelPlan> plan = KernelPlan::build(op, options, reason);
    if (failed(plan))
      return rewriter.notifyMatchFailure(op, reason);

    Location loc = op.getLoc();
    auto toBuffer = [&](Value tensor) -> Value {
      if (!tensor)
        return tensor;
      auto type = cast<RankedTensorType>(tensor.getType());
      auto memrefType = MemRefType::get(type.getShape(), type.getElementType());
      return bufferization::ToBufferOp::create(rewriter, loc, memrefType,
                                               tensor, /*read_only=*/true);
    };
    SdpaBuffers buffers;
    buffers.query = toBuffer(adaptor.getQuery());
    buffers.key = toBuffer(adaptor.getKey());
    buffers.keyScale = toBuffer(adaptor.getKeyScale());
    buffers.keyZeroPoint = toBuffer(adaptor.getKeyZeroPoint());
    buffers.value = toBuffer(adaptor.getValue());
    buffers.valueScale = toBuffer(adaptor.getValueScale());
    buffers.valueZeroPoint = toBuffer(adaptor.getValueZeroPoint());
    buffers.mask = toBuffer(adaptor.getMask());
    buffers.dynamicScale = adaptor.getDynamicScale();
    auto outType = cast<RankedTensorType>(op.getResult().getType());
    buffers.output = memref::AllocOp::create(
        rewriter, loc,
        MemRefType::get(outType.getShape(), outType.getElementType()),
        rewriter.getI64IntegerAttr(64));

    LLVM_DEBUG(if (!plan->prefill.declined.empty()) llvm::dbgs()
               << "prefill kernel declined: " << plan->prefill.declined
               << "\n");
    if (plan->prefill.enabled)
      emitPrefillKernel(rewriter, loc, *plan, buffers);
    else
      emitSdpaKernel(rewriter, loc, *plan, buffers);

    Value result = bufferization::ToTensorOp::create(
        rewriter, loc, outType, buffers.output, /*restrict=*/true,
        /*writable=*/true);
    rewriter.replaceOp(op, result);
    return success();
  }

  X86KernelOptions options;
};

} // namespace

void mlir::quantkv::populateQuantKVToX86ConversionPatterns(
    const TypeConverter &converter, RewritePatternSet &patterns,
    const X86KernelOptions &options, PatternBenefit benefit) {
  patterns.add<SdpaToFusedKernel>(converter, patterns.getContext(), options,
                                  benefit);
}

void mlir::quantkv::populateX86KernelFinalizationPatterns(
    RewritePatternSet &patterns) {
  vector::populateVectorNarrowTypeRewritePatterns(patterns);
  populateMathPolynomialApproximationPatterns(patterns, [](StringRef name) {
    return name == "exp" || name == "math.exp";
  });
}
