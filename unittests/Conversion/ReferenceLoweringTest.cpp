//===- ReferenceLoweringTest.cpp - compiled quantize/dequantize edge cases ===//
//
// Part of the quantkv project, under the Apache License v2.0 with LLVM
// Exceptions.
//
//===----------------------------------------------------------------------===//
//
// Runs quantkv.quantize / quantkv.dequantize through the reference pipeline
// and the JIT on hand-picked values: ties (round half to even), saturation,
// +-inf, NaN, zero points added after rounding, and the packed nibble order
// of the storage ABI. Expected values come from the spec (hard-coded) and
// from the independent helpers of QuantKVTesting.
//
//===----------------------------------------------------------------------===//

#include "quantkv/InitAllDialects.h"
#include "quantkv/Pipelines/Pipelines.h"
#include "quantkv/Runtime/JitModule.h"
#include "quantkv/Testing/Numerics.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "gtest/gtest.h"

#include <cmath>

using namespace mlir;
using namespace mlir::quantkv;
using namespace mlir::quantkv::testing;

namespace {

class ReferenceLoweringTest : public ::testing::Test {
public:
  // No pass registration on purpose: the JIT must work for library users
  // that never register passes for a command line.
  ReferenceLoweringTest() {
    DialectRegistry registry;
    registerAllDialects(registry);
    ctx = std::make_unique<MLIRContext>(registry);
  }

  /// Parses and JIT-compiles `text` through the reference pipeline.
  std::unique_ptr<JitModule> compile(const std::string &text) {
    OwningOpRef<ModuleOp> module =
        parseSourceString<ModuleOp>(text, ParserConfig(ctx.get()));
    EXPECT_TRUE(module) << text;
    if (!module)
      return nullptr;
    JitOptions options;
    options.optLevel = 0;
    auto jit = JitModule::compile(*module, buildReferencePipeline, options);
    if (!jit) {
      ADD_FAILURE() << llvm::toString(jit.takeError());
      return nullptr;
    }
    return std::move(*jit);
  }

  std::unique_ptr<MLIRContext> ctx;
};

/// Values exercising every rounding and saturation rule with scale 1.
const std::vector<float> kEdgeValues = {
    0.5f,  1.5f,  2.5f,   3.5f,     -0.5f,     -1.5f, -2.5f, 7.5f,
    -8.5f, 100.f, -100.f, INFINITY, -INFINITY, NAN,   6.49f, -7.51f};

/// Quantizes kEdgeValues (shape 1x16) with scale `scale` and zero point `zp`
/// to `kind` through the compiler; returns the stored integers.
std::vector<int64_t> quantizeCompiled(ReferenceLoweringTest &test,
                                      std::unique_ptr<JitModule> &jit,
                                      ElementKind kind, float scale,
                                      std::optional<int64_t> zp) {
  std::string t = toMlirString(kind);
  std::string text =
      "func.func @q(%x: tensor<1x16xf32>, %s: tensor<1xf32>" +
      (zp ? ", %z: tensor<1x" + t + ">" : std::string()) + ") -> tensor<1x16x" +
      t + "> {\n  %q = quantkv.quantize %x scale(%s : tensor<1xf32>) " +
      (zp ? "zero_point(%z : tensor<1x" + t + ">) " : std::string()) +
      "granularity(#quantkv.per_tensor) : tensor<1x16xf32> -> tensor<1x16x" +
      t + ">\n  return %q : tensor<1x16x" + t + ">\n}\n";
  // The zero point of per_tensor is a 1-d tensor of one element.
  jit = test.compile(text);
  if (!jit)
    return {};
  HostTensor x(ElementKind::f32, {1, 16}), s(ElementKind::f32, {1});
  for (int i = 0; i < 16; ++i)
    x.set(i, kEdgeValues[i]);
  s.set(0, scale);
  HostTensor z(kind, {1}), out(kind, {1, 16});
  std::vector<MemRefDescriptor> args;
  args.emplace_back(x.bytes.data(), x.getStorageShape());
  args.emplace_back(s.bytes.data(), s.getStorageShape());
  if (zp) {
    z.setInt(0, *zp);
    args.emplace_back(z.bytes.data(), z.getStorageShape());
  }
  args.emplace_back(out.bytes.data(), out.getStorageShape());
  if (llvm::Error err = jit->call("q", args)) {
    ADD_FAILURE() << llvm::toString(std::move(err));
    return {};
  }
  std::vector<int64_t> values(16);
  for (int i = 0; i < 16; ++i)
    values[i] = out.getInt(i);
  return values;
}

} // namespace

TEST_F(ReferenceLoweringTest, QuantizeS4RoundsHalfToEvenAndSaturates) {
  std::unique_ptr<JitModule> jit;
  std::vector<int64_t> q =
      quantizeCompiled(*this, jit, ElementKind::s4, 1.0f, std::nullopt);
  // 0.5->0 1.5->2 2.5->2 3.5->4 -0.5->0 -1.5->-2 -2.5->-2 7.5->7 -8.5->-8
  // 100->7 -100->-8 inf->7 -inf->-8 NaN->-8 6.49->6 -7.51->-8
  EXPECT_EQ(q, (std::vector<int64_t>{0, 2, 2, 4, 0, -2, -2, 7, -8, 7, -8, 7, -8,
                                     -8, 6, -8}));
}

TEST_F(ReferenceLoweringTest, QuantizeMatchesTheHelperForEveryType) {
  struct Case {
    ElementKind kind;
    float scale;
    std::optional<int64_t> zp;
  };
  for (Case c :
       {Case{ElementKind::s4, 0.5f, std::nullopt},
        Case{ElementKind::u4, 1.0f, 3},
        Case{ElementKind::s8, 0.25f, std::nullopt},
        Case{ElementKind::s8, 1.0f, -3}, Case{ElementKind::u8, 0.5f, 128},
        Case{ElementKind::u8, 1.0f, std::nullopt}}) {
    std::unique_ptr<JitModule> jit;
    std::vector<int64_t> q =
        quantizeCompiled(*this, jit, c.kind, c.scale, c.zp);
    ASSERT_EQ(q.size(), 16u) << toString(c.kind);
    for (int i = 0; i < 16; ++i)
      EXPECT_EQ(q[i],
                quantizeValue(kEdgeValues[i], c.scale,
                              static_cast<float>(c.zp.value_or(0)), c.kind))
          << toString(c.kind) << " element " << i << " = " << kEdgeValues[i];
  }
}

TEST_F(ReferenceLoweringTest, ZeroPointIsAddedAfterRounding) {
  std::unique_ptr<JitModule> jit;
  std::vector<int64_t> q =
      quantizeCompiled(*this, jit, ElementKind::u8, 1.0f, 1);
  // round(2.5) + 1 = 3 (rounding after adding would give 4); -100 + 1 -> 0.
  EXPECT_EQ(q[2], 3);
  EXPECT_EQ(q[3], 5);
  EXPECT_EQ(q[10], 0);
  EXPECT_EQ(q[9], 101);
}

TEST_F(ReferenceLoweringTest, QuantizePacksElementTwoIInTheLowNibble) {
  // 2x5 si4 from [1..5; -1..-5]: rows pack to 3 bytes, the last high nibble
  // of each row zero.
  std::unique_ptr<JitModule> jit = compile(R"mlir(
func.func @q(%x: tensor<2x5xf32>, %s: tensor<1xf32>) -> tensor<2x5xsi4> {
  %q = quantkv.quantize %x scale(%s : tensor<1xf32>)
      granularity(#quantkv.per_tensor) : tensor<2x5xf32> -> tensor<2x5xsi4>
  return %q : tensor<2x5xsi4>
}
)mlir");
  ASSERT_TRUE(jit);
  float x[10] = {1, 2, 3, 4, 5, -1, -2, -3, -4, -5};
  float s = 1.0f;
  uint8_t out[6] = {0xAA, 0xAA, 0xAA, 0xAA, 0xAA, 0xAA};
  std::vector<MemRefDescriptor> args = {MemRefDescriptor(x, {2, 5}),
                                        MemRefDescriptor(&s, {1}),
                                        MemRefDescriptor(out, {2, 3})};
  ASSERT_FALSE(static_cast<bool>(jit->call("q", args)));
  EXPECT_EQ(std::vector<uint8_t>(out, out + 6),
            (std::vector<uint8_t>{0x21, 0x43, 0x05, 0xEF, 0xCD, 0x0B}));
}

TEST_F(ReferenceLoweringTest, DequantizeReadsPackedNibblesAndZeroPoints) {
  // si4 2x5 per row (group [1, 5]) with packed ui4 zero points.
  std::unique_ptr<JitModule> jit = compile(R"mlir(
func.func @d(%x: tensor<2x5xsi4>, %s: tensor<2x1xf32>, %z: tensor<2x1xui4>)
    -> tensor<2x5xf32> {
  %y = quantkv.dequantize %x scale(%s : tensor<2x1xf32>)
      zero_point(%z : tensor<2x1xui4>) granularity(#quantkv.per_group<[1, 5]>)
      : tensor<2x5xsi4> -> tensor<2x5xf32>
  return %y : tensor<2x5xf32>
}
)mlir");
  ASSERT_TRUE(jit);
  std::vector<int64_t> xs = {-8, -1, 0, 7, 3, 1, 2, -3, -4, 5};
  std::vector<uint8_t> packed = packNibbles(xs, 5);
  float scales[2] = {0.5f, 2.0f};
  std::vector<uint8_t> zps = packNibbles({15, 2}, 1); // one nibble per row
  float out[10];
  std::vector<MemRefDescriptor> args = {
      MemRefDescriptor(packed.data(), {2, 3}), MemRefDescriptor(scales, {2, 1}),
      MemRefDescriptor(zps.data(), {2, 1}), MemRefDescriptor(out, {2, 5})};
  ASSERT_FALSE(static_cast<bool>(jit->call("d", args)));
  for (int i = 0; i < 10; ++i) {
    int row = i / 5;
    double expected = (xs[i] - (row ? 2.0 : 15.0)) * scales[row];
    EXPECT_EQ(out[i], expected) << "element " << i;
  }
}

TEST_F(ReferenceLoweringTest, TypecastRoundsToNearestEven) {
  std::unique_ptr<JitModule> jit = compile(R"mlir(
func.func @c(%x: tensor<4xf32>) -> tensor<4xf32> {
  %h = quantkv.typecast %x : tensor<4xf32> to tensor<4xbf16>
  %f = quantkv.typecast %h : tensor<4xbf16> to tensor<4xf32>
  return %f : tensor<4xf32>
}
)mlir");
  ASSERT_TRUE(jit);
  // Subnormal inputs are not covered: the compiled bf16 truncation flushes
  // them to zero (see docs/Reference.md).
  float x[4] = {1.0f + 0x1.0p-8f, 1.0f + 0x1.8p-7f, -3.0f, 1.0f / 3.0f};
  float out[4];
  std::vector<MemRefDescriptor> args = {MemRefDescriptor(x, {4}),
                                        MemRefDescriptor(out, {4})};
  ASSERT_FALSE(static_cast<bool>(jit->call("c", args)));
  for (int i = 0; i < 4; ++i)
    EXPECT_EQ(out[i], roundToBF16(x[i])) << "element " << i;
}
