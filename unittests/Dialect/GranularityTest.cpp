//===- GranularityTest.cpp - scale indexing of the granularity attrs ------===//
//
// Part of the quantkv project, under the Apache License v2.0 with LLVM
// Exceptions.
//
//===----------------------------------------------------------------------===//

#include "quantkv/Dialect/QuantKV/IR/QuantKVAttrs.h"
#include "quantkv/Dialect/QuantKV/IR/QuantKVDialect.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/MLIRContext.h"
#include "gtest/gtest.h"

using namespace mlir;
using namespace mlir::quantkv;

namespace {

class GranularityTest : public ::testing::Test {
protected:
  GranularityTest() { ctx.loadDialect<QuantKVDialect>(); }
  MLIRContext ctx;
};

TEST_F(GranularityTest, PerTensorUsesOneScale) {
  SmallVector<int64_t> group, expanded;
  PerTensorAttr::get(&ctx).getScaleIndexing({2, 8, 16, 64}, {1}, group,
                                             expanded);
  EXPECT_EQ(group, (SmallVector<int64_t>{2, 8, 16, 64}));
  EXPECT_EQ(expanded, (SmallVector<int64_t>{1, 1, 1, 1}));
}

TEST_F(GranularityTest, PerChannelIndexesOneAxis) {
  SmallVector<int64_t> group, expanded;
  PerChannelAttr::get(&ctx, 3).getScaleIndexing({2, 8, 16, 64}, {64}, group,
                                                 expanded);
  EXPECT_EQ(group, (SmallVector<int64_t>{2, 8, 16, 1}));
  EXPECT_EQ(expanded, (SmallVector<int64_t>{1, 1, 1, 64}));
}

TEST_F(GranularityTest, PerGroupBroadcastsUnitScaleDims) {
  SmallVector<int64_t> group, expanded;
  // Batch shared (scale dim 1 although the group dim is 1), 32-wide groups
  // along D.
  PerGroupAttr::get(&ctx, {1, 1, 1, 32})
      .getScaleIndexing({2, 8, 16, 64}, {1, 8, 16, 2}, group, expanded);
  EXPECT_EQ(group, (SmallVector<int64_t>{2, 1, 1, 32}));
  EXPECT_EQ(expanded, (SmallVector<int64_t>{1, 8, 16, 2}));
}

TEST_F(GranularityTest, StorageRanges) {
  auto range = [&](unsigned width, IntegerType::SignednessSemantics s) {
    return getStorageRange(IntegerType::get(&ctx, width, s));
  };
  EXPECT_EQ(range(4, IntegerType::Signed), std::make_pair(-8l, 7l));
  EXPECT_EQ(range(4, IntegerType::Unsigned), std::make_pair(0l, 15l));
  EXPECT_EQ(range(8, IntegerType::Signed), std::make_pair(-128l, 127l));
  EXPECT_EQ(range(8, IntegerType::Unsigned), std::make_pair(0l, 255l));
}

TEST_F(GranularityTest, PerGroupRejectsNonPositiveDims) {
  std::string message;
  auto emitError = [&]() {
    return mlir::emitError(UnknownLoc::get(&ctx));
  };
  ScopedDiagnosticHandler handler(&ctx, [&](Diagnostic &d) {
    message = d.str();
    return success();
  });
  EXPECT_TRUE(failed(PerGroupAttr::verify(emitError, {1, 0, 32})));
  EXPECT_NE(message.find("dim 1 must be positive"), std::string::npos);
}

} // namespace
