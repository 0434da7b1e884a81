//===- CommandLineTest.cpp - SDPA flag parsing ----------------------------===//
//
// Part of the quantkv project, under the Apache License v2.0 with LLVM
// Exceptions.
//
//===----------------------------------------------------------------------===//

#include "quantkv/Testing/CommandLine.h"

#include "gtest/gtest.h"

using namespace mlir::quantkv::testing;

namespace {

SdpaConfig parse(const std::vector<std::string> &argv, std::string &error) {
  Args args(argv, sdpaConfigFlags(), sdpaConfigSwitches());
  SdpaConfig config = parseSdpaConfig(args);
  error = args.error();
  if (error.empty())
    error = config.verify();
  return config;
}

TEST(SdpaFlags, ParsesTheDemoProblem) {
  std::string error;
  SdpaConfig c = parse({"--q-heads", "32", "--kv-heads", "8", "--kv-len=256",
                        "--head-dim", "128", "--k-type", "s4", "--k-group",
                        "32", "--v-type", "u8", "--v-zp", "--mask", "causal"},
                       error);
  EXPECT_EQ(error, "");
  EXPECT_EQ(c.kvLen, 256);
  EXPECT_EQ(c.key.type, ElementKind::s4);
  EXPECT_EQ(c.key.granularity, GranularityKind::PerGroup);
  EXPECT_EQ(c.key.groupShape, (std::array<int64_t, 4>{1, 1, 1, 32}));
  EXPECT_EQ(c.value.granularity, GranularityKind::PerChannel);
  EXPECT_EQ(c.value.axis, 3);
  EXPECT_TRUE(c.value.hasZeroPoint);
  EXPECT_EQ(c.value.getZeroPointType(), ElementKind::u8);
  EXPECT_EQ(c.mask, MaskKind::Causal);
}

TEST(SdpaFlags, GroupsFollowTheStoredKeyLayout) {
  std::string error;
  SdpaConfig c = parse({"--k-layout", "bds", "--k-type", "u4", "--k-group",
                        "16", "--v-type", "s8", "--v-group-shape", "1,1,8,1",
                        "--kv-len", "16"},
                       error);
  EXPECT_EQ(error, "");
  EXPECT_EQ(c.key.groupShape, (std::array<int64_t, 4>{1, 1, 16, 1}));
  EXPECT_EQ(c.value.groupShape, (std::array<int64_t, 4>{1, 1, 8, 1}));
}

TEST(SdpaFlags, RejectsInconsistentFlagsWithOneLine) {
  std::string error;
  parse({"--k-type", "f16", "--k-group", "8"}, error);
  EXPECT_EQ(error, "--k-group needs an integer --k-type (s4, u4, s8 or u8), "
                   "got f16");
  parse({"--k-type", "s8", "--k-quant", "per_tensor", "--k-group", "8"},
        error);
  EXPECT_EQ(error,
            "--k-group/--k-group-shape need --k-quant per_group, got "
            "per_tensor");
  parse({"--v-type", "u8", "--v-group-shape", "1,2"}, error);
  EXPECT_EQ(error, "--v-group-shape needs 4 comma-separated sizes, got '1,2'");
  parse({"--mask", "sometimes"}, error);
  EXPECT_EQ(error,
            "unknown --mask 'sometimes' (expected none, causal or explicit)");
  parse({"--frobnicate"}, error);
  EXPECT_EQ(error, "unknown option '--frobnicate' (see --help)");
  parse({"--q-heads", "8", "--kv-heads", "3"}, error);
  EXPECT_EQ(error, "q-heads (8) must be a multiple of kv-heads (3)");
}

TEST(SdpaFlags, RejectsGroupShapeSizesBelowOne) {
  std::string error;
  parse({"--k-type", "s8", "--k-group-shape", "1,1,0,1"}, error);
  EXPECT_EQ(error, "--k-group-shape values must be >= 1, got 0");
}

TEST(Args, IntListsAreCheckedAgainstTheirMinimum) {
  Args args({"--lens", "4,-2,8", "--heads=1,2"}, {"lens", "heads", "absent"},
            {});
  EXPECT_EQ(args.getIntList("heads", {}, /*min=*/1),
            (std::vector<int64_t>{1, 2}));
  EXPECT_EQ(args.getIntList("absent", {7}, /*min=*/1),
            (std::vector<int64_t>{7}));
  EXPECT_EQ(args.error(), "");
  // A value below the minimum is an error naming the flag and the value;
  // the default is returned so the caller never sees the bad list.
  EXPECT_EQ(args.getIntList("lens", {16}, /*min=*/1),
            (std::vector<int64_t>{16}));
  EXPECT_EQ(args.error(), "--lens values must be >= 1, got -2");
}

} // namespace
