//===- SdpaConfig.cpp - one SDPA test configuration -----------------------===//
//
// Part of the quantkv project, under the Apache License v2.0 with LLVM
// Exceptions.
//
//===----------------------------------------------------------------------===//

#include "quantkv/Testing/SdpaConfig.h"

#include <cmath>
#include <sstream>

using namespace mlir::quantkv::testing;

namespace {
struct KindName {
  ElementKind kind;
  const char *cli;
  const char *mlir;
};
constexpr KindName kKinds[] = {
    {ElementKind::s4, "s4", "si4"},      {ElementKind::u4, "u4", "ui4"},
    {ElementKind::s8, "s8", "si8"},      {ElementKind::u8, "u8", "ui8"},
    {ElementKind::s32, "s32", "si32"},   {ElementKind::f16, "f16", "f16"},
    {ElementKind::bf16, "bf16", "bf16"}, {ElementKind::f32, "f32", "f32"},
};

std::string shapeString(const std::array<int64_t, 4> &shape, const char *sep) {
  std::ostringstream os;
  for (size_t i = 0; i < shape.size(); ++i)
    os << (i ? sep : "") << shape[i];
  return os.str();
}
} // namespace

const char *mlir::quantkv::testing::toString(ElementKind kind) {
  for (const KindName &k : kKinds)
    if (k.kind == kind)
      return k.cli;
  return "?";
}

const char *mlir::quantkv::testing::toMlirString(ElementKind kind) {
  for (const KindName &k : kKinds)
    if (k.kind == kind)
      return k.mlir;
  return "?";
}

std::optional<ElementKind>
mlir::quantkv::testing::parseElementKind(const std::string &text) {
  for (const KindName &k : kKinds)
    if (text == k.cli || text == k.mlir)
      return k.kind;
  return std::nullopt;
}

bool mlir::quantkv::testing::isInteger(ElementKind kind) {
  switch (kind) {
  case ElementKind::s4:
  case ElementKind::u4:
  case ElementKind::s8:
  case ElementKind::u8:
  case ElementKind::s32:
    return true;
  default:
    return false;
  }
}

bool mlir::quantkv::testing::isPacked4Bit(ElementKind kind) {
  return kind == ElementKind::s4 || kind == ElementKind::u4;
}

int mlir::quantkv::testing::bitWidth(ElementKind kind) {
  switch (kind) {
  case ElementKind::s4:
  case ElementKind::u4:
    return 4;
  case ElementKind::s8:
  case ElementKind::u8:
    return 8;
  case ElementKind::f16:
  case ElementKind::bf16:
    return 16;
  case ElementKind::s32:
  case ElementKind::f32:
    return 32;
  }
  return 0;
}

std::pair<int64_t, int64_t>
mlir::quantkv::testing::integerRange(ElementKind kind) {
  switch (kind) {
  case ElementKind::s4:
    return {-8, 7};
  case ElementKind::u4:
    return {0, 15};
  case ElementKind::s8:
    return {-128, 127};
  case ElementKind::u8:
    return {0, 255};
  case ElementKind::s32:
    return {INT32_MIN, INT32_MAX};
  default:
    return {0, 0};
  }
}

const char *mlir::quantkv::testing::toString(GranularityKind kind) {
  switch (kind) {
  case GranularityKind::PerTensor:
    return "per_tensor";
  case GranularityKind::PerChannel:
    return "per_channel";
  case GranularityKind::PerGroup:
    return "per_group";
  }
  return "?";
}

std::optional<GranularityKind>
mlir::quantkv::testing::parseGranularityKind(const std::string &text) {
  if (text == "per_tensor")
    return GranularityKind::PerTensor;
  if (text == "per_channel")
    return GranularityKind::PerChannel;
  if (text == "per_group")
    return GranularityKind::PerGroup;
  return std::nullopt;
}

const char *mlir::quantkv::testing::toString(MaskKind kind) {
  switch (kind) {
  case MaskKind::None:
    return "none";
  case MaskKind::Causal:
    return "causal";
  case MaskKind::Explicit:
    return "explicit";
  }
  return "?";
}

const char *mlir::quantkv::testing::toString(CausalAlign align) {
  return align == CausalAlign::TopLeft ? "top_left" : "bottom_right";
}

const char *mlir::quantkv::testing::toString(MathMode mode) {
  switch (mode) {
  case MathMode::F32:
    return "f32";
  case MathMode::BF16:
    return "bf16";
  case MathMode::F16:
    return "f16";
  case MathMode::Int8:
    return "int8";
  }
  return "?";
}

const char *mlir::quantkv::testing::toString(KLayout layout) {
  return layout == KLayout::BDS ? "bds" : "bsd";
}

std::optional<MaskKind>
mlir::quantkv::testing::parseMaskKind(const std::string &text) {
  if (text == "none")
    return MaskKind::None;
  if (text == "causal")
    return MaskKind::Causal;
  if (text == "explicit")
    return MaskKind::Explicit;
  return std::nullopt;
}

std::optional<CausalAlign>
mlir::quantkv::testing::parseCausalAlign(const std::string &text) {
  if (text == "top_left")
    return CausalAlign::TopLeft;
  if (text == "bottom_right")
    return CausalAlign::BottomRight;
  return std::nullopt;
}

std::optional<MathMode>
mlir::quantkv::testing::parseMathMode(const std::string &text) {
  if (text == "f32" || text == "strict")
    return MathMode::F32;
  if (text == "bf16")
    return MathMode::BF16;
  if (text == "f16")
    return MathMode::F16;
  if (text == "int8")
    return MathMode::Int8;
  return std::nullopt;
}

std::optional<KLayout>
mlir::quantkv::testing::parseKLayout(const std::string &text) {
  if (text == "bsd")
    return KLayout::BSD;
  if (text == "bds")
    return KLayout::BDS;
  return std::nullopt;
}

Tolerance mlir::quantkv::testing::toleranceFor(MathMode mode) {
  switch (mode) {
  case MathMode::F32:
    return {1e-4, 1e-4};
  case MathMode::F16:
    return {5e-3, 5e-3};
  case MathMode::BF16:
    return {4e-2, 4e-2};
  case MathMode::Int8:
    return {1e-3, 1e-3};
  }
  return {1e-4, 1e-4};
}

//===----------------------------------------------------------------------===//
// QuantScheme
//===----------------------------------------------------------------------===//

QuantScheme QuantScheme::plain(ElementKind type) {
  QuantScheme s;
  s.type = type;
  return s;
}

QuantScheme QuantScheme::perTensor(ElementKind type, bool zeroPoint) {
  QuantScheme s;
  s.type = type;
  s.granularity = GranularityKind::PerTensor;
  s.hasZeroPoint = zeroPoint;
  return s;
}

QuantScheme QuantScheme::perChannel(ElementKind type, int64_t axis,
                                    bool zeroPoint) {
  QuantScheme s;
  s.type = type;
  s.granularity = GranularityKind::PerChannel;
  s.axis = axis;
  s.hasZeroPoint = zeroPoint;
  return s;
}

QuantScheme QuantScheme::perGroup(ElementKind type,
                                  std::array<int64_t, 4> group,
                                  bool zeroPoint) {
  QuantScheme s;
  s.type = type;
  s.granularity = GranularityKind::PerGroup;
  s.groupShape = group;
  s.hasZeroPoint = zeroPoint;
  return s;
}

std::string QuantScheme::granularityAttr() const {
  switch (granularity) {
  case GranularityKind::PerTensor:
    return "#quantkv.per_tensor";
  case GranularityKind::PerChannel:
    return "#quantkv.per_channel<axis = " + std::to_string(axis) + ">";
  case GranularityKind::PerGroup:
    return "#quantkv.per_group<[" + shapeString(groupShape, ", ") + "]>";
  }
  return "";
}

std::string QuantScheme::describe() const {
  std::string s = toString(type);
  if (!isQuantized())
    return s;
  s += " ";
  s += toString(granularity);
  if (granularity == GranularityKind::PerChannel)
    s += "(" + std::to_string(axis) + ")";
  else if (granularity == GranularityKind::PerGroup)
    s += "[" + shapeString(groupShape, ",") + "]";
  if (hasZeroPoint)
    s += std::string(" zp:") + toString(getZeroPointType());
  return s;
}

//===----------------------------------------------------------------------===//
// SdpaConfig
//===----------------------------------------------------------------------===//

int64_t mlir::quantkv::testing::numElements(const std::vector<int64_t> &shape) {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}

std::vector<int64_t>
mlir::quantkv::testing::scaleShapeFor(const QuantScheme &scheme,
                                      const std::vector<int64_t> &srcShape) {
  switch (scheme.granularity) {
  case GranularityKind::PerTensor:
    return {1};
  case GranularityKind::PerChannel:
    return {srcShape[scheme.axis]};
  case GranularityKind::PerGroup: {
    std::vector<int64_t> shape(srcShape.size());
    for (size_t d = 0; d < srcShape.size(); ++d)
      shape[d] = srcShape[d] / scheme.groupShape[d];
    return shape;
  }
  }
  return {1};
}

double SdpaConfig::getScale() const {
  return scale ? *scale : 1.0 / std::sqrt(static_cast<double>(headDim));
}

std::vector<int64_t> SdpaConfig::queryShape() const {
  return {batch, qHeads, qLen, headDim};
}

std::vector<int64_t> SdpaConfig::keyShape() const {
  if (kLayout == KLayout::BDS)
    return {batch, kvHeads, headDim, kvLen};
  return {batch, kvHeads, kvLen, headDim};
}

std::vector<int64_t> SdpaConfig::valueShape() const {
  return {batch, kvHeads, kvLen, getValueHeadDim()};
}

std::vector<int64_t> SdpaConfig::outputShape() const {
  return {batch, qHeads, qLen, getValueHeadDim()};
}

std::vector<int64_t> SdpaConfig::maskShape() const {
  return {batch, 1, qLen, kvLen};
}

/// Checks one cache scheme against the stored shape of its operand.
static std::string verifyScheme(const QuantScheme &scheme, const char *name,
                                const std::vector<int64_t> &shape) {
  ElementKind t = scheme.type;
  if (t == ElementKind::s32)
    return std::string(name) + " type s32 is not a cache type (use s4, u4, "
                               "s8, u8, f16, bf16 or f32)";
  if (!scheme.isQuantized()) {
    if (scheme.hasZeroPoint)
      return std::string(name) + " type " + toString(t) +
             " is not quantized and takes no zero point";
    return "";
  }
  if (scheme.hasZeroPoint) {
    ElementKind z = scheme.getZeroPointType();
    if (z == ElementKind::f16 || z == ElementKind::bf16)
      return std::string(name) + " zero point type " + toString(z) +
             " is not allowed (use s4, u4, s8, u8, s32 or f32)";
  }
  switch (scheme.granularity) {
  case GranularityKind::PerTensor:
    return "";
  case GranularityKind::PerChannel:
    if (scheme.axis < 0 || scheme.axis > 3)
      return std::string(name) + " per_channel axis " +
             std::to_string(scheme.axis) + " is out of range [0, 3]";
    return "";
  case GranularityKind::PerGroup:
    for (int d = 0; d < 4; ++d) {
      int64_t g = scheme.groupShape[d];
      if (g <= 0 || shape[d] % g != 0)
        return std::string(name) + " group dim " + std::to_string(d) + " (" +
               std::to_string(g) + ") must divide " + name + " dim " +
               std::to_string(d) + " (" + std::to_string(shape[d]) + ")";
    }
    return "";
  }
  return "";
}

std::string SdpaConfig::verify() const {
  struct Size {
    const char *name;
    int64_t value;
  };
  for (Size s : {Size{"batch", batch}, Size{"q-heads", qHeads},
                 Size{"kv-heads", kvHeads}, Size{"q-len", qLen},
                 Size{"kv-len", kvLen}, Size{"head-dim", headDim}})
    if (s.value <= 0)
      return std::string(s.name) + " must be positive, got " +
             std::to_string(s.value);
  if (valueHeadDim < 0)
    return "value head dim must be positive, got " +
           std::to_string(valueHeadDim);
  if (qHeads % kvHeads != 0)
    return "q-heads (" + std::to_string(qHeads) +
           ") must be a multiple of kv-heads (" + std::to_string(kvHeads) + ")";
  // The host data and the reference's full score matrix must fit in memory:
  // 2^28 f32 elements is 1 GiB per tensor.
  const int64_t kMaxElements = int64_t(1) << 28;
  for (int64_t a : {batch, qHeads, kvHeads, qLen, kvLen, headDim,
                    getValueHeadDim()})
    if (a > kMaxElements)
      return "problem too large (a size exceeds 2^28)";
  // In double: the int64 product of several large dims can overflow.
  auto tooLarge = [&](const std::vector<int64_t> &shape) {
    double n = 1;
    for (int64_t d : shape)
      n *= static_cast<double>(d);
    return n > static_cast<double>(kMaxElements);
  };
  if (tooLarge(queryShape()) || tooLarge(keyShape()) ||
      tooLarge(valueShape()) || tooLarge(outputShape()) ||
      tooLarge({batch, qHeads, qLen, kvLen}))
    return "problem too large (an operand or the score matrix exceeds 2^28 "
           "elements)";
  if (std::string e = verifyScheme(key, "key", keyShape()); !e.empty())
    return e;
  if (std::string e = verifyScheme(value, "value", valueShape()); !e.empty())
    return e;
  if (math == MathMode::Int8 && !key.isQuantized())
    return std::string("math int8 needs an integer key type, got ") +
           toString(key.type);
  if (scale && (!std::isfinite(*scale) || *scale == 0.0))
    return "scale must be finite and non-zero";
  return "";
}

std::string SdpaConfig::describe() const {
  std::ostringstream os;
  os << "B=" << batch << " Hq=" << qHeads << " Hkv=" << kvHeads
     << " Sq=" << qLen << " Skv=" << kvLen << " D=" << headDim;
  if (getValueHeadDim() != headDim)
    os << " Dv=" << getValueHeadDim();
  os << " K=" << key.describe();
  if (kLayout == KLayout::BDS)
    os << " (bds)";
  os << " V=" << value.describe() << " mask=" << toString(mask);
  if (mask == MaskKind::Causal)
    os << "(" << toString(causalAlign) << ")";
  os << " math=" << toString(math);
  if (scale)
    os << " scale=" << *scale;
  os << " seed=" << seed;
  return os.str();
}
