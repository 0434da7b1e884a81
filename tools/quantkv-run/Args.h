//===- Args.h - quantkv-run command-line parsing ----------------*- C++ -*-===//
//
// Part of the quantkv project, under the Apache License v2.0 with LLVM
// Exceptions.
//
//===----------------------------------------------------------------------===//
//
// A small flag parser with one-line errors: quantkv-run's contract is that
// bad input exits 2 with a single line naming the problem, which the generic
// cl::opt machinery does not give for value validation.
//
//===----------------------------------------------------------------------===//

#ifndef QUANTKV_TOOLS_QUANTKV_RUN_ARGS_H
#define QUANTKV_TOOLS_QUANTKV_RUN_ARGS_H

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace quantkv_run {

/// Exit codes of quantkv-run.
enum ExitCode { kExitOk = 0, kExitCheckFailed = 1, kExitUsage = 2 };

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
  /// A comma-separated list of integers.
  std::vector<int64_t> getIntList(const std::string &flag,
                                  const std::vector<int64_t> &dflt);
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

/// Splits "a,b,c".
std::vector<std::string> splitList(const std::string &text);

} // namespace quantkv_run

#endif // QUANTKV_TOOLS_QUANTKV_RUN_ARGS_H
