//===- SdpaReferenceTest.cpp - config, generator, emitter, reference ------===//
//
// Part of the quantkv project, under the Apache License v2.0 with LLVM
// Exceptions.
//
//===----------------------------------------------------------------------===//

#include "quantkv/Testing/Sdpa.h"

#include "gtest/gtest.h"

#include <cmath>

using namespace mlir::quantkv::testing;

namespace {

SdpaConfig demoConfig() {
  SdpaConfig c;
  c.qHeads = 8;
  c.kvHeads = 2;
  c.qLen = 2;
  c.kvLen = 16;
  c.headDim = 32;
  c.key = QuantScheme::perGroup(ElementKind::s4, {1, 1, 1, 16});
  c.value = QuantScheme::perChannel(ElementKind::u8, 3, /*zeroPoint=*/true);
  c.mask = MaskKind::Causal;
  return c;
}

TEST(SdpaConfig, VerifyGivesOneLineErrors) {
  SdpaConfig c = demoConfig();
  EXPECT_EQ(c.verify(), "");
  c.kvHeads = 3;
  EXPECT_EQ(c.verify(), "q-heads (8) must be a multiple of kv-heads (3)");
  c = demoConfig();
  c.key.groupShape = {1, 1, 1, 24};
  EXPECT_EQ(c.verify(), "key group dim 3 (24) must divide key dim 3 (32)");
  c = demoConfig();
  c.math = MathMode::Int8;
  c.key = QuantScheme::plain(ElementKind::f16);
  EXPECT_EQ(c.verify(), "math int8 needs an integer key type, got f16");
  c = demoConfig();
  c.headDim = 0;
  EXPECT_EQ(c.verify(), "head-dim must be positive, got 0");
}

TEST(SdpaData, IsSeededAndStoredInTheAbi) {
  SdpaConfig c = demoConfig();
  SdpaData a = generateSdpaData(c), b = generateSdpaData(c);
  EXPECT_EQ(a.key.bytes, b.key.bytes);
  EXPECT_EQ(a.query.bytes, b.query.bytes);
  // s4 K [1, 2, 16, 32] is packed to [1, 2, 16, 16] bytes.
  EXPECT_EQ(a.key.getStorageShape(), (std::vector<int64_t>{1, 2, 16, 16}));
  EXPECT_EQ(a.keyScale.shape, (std::vector<int64_t>{1, 2, 16, 2}));
  EXPECT_EQ(a.valueZeroPoint.shape, (std::vector<int64_t>{32}));
  EXPECT_EQ(a.inputNames(),
            (std::vector<std::string>{"q", "k", "k_scale", "v", "v_scale",
                                      "v_zero_point"}));
  c.seed = 2;
  EXPECT_NE(generateSdpaData(c).key.bytes, a.key.bytes);
}

TEST(SdpaData, QuantizationIsCloseToTheData) {
  // Dequantized K must be within half a step of uniform [-1, 1) data: the
  // scales and zero points are consistent with the stored integers.
  SdpaConfig c = demoConfig();
  c.key = QuantScheme::perChannel(ElementKind::u8, 3, /*zeroPoint=*/true);
  SdpaData d = generateSdpaData(c);
  for (int64_t i = 0; i < d.key.size(); ++i) {
    double k = dequantizeElement(c.key, d.key, d.keyScale, d.keyZeroPoint, i);
    EXPECT_LE(std::fabs(k), 1.02) << "element " << i;
  }
}

TEST(SdpaReference, SingleKeyReturnsItsValue) {
  // With one key, softmax is 1 and the output is V' of that key.
  SdpaConfig c = demoConfig();
  c.kvLen = 1;
  c.qLen = 1;
  c.key.groupShape = {1, 1, 1, 32};
  SdpaData d = generateSdpaData(c);
  std::vector<double> out = referenceSdpa(c, d);
  for (int64_t h = 0; h < c.qHeads; ++h)
    for (int64_t e = 0; e < 32; ++e) {
      int64_t g = h / 4;
      double v = dequantizeElement(c.value, d.value, d.valueScale,
                                   d.valueZeroPoint, g * 32 + e);
      EXPECT_NEAR(out[h * 32 + e], v, 1e-12);
    }
}

TEST(SdpaReference, FullyMaskedRowsAreZero) {
  // Bottom-right causal with Sq > Skv masks every key of the first rows.
  SdpaConfig c = demoConfig();
  c.qLen = 4;
  c.kvLen = 2;
  c.key.groupShape = {1, 1, 1, 32};
  SdpaData d = generateSdpaData(c);
  std::vector<double> out = referenceSdpa(c, d);
  for (int64_t e = 0; e < 32; ++e) {
    EXPECT_EQ(out[0 * 32 + e], 0.0);      // row 0: j > 0 + 2 - 4
    EXPECT_EQ(out[1 * 32 + e], 0.0);      // row 1
    EXPECT_NE(out[2 * 32 + e], 0.0) << e; // row 2 sees key 0
  }
}

TEST(SdpaEmitter, EmitsOneSdpaWithTheAttributes) {
  SdpaConfig c = demoConfig();
  c.kLayout = KLayout::BDS;
  c.key.groupShape = {1, 1, 16, 1};
  c.math = MathMode::BF16;
  c.scale = 0.5;
  std::string text = emitSdpaModule(c);
  for (const char *needle :
       {"func.func @sdpa(%q: tensor<1x8x2x32xf32>, %k: tensor<1x2x32x16xsi4>",
        "%k_scale: tensor<1x2x2x16xf32>", "%v_zp: tensor<32xui8>",
        "key_quant = #quantkv.per_group<[1, 1, 16, 1]>",
        "value_quant = #quantkv.per_channel<axis = 3>",
        "causal = #quantkv.causal<bottom_right>",
        "math_mode = #quantkv.math_mode<bf16>",
        "key_layout = #quantkv.k_layout<bds>", "scale = 0.5 : f32",
        "-> tensor<1x8x2x32xf32>"})
    EXPECT_NE(text.find(needle), std::string::npos) << needle << "\n" << text;
}

} // namespace
