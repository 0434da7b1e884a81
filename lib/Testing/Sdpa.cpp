//===- Sdpa.cpp - SDPA data, MLIR emission and f64 reference --------------===//
//
// Part of the quantkv project, under the Apache License v2.0 with LLVM
// Exceptions.
//
//===----------------------------------------------------------------------===//
//
// Everything here is written from the formulas in DESIGN.md and the
// quantkv.sdpa description, deliberately without MLIR: it is the oracle the
// compiled code is judged against.
//
//===----------------------------------------------------------------------===//

#include "quantkv/Testing/Sdpa.h"

#include <algorithm>
#include <cmath>
#include <iomanip>
#include <limits>
#include <sstream>

using namespace mlir::quantkv::testing;

//===----------------------------------------------------------------------===//
// Scale indexing
//===----------------------------------------------------------------------===//

/// The position in the scale tensor of `scheme` of element `i` of a 4-d
/// operand of `shape`: 0 per tensor, the index along `axis` per channel, the
/// row-major position of (idx[d] / group[d])_d per group.
static int64_t scaleIndex(const QuantScheme &scheme,
                          const std::vector<int64_t> &shape, int64_t i) {
  int64_t idx[4];
  for (int d = 3; d >= 0; --d) {
    idx[d] = i % shape[d];
    i /= shape[d];
  }
  switch (scheme.granularity) {
  case GranularityKind::PerTensor:
    return 0;
  case GranularityKind::PerChannel:
    return idx[scheme.axis];
  case GranularityKind::PerGroup: {
    int64_t pos = 0;
    for (int d = 0; d < 4; ++d)
      pos = pos * (shape[d] / scheme.groupShape[d]) +
            idx[d] / scheme.groupShape[d];
    return pos;
  }
  }
  return 0;
}

double mlir::quantkv::testing::dequantizeElement(const QuantScheme &scheme,
                                                 const HostTensor &data,
                                                 const HostTensor &scale,
                                                 const HostTensor &zeroPoint,
                                                 int64_t i) {
  if (!scheme.isQuantized())
    return data.get(i);
  int64_t s = scaleIndex(scheme, data.shape, i);
  double zp = scheme.hasZeroPoint ? zeroPoint.get(s) : 0.0;
  return (static_cast<double>(data.getInt(i)) - zp) * scale.get(s);
}

//===----------------------------------------------------------------------===//
// Data generation
//===----------------------------------------------------------------------===//

/// Fills `data` (and its scale / zero point) from uniform floats in [-1, 1).
static void generateCache(const QuantScheme &scheme,
                          const std::vector<int64_t> &shape, Random &rng,
                          HostTensor &data, HostTensor &scale,
                          HostTensor &zeroPoint) {
  int64_t n = numElements(shape);
  std::vector<float> x(n);
  for (float &v : x)
    v = static_cast<float>(rng.uniform(-1.0, 1.0));
  data = HostTensor(scheme.type, shape);
  if (!scheme.isQuantized()) {
    for (int64_t i = 0; i < n; ++i)
      data.set(i, x[i]);
    return;
  }

  std::vector<int64_t> sShape = scaleShapeFor(scheme, shape);
  int64_t numScales = numElements(sShape);
  std::vector<float> lo(numScales, INFINITY), hi(numScales, -INFINITY);
  for (int64_t i = 0; i < n; ++i) {
    int64_t s = scaleIndex(scheme, shape, i);
    lo[s] = std::min(lo[s], x[i]);
    hi[s] = std::max(hi[s], x[i]);
  }

  auto [qmin, qmax] = integerRange(scheme.type);
  scale = HostTensor(ElementKind::f32, sShape);
  if (scheme.hasZeroPoint)
    zeroPoint = HostTensor(scheme.getZeroPointType(), sShape);
  std::vector<float> scales(numScales), zps(numScales, 0.0f);
  for (int64_t s = 0; s < numScales; ++s) {
    float sc;
    if (scheme.hasZeroPoint) {
      sc = (hi[s] - lo[s]) / static_cast<float>(qmax - qmin);
    } else {
      float range = qmin < 0 ? std::max(std::fabs(lo[s]), std::fabs(hi[s]))
                             : std::max(hi[s], 0.0f);
      sc = range / static_cast<float>(qmax);
    }
    if (!(sc > 0.0f))
      sc = 1.0f;
    scales[s] = sc;
    scale.set(s, sc);
    if (!scheme.hasZeroPoint)
      continue;
    ElementKind zpKind = scheme.getZeroPointType();
    double zp = qmin - static_cast<double>(lo[s]) / sc;
    if (isInteger(zpKind)) {
      auto [zmin, zmax] = integerRange(zpKind);
      zp = roundHalfToEven(zp);
      zp = std::clamp<double>(zp, std::max(zmin, qmin), std::min(zmax, qmax));
    }
    zeroPoint.set(s, zp);
    zps[s] = static_cast<float>(zeroPoint.get(s));
  }
  for (int64_t i = 0; i < n; ++i) {
    int64_t s = scaleIndex(scheme, shape, i);
    data.setInt(i, quantizeValue(x[i], scales[s], zps[s], scheme.type));
  }
}

SdpaData mlir::quantkv::testing::generateSdpaData(const SdpaConfig &config) {
  SdpaData data;
  Random rng(config.seed);
  data.query = HostTensor(ElementKind::f32, config.queryShape());
  for (int64_t i = 0, e = data.query.size(); i < e; ++i)
    data.query.set(i, rng.uniform(-1.0, 1.0));
  generateCache(config.key, config.keyShape(), rng, data.key, data.keyScale,
                data.keyZeroPoint);
  generateCache(config.value, config.valueShape(), rng, data.value,
                data.valueScale, data.valueZeroPoint);
  if (config.mask == MaskKind::Explicit) {
    data.mask = HostTensor(ElementKind::f32, config.maskShape());
    for (int64_t i = 0, e = data.mask.size(); i < e; ++i) {
      bool dropped = rng.uniformInt(0, 7) == 0;
      double v = rng.uniform(-1.0, 0.0);
      data.mask.set(i, dropped ? -INFINITY : v);
    }
  }
  return data;
}

std::vector<const HostTensor *> SdpaData::inputs() const {
  std::vector<const HostTensor *> all;
  for (const HostTensor *t : {&query, &key, &keyScale, &keyZeroPoint, &value,
                              &valueScale, &valueZeroPoint, &mask})
    if (!t->empty())
      all.push_back(t);
  return all;
}

std::vector<std::string> SdpaData::inputNames() const {
  std::vector<std::string> names;
  const char *all[] = {"q", "k",       "k_scale",      "k_zero_point",
                       "v", "v_scale", "v_zero_point", "mask"};
  const HostTensor *tensors[] = {&query,          &key,   &keyScale,
                                 &keyZeroPoint,   &value, &valueScale,
                                 &valueZeroPoint, &mask};
  for (int i = 0; i < 8; ++i)
    if (!tensors[i]->empty())
      names.push_back(all[i]);
  return names;
}

//===----------------------------------------------------------------------===//
// MLIR emission
//===----------------------------------------------------------------------===//

static std::string tensorType(const std::vector<int64_t> &shape,
                              ElementKind kind) {
  std::string s = "tensor<";
  for (int64_t d : shape)
    s += std::to_string(d) + "x";
  return s + toMlirString(kind) + ">";
}

/// A float literal MLIR parses back to the same f32.
static std::string floatLiteral(double v) {
  std::ostringstream os;
  os << std::setprecision(9) << static_cast<float>(v);
  std::string s = os.str();
  if (s.find_first_of(".eEn") == std::string::npos)
    s += ".0";
  return s;
}

std::string mlir::quantkv::testing::emitSdpaModule(const SdpaConfig &config) {
  std::string qT = tensorType(config.queryShape(), ElementKind::f32);
  std::string kT = tensorType(config.keyShape(), config.key.type);
  std::string vT = tensorType(config.valueShape(), config.value.type);
  std::string oT = tensorType(config.outputShape(), ElementKind::f32);
  std::string mT = tensorType(config.maskShape(), ElementKind::f32);

  std::ostringstream args, operands;
  args << "%q: " << qT << ", %k: " << kT;
  operands << "q(%q : " << qT << ") k(%k : " << kT << ")";
  auto addQuant = [&](const QuantScheme &s, const std::vector<int64_t> &shape,
                      const char *prefix) {
    if (!s.isQuantized())
      return;
    std::vector<int64_t> sShape = scaleShapeFor(s, shape);
    std::string sT = tensorType(sShape, ElementKind::f32);
    args << ", %" << prefix << "_scale: " << sT;
    operands << " " << prefix << "_scale(%" << prefix << "_scale : " << sT
             << ")";
    if (s.hasZeroPoint) {
      std::string zT = tensorType(sShape, s.getZeroPointType());
      args << ", %" << prefix << "_zp: " << zT;
      operands << " " << prefix << "_zero_point(%" << prefix << "_zp : " << zT
               << ")";
    }
  };
  addQuant(config.key, config.keyShape(), "k");
  args << ", %v: " << vT;
  operands << "\n      v(%v : " << vT << ")";
  addQuant(config.value, config.valueShape(), "v");
  if (config.mask == MaskKind::Explicit) {
    args << ", %mask: " << mT;
    operands << "\n      mask(%mask : " << mT << ")";
  }

  std::vector<std::string> attrs;
  if (config.key.isQuantized())
    attrs.push_back("key_quant = " + config.key.granularityAttr());
  if (config.value.isQuantized())
    attrs.push_back("value_quant = " + config.value.granularityAttr());
  if (config.mask == MaskKind::Causal)
    attrs.push_back(std::string("causal = #quantkv.causal<") +
                    toString(config.causalAlign) + ">");
  if (config.math != MathMode::F32) {
    const char *mode = config.math == MathMode::BF16  ? "bf16"
                       : config.math == MathMode::F16 ? "f16"
                                                      : "int8";
    attrs.push_back(std::string("math_mode = #quantkv.math_mode<") + mode +
                    ">");
  }
  if (config.kLayout == KLayout::BDS)
    attrs.push_back("key_layout = #quantkv.k_layout<bds>");
  if (config.scale)
    attrs.push_back("scale = " + floatLiteral(*config.scale) + " : f32");

  std::ostringstream os;
  os << "// " << config.describe() << "\n";
  os << "func.func @sdpa(" << args.str() << ") -> " << oT << " {\n";
  os << "  %init = tensor.empty() : " << oT << "\n";
  os << "  %o = quantkv.sdpa " << operands.str()
     << "\n      outs(%init : " << oT << ")";
  if (!attrs.empty()) {
    os << "\n      {";
    for (size_t i = 0; i < attrs.size(); ++i)
      os << (i ? ", " : "") << attrs[i];
    os << "}";
  }
  os << "\n      : " << oT << "\n";
  os << "  return %o : " << oT << "\n}\n";
  return os.str();
}

//===----------------------------------------------------------------------===//
// f64 reference
//===----------------------------------------------------------------------===//

/// Rounds to the contraction type of the math mode (bf16/f16), else keeps.
static double roundForMath(MathMode math, double x) {
  if (math == MathMode::BF16)
    return roundToBF16(static_cast<float>(x));
  if (math == MathMode::F16)
    return roundToF16(static_cast<float>(x));
  return x;
}

std::vector<double>
mlir::quantkv::testing::referenceSdpa(const SdpaConfig &config,
                                      const SdpaData &data) {
  const int64_t B = config.batch, Hq = config.qHeads, Hkv = config.kvHeads;
  const int64_t Sq = config.qLen, Skv = config.kvLen, D = config.headDim;
  const int64_t Dv = config.getValueHeadDim();
  const int64_t groupSize = Hq / Hkv;
  const double scale = config.getScale();
  const MathMode math = config.math;
  const bool bds = config.kLayout == KLayout::BDS;

  // K' and V' once, in double, in [b, g, j, d] order whatever the layout.
  std::vector<double> k(B * Hkv * Skv * D), v(B * Hkv * Skv * Dv);
  for (int64_t b = 0; b < B; ++b)
    for (int64_t g = 0; g < Hkv; ++g)
      for (int64_t j = 0; j < Skv; ++j) {
        for (int64_t d = 0; d < D; ++d) {
          int64_t stored = bds ? ((b * Hkv + g) * D + d) * Skv + j
                               : ((b * Hkv + g) * Skv + j) * D + d;
          double kd = dequantizeElement(config.key, data.key, data.keyScale,
                                        data.keyZeroPoint, stored);
          k[((b * Hkv + g) * Skv + j) * D + d] = roundForMath(math, kd);
        }
        for (int64_t e = 0; e < Dv; ++e) {
          int64_t idx = ((b * Hkv + g) * Skv + j) * Dv + e;
          v[idx] = roundForMath(
              math, dequantizeElement(config.value, data.value,
                                      data.valueScale, data.valueZeroPoint,
                                      idx));
        }
      }

  std::vector<double> out(B * Hq * Sq * Dv, 0.0);
  std::vector<double> q(D), s(Skv);
  for (int64_t b = 0; b < B; ++b)
    for (int64_t h = 0; h < Hq; ++h) {
      int64_t g = h / groupSize;
      for (int64_t i = 0; i < Sq; ++i) {
        for (int64_t d = 0; d < D; ++d)
          q[d] = data.query.get(((b * Hq + h) * Sq + i) * D + d);
        if (math == MathMode::Int8) {
          // Symmetric per-row quantization to [-127, 127], in f32.
          float amax = 0.0f;
          for (int64_t d = 0; d < D; ++d)
            amax = std::max(amax, std::fabs(static_cast<float>(q[d])));
          float rowScale = amax / 127.0f;
          for (int64_t d = 0; d < D; ++d) {
            if (amax == 0.0f) {
              q[d] = 0.0;
              continue;
            }
            double r = roundHalfToEven(static_cast<float>(q[d]) / rowScale);
            q[d] = std::clamp(r, -127.0, 127.0) * rowScale;
          }
        } else {
          for (int64_t d = 0; d < D; ++d)
            q[d] = roundForMath(math, q[d]);
        }

        double rowMax = -INFINITY;
        for (int64_t j = 0; j < Skv; ++j) {
          bool masked = false;
          if (config.mask == MaskKind::Causal) {
            int64_t limit =
                config.causalAlign == CausalAlign::TopLeft ? i : i + Skv - Sq;
            masked = j > limit;
          }
          if (masked) {
            s[j] = -INFINITY;
            continue;
          }
          double dot = 0.0;
          for (int64_t d = 0; d < D; ++d)
            dot += q[d] * k[((b * Hkv + g) * Skv + j) * D + d];
          s[j] = scale * dot;
          if (config.mask == MaskKind::Explicit)
            s[j] += data.mask.get((b * Sq + i) * Skv + j);
          rowMax = std::max(rowMax, s[j]);
        }
        double *o = &out[((b * Hq + h) * Sq + i) * Dv];
        if (rowMax == -INFINITY)
          continue; // every key masked out: zeros
        double sum = 0.0;
        for (int64_t j = 0; j < Skv; ++j) {
          s[j] = std::exp(s[j] - rowMax);
          sum += s[j];
        }
        for (int64_t j = 0; j < Skv; ++j) {
          double p = roundForMath(math, s[j] / sum);
          for (int64_t e = 0; e < Dv; ++e)
            o[e] += p * v[((b * Hkv + g) * Skv + j) * Dv + e];
        }
      }
    }
  return out;
}
