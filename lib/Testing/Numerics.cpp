//===- Numerics.cpp - storage ABI and rounding helpers for tests ----------===//
//
// Part of the quantkv project, under the Apache License v2.0 with LLVM
// Exceptions.
//
//===----------------------------------------------------------------------===//

#include "quantkv/Testing/Numerics.h"

#include <cassert>
#include <cmath>
#include <cstring>

using namespace mlir::quantkv::testing;

static uint32_t floatBits(float x) {
  uint32_t u;
  std::memcpy(&u, &x, sizeof(u));
  return u;
}

static float bitsFloat(uint32_t u) {
  float x;
  std::memcpy(&x, &u, sizeof(x));
  return x;
}

//===----------------------------------------------------------------------===//
// Storage layout
//===----------------------------------------------------------------------===//

std::vector<int64_t>
mlir::quantkv::testing::storageShape(ElementKind kind,
                                     const std::vector<int64_t> &shape) {
  if (!isPacked4Bit(kind))
    return shape;
  std::vector<int64_t> packed = shape;
  if (packed.empty())
    packed.push_back(1);
  else
    packed.back() = (packed.back() + 1) / 2;
  return packed;
}

int64_t
mlir::quantkv::testing::storageBytes(ElementKind kind,
                                     const std::vector<int64_t> &shape) {
  int64_t n = numElements(storageShape(kind, shape));
  return isPacked4Bit(kind) ? n : n * (bitWidth(kind) / 8);
}

HostTensor::HostTensor(ElementKind kind, std::vector<int64_t> shape)
    : kind(kind), shape(std::move(shape)),
      bytes(storageBytes(kind, this->shape), 0) {}

/// Byte offset and nibble (0 low, 1 high) of 4-bit element `i`.
static std::pair<int64_t, int> nibbleAddress(const std::vector<int64_t> &shape,
                                             int64_t i) {
  int64_t last = shape.empty() ? 1 : shape.back();
  int64_t row = i / last, col = i % last;
  return {row * ((last + 1) / 2) + col / 2, static_cast<int>(col % 2)};
}

int64_t HostTensor::getInt(int64_t i) const {
  switch (kind) {
  case ElementKind::s4:
  case ElementKind::u4: {
    auto [byte, nibble] = nibbleAddress(shape, i);
    int64_t v = (bytes[byte] >> (4 * nibble)) & 0xF;
    if (kind == ElementKind::s4 && v >= 8)
      v -= 16;
    return v;
  }
  case ElementKind::s8:
    return static_cast<int8_t>(bytes[i]);
  case ElementKind::u8:
    return bytes[i];
  case ElementKind::s32: {
    int32_t v;
    std::memcpy(&v, &bytes[4 * i], 4);
    return v;
  }
  default:
    return static_cast<int64_t>(get(i));
  }
}

double HostTensor::get(int64_t i) const {
  switch (kind) {
  case ElementKind::f32: {
    float v;
    std::memcpy(&v, &bytes[4 * i], 4);
    return v;
  }
  case ElementKind::f16: {
    uint16_t v;
    std::memcpy(&v, &bytes[2 * i], 2);
    return f16BitsToFloat(v);
  }
  case ElementKind::bf16: {
    uint16_t v;
    std::memcpy(&v, &bytes[2 * i], 2);
    return bf16BitsToFloat(v);
  }
  default:
    return static_cast<double>(getInt(i));
  }
}

void HostTensor::setInt(int64_t i, int64_t v) {
  switch (kind) {
  case ElementKind::s4:
  case ElementKind::u4: {
    auto [byte, nibble] = nibbleAddress(shape, i);
    uint8_t bits = static_cast<uint8_t>(v) & 0xF;
    bytes[byte] = static_cast<uint8_t>((bytes[byte] & (nibble ? 0x0F : 0xF0)) |
                                       (bits << (4 * nibble)));
    return;
  }
  case ElementKind::s8:
  case ElementKind::u8:
    bytes[i] = static_cast<uint8_t>(v);
    return;
  case ElementKind::s32: {
    int32_t x = static_cast<int32_t>(v);
    std::memcpy(&bytes[4 * i], &x, 4);
    return;
  }
  default:
    set(i, static_cast<double>(v));
  }
}

void HostTensor::set(int64_t i, double v) {
  switch (kind) {
  case ElementKind::f32: {
    float x = static_cast<float>(v);
    std::memcpy(&bytes[4 * i], &x, 4);
    return;
  }
  case ElementKind::f16: {
    uint16_t x = floatToF16Bits(static_cast<float>(v));
    std::memcpy(&bytes[2 * i], &x, 2);
    return;
  }
  case ElementKind::bf16: {
    uint16_t x = floatToBF16Bits(static_cast<float>(v));
    std::memcpy(&bytes[2 * i], &x, 2);
    return;
  }
  default:
    setInt(i, static_cast<int64_t>(v));
  }
}

std::vector<uint8_t>
mlir::quantkv::testing::packNibbles(const std::vector<int64_t> &values,
                                    int64_t lastDim) {
  int64_t rows = values.size() / lastDim;
  int64_t rowBytes = (lastDim + 1) / 2;
  std::vector<uint8_t> bytes(rows * rowBytes, 0);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < lastDim; ++c) {
      uint8_t nibble = static_cast<uint8_t>(values[r * lastDim + c]) & 0xF;
      bytes[r * rowBytes + c / 2] |= (c % 2 == 0) ? nibble : nibble << 4;
    }
  return bytes;
}

std::vector<int64_t>
mlir::quantkv::testing::unpackNibbles(const std::vector<uint8_t> &bytes,
                                      int64_t count, int64_t lastDim,
                                      bool isSigned) {
  int64_t rowBytes = (lastDim + 1) / 2;
  std::vector<int64_t> values(count);
  for (int64_t i = 0; i < count; ++i) {
    int64_t r = i / lastDim, c = i % lastDim;
    uint8_t byte = bytes[r * rowBytes + c / 2];
    int64_t v = (c % 2 == 0) ? (byte & 0xF) : (byte >> 4);
    values[i] = (isSigned && v >= 8) ? v - 16 : v;
  }
  return values;
}

//===----------------------------------------------------------------------===//
// Rounding
//===----------------------------------------------------------------------===//

double mlir::quantkv::testing::roundHalfToEven(double x) {
  if (!std::isfinite(x))
    return x;
  double lo = std::floor(x);
  double diff = x - lo;
  if (diff < 0.5)
    return lo;
  if (diff > 0.5)
    return lo + 1;
  return std::fmod(lo, 2.0) == 0.0 ? lo : lo + 1;
}

int64_t mlir::quantkv::testing::quantizeValue(float x, float scale,
                                              float zeroPoint,
                                              ElementKind kind) {
  auto [qmin, qmax] = integerRange(kind);
  float q = x / scale;
  float shifted = static_cast<float>(roundHalfToEven(q)) + zeroPoint;
  if (std::isnan(shifted) || shifted <= static_cast<float>(qmin))
    return qmin;
  if (shifted >= static_cast<float>(qmax))
    return qmax;
  return static_cast<int64_t>(shifted);
}

uint16_t mlir::quantkv::testing::floatToF16Bits(float x) {
  uint32_t f = floatBits(x);
  uint16_t sign = static_cast<uint16_t>((f >> 16) & 0x8000);
  uint32_t mag = f & 0x7FFFFFFF;
  if (mag >= 0x7F800000) // inf or NaN
    return sign | (mag > 0x7F800000 ? 0x7E00 : 0x7C00);
  if (mag >= 0x477FF000) // >= 65520 rounds (ties to even) to inf
    return sign | 0x7C00;
  if (mag < 0x38800000) { // below 2^-14: a subnormal half (or zero)
    // Multiples of 2^-24; the product is exact in double.
    double units = static_cast<double>(bitsFloat(mag)) * 16777216.0;
    return sign | static_cast<uint16_t>(roundHalfToEven(units));
  }
  uint32_t exponent = (mag >> 23) - 127 + 15;
  uint32_t mantissa = mag & 0x7FFFFF;
  uint32_t h = (exponent << 10) | (mantissa >> 13);
  uint32_t rest = mantissa & 0x1FFF;
  if (rest > 0x1000 || (rest == 0x1000 && (h & 1)))
    ++h; // a carry into the exponent is the correct rounding
  return sign | static_cast<uint16_t>(h);
}

float mlir::quantkv::testing::f16BitsToFloat(uint16_t bits) {
  uint32_t sign = (bits & 0x8000u) << 16;
  uint32_t exponent = (bits >> 10) & 0x1F;
  uint32_t mantissa = bits & 0x3FF;
  float magnitude;
  if (exponent == 0)
    magnitude = static_cast<float>(mantissa) / 16777216.0f; // 2^-24 units
  else if (exponent == 31)
    magnitude = mantissa ? NAN : INFINITY;
  else
    magnitude = bitsFloat(((exponent - 15 + 127) << 23) | (mantissa << 13));
  return bitsFloat(floatBits(magnitude) | sign);
}

uint16_t mlir::quantkv::testing::floatToBF16Bits(float x) {
  uint32_t f = floatBits(x);
  if ((f & 0x7FFFFFFF) > 0x7F800000)
    return static_cast<uint16_t>((f >> 16) | 0x40); // quiet NaN
  uint32_t rounding = 0x7FFF + ((f >> 16) & 1);
  return static_cast<uint16_t>((f + rounding) >> 16);
}

float mlir::quantkv::testing::bf16BitsToFloat(uint16_t bits) {
  return bitsFloat(static_cast<uint32_t>(bits) << 16);
}

float mlir::quantkv::testing::roundToF16(float x) {
  return f16BitsToFloat(floatToF16Bits(x));
}

float mlir::quantkv::testing::roundToBF16(float x) {
  return bf16BitsToFloat(floatToBF16Bits(x));
}

//===----------------------------------------------------------------------===//
// Error metric
//===----------------------------------------------------------------------===//

ErrorStats mlir::quantkv::testing::compareWithReference(
    const std::vector<double> &output, const std::vector<double> &reference,
    Tolerance tolerance) {
  ErrorStats stats;
  stats.count = static_cast<int64_t>(output.size());
  if (output.size() != reference.size()) {
    stats.numBad = std::max<int64_t>(1, stats.count);
    stats.firstBadIndex = 0;
    return stats;
  }
  for (size_t i = 0; i < output.size(); ++i) {
    double o = output[i], r = reference[i];
    bool bad;
    if (!std::isfinite(o) || !std::isfinite(r)) {
      bad = !(o == r || (std::isnan(o) && std::isnan(r)));
      if (bad)
        stats.maxAbsError = INFINITY;
    } else {
      double err = std::fabs(o - r);
      stats.maxAbsError = std::max(stats.maxAbsError, err);
      if (std::fabs(r) > tolerance.atol)
        stats.maxRelError = std::max(stats.maxRelError, err / std::fabs(r));
      bad = err > tolerance.atol + tolerance.rtol * std::fabs(r);
    }
    if (bad) {
      if (stats.numBad == 0)
        stats.firstBadIndex = static_cast<int64_t>(i);
      ++stats.numBad;
    }
  }
  return stats;
}

//===----------------------------------------------------------------------===//
// Random
//===----------------------------------------------------------------------===//

uint64_t Random::next() {
  uint64_t z = (state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

double Random::uniform(double lo, double hi) {
  double unit = static_cast<double>(next() >> 11) * 0x1.0p-53;
  return lo + (hi - lo) * unit;
}

int64_t Random::uniformInt(int64_t lo, int64_t hi) {
  uint64_t span = static_cast<uint64_t>(hi - lo) + 1;
  if (span == 0) // the full 64-bit range
    return static_cast<int64_t>(next());
  return lo + static_cast<int64_t>(next() % span);
}
