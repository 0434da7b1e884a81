//===- CpuFeaturesTest.cpp - run-time CPU feature queries -----------------===//
//
// Part of the quantkv project, under the Apache License v2.0 with LLVM
// Exceptions.
//
//===----------------------------------------------------------------------===//

#include "quantkv/Runtime/CpuFeatures.h"

#include "gtest/gtest.h"

#include <cstdlib>
#include <fstream>
#include <optional>
#include <set>
#include <sstream>
#include <string>

using namespace mlir::quantkv;

namespace {

/// The flags the kernel reports for the first CPU. The kernel clears the
/// amx_* flags when it does not support the tile state, so they mean the
/// same as CPUID + XCR0 (+ a permission it then grants).
std::set<std::string> cpuinfoFlags() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("flags", 0) != 0)
      continue;
    std::istringstream words(line.substr(line.find(':') + 1));
    std::set<std::string> flags;
    for (std::string w; words >> w;)
      flags.insert(w);
    return flags;
  }
  return {};
}

bool cpuinfoHasAmx() {
  std::set<std::string> flags = cpuinfoFlags();
  return flags.count("amx_tile") && flags.count("amx_bf16") &&
         flags.count("amx_int8");
}

/// Sets (or, with null, unsets) QUANTKV_DISABLE_AMX for one scope.
class ScopedDisableAmx {
public:
  explicit ScopedDisableAmx(const char *value) {
    if (const char *old = std::getenv("QUANTKV_DISABLE_AMX"))
      saved = old;
    if (value)
      setenv("QUANTKV_DISABLE_AMX", value, 1);
    else
      unsetenv("QUANTKV_DISABLE_AMX");
  }
  ~ScopedDisableAmx() {
    if (saved)
      setenv("QUANTKV_DISABLE_AMX", saved->c_str(), 1);
    else
      unsetenv("QUANTKV_DISABLE_AMX");
  }

private:
  std::optional<std::string> saved;
};

TEST(CpuFeaturesTest, DetectionAgreesWithCpuinfo) {
  ASSERT_FALSE(cpuinfoFlags().empty()) << "no flags line in /proc/cpuinfo";
  EXPECT_EQ(detectUsableAmx(), cpuinfoHasAmx());
}

TEST(CpuFeaturesTest, EnvironmentOverride) {
  {
    ScopedDisableAmx env(nullptr);
    EXPECT_FALSE(amxDisabledByEnvironment());
  }
  {
    ScopedDisableAmx env("1");
    EXPECT_TRUE(amxDisabledByEnvironment());
  }
  {
    ScopedDisableAmx env("0");
    EXPECT_FALSE(amxDisabledByEnvironment());
  }
  {
    ScopedDisableAmx env("");
    EXPECT_FALSE(amxDisabledByEnvironment());
  }
}

TEST(CpuFeaturesTest, CachedAnswerCombinesBoth) {
  bool expected = !amxDisabledByEnvironment() && cpuinfoHasAmx();
  EXPECT_EQ(quantkv_cpu_has_amx(), expected ? 1 : 0);
  EXPECT_EQ(quantkv_cpu_has_amx(), expected ? 1 : 0);
}

// The answer is cached on the first call, so the override is checked in a
// fresh process (threadsafe death tests re-execute the binary).
TEST(CpuFeaturesTest, EnvironmentForcesNoAmxInFreshProcess) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(
      {
        setenv("QUANTKV_DISABLE_AMX", "1", 1);
        std::exit(quantkv_cpu_has_amx() == 0 ? 0 : 1);
      },
      ::testing::ExitedWithCode(0), "");
}

} // namespace
