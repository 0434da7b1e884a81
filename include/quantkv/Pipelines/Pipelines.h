//===- Pipelines.h - named quantkv pass pipelines ---------------*- C++ -*-===//
//
// Part of the quantkv project, under the Apache License v2.0 with LLVM
// Exceptions.
//
//===----------------------------------------------------------------------===//

#ifndef QUANTKV_PIPELINES_PIPELINES_H
#define QUANTKV_PIPELINES_PIPELINES_H

#include "quantkv/Conversion/QuantKVToX86/CpuTuning.h"

#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassOptions.h"

namespace mlir::quantkv {

/// Bufferizes a tensor-level module whose quantkv ops are already lowered,
/// turns function results into trailing out-params, and converts everything
/// to the LLVM dialect. Shared tail of every CPU pipeline.
void buildLowerToLLVMPipeline(OpPassManager &pm);

/// quantkv-reference-pipeline: quantkv-lower-to-linalg, then the LLVM tail.
void buildReferencePipeline(OpPassManager &pm);

/// Options of quantkv-cpu-pipeline.
struct CpuPipelineOptions : public PassPipelineOptions<CpuPipelineOptions> {
  PassOptions::Option<int64_t> kvTile{
      *this, "kv-tile",
      llvm::cl::desc("Keys per online-softmax step of the x86 kernel "
                     "(quantkv-lower-to-x86 kv-tile)"),
      llvm::cl::init(64)};
  PassOptions::Option<bool> enableAmx{
      *this, "enable-amx",
      llvm::cl::desc("Also compile the AMX variant of the x86 kernel, chosen "
                     "at run time when the CPU has usable AMX"),
      llvm::cl::init(false)};
  PassOptions::Option<bool> emulateAmx{
      *this, "emulate-amx",
      llvm::cl::desc("Testing: with enable-amx, run the AMX variant with its "
                     "tile ops emulated by scalar loops "
                     "(quantkv-emulate-amx), whatever the CPU"),
      llvm::cl::init(false)};
  PassOptions::Option<std::string> cpuFeatures{
      *this, "cpu-features",
      llvm::cl::desc("Edits of the host's CPU features for the x86 kernel "
                     "(quantkv-lower-to-x86 cpu-features), e.g. "
                     "\"-avx512vbmi,-gfni\""),
      llvm::cl::init("")};
  PassOptions::Option<std::string> cpu{
      *this, "cpu",
      llvm::cl::desc("The x86 CPU the kernel is tuned for "
                     "(quantkv-lower-to-x86 cpu; llc -mcpu names, empty: the "
                     "host)"),
      llvm::cl::init("")};
  PassOptions::Option<TuningSwitch> softwarePrefetch{
      *this, "software-prefetch",
      llvm::cl::desc("Software prefetch in the decode loops "
                     "(quantkv-lower-to-x86 software-prefetch)"),
      llvm::cl::init(TuningSwitch::Auto), tuningSwitchValues()};
  PassOptions::Option<TuningSwitch> prefillBf16Dot{
      *this, "prefill-bf16-dot",
      llvm::cl::desc("bf16 prefill on vdpbf16ps (quantkv-lower-to-x86 "
                     "prefill-bf16-dot)"),
      llvm::cl::init(TuningSwitch::Auto), tuningSwitchValues()};
  PassOptions::Option<int64_t> targetParallelism{
      *this, "target-parallelism",
      llvm::cl::desc("Work items the x86 kernel's decomposition aims for "
                     "(quantkv-lower-to-x86 target-parallelism; 0: four per "
                     "hardware thread of the host)"),
      llvm::cl::init(0)};
};

/// quantkv-cpu-pipeline: quantkv-fuse-sdpa, quantkv-lower-to-x86, then the
/// LLVM tail.
void buildCpuPipeline(OpPassManager &pm);
void buildCpuPipeline(OpPassManager &pm, const CpuPipelineOptions &options);

/// Registers the pipelines above under their `quantkv-...` names.
void registerPipelines();

} // namespace mlir::quantkv

#endif // QUANTKV_PIPELINES_PIPELINES_H
