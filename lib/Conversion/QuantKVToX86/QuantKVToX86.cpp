//===- QuantKVToX86.cpp - the quantkv-lower-to-x86 pass -------------------===//
//
// Part of the quantkv project, under the Apache License v2.0 with LLVM
// Exceptions.
//
//===----------------------------------------------------------------------===//
//
// A thin shell: quantkv.sdpa goes to the fused kernel when the kernel plan
// accepts it; everything else (other quantkv ops, configurations the kernel
// does not handle) goes through the reference linalg patterns, which are
// slower but never wrong.
//
//===----------------------------------------------------------------------===//

#include "quantkv/Conversion/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"
#include "mlir/Transforms/WalkPatternRewriteDriver.h"
#include "quantkv/Conversion/QuantKVToLinalg/QuantKVToLinalg.h"
#include "quantkv/Conversion/QuantKVToX86/QuantKVToX86.h"
#include "quantkv/Conversion/Utils/StorageTypeConverter.h"
#include "quantkv/Dialect/QuantKV/IR/QuantKVDialect.h"
#include "llvm/Support/Threading.h"
#include "llvm/TargetParser/Host.h"

namespace mlir::quantkv {
#define GEN_PASS_DEF_QUANTKVLOWERTOX86PASS
#include "quantkv/Conversion/Passes.h.inc"
} // namespace mlir::quantkv

using namespace mlir;
using namespace mlir::quantkv;

namespace {
struct QuantKVLowerToX86Pass
    : public quantkv::impl::QuantKVLowerToX86PassBase<QuantKVLowerToX86Pass> {
  using Base::Base;

  void getDependentDialects(DialectRegistry &registry) const override {
    Base::getDependentDialects(registry);
    // VNNI dot products are emitted as llvm.call_intrinsic.
    registry.insert<LLVM::LLVMDialect>();
  }

  void runOnOperation() override {
    MLIRContext *ctx = &getContext();
    X86KernelOptions options;
    options.kvTile = kvTile;
    options.enableAmx = enableAmx;
    options.prefillMinQueryLen = prefillMinQueryLen;
    // The instructions follow the features below; the choices that depend
    // on the core (CpuTuning.h) follow `cpu`, the host by default.
    if (!cpu.empty() && !isKnownX86Cpu(cpu)) {
      mlir::emitError(getOperation().getLoc(), unknownX86CpuMessage(cpu));
      return signalPassFailure();
    }
    CpuTuning tuning = resolveCpuTuning(cpu, softwarePrefetch, prefillBf16Dot);
    options.prefillBf16Dot = tuning.prefillBf16Dot;
    options.softwarePrefetch = tuning.softwarePrefetch;
    // The JIT compiles for the host, so the host decides the instructions;
    // `cpu-features` edits that set (ahead-of-time builds for another CPU,
    // tests of the fallbacks).
    llvm::StringMap<bool> features = llvm::sys::getHostCPUFeatures();
    if (failed(applyFeatureEdits(features)))
      return signalPassFailure();
    options.hasAvx512 = features.lookup("avx512f") &&
                        features.lookup("avx512bw") &&
                        features.lookup("avx512dq");
    options.hasVnni = features.lookup("avx512vnni");
    options.hasAvx512Bf16 = features.lookup("avx512bf16");
    options.hasAvx512Vbmi = features.lookup("avx512vbmi");
    options.hasGfni = features.lookup("gfni");
    if (kvTile <= 0) {
      getOperation().emitError("kv-tile must be positive, got ")
          << static_cast<int64_t>(kvTile);
      return signalPassFailure();
    }
    if (targetParallelism < 0) {
      getOperation().emitError("target-parallelism must be 0 (the host's) or "
                               "positive, got ")
          << static_cast<int64_t>(targetParallelism);
      return signalPassFailure();
    }
    // Like the instructions, the decomposition follows the host: a few items
    // per hardware thread balance the threads, more only add splits whose
    // per-item start and merge cost time (GQA decode, one thread: 5-10%).
    options.targetParallelism =
        targetParallelism > 0
            ? static_cast<int64_t>(targetParallelism)
            : 4 * static_cast<int64_t>(
                      llvm::hardware_concurrency().compute_thread_count());

    StorageTypeConverter converter;
    ConversionTarget target(*ctx);
    target.addLegalDialect<
        arith::ArithDialect, math::MathDialect, memref::MemRefDialect,
        scf::SCFDialect, vector::VectorDialect, tensor::TensorDialect,
        bufferization::BufferizationDialect, linalg::LinalgDialect,
        x86vector::X86VectorDialect, amx::AMXDialect>();
    // The reference patterns lower whatever the kernel declines, so the
    // target is theirs (quantkv ops and tensor ops on quantized storage
    // illegal, the rest legal).
    configureQuantKVToLinalgTarget(target);
    RewritePatternSet patterns(ctx);
    populateQuantKVToX86ConversionPatterns(converter, patterns, options,
                                           /*benefit=*/2);
    populateQuantKVToLinalgConversionPatterns(converter, patterns);
    populateStorageSignatureConversion(converter, patterns, target);
    if (failed(applyPartialConversion(getOperation(), target,
                                      std::move(patterns))))
      return signalPassFailure();

    RewritePatternSet decompose(ctx);
    populateDecomposeLinalgAggregatePatterns(decompose);
    walkAndApplyPatterns(getOperation(), std::move(decompose));

    RewritePatternSet finalization(ctx);
    populateX86KernelFinalizationPatterns(finalization);
    if (failed(applyPatternsGreedily(getOperation(), std::move(finalization))))
      return signalPassFailure();
  }

  /// Applies the comma-separated `+feature` / `-feature` edits of the
  /// `cpu-features` option (llc -mattr syntax) to `features`.
  LogicalResult applyFeatureEdits(llvm::StringMap<bool> &features) {
    SmallVector<StringRef> edits;
    StringRef(cpuFeatures)
        .split(edits, ',', /*MaxSplit=*/-1,
               /*KeepEmpty=*/false);
    for (StringRef edit : edits) {
      edit = edit.trim();
      if (edit.size() < 2 || (edit[0] != '+' && edit[0] != '-')) {
        // (Not the module's emitError: the problem is the option, and the
        // note with the whole module would bury it.)
        mlir::emitError(getOperation().getLoc(),
                        "cpu-features: expected '+feature' or '-feature', "
                        "got '")
            << edit << "'";
        return failure();
      }
      features[edit.drop_front()] = edit[0] == '+';
    }
    return success();
  }
};
} // namespace
