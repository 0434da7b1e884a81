//===- SdpaRunner.h - compile and call one SDPA configuration ---*- C++ -*-===//
//
// Part of the quantkv project, under the Apache License v2.0 with LLVM
// Exceptions.
//
//===----------------------------------------------------------------------===//

#ifndef QUANTKV_TOOLS_QUANTKV_BENCH_SDPARUNNER_H
#define QUANTKV_TOOLS_QUANTKV_BENCH_SDPARUNNER_H

#include "mlir/IR/MLIRContext.h"
#include "quantkv/Pipelines/Pipelines.h"
#include "quantkv/Runtime/JitModule.h"
#include "quantkv/Testing/Sdpa.h"
#include "llvm/Support/Error.h"

#include <memory>
#include <vector>

namespace mlir::quantkv::bench {

/// One SDPA configuration compiled through a named pipeline, callable on
/// several independent copies of its K/V cache (so that a timing loop can
/// rotate over more data than the last-level cache holds).
class SdpaRunner {
public:
  enum class Target { Cpu, Reference };

  /// `cpuOptions`: options of quantkv-cpu-pipeline (Target::Cpu; null:
  /// the defaults).
  static llvm::Expected<std::unique_ptr<SdpaRunner>>
  create(const testing::SdpaConfig &config, Target target,
         int64_t numCopies = 1, const CpuPipelineOptions *cpuOptions = nullptr);

  /// Runs on copy `copy` of the inputs, writing the f32 output.
  llvm::Error run(int64_t copy = 0);
  /// The output of the last run, widened to double.
  std::vector<double> output() const;
  const testing::SdpaData &data(int64_t copy = 0) const {
    return copies[copy % copies.size()];
  }
  /// Makes `numCopies` byte-identical, independent copies of the inputs.
  void replicate(int64_t numCopies) { copies.resize(numCopies, copies[0]); }
  /// Bytes of K/V data + scales + zero points one call reads.
  int64_t cacheBytes() const;

private:
  testing::SdpaConfig config;
  std::unique_ptr<MLIRContext> context;
  std::unique_ptr<JitModule> jit;
  std::vector<testing::SdpaData> copies;
  std::vector<float> out;
};

/// Path of the OpenMP runtime the cpu pipeline's code calls into.
const char *getOpenMPLibraryPath();
/// Sets the OpenMP thread count of the kernels (omp_set_num_threads).
void setNumThreads(int threads);

} // namespace mlir::quantkv::bench

#endif // QUANTKV_TOOLS_QUANTKV_BENCH_SDPARUNNER_H
