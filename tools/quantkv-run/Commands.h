//===- Commands.h - quantkv-run sub-commands --------------------*- C++ -*-===//
//
// Part of the quantkv project, under the Apache License v2.0 with LLVM
// Exceptions.
//
//===----------------------------------------------------------------------===//

#ifndef QUANTKV_TOOLS_QUANTKV_RUN_COMMANDS_H
#define QUANTKV_TOOLS_QUANTKV_RUN_COMMANDS_H

#include "quantkv/Testing/CommandLine.h"

#include "quantkv/Runtime/JitModule.h"
#include "quantkv/Testing/Sdpa.h"

#include "mlir/IR/MLIRContext.h"

#include <memory>
#include <string>
#include <vector>

namespace quantkv_run {

using namespace mlir::quantkv::testing;

/// Exit codes of quantkv-run.
enum ExitCode { kExitOk = 0, kExitCheckFailed = 1, kExitUsage = 2 };

/// Where a compiled SDPA runs.
enum class Target { Reference, Cpu, Spirv };

/// A context with every dialect quantkv-run may meet.
std::unique_ptr<mlir::MLIRContext> createContext();

/// Parses `text` and compiles it for `target`; on failure returns a one-line
/// error. `passes` (textual, may be empty) run before the target pipeline.
/// `enableAmx` compiles the cpu target with the AMX kernel variant;
/// `amxCompiled` (optional) tells whether the module then has one.
std::string compileText(mlir::MLIRContext &ctx, const std::string &text,
                        const std::string &sourceName, Target target,
                        const std::string &passes, unsigned optLevel,
                        std::unique_ptr<mlir::quantkv::JitModule> &jit,
                        double &compileMs, bool enableAmx = false,
                        bool *amxCompiled = nullptr, bool emulateAmx = false);

/// Options of one SDPA run.
struct SdpaRunOptions {
  Target target = Target::Reference;
  unsigned optLevel = 2;
  int64_t repeat = 1;
  bool check = false;
  /// Compile the AMX variant of the x86 kernel too (cpu target).
  bool amx = false;
  /// Testing: run the AMX variant with emulated tile ops.
  bool emulateAmx = false;
};

/// What one SDPA run produced.
struct SdpaRunResult {
  /// Non-empty when the run could not happen (exit 2).
  std::string error;
  double compileMs = 0;
  /// The compiled module has an AMX kernel variant.
  bool amxCompiled = false;
  /// Median over the repeats.
  double runMs = 0;
  std::vector<double> output;
  std::vector<double> reference;
  ErrorStats stats;
  Tolerance tolerance{0, 0};
};

/// Compiles the config's module for the target, runs it on `data` and, with
/// `check`, compares with referenceSdpa.
SdpaRunResult runSdpa(mlir::MLIRContext &ctx, const SdpaConfig &config,
                      const SdpaData &data, const SdpaRunOptions &options);

/// Reads --target / --opt-level; errors go to args.
Target parseTarget(Args &args);

/// The flags `quantkv-run sdpa` and `grid` accept.
std::set<std::string> sdpaFlags();
std::set<std::string> sdpaSwitches();

int runSdpaCommand(const std::vector<std::string> &argv);
int runGridCommand(const std::vector<std::string> &argv);
int runFileCommand(const std::string &file,
                   const std::vector<std::string> &argv);

/// Prints a one-line error to stderr and returns kExitUsage.
int usageError(const std::string &message);

} // namespace quantkv_run

#endif // QUANTKV_TOOLS_QUANTKV_RUN_COMMANDS_H
