//===- quantkv-sweep.cpp - differential sweep over SDPA configurations ----===//
//
// Part of the quantkv project, under the Apache License v2.0 with LLVM
// Exceptions.
//
//===----------------------------------------------------------------------===//
//
// Draws seeded random quantkv.sdpa configurations (RandomConfig.h), compiles
// each for every available target through the real pipelines, runs it on
// seeded data and compares the output with the f64 reference of
// QuantKVTesting, within the tolerance of the configuration's math mode.
// Prints the failures, pass/fail counts and the worst error per target and
// per math mode, and ends with "N passed, N failed" (N counting
// configuration x target checks). Exit code 0 when nothing failed, 1 when
// something did, 2 on a usage error.
//
//   quantkv-sweep --count 200 --seed 1 --targets reference,cpu
//   quantkv-sweep --seed 1 --first 137 --count 1 --verbose   # one config
//
// A target that cannot compile even the simplest configuration (a stub, or
// no runner in this build) is reported "unavailable" and not counted.
//
//===----------------------------------------------------------------------===//

#include "RandomConfig.h"

#include "quantkv/InitAllDialects.h"
#include "quantkv/InitAllPasses.h"
#include "quantkv/Pipelines/Pipelines.h"
#include "quantkv/Runtime/JitModule.h"
#include "quantkv/Testing/Sdpa.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/Signals.h"
#include "llvm/Support/raw_ostream.h"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <limits>
#include <map>
#include <memory>
#include <string>
#include <vector>

using namespace mlir;
using namespace mlir::quantkv::testing;
using quantkv_sweep::randomConfig;

namespace cl = llvm::cl;

// The tool links LLVM's backends, whose options would otherwise fill --help.
static cl::OptionCategory sweepCategory("quantkv-sweep options");

static cl::opt<int64_t> clCount("count", cl::desc("Configurations to run"),
                                cl::cat(sweepCategory), cl::init(200));
static cl::opt<uint64_t> clSeed("seed", cl::desc("Sweep seed"),
                                cl::cat(sweepCategory), cl::init(1));
static cl::opt<int64_t> clFirst("first",
                                cl::desc("Index of the first configuration"),
                                cl::cat(sweepCategory), cl::init(0));
static cl::opt<std::string>
    clTargets("targets",
              cl::desc("Comma-separated targets: reference, cpu, spirv"),
              cl::cat(sweepCategory), cl::init("reference,cpu"));
static cl::opt<unsigned> clOptLevel("opt-level",
                                    cl::desc("JIT optimization level (0-3)"),
                                    cl::cat(sweepCategory), cl::init(0));
static cl::opt<bool> clVerbose("verbose",
                               cl::desc("Print every configuration's result"),
                               cl::cat(sweepCategory), cl::init(false));
static cl::opt<int64_t>
    clShowFailures("show-failures",
                   cl::desc("Failures printed in full (the rest are counted)"),
                   cl::cat(sweepCategory), cl::init(20));
static cl::opt<bool> clDeclinedOk(
    "declined-ok",
    cl::desc("Do not count as failures the configurations a target declines "
             "to compile with a diagnostic (its lowering does not handle "
             "them); they are still counted and reported"),
    cl::cat(sweepCategory), cl::init(false));
static cl::opt<std::string> clCpuAmx(
    "cpu-amx",
    cl::desc("Target cpu with the AMX kernel variant: off, on (chosen by the "
             "CPU, see docs/X86Kernel.md) or emulate (testing: the AMX "
             "variant runs with emulated tile ops, whatever the CPU)"),
    cl::cat(sweepCategory), cl::init("off"));
static cl::opt<double> clPerturb(
    "perturb",
    cl::desc("Testing only: add this to the first output element of every "
             "run, to check that the comparison catches a wrong kernel"),
    cl::cat(sweepCategory), cl::init(0.0), cl::Hidden);

namespace {

enum class Target { Reference, Cpu, Spirv };

const char *toString(Target t) {
  switch (t) {
  case Target::Reference:
    return "reference";
  case Target::Cpu:
    return "cpu";
  case Target::Spirv:
    return "spirv";
  }
  return "?";
}

/// The worst error seen over a set of checks, and where.
struct Worst {
  double absError = 0;
  /// max |o - r| / (atol + rtol |r|): 1 is the edge of the tolerance.
  double ratio = 0;
  int64_t index = -1;
  int64_t count = 0;

  void add(double abs, double r, int64_t i) {
    ++count;
    if (r > ratio || index < 0) {
      ratio = r;
      index = i;
    }
    absError = std::max(absError, abs);
  }
};

struct TargetState {
  explicit TargetState(Target target) : target(target) {}
  Target target;
  /// Non-empty when the target is unavailable (and why).
  std::string unavailable;
  /// wrong: the output is out of tolerance; errors: compiling or running
  /// failed; declined: the pipeline rejected the valid op with a legalization
  /// diagnostic (it does not handle that configuration).
  int64_t passed = 0, wrong = 0, errors = 0, declined = 0;
  double compileMs = 0, runMs = 0;
  Worst worst;
  std::map<MathMode, Worst> worstByMath;
};

/// The configuration being run, for the crash handler.
std::string currentConfig;

void printCurrentConfig(void *) {
  if (!currentConfig.empty())
    fprintf(stderr, "quantkv-sweep: crashed while running %s\n",
            currentConfig.c_str());
}

/// One-line text of a multi-line diagnostic, without the notes (which print
/// whole operations).
std::string oneLine(std::string text) {
  if (size_t note = text.find("note:"); note != std::string::npos)
    text = text.substr(0, note);
  for (char &c : text)
    if (c == '\n')
      c = ' ';
  if (text.size() > 400)
    text = text.substr(0, 400) + "...";
  return text;
}

/// Compiles `config` for `target` and runs it on `data`; fills `output`.
/// Returns a non-empty message when compiling or running failed.
std::string compileAndRun(MLIRContext &ctx, Target target,
                          const SdpaConfig &config, const SdpaData &data,
                          std::vector<double> &output, double &compileMs,
                          double &runMs) {
  if (target == Target::Spirv)
    return "no Vulkan runner in quantkv-sweep";
  auto start = std::chrono::steady_clock::now();
  std::string diagnostics;
  OwningOpRef<ModuleOp> module;
  {
    ScopedDiagnosticHandler handler(&ctx, [&](Diagnostic &d) {
      diagnostics += d.str() + " ";
      return success();
    });
    module = parseSourceString<ModuleOp>(emitSdpaModule(config),
                                         ParserConfig(&ctx), "sdpa.mlir");
  }
  if (!module)
    return "the emitted module does not parse: " + oneLine(diagnostics);
  quantkv::JitOptions options;
  options.optLevel = clOptLevel;
  auto jit = quantkv::JitModule::compile(
      *module,
      [&](OpPassManager &pm) {
        if (target == Target::Cpu) {
          quantkv::CpuPipelineOptions cpu;
          cpu.enableAmx = clCpuAmx != "off";
          cpu.emulateAmx = clCpuAmx == "emulate";
          quantkv::buildCpuPipeline(pm, cpu);
        } else
          quantkv::buildReferencePipeline(pm);
      },
      options);
  if (!jit)
    return "compile failed: " + oneLine(llvm::toString(jit.takeError()));
  auto compiled = std::chrono::steady_clock::now();
  compileMs += std::chrono::duration<double, std::milli>(compiled - start)
                   .count();

  std::vector<int64_t> outShape = config.outputShape();
  // NaN-filled: an element the kernel never writes cannot pass.
  std::vector<float> out(numElements(outShape),
                         std::numeric_limits<float>::quiet_NaN());
  std::vector<quantkv::MemRefDescriptor> args;
  for (const HostTensor *t : data.inputs())
    args.emplace_back(const_cast<uint8_t *>(t->bytes.data()),
                      t->getStorageShape());
  args.emplace_back(out.data(), outShape);
  if (llvm::Error err = (*jit)->call("sdpa", args))
    return "run failed: " + oneLine(llvm::toString(std::move(err)));
  runMs += std::chrono::duration<double, std::milli>(
               std::chrono::steady_clock::now() - compiled)
               .count();
  output.assign(out.begin(), out.end());
  if (!output.empty())
    output[0] += clPerturb;
  return "";
}

/// max |o - r| / (atol + rtol |r|); infinity when a non-finite value differs.
double toleranceRatio(const std::vector<double> &out,
                      const std::vector<double> &ref, Tolerance tol) {
  double worst = 0;
  for (size_t i = 0; i < out.size(); ++i) {
    double o = out[i], r = ref[i];
    if (!std::isfinite(o) || !std::isfinite(r)) {
      bool same = (std::isnan(o) && std::isnan(r)) || o == r;
      if (!same)
        return std::numeric_limits<double>::infinity();
      continue;
    }
    worst = std::max(worst, std::fabs(o - r) / (tol.atol + tol.rtol * std::fabs(r)));
  }
  return worst;
}

/// The simplest configurations: a target that runs none of them is
/// unavailable (e.g. a stub). Head dims of 16 and 64 suit any vector width.
std::vector<SdpaConfig> probeConfigs() {
  std::vector<SdpaConfig> probes;
  for (ElementKind type : {ElementKind::s8, ElementKind::f32}) {
    SdpaConfig c;
    c.kvLen = 16;
    c.headDim = 16;
    c.key = c.value = type == ElementKind::f32
                          ? QuantScheme::plain(type)
                          : QuantScheme::perChannel(type, 3);
    probes.push_back(c);
  }
  return probes;
}

} // namespace

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  cl::HideUnrelatedOptions(sweepCategory);
  cl::ParseCommandLineOptions(
      argc, argv,
      "quantkv differential sweep: random SDPA configurations on every "
      "target, checked against the f64 reference\n");
  llvm::sys::AddSignalHandler(printCurrentConfig, nullptr);
  if (clCpuAmx != "off" && clCpuAmx != "on" && clCpuAmx != "emulate") {
    llvm::errs() << "quantkv-sweep: --cpu-amx must be off, on or emulate\n";
    return 2;
  }

  std::vector<TargetState> targets;
  for (llvm::StringRef name : llvm::split(clTargets.getValue(), ',')) {
    name = name.trim();
    if (name == "reference")
      targets.emplace_back(Target::Reference);
    else if (name == "cpu")
      targets.emplace_back(Target::Cpu);
    else if (name == "spirv")
      targets.emplace_back(Target::Spirv);
    else {
      llvm::errs() << "quantkv-sweep: error: unknown target '" << name
                   << "' (reference, cpu or spirv)\n";
      return 2;
    }
  }
  if (targets.empty() || clCount < 0 || clOptLevel > 3) {
    llvm::errs() << "quantkv-sweep: error: bad --targets, --count or "
                    "--opt-level\n";
    return 2;
  }

  quantkv::registerAllPasses();
  DialectRegistry registry;
  quantkv::registerAllDialects(registry);
  MLIRContext ctx(registry, MLIRContext::Threading::DISABLED);

  // Probe each target with the simplest configurations.
  {
    double perturb = clPerturb;
    clPerturb = 0.0;
    for (TargetState &t : targets) {
      std::string firstError;
      bool works = false;
      for (const SdpaConfig &probe : probeConfigs()) {
        SdpaData data = generateSdpaData(probe);
        std::vector<double> out;
        double c = 0, r = 0;
        std::string err =
            compileAndRun(ctx, t.target, probe, data, out, c, r);
        if (err.empty() && !compareWithReference(out,
                                                 referenceSdpa(probe, data),
                                                 toleranceFor(probe.math))
                                .passed())
          err = "wrong result on the simplest configuration";
        works |= err.empty();
        if (firstError.empty())
          firstError = err;
      }
      if (!works)
        t.unavailable = firstError;
    }
    clPerturb = perturb;
  }

  llvm::outs() << "quantkv-sweep: " << clCount << " configurations from #"
               << clFirst << ", seed " << clSeed << ", JIT -O" << clOptLevel
               << "\n";
  for (TargetState &t : targets)
    if (!t.unavailable.empty())
      llvm::outs() << "target " << toString(t.target)
                   << ": unavailable (" << t.unavailable << ")\n";

  int64_t shownFailures = 0;
  for (int64_t i = clFirst; i < clFirst + clCount; ++i) {
    SdpaConfig config = randomConfig(clSeed, i);
    std::string tag = "#" + std::to_string(i) + " " + config.describe();
    currentConfig = tag;
    if (std::string err = config.verify(); !err.empty()) {
      // randomConfig only returns valid configurations; count it as a
      // failure of every target so it cannot go unnoticed.
      llvm::outs() << "FAIL " << tag << ": invalid configuration: " << err
                   << "\n";
      for (TargetState &t : targets)
        if (t.unavailable.empty())
          ++t.errors;
      continue;
    }
    SdpaData data = generateSdpaData(config);
    std::vector<double> ref = referenceSdpa(config, data);
    Tolerance tol = toleranceFor(config.math);
    for (TargetState &t : targets) {
      if (!t.unavailable.empty())
        continue;
      std::vector<double> out;
      std::string err =
          compileAndRun(ctx, t.target, config, data, out, t.compileMs, t.runMs);
      std::string verdict;
      bool declined = err.find("failed to legalize operation "
                               "'quantkv.sdpa'") != std::string::npos;
      if (declined) {
        ++t.declined;
        verdict = "DECLINED " + err;
      } else if (!err.empty()) {
        ++t.errors;
        verdict = "ERROR " + err;
      } else {
        ErrorStats stats = compareWithReference(out, ref, tol);
        double ratio = toleranceRatio(out, ref, tol);
        t.worst.add(stats.maxAbsError, ratio, i);
        t.worstByMath[config.math].add(stats.maxAbsError, ratio, i);
        char buf[160];
        snprintf(buf, sizeof(buf),
                 "max|err| %.3g, %.3g of tolerance, %lld/%lld elements bad",
                 stats.maxAbsError, ratio, (long long)stats.numBad,
                 (long long)stats.count);
        if (stats.passed()) {
          ++t.passed;
          verdict = std::string("ok ") + buf;
        } else {
          ++t.wrong;
          verdict = std::string("WRONG ") + buf;
        }
      }
      bool failed =
          verdict.rfind("ok", 0) != 0 && !(declined && clDeclinedOk);
      if (clVerbose || (failed && shownFailures < clShowFailures)) {
        llvm::outs() << (failed ? "FAIL " : (declined ? "DECLINED " : "PASS "))
                     << toString(t.target)
                     << " " << tag << ": " << verdict << "\n";
        shownFailures += failed;
      }
    }
    // The verbose log must survive a crash of the next configuration.
    llvm::outs().flush();
  }
  currentConfig.clear();

  int64_t passed = 0, failed = 0;
  llvm::outs() << "\n";
  for (TargetState &t : targets) {
    if (!t.unavailable.empty()) {
      llvm::outs() << "target " << toString(t.target) << ": unavailable\n";
      continue;
    }
    int64_t bad = t.wrong + t.errors + (clDeclinedOk ? 0 : t.declined);
    passed += t.passed;
    failed += bad;
    char line[320];
    snprintf(line, sizeof(line),
             "target %s: %lld passed, %lld failed (%lld wrong, %lld compile or "
             "run errors, %lld declined%s); compile %.0f ms, run %.0f ms\n",
             toString(t.target), (long long)t.passed, (long long)bad,
             (long long)t.wrong, (long long)t.errors, (long long)t.declined,
             clDeclinedOk ? ", not counted" : "", t.compileMs, t.runMs);
    llvm::outs() << line;
    auto printWorst = [&](const char *what, const Worst &w) {
      if (w.index < 0)
        return;
      char buf[160];
      snprintf(buf, sizeof(buf),
               "  %-10s %5lld checks, worst max|err| %.3g, worst %.3g of "
               "tolerance (#%lld)\n",
               what, (long long)w.count, w.absError, w.ratio,
               (long long)w.index);
      llvm::outs() << buf;
    };
    printWorst("all", t.worst);
    for (auto &[mode, w] : t.worstByMath)
      printWorst((std::string("math ") + toString(mode)).c_str(), w);
  }
  llvm::outs() << passed << " passed, " << failed << " failed\n";
  return failed ? 1 : 0;
}
