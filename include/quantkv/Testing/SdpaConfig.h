//===- SdpaConfig.h - one SDPA test configuration ---------------*- C++ -*-===//
//
// Part of the quantkv project, under the Apache License v2.0 with LLVM
// Exceptions.
//
//===----------------------------------------------------------------------===//
//
// The description of one compressed-K/V attention problem, shared by every
// tool that generates, compiles and checks one: quantkv-run, the benchmark,
// the differential sweep and the unit tests.
//
//   SdpaConfig config;
//   config.qHeads = 32; config.kvHeads = 8; config.kvLen = 256;
//   config.key = QuantScheme::perGroup(ElementKind::s4, {1, 1, 1, 32});
//   config.value = QuantScheme::perChannel(ElementKind::u8, 3, true);
//   config.mask = MaskKind::Causal;
//   if (std::string err = config.verify(); !err.empty()) ...  // one line
//
// Shapes follow quantkv.sdpa: Q [B, Hq, Sq, D], K [B, Hkv, Skv, D] (or
// [B, Hkv, D, Skv] with KLayout::bds), V [B, Hkv, Skv, Dv], out
// [B, Hq, Sq, Dv]. Group shapes and per-channel axes index the *stored*
// layout of the operand they quantize (so D is dim 2 of a bds key).
//
// This header has no MLIR dependency on purpose: the reference it feeds must
// not share code with the compiler it checks.
//
//===----------------------------------------------------------------------===//

#ifndef QUANTKV_TESTING_SDPACONFIG_H
#define QUANTKV_TESTING_SDPACONFIG_H

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace mlir::quantkv::testing {

/// Element types a test tensor can hold. s4/u4 are stored packed (two per
/// byte, element 2i in the low nibble); bf16/f16 as their 16-bit patterns.
enum class ElementKind { s4, u4, s8, u8, s32, f16, bf16, f32 };

/// "s4", "u8", "f32", ... (the CLI spelling).
const char *toString(ElementKind kind);
/// The MLIR spelling: "si4", "ui8", "f32", ...
const char *toMlirString(ElementKind kind);
/// Parses the CLI spelling; std::nullopt when unknown.
std::optional<ElementKind> parseElementKind(const std::string &text);
/// True for s4, u4, s8, u8, s32.
bool isInteger(ElementKind kind);
/// True for s4, u4 (stored two per byte).
bool isPacked4Bit(ElementKind kind);
/// Bits per element: 4, 8, 16 or 32.
int bitWidth(ElementKind kind);
/// [qmin, qmax] of an integer kind, e.g. [-8, 7] for s4.
std::pair<int64_t, int64_t> integerRange(ElementKind kind);

enum class GranularityKind { PerTensor, PerChannel, PerGroup };

const char *toString(GranularityKind kind);
std::optional<GranularityKind> parseGranularityKind(const std::string &text);

/// How one cache operand (K or V) is stored.
struct QuantScheme {
  /// Storage element type: s4, u4, s8, u8 (quantized) or f16, bf16, f32
  /// (plain floats: no scale, no zero point).
  ElementKind type = ElementKind::f32;
  GranularityKind granularity = GranularityKind::PerChannel;
  /// Axis of PerChannel, in the stored layout.
  int64_t axis = 3;
  /// Group shape of PerGroup, one entry per stored dim; each divides its dim.
  std::array<int64_t, 4> groupShape = {1, 1, 1, 1};
  /// Asymmetric quantization with a zero point of `zeroPointType` (s4, u4,
  /// s8, u8, s32 or f32; std::nullopt = the storage type).
  bool hasZeroPoint = false;
  std::optional<ElementKind> zeroPointType;

  bool isQuantized() const { return isInteger(type); }
  ElementKind getZeroPointType() const { return zeroPointType.value_or(type); }

  static QuantScheme plain(ElementKind type);
  static QuantScheme perTensor(ElementKind type, bool zeroPoint = false);
  static QuantScheme perChannel(ElementKind type, int64_t axis,
                                bool zeroPoint = false);
  static QuantScheme perGroup(ElementKind type, std::array<int64_t, 4> group,
                              bool zeroPoint = false);

  /// The quantkv attribute text, e.g. "#quantkv.per_group<[1, 1, 1, 32]>".
  std::string granularityAttr() const;
  /// Short description, e.g. "s4 per_group[1,1,1,32]" or "u8 per_channel(3)
  /// zp:u8".
  std::string describe() const;
};

enum class MaskKind { None, Causal, Explicit };
enum class CausalAlign { TopLeft, BottomRight };
enum class MathMode { F32, BF16, F16, Int8 };
enum class KLayout { BSD, BDS };

const char *toString(MaskKind kind);
const char *toString(CausalAlign align);
const char *toString(MathMode mode);
const char *toString(KLayout layout);
std::optional<MaskKind> parseMaskKind(const std::string &text);
std::optional<CausalAlign> parseCausalAlign(const std::string &text);
std::optional<MathMode> parseMathMode(const std::string &text);
std::optional<KLayout> parseKLayout(const std::string &text);

/// Absolute and relative tolerance of a check: an output element `o` with
/// reference `r` passes when |o - r| <= atol + rtol * |r|.
struct Tolerance {
  double atol;
  double rtol;
};

/// The tolerance of each math mode (see docs/Reference.md):
///   f32  1e-4 + 1e-4 |r|  (f32 arithmetic against f64)
///   f16  5e-3 + 5e-3 |r|  (Q, K', P rounded to f16: 2^-11 relative each)
///   bf16 4e-2 + 4e-2 |r|  (Q, K', P rounded to bf16: 2^-8 relative each)
///   int8 1e-3 + 1e-3 |r|  (Q quantized identically on both sides; f32 rest)
Tolerance toleranceFor(MathMode mode);

/// One scaled dot-product attention problem over a compressed cache.
struct SdpaConfig {
  int64_t batch = 1;
  int64_t qHeads = 1;
  int64_t kvHeads = 1;
  int64_t qLen = 1;
  int64_t kvLen = 16;
  int64_t headDim = 64;
  /// Dv; 0 means "same as headDim".
  int64_t valueHeadDim = 0;
  QuantScheme key = QuantScheme::plain(ElementKind::f32);
  QuantScheme value = QuantScheme::plain(ElementKind::f32);
  MaskKind mask = MaskKind::None;
  CausalAlign causalAlign = CausalAlign::BottomRight;
  MathMode math = MathMode::F32;
  KLayout kLayout = KLayout::BSD;
  /// Softmax scale; std::nullopt means 1/sqrt(headDim).
  std::optional<double> scale;
  uint64_t seed = 1;

  int64_t getValueHeadDim() const {
    return valueHeadDim ? valueHeadDim : headDim;
  }
  double getScale() const;

  std::vector<int64_t> queryShape() const;
  /// [B, Hkv, Skv, D], or [B, Hkv, D, Skv] for KLayout::bds.
  std::vector<int64_t> keyShape() const;
  std::vector<int64_t> valueShape() const;
  std::vector<int64_t> outputShape() const;
  /// The explicit mask is generated as [B, 1, Sq, Skv] (broadcast over heads).
  std::vector<int64_t> maskShape() const;
  /// Index of the D dim in the stored key (3 for bsd, 2 for bds).
  int64_t keyHeadDimAxis() const { return kLayout == KLayout::BDS ? 2 : 3; }
  int64_t keySeqAxis() const { return kLayout == KLayout::BDS ? 3 : 2; }

  /// Checks every rule (positive sizes, Hq a multiple of Hkv, groups dividing
  /// dims, axes in range, types allowed where they are used, int8 math only
  /// with an integer K). Returns "" when valid, else a one-line message.
  std::string verify() const;

  /// One-line description, e.g.
  /// "B=1 Hq=32 Hkv=8 Sq=1 Skv=256 D=128 K=s4 per_group[1,1,1,32] ...".
  std::string describe() const;
};

/// The scale (and zero point) shape of `scheme` over a source of `srcShape`:
/// [1] per tensor, [src[axis]] per channel, src/group per group.
std::vector<int64_t> scaleShapeFor(const QuantScheme &scheme,
                                   const std::vector<int64_t> &srcShape);

/// Product of the dims.
int64_t numElements(const std::vector<int64_t> &shape);

} // namespace mlir::quantkv::testing

#endif // QUANTKV_TESTING_SDPACONFIG_H
