//===- NumericsTest.cpp - nibble packing, rounding, saturation ------------===//
//
// Part of the quantkv project, under the Apache License v2.0 with LLVM
// Exceptions.
//
//===----------------------------------------------------------------------===//

#include "quantkv/Testing/Numerics.h"

#include "gtest/gtest.h"

#include <cmath>

using namespace mlir::quantkv::testing;

namespace {

TEST(NibblePacking, ElementTwoIGoesToTheLowNibble) {
  // Elements 0..3 = 1, 2, 3, 4 -> bytes 0x21, 0x43.
  std::vector<uint8_t> bytes = packNibbles({1, 2, 3, 4}, 4);
  ASSERT_EQ(bytes.size(), 2u);
  EXPECT_EQ(bytes[0], 0x21);
  EXPECT_EQ(bytes[1], 0x43);
}

TEST(NibblePacking, SignedIsTwosComplement) {
  // -1 = 0xF, -8 = 0x8, 7 = 0x7.
  std::vector<uint8_t> bytes = packNibbles({-1, -8, 7, 0}, 4);
  EXPECT_EQ(bytes[0], 0x8F);
  EXPECT_EQ(bytes[1], 0x07);
  EXPECT_EQ(unpackNibbles(bytes, 4, 4, /*isSigned=*/true),
            (std::vector<int64_t>{-1, -8, 7, 0}));
  EXPECT_EQ(unpackNibbles(bytes, 4, 4, /*isSigned=*/false),
            (std::vector<int64_t>{15, 8, 7, 0}));
}

TEST(NibblePacking, OddRowsArePaddedToAWholeByte) {
  // Two rows of three: each row takes two bytes, the last nibble is zero.
  std::vector<uint8_t> bytes = packNibbles({1, 2, 3, 4, 5, 6}, 3);
  EXPECT_EQ(bytes, (std::vector<uint8_t>{0x21, 0x03, 0x54, 0x06}));
  EXPECT_EQ(unpackNibbles(bytes, 6, 3, false),
            (std::vector<int64_t>{1, 2, 3, 4, 5, 6}));
}

TEST(NibblePacking, HostTensorAgreesWithPackNibbles) {
  HostTensor t(ElementKind::s4, {2, 5});
  EXPECT_EQ(t.getStorageShape(), (std::vector<int64_t>{2, 3}));
  std::vector<int64_t> values = {-8, -1, 0, 1, 7, 3, -3, 5, -5, 2};
  for (int64_t i = 0; i < 10; ++i)
    t.setInt(i, values[i]);
  EXPECT_EQ(std::vector<uint8_t>(t.bytes.begin(), t.bytes.end()),
            packNibbles(values, 5));
  for (int64_t i = 0; i < 10; ++i)
    EXPECT_EQ(t.getInt(i), values[i]) << "element " << i;
}

TEST(HostTensor, StorageStartsOnACacheLine) {
  // Tensors of every size, allocated among odd-sized heap blocks, start on a
  // 64-byte boundary like a framework's tensors.
  std::vector<HostTensor> tensors;
  std::vector<std::vector<char>> spacers;
  for (int64_t n : {1, 3, 17, 100, 4096, 70000}) {
    spacers.emplace_back(n % 61 + 1);
    tensors.emplace_back(ElementKind::s4, std::vector<int64_t>{n});
    tensors.emplace_back(ElementKind::f32, std::vector<int64_t>{n});
  }
  for (const HostTensor &t : tensors)
    EXPECT_EQ(reinterpret_cast<uintptr_t>(t.bytes.data()) % 64, 0u)
        << t.size() << " elements";
  // Copies (the benchmark's cache rotation) are aligned too.
  std::vector<HostTensor> copies(tensors.begin(), tensors.end());
  for (const HostTensor &t : copies)
    EXPECT_EQ(reinterpret_cast<uintptr_t>(t.bytes.data()) % 64, 0u);
}

TEST(Rounding, HalfToEven) {
  EXPECT_EQ(roundHalfToEven(0.5), 0.0);
  EXPECT_EQ(roundHalfToEven(1.5), 2.0);
  EXPECT_EQ(roundHalfToEven(2.5), 2.0);
  EXPECT_EQ(roundHalfToEven(3.5), 4.0);
  EXPECT_EQ(roundHalfToEven(-0.5), 0.0);
  EXPECT_EQ(roundHalfToEven(-1.5), -2.0);
  EXPECT_EQ(roundHalfToEven(-2.5), -2.0);
  EXPECT_EQ(roundHalfToEven(2.4999), 2.0);
  EXPECT_EQ(roundHalfToEven(2.5001), 3.0);
}

TEST(Quantize, RoundsTiesToEvenAfterDividing) {
  EXPECT_EQ(quantizeValue(2.5f, 1.0f, 0.0f, ElementKind::s8), 2);
  EXPECT_EQ(quantizeValue(3.5f, 1.0f, 0.0f, ElementKind::s8), 4);
  EXPECT_EQ(quantizeValue(-2.5f, 1.0f, 0.0f, ElementKind::s8), -2);
  EXPECT_EQ(quantizeValue(1.25f, 0.5f, 0.0f, ElementKind::s8), 2);
  // The zero point is added after rounding: round(2.5) + 1 = 3, not 4.
  EXPECT_EQ(quantizeValue(2.5f, 1.0f, 1.0f, ElementKind::u8), 3);
}

TEST(Quantize, Saturates) {
  EXPECT_EQ(quantizeValue(100.0f, 1.0f, 0.0f, ElementKind::s4), 7);
  EXPECT_EQ(quantizeValue(-100.0f, 1.0f, 0.0f, ElementKind::s4), -8);
  EXPECT_EQ(quantizeValue(7.5f, 1.0f, 0.0f, ElementKind::s4), 7);
  EXPECT_EQ(quantizeValue(-8.5f, 1.0f, 0.0f, ElementKind::s4), -8);
  EXPECT_EQ(quantizeValue(-1.0f, 1.0f, 0.0f, ElementKind::u4), 0);
  EXPECT_EQ(quantizeValue(15.4f, 1.0f, 0.0f, ElementKind::u4), 15);
  EXPECT_EQ(quantizeValue(16.0f, 1.0f, 0.0f, ElementKind::u4), 15);
  EXPECT_EQ(quantizeValue(1e30f, 1.0f, 0.0f, ElementKind::s8), 127);
  EXPECT_EQ(quantizeValue(-INFINITY, 1.0f, 0.0f, ElementKind::s8), -128);
  EXPECT_EQ(quantizeValue(INFINITY, 1.0f, 0.0f, ElementKind::u8), 255);
  EXPECT_EQ(quantizeValue(250.0f, 1.0f, 10.0f, ElementKind::u8), 255);
  EXPECT_EQ(quantizeValue(NAN, 1.0f, 0.0f, ElementKind::s8), -128);
}

TEST(HalfPrecision, RoundsToNearestEven) {
  EXPECT_EQ(floatToF16Bits(1.0f), 0x3C00);
  EXPECT_EQ(floatToF16Bits(-2.0f), 0xC000);
  EXPECT_EQ(floatToF16Bits(65504.0f), 0x7BFF);
  EXPECT_EQ(floatToF16Bits(65520.0f), 0x7C00); // tie to even -> inf
  EXPECT_EQ(floatToF16Bits(65519.0f), 0x7BFF);
  // 1 + 2^-11 is a tie between 1 and 1 + 2^-10: even is 1.
  EXPECT_EQ(floatToF16Bits(1.0f + 0x1.0p-11f), 0x3C00);
  EXPECT_EQ(floatToF16Bits(1.0f + 0x1.8p-10f), 0x3C02);
  EXPECT_EQ(floatToF16Bits(0x1.0p-24f), 0x0001); // smallest subnormal
  EXPECT_EQ(f16BitsToFloat(0x0001), 0x1.0p-24f);
  EXPECT_EQ(f16BitsToFloat(0x3555), 0.333251953125f);
  EXPECT_EQ(floatToBF16Bits(1.0f), 0x3F80);
  EXPECT_EQ(floatToBF16Bits(1.0f + 0x1.0p-8f), 0x3F80); // tie to even
  EXPECT_EQ(floatToBF16Bits(1.0f + 0x1.8p-7f), 0x3F82);
  EXPECT_EQ(bf16BitsToFloat(0x3F81), 1.0f + 0x1.0p-7f);
}

TEST(ErrorMetric, AppliesAbsoluteAndRelativeTolerance) {
  ErrorStats ok =
      compareWithReference({1.0, 10.001}, {1.0, 10.0}, Tolerance{1e-4, 1e-4});
  EXPECT_TRUE(ok.passed());
  EXPECT_NEAR(ok.maxAbsError, 1e-3, 1e-9);
  ErrorStats bad =
      compareWithReference({1.0, 1.01}, {1.0, 1.0}, Tolerance{1e-4, 1e-4});
  EXPECT_FALSE(bad.passed());
  EXPECT_EQ(bad.firstBadIndex, 1);
  EXPECT_FALSE(
      compareWithReference({NAN}, {0.0}, Tolerance{1e-4, 1e-4}).passed());
}

TEST(Random, IsDeterministic) {
  Random a(42), b(42), c(43);
  for (int i = 0; i < 4; ++i) {
    uint64_t x = a.next();
    EXPECT_EQ(x, b.next());
    EXPECT_NE(x, c.next());
  }
}

} // namespace
