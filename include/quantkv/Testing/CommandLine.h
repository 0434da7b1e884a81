//===- CommandLine.h - flag parsing shared by the test tools ---*- C++ -*-===//
//
// Part of the quantkv project, under the Apache License v2.0 with LLVM
// Exceptions.
//
//===----------------------------------------------------------------------===//
//
// A small flag parser with one-line errors, and the flags that describe an
// SDPA problem, so that quantkv-run, the benchmark and the sweep accept the
// same spelling:
//
//   std::set<std::string> flags = sdpaConfigFlags();
//   flags.insert("repeat");                       // the tool's own flags
//   Args args(argv, flags, sdpaConfigSwitches());
//   SdpaConfig config = parseSdpaConfig(args);
//   if (!args.error().empty() || !(err = config.verify()).empty()) ...
//
// The tools' contract is that bad input exits 2 with a single line naming the
// problem, which the generic cl::opt machinery does not give for value
// validation.
//
//===----------------------------------------------------------------------===//

#ifndef QUANTKV_TESTING_COMMANDLINE_H
#define QUANTKV_TESTING_COMMANDLINE_H

#include "quantkv/Testing/SdpaConfig.h"

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace mlir::quantkv::testing {

/// Parsed `--flag value` / `--flag=value` / `--switch` arguments plus
/// positional ones. Every accessor records the first error it meets.
class Args {
public:
  /// `switches` take no value; every other known flag takes one.
  Args(const std::vector<std::string> &argv, const std::set<std::string> &flags,
       const std::set<std::string> &switches);

  bool has(const std::string &flag) const { return values.count(flag); }
  std::optional<std::string> get(const std::string &flag) const;
  std::string getString(const std::string &flag, const std::string &dflt);
  int64_t getInt(const std::string &flag, int64_t dflt, int64_t min = 0);
  double getDouble(const std::string &flag, double dflt);
  /// A comma-separated list of integers, each at least `min`.
  std::vector<int64_t> getIntList(const std::string &flag,
                                  const std::vector<int64_t> &dflt,
                                  int64_t min = 0);
  std::vector<std::string> getList(const std::string &flag,
                                   const std::vector<std::string> &dflt);

  const std::vector<std::string> &positional() const { return positionals; }
  /// Sets the error if none is recorded yet.
  void fail(const std::string &message);
  const std::string &error() const { return firstError; }

private:
  std::map<std::string, std::string> values;
  std::vector<std::string> positionals;
  std::string firstError;
};

/// Splits "a,b,c" (or a list with another separator); empty items are
/// dropped.
std::vector<std::string> splitList(const std::string &text,
                                   char separator = ',');

/// The value flags describing an SDPA problem: --batch --q-heads --kv-heads
/// --q-len --kv-len --head-dim --v-head-dim --mask --causal-align --math
/// --k-layout --scale --seed and, for p in {k, v}, --p-type --p-quant
/// --p-group --p-group-shape --p-axis --p-zp-type.
std::set<std::string> sdpaConfigFlags();
/// The switches describing an SDPA problem: --k-zp, --v-zp.
std::set<std::string> sdpaConfigSwitches();

/// Reads the flags above into a config (defaults: B = Hq = Hkv = Sq = 1,
/// Skv = 16, D = 64, K and V s8 per channel along the head dim, no mask,
/// bottom-right causal alignment, math f32, bsd, seed 1). `--p-quant`
/// defaults to per_group when --p-group or --p-group-shape is given, else
/// per_channel; `--p-group G` groups G elements along the head dim of the
/// stored layout. Errors (unknown values, flags that do not fit the type)
/// are recorded in `args`; call SdpaConfig::verify() afterwards for the
/// shape rules.
SdpaConfig parseSdpaConfig(Args &args);

/// Help text of the flags above, one per line, indented by two spaces.
const char *sdpaConfigHelp();

} // namespace mlir::quantkv::testing

#endif // QUANTKV_TESTING_COMMANDLINE_H
