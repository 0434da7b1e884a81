//===- Numerics.h - storage ABI and rounding helpers for tests --*- C++ -*-===//
//
// Part of the quantkv project, under the Apache License v2.0 with LLVM
// Exceptions.
//
//===----------------------------------------------------------------------===//
//
// Host-side helpers written from the specification (DESIGN.md "Memory ABI"
// and the quantize formula), independent of the compiler:
//   - HostTensor: a tensor in the storage ABI (4-bit packed two per byte,
//     element 2i in the low nibble of byte i along the last dim, an odd last
//     dim padded to a whole byte; f16/bf16 as 16-bit patterns);
//   - round-half-to-even and saturating quantization;
//   - f16/bf16 rounding (round to nearest even);
//   - an error metric against a reference.
//
//===----------------------------------------------------------------------===//

#ifndef QUANTKV_TESTING_NUMERICS_H
#define QUANTKV_TESTING_NUMERICS_H

#include "quantkv/Testing/SdpaConfig.h"

#include <cstddef>
#include <cstdint>
#include <new>
#include <string>
#include <vector>

namespace mlir::quantkv::testing {

/// Allocates on cache-line (64-byte) boundaries, the alignment frameworks
/// give tensors (PyTorch's CPU allocator, oneDNN memory objects). With
/// malloc's 16 bytes every other 64-byte cache row straddles two lines, and
/// a kernel's speed then depends on where the heap happened to put a buffer.
template <typename T> struct CacheLineAllocator {
  using value_type = T;
  static constexpr std::align_val_t kAlignment{64};

  CacheLineAllocator() = default;
  template <typename U> CacheLineAllocator(const CacheLineAllocator<U> &) {}

  T *allocate(std::size_t n) {
    return static_cast<T *>(::operator new(n * sizeof(T), kAlignment));
  }
  void deallocate(T *p, std::size_t) { ::operator delete(p, kAlignment); }

  template <typename U> bool operator==(const CacheLineAllocator<U> &) const {
    return true;
  }
  template <typename U> bool operator!=(const CacheLineAllocator<U> &) const {
    return false;
  }
};

/// Tensor storage as passed to compiled code.
using AlignedBytes = std::vector<uint8_t, CacheLineAllocator<uint8_t>>;

/// Bytes of a row-major tensor of `shape` in the storage ABI.
int64_t storageBytes(ElementKind kind, const std::vector<int64_t> &shape);
/// The storage shape: the last dim halved (rounded up) for 4-bit kinds, a
/// rank-0 4-bit tensor stored as one byte.
std::vector<int64_t> storageShape(ElementKind kind,
                                  const std::vector<int64_t> &shape);

/// A dense row-major tensor held in the storage ABI.
struct HostTensor {
  ElementKind kind = ElementKind::f32;
  /// The logical shape (unpacked).
  std::vector<int64_t> shape;
  AlignedBytes bytes;

  HostTensor() = default;
  HostTensor(ElementKind kind, std::vector<int64_t> shape);

  int64_t size() const { return numElements(shape); }
  bool empty() const { return shape.empty() && bytes.empty(); }
  std::vector<int64_t> getStorageShape() const {
    return storageShape(kind, shape);
  }

  /// Reads / writes the element at logical row-major position `i`.
  /// Integers are exact; floats are widened from their stored precision.
  double get(int64_t i) const;
  int64_t getInt(int64_t i) const;
  /// Stores `v` rounded to the element type (integers: v must be in range;
  /// f16/bf16: round to nearest even).
  void set(int64_t i, double v);
  void setInt(int64_t i, int64_t v);
};

/// Packs signed or unsigned 4-bit values (each in [-8, 15]) two per byte along
/// a last dim of `lastDim` elements: element 2i goes to the low nibble of
/// byte i, 2i+1 to the high nibble; an odd row is padded with a zero nibble.
std::vector<uint8_t> packNibbles(const std::vector<int64_t> &values,
                                 int64_t lastDim);
/// The inverse of packNibbles: `count` elements, sign-extended when `isSigned`.
std::vector<int64_t> unpackNibbles(const std::vector<uint8_t> &bytes,
                                   int64_t count, int64_t lastDim,
                                   bool isSigned);

/// Rounds to the nearest integer, ties to even (2.5 -> 2, 3.5 -> 4,
/// -2.5 -> -2).
double roundHalfToEven(double x);

/// quantize of one element as DESIGN.md states it, in f32:
/// clamp(round_half_to_even(x / scale) + zp, qmin, qmax). NaN gives qmin.
int64_t quantizeValue(float x, float scale, float zeroPoint, ElementKind kind);

/// Rounds to f16 / bf16 (nearest even) and back.
float roundToF16(float x);
float roundToBF16(float x);
uint16_t floatToF16Bits(float x);
float f16BitsToFloat(uint16_t bits);
uint16_t floatToBF16Bits(float x);
float bf16BitsToFloat(uint16_t bits);

/// The result of comparing an output with its reference.
struct ErrorStats {
  double maxAbsError = 0;
  /// max |o - r| / |r| over elements with |r| > atol (0 if there are none).
  double maxRelError = 0;
  /// Elements outside the tolerance (a NaN mismatch counts).
  int64_t numBad = 0;
  int64_t firstBadIndex = -1;
  int64_t count = 0;
  bool passed() const { return numBad == 0; }
};

/// |o - r| <= atol + rtol * |r| for every element; NaN/inf must match.
ErrorStats compareWithReference(const std::vector<double> &output,
                                const std::vector<double> &reference,
                                Tolerance tolerance);

/// A small deterministic generator (splitmix64): the same seed gives the same
/// stream on every platform and standard library.
class Random {
public:
  explicit Random(uint64_t seed) : state(seed) {}
  uint64_t next();
  /// Uniform in [lo, hi).
  double uniform(double lo, double hi);
  /// Uniform integer in [lo, hi].
  int64_t uniformInt(int64_t lo, int64_t hi);

private:
  uint64_t state;
};

} // namespace mlir::quantkv::testing

#endif // QUANTKV_TESTING_NUMERICS_H
