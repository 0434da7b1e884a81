//===- SdpaRunner.cpp - compile and call one SDPA configuration -----------===//
//
// Part of the quantkv project, under the Apache License v2.0 with LLVM
// Exceptions.
//
//===----------------------------------------------------------------------===//

#include "SdpaRunner.h"

#include "mlir/Parser/Parser.h"
#include "quantkv/InitAllDialects.h"
#include "quantkv/InitAllPasses.h"
#include "quantkv/Pipelines/Pipelines.h"

#include <omp.h>

#include <mutex>

using namespace mlir;
using namespace mlir::quantkv;
using namespace mlir::quantkv::bench;
using namespace mlir::quantkv::testing;

const char *mlir::quantkv::bench::getOpenMPLibraryPath() {
  return QUANTKV_OPENMP_LIBRARY;
}

void mlir::quantkv::bench::setNumThreads(int threads) {
  omp_set_num_threads(threads);
}

llvm::Expected<std::unique_ptr<SdpaRunner>>
SdpaRunner::create(const SdpaConfig &config, Target target, int64_t numCopies,
                   const CpuPipelineOptions *cpuOptions) {
  static std::once_flag registered;
  std::call_once(registered, [] { registerAllPasses(); });
  auto runner = std::unique_ptr<SdpaRunner>(new SdpaRunner());
  runner->config = config;
  DialectRegistry registry;
  registerAllDialects(registry);
  runner->context = std::make_unique<MLIRContext>(registry);
  std::string text = emitSdpaModule(config);
  OwningOpRef<ModuleOp> module =
      parseSourceString<ModuleOp>(text, runner->context.get());
  if (!module)
    return llvm::createStringError("quantkv-bench: cannot parse:\n" + text);
  JitOptions options;
  options.sharedLibPaths.push_back(getOpenMPLibraryPath());
  auto jit = JitModule::compile(
      *module,
      [&](OpPassManager &pm) {
        if (target == Target::Reference)
          buildReferencePipeline(pm);
        else if (cpuOptions)
          buildCpuPipeline(pm, *cpuOptions);
        else
          buildCpuPipeline(pm);
      },
      options);
  if (!jit)
    return jit.takeError();
  runner->jit = std::move(*jit);
  runner->copies.push_back(generateSdpaData(config));
  runner->replicate(numCopies);
  runner->out.resize(numElements(config.outputShape()));
  return runner;
}

llvm::Error SdpaRunner::run(int64_t copy) {
  SdpaData &data = copies[copy % copies.size()];
  SmallVector<MemRefDescriptor> args;
  for (const HostTensor *t : data.inputs())
    args.emplace_back(const_cast<uint8_t *>(t->bytes.data()),
                      t->getStorageShape());
  args.emplace_back(out.data(), config.outputShape());
  return jit->call("sdpa", args);
}

std::vector<double> SdpaRunner::output() const {
  return std::vector<double>(out.begin(), out.end());
}

int64_t SdpaRunner::cacheBytes() const {
  const SdpaData &d = copies.front();
  int64_t bytes = 0;
  for (const HostTensor *t : {&d.key, &d.keyScale, &d.keyZeroPoint, &d.value,
                              &d.valueScale, &d.valueZeroPoint})
    bytes += t->bytes.size();
  return bytes;
}
