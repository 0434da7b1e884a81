//===- Pipelines.cpp - named quantkv pass pipelines -----------------------===//
//
// Part of the quantkv project, under the Apache License v2.0 with LLVM
// Exceptions.
//
//===----------------------------------------------------------------------===//

#include "quantkv/Pipelines/Pipelines.h"

#include "mlir/InitAllPasses.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"
#include "quantkv/Conversion/Passes.h"
#include "quantkv/Dialect/QuantKV/Transforms/Passes.h"
#include "quantkv/Transforms/Passes.h"
#include "llvm/Support/ErrorHandling.h"

#include <mutex>
#include <string>

using namespace mlir;
using namespace mlir::quantkv;

/// The tail is spelled as a textual pipeline on purpose: it is exactly what a
/// user would type after `quantkv-opt --quantkv-lower-to-linalg` to reproduce
/// a JIT compile by hand.
static constexpr const char *kLowerToLLVM =
    "one-shot-bufferize{bufferize-function-boundaries "
    "function-boundary-type-conversion=identity-layout-map},"
    // Public functions are the JIT's entry points: their results must become
    // out-params too (MLIR only rewrites private ones by default). A result
    // returned twice gets its own buffer first (the hoisting would reuse an
    // erased allocation).
    "func.func(quantkv-distinct-result-buffers),"
    "buffer-results-to-out-params{modify-public-functions hoist-static-allocs},"
    "func.func(buffer-deallocation-simplification),"
    "buffer-deallocation-pipeline,"
    "convert-bufferization-to-memref,"
    "func.func(convert-linalg-to-loops),"
    "lower-affine,"
    "convert-scf-to-cf,"
    "convert-vector-to-llvm{enable-x86vector=1 enable-amx=1},"
    "expand-strided-metadata,"
    "lower-affine,"
    "finalize-memref-to-llvm,"
    "convert-math-to-llvm,"
    "convert-arith-to-llvm,"
    "convert-index-to-llvm,"
    "convert-cf-to-llvm,"
    "convert-func-to-llvm,"
    "reconcile-unrealized-casts";

/// The tail names upstream passes and one of ours: make them known to library
/// users (the JIT runtime, the C API) that never registered passes for a
/// command line.
static void registerTailPasses() {
  static std::once_flag registerOnce;
  std::call_once(registerOnce, [] {
    if (!PassInfo::lookup("convert-scf-to-openmp"))
      mlir::registerAllPasses();
    if (!PassInfo::lookup("quantkv-distinct-result-buffers"))
      registerQuantKVDistinctResultBuffersPass();
  });
}

void mlir::quantkv::buildLowerToLLVMPipeline(OpPassManager &pm) {
  registerTailPasses();
  if (failed(parsePassPipeline(kLowerToLLVM, pm)))
    llvm::report_fatal_error("quantkv: malformed built-in LLVM pipeline");
}

void mlir::quantkv::buildReferencePipeline(OpPassManager &pm) {
  pm.addPass(createQuantKVLowerToLinalgPass());
  pm.addPass(createCanonicalizerPass());
  buildLowerToLLVMPipeline(pm);
}

/// The LLVM tail with the kernel's scf.parallel loops lowered to OpenMP
/// (omp.parallel + omp.wsloop, run by libomp): the same passes in the same
/// order, plus convert-scf-to-openmp before the remaining scf is lowered to
/// cf and convert-openmp-to-llvm before the casts are reconciled.
static void buildLowerToLLVMWithOpenMPPipeline(OpPassManager &pm) {
  registerTailPasses();
  std::string tail = kLowerToLLVM;
  auto insertBefore = [&](llvm::StringRef anchor, llvm::StringRef pass) {
    size_t at = tail.find(anchor.str());
    if (at == std::string::npos)
      llvm::report_fatal_error("quantkv: LLVM tail lost its anchor pass");
    tail.insert(at, pass.str());
  };
  insertBefore("convert-scf-to-cf,", "convert-scf-to-openmp,");
  insertBefore("reconcile-unrealized-casts", "convert-openmp-to-llvm,");
  if (failed(parsePassPipeline(tail, pm)))
    llvm::report_fatal_error("quantkv: malformed built-in LLVM pipeline");
}

void mlir::quantkv::buildCpuPipeline(OpPassManager &pm) {
  buildCpuPipeline(pm, CpuPipelineOptions());
}

void mlir::quantkv::buildCpuPipeline(OpPassManager &pm,
                                     const CpuPipelineOptions &options) {
  QuantKVLowerToX86PassOptions x86;
  x86.kvTile = options.kvTile;
  x86.enableAmx = options.enableAmx;
  x86.cpuFeatures = options.cpuFeatures;
  x86.targetParallelism = options.targetParallelism;
  x86.cpu = options.cpu;
  x86.softwarePrefetch = options.softwarePrefetch;
  x86.prefillBf16Dot = options.prefillBf16Dot;
  pm.addPass(createQuantKVFuseSdpaPass());
  pm.addPass(createQuantKVLowerToX86Pass(x86));
  if (options.emulateAmx)
    pm.addPass(createQuantKVEmulateAmxPass());
  pm.addPass(createCanonicalizerPass());
  buildLowerToLLVMWithOpenMPPipeline(pm);
}

void mlir::quantkv::registerPipelines() {
  PassPipelineRegistration<>(
      "quantkv-reference-pipeline",
      "Lower quantkv through the reference linalg path down to LLVM",
      [](OpPassManager &pm) { buildReferencePipeline(pm); });
  PassPipelineRegistration<CpuPipelineOptions>(
      "quantkv-cpu-pipeline",
      "Fuse, lower quantkv.sdpa to the x86 kernel and continue down to LLVM",
      [](OpPassManager &pm, const CpuPipelineOptions &options) {
        buildCpuPipeline(pm, options);
      });
}
