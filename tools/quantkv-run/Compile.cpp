//===- Compile.cpp - compile and run for quantkv-run ----------------------===//
//
// Part of the quantkv project, under the Apache License v2.0 with LLVM
// Exceptions.
//
//===----------------------------------------------------------------------===//

#include "Commands.h"

#include "quantkv/InitAllDialects.h"
#include "quantkv/InitAllPasses.h"
#include "quantkv/Pipelines/Pipelines.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <chrono>
#include <iostream>

using namespace mlir;
using namespace quantkv_run;

int quantkv_run::usageError(const std::string &message) {
  std::cerr << "quantkv-run: error: " << message << "\n";
  return kExitUsage;
}

std::unique_ptr<MLIRContext> quantkv_run::createContext() {
  // The pipelines are spelled textually: their passes must be registered.
  static bool registered = [] {
    quantkv::registerAllPasses();
    return true;
  }();
  (void)registered;
  DialectRegistry registry;
  quantkv::registerAllDialects(registry);
  auto ctx = std::make_unique<MLIRContext>(registry);
  // Many small compiles: a thread pool only adds start-up cost.
  ctx->disableMultithreading();
  return ctx;
}

/// Joins the lines of a multi-line message into one, dropping the notes
/// (which print whole operations) that follow the first diagnostic.
static std::string oneLine(std::string text) {
  if (size_t note = text.find("\n  note:"); note != std::string::npos)
    text = text.substr(0, note);
  std::string out;
  bool pendingSpace = false;
  for (char c : text) {
    if (c == '\n' || c == '\r') {
      pendingSpace = !out.empty();
      continue;
    }
    if (pendingSpace) {
      out += " | ";
      pendingSpace = false;
    }
    out += c;
  }
  return out;
}

/// "builtin.module(a,b)" -> "a,b"; the passes run on the module either way.
static std::string stripModuleAnchor(std::string passes) {
  const std::string prefix = "builtin.module(";
  if (passes.rfind(prefix, 0) == 0 && !passes.empty() && passes.back() == ')')
    return passes.substr(prefix.size(), passes.size() - prefix.size() - 1);
  return passes;
}

std::string quantkv_run::compileText(MLIRContext &ctx, const std::string &text,
                                     const std::string &sourceName,
                                     Target target, const std::string &passes,
                                     unsigned optLevel,
                                     std::unique_ptr<quantkv::JitModule> &jit,
                                     double &compileMs, bool enableAmx,
                                     bool *amxCompiled, bool emulateAmx) {
  if (target == Target::Spirv)
    return "target spirv is not available in quantkv-run (no Vulkan runner "
           "in this build)";
  auto start = std::chrono::steady_clock::now();
  std::string diagnostics;
  OwningOpRef<ModuleOp> module;
  {
    llvm::raw_string_ostream os(diagnostics);
    ScopedDiagnosticHandler handler(&ctx, [&](Diagnostic &d) {
      os << d.getLocation() << ": " << d << "\n";
      return success();
    });
    module = parseSourceString<ModuleOp>(text, ParserConfig(&ctx), sourceName);
  }
  if (!module)
    return "cannot parse " + sourceName + ": " + oneLine(diagnostics);

  std::string pre = stripModuleAnchor(passes);
  if (!pre.empty()) {
    OpPassManager probe("builtin.module");
    std::string message;
    llvm::raw_string_ostream os(message);
    if (failed(parsePassPipeline(pre, probe, os)))
      return "bad pass pipeline '" + passes + "': " + oneLine(message);
  }
  auto buildPipeline = [&](OpPassManager &pm) {
    if (!pre.empty())
      (void)parsePassPipeline(pre, pm, llvm::errs());
    if (target == Target::Cpu) {
      quantkv::CpuPipelineOptions cpu;
      cpu.enableAmx = enableAmx || emulateAmx;
      cpu.emulateAmx = emulateAmx;
      quantkv::buildCpuPipeline(pm, cpu);
    } else {
      quantkv::buildReferencePipeline(pm);
    }
  };
  quantkv::JitOptions options;
  options.optLevel = optLevel;
  auto compiled = quantkv::JitModule::compile(*module, buildPipeline, options);
  if (!compiled) {
    const char *name = target == Target::Cpu ? "cpu" : "reference";
    return std::string("compiling for target ") + name +
           " failed: " + oneLine(llvm::toString(compiled.takeError()));
  }
  jit = std::move(*compiled);
  if (amxCompiled) {
    // The lowered module stays alive: look for an outlined AMX work item.
    *amxCompiled = false;
    module->walk([&](LLVM::LLVMFuncOp func) {
      if (func.getSymName().ends_with("_sdpa_item_amx") ||
          func.getSymName().contains("_sdpa_item_amx_"))
        *amxCompiled = true;
    });
  }
  compileMs = std::chrono::duration<double, std::milli>(
                  std::chrono::steady_clock::now() - start)
                  .count();
  return "";
}

SdpaRunResult quantkv_run::runSdpa(MLIRContext &ctx, const SdpaConfig &config,
                                   const SdpaData &data,
                                   const SdpaRunOptions &options) {
  SdpaRunResult result;
  std::unique_ptr<quantkv::JitModule> jit;
  result.error =
      compileText(ctx, emitSdpaModule(config), "sdpa.mlir", options.target, "",
                  options.optLevel, jit, result.compileMs, options.amx,
                  &result.amxCompiled, options.emulateAmx);
  if (!result.error.empty())
    return result;

  std::vector<int64_t> outShape = config.outputShape();
  std::vector<float> out(numElements(outShape), 0.0f);
  std::vector<quantkv::MemRefDescriptor> args;
  for (const HostTensor *t : data.inputs())
    args.emplace_back(const_cast<uint8_t *>(t->bytes.data()),
                      t->getStorageShape());
  args.emplace_back(out.data(), outShape);

  std::vector<double> times;
  for (int64_t r = 0; r < std::max<int64_t>(1, options.repeat); ++r) {
    auto start = std::chrono::steady_clock::now();
    if (llvm::Error err = jit->call("sdpa", args)) {
      result.error = "running sdpa failed: " + llvm::toString(std::move(err));
      return result;
    }
    times.push_back(std::chrono::duration<double, std::milli>(
                        std::chrono::steady_clock::now() - start)
                        .count());
  }
  std::sort(times.begin(), times.end());
  result.runMs = times[times.size() / 2];
  result.output.assign(out.begin(), out.end());
  if (options.check) {
    result.reference = referenceSdpa(config, data);
    result.tolerance = toleranceFor(config.math);
    result.stats =
        compareWithReference(result.output, result.reference, result.tolerance);
  }
  return result;
}
