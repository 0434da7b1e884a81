//===- OneDnnSdpa.cpp - oneDNN unfused SDPA baseline ----------------------===//
//
// Part of the quantkv project, under the Apache License v2.0 with LLVM
// Exceptions.
//
//===----------------------------------------------------------------------===//

#include "OneDnnSdpa.h"

#include "quantkv/Testing/Numerics.h"

#include <oneapi/dnnl/dnnl.hpp>

#include <cmath>
#include <cstring>

using namespace mlir::quantkv;
using namespace mlir::quantkv::bench;
using namespace mlir::quantkv::testing;

using tag = dnnl::memory::format_tag;
using dt = dnnl::memory::data_type;

struct OneDnnSdpa::Impl {
  SdpaConfig config;
  const SdpaRunner *inputs = nullptr;
  bool bf16 = false;
  int64_t N = 0, M = 0, S = 0, D = 0, Dv = 0;
  dnnl::engine engine{dnnl::engine::kind::cpu, 0};
  dnnl::stream stream{engine};
  // f32 buffers (and their bf16 twins when bf16 is set).
  std::vector<float> q, k, v, s, o, mask;
  std::vector<uint16_t> qh, kh, vh, ph;
  dnnl::matmul qk, pv;
  dnnl::softmax_forward softmax;
  dnnl::reorder toBf16;
  dnnl::binary addMask;
  dnnl::memory qMem, kMem, vMem, sMem, pMem, oMem, maskMem;

  void dequantize(const HostTensor &data, const HostTensor &scale,
                  const HostTensor &zp, const QuantScheme &scheme,
                  std::vector<float> &f32, std::vector<uint16_t> &b16);
};

static inline uint16_t toBf16Bits(float x) {
  uint32_t u;
  std::memcpy(&u, &x, 4);
  u += 0x7fff + ((u >> 16) & 1);
  return uint16_t(u >> 16);
}

/// Dequantizes a [B, H, S, D] cache into f32 (or bf16). Two layouts get
/// vectorizable loops, with or without zero points: 4-bit data with groups
/// along D and per-token scales, and 8-bit data with per-channel (axis 3)
/// scales. Anything else goes element by element through the reference
/// formula (correct, but it makes the baseline slower than a framework's
/// dequantization would be: the benchmark suite uses only the fast layouts).
void OneDnnSdpa::Impl::dequantize(const HostTensor &data,
                                  const HostTensor &scale,
                                  const HostTensor &zp,
                                  const QuantScheme &scheme,
                                  std::vector<float> &f32,
                                  std::vector<uint16_t> &b16) {
  int64_t n = data.size();
  int64_t d = data.shape[3];
  int64_t rows = n / d;
  const float *sc = reinterpret_cast<const float *>(scale.bytes.data());
  bool is4Bit =
      scheme.type == ElementKind::s4 || scheme.type == ElementKind::u4;
  bool is8Bit =
      scheme.type == ElementKind::s8 || scheme.type == ElementKind::u8;
  bool isSigned =
      scheme.type == ElementKind::s4 || scheme.type == ElementKind::s8;
  bool fast4 = is4Bit && scheme.granularity == GranularityKind::PerGroup &&
               scheme.groupShape[0] == 1 && scheme.groupShape[1] == 1 &&
               scheme.groupShape[2] == 1 && d % 2 == 0 &&
               scheme.groupShape[3] % 2 == 0 && scale.size() == rows * (d / scheme.groupShape[3]);
  bool fast8 = is8Bit && scheme.granularity == GranularityKind::PerChannel &&
               scheme.axis == 3;
  // Zero points once, as floats in the scale's layout (they may be stored
  // packed or in another integer type).
  std::vector<float> zpf(scale.size(), 0.0f);
  if (scheme.hasZeroPoint)
    for (int64_t i = 0, e = scale.size(); i < e; ++i)
      zpf[i] = static_cast<float>(zp.get(i));
  const float *z = zpf.data();
  // Separate loops per output type so that each one vectorizes.
  auto run = [&](auto *out, auto convert) {
    if (fast4) {
      int64_t g = scheme.groupShape[3], groups = d / g;
      const uint8_t *bytes = data.bytes.data();
#pragma omp parallel for schedule(static)
      for (int64_t r = 0; r < rows; ++r)
        for (int64_t gi = 0; gi < groups; ++gi) {
          float s = sc[r * groups + gi], zero = z[r * groups + gi];
          const uint8_t *src = bytes + r * (d / 2) + gi * (g / 2);
          auto *dst = out + r * d + gi * g;
          if (isSigned) {
            for (int64_t i = 0; i < g / 2; ++i) {
              uint8_t byte = src[i];
              dst[2 * i] = convert((float(int8_t(byte << 4) >> 4) - zero) * s);
              dst[2 * i + 1] = convert((float(int8_t(byte) >> 4) - zero) * s);
            }
          } else {
            for (int64_t i = 0; i < g / 2; ++i) {
              uint8_t byte = src[i];
              dst[2 * i] = convert((float(byte & 15) - zero) * s);
              dst[2 * i + 1] = convert((float(byte >> 4) - zero) * s);
            }
          }
        }
      return;
    }
    if (fast8) {
      const uint8_t *bytes = data.bytes.data();
#pragma omp parallel for schedule(static)
      for (int64_t r = 0; r < rows; ++r) {
        if (isSigned) {
          const int8_t *src = reinterpret_cast<const int8_t *>(bytes + r * d);
          for (int64_t c = 0; c < d; ++c)
            out[r * d + c] = convert((float(src[c]) - z[c]) * sc[c]);
        } else {
          const uint8_t *src = bytes + r * d;
          for (int64_t c = 0; c < d; ++c)
            out[r * d + c] = convert((float(src[c]) - z[c]) * sc[c]);
        }
      }
      return;
    }
#pragma omp parallel for schedule(static)
    for (int64_t i = 0; i < n; ++i)
      out[i] = convert(float(dequantizeElement(scheme, data, scale, zp, i)));
  };
  if (bf16)
    run(b16.data(), [](float x) { return toBf16Bits(x); });
  else
    run(f32.data(), [](float x) { return x; });
}

llvm::Expected<std::unique_ptr<OneDnnSdpa>>
OneDnnSdpa::create(const SdpaConfig &config, const SdpaRunner &inputs,
                   bool bf16) {
  if (config.kLayout != KLayout::BSD)
    return llvm::createStringError("key layout bds not benchmarked");
  auto self = std::unique_ptr<OneDnnSdpa>(new OneDnnSdpa());
  self->impl = std::make_unique<Impl>();
  Impl &m = *self->impl;
  m.config = config;
  m.inputs = &inputs;
  m.bf16 = bf16;
  int64_t G = config.qHeads / config.kvHeads;
  m.N = config.batch * config.kvHeads;
  m.M = G * config.qLen;
  m.S = config.kvLen;
  m.D = config.headDim;
  m.Dv = config.getValueHeadDim();
  try {
    dt in = bf16 ? dt::bf16 : dt::f32;
    dnnl::memory::desc qMd({m.N, m.M, m.D}, in, tag::abc);
    dnnl::memory::desc kMd({m.N, m.D, m.S}, in, tag::acb); // K^T view
    dnnl::memory::desc sMd({m.N, m.M, m.S}, dt::f32, tag::abc);
    dnnl::memory::desc pMd({m.N, m.M, m.S}, in, tag::abc);
    dnnl::memory::desc vMd({m.N, m.S, m.Dv}, in, tag::abc);
    dnnl::memory::desc oMd({m.N, m.M, m.Dv}, dt::f32, tag::abc);
    dnnl::memory::desc maskMd({1, m.M, m.S}, dt::f32, tag::abc);

    bool needMask = false;
    if (config.mask == MaskKind::Causal) {
      m.mask.assign(m.M * m.S, 0.0f);
      for (int64_t r = 0; r < m.M; ++r) {
        int64_t i = r % config.qLen;
        int64_t limit = config.causalAlign == CausalAlign::TopLeft
                            ? i
                            : i + config.kvLen - config.qLen;
        for (int64_t j = limit + 1; j < m.S; ++j) {
          m.mask[r * m.S + j] = -INFINITY;
          needMask = true;
        }
      }
    } else if (config.mask == MaskKind::Explicit) {
      return llvm::createStringError("explicit masks are not benchmarked");
    }

    // The mask is a separate binary primitive: as a matmul post-op with a
    // broadcast operand oneDNN 2.6 falls back to its reference matmul.
    dnnl::primitive_attr qkAttr;
    qkAttr.set_output_scales(0, {float(config.getScale())});
    if (needMask)
      m.addMask = dnnl::binary(dnnl::binary::primitive_desc(
          dnnl::binary::desc(dnnl::algorithm::binary_add, sMd, maskMd, sMd),
          m.engine));
    m.qk = dnnl::matmul(
        dnnl::matmul::primitive_desc(
            dnnl::matmul::desc(qMd, kMd, sMd), qkAttr, m.engine));
    m.softmax = dnnl::softmax_forward(dnnl::softmax_forward::primitive_desc(
        dnnl::softmax_forward::desc(dnnl::prop_kind::forward_inference, sMd,
                                    2),
        m.engine));
    m.pv = dnnl::matmul(dnnl::matmul::primitive_desc(
        dnnl::matmul::desc(pMd, vMd, oMd), m.engine));

    m.q.resize(m.N * m.M * m.D);
    const HostTensor &qT = inputs.data().query;
    for (int64_t i = 0; i < qT.size(); ++i)
      m.q[i] = float(qT.get(i));
    m.s.resize(m.N * m.M * m.S);
    m.o.resize(m.N * m.M * m.Dv);
    if (bf16) {
      m.qh.resize(m.q.size());
      for (size_t i = 0; i < m.q.size(); ++i)
        m.qh[i] = toBf16Bits(m.q[i]);
      m.kh.resize(m.N * m.S * m.D);
      m.vh.resize(m.N * m.S * m.Dv);
      m.ph.resize(m.s.size());
      m.qMem = dnnl::memory(qMd, m.engine, m.qh.data());
      m.kMem = dnnl::memory(kMd, m.engine, m.kh.data());
      m.vMem = dnnl::memory(vMd, m.engine, m.vh.data());
      m.pMem = dnnl::memory(pMd, m.engine, m.ph.data());
    } else {
      m.k.resize(m.N * m.S * m.D);
      m.v.resize(m.N * m.S * m.Dv);
      m.qMem = dnnl::memory(qMd, m.engine, m.q.data());
      m.kMem = dnnl::memory(kMd, m.engine, m.k.data());
      m.vMem = dnnl::memory(vMd, m.engine, m.v.data());
    }
    m.sMem = dnnl::memory(sMd, m.engine, m.s.data());
    if (!bf16)
      m.pMem = m.sMem;
    else
      m.toBf16 = dnnl::reorder(m.sMem, m.pMem);
    m.oMem = dnnl::memory(oMd, m.engine, m.o.data());
    if (needMask)
      m.maskMem = dnnl::memory(maskMd, m.engine, m.mask.data());
  } catch (const dnnl::error &e) {
    return llvm::createStringError(std::string("oneDNN: ") + e.what());
  }
  return self;
}

OneDnnSdpa::~OneDnnSdpa() = default;

void OneDnnSdpa::run(int64_t copy) {
  Impl &m = *impl;
  const SdpaData &data = m.inputs->data(copy);
  m.dequantize(data.key, data.keyScale, data.keyZeroPoint, m.config.key, m.k,
               m.kh);
  m.dequantize(data.value, data.valueScale, data.valueZeroPoint,
               m.config.value, m.v, m.vh);
  std::unordered_map<int, dnnl::memory> qkArgs = {
      {DNNL_ARG_SRC, m.qMem}, {DNNL_ARG_WEIGHTS, m.kMem},
      {DNNL_ARG_DST, m.sMem}};
  m.qk.execute(m.stream, qkArgs);
  if (m.maskMem)
    m.addMask.execute(m.stream, {{DNNL_ARG_SRC_0, m.sMem},
                                 {DNNL_ARG_SRC_1, m.maskMem},
                                 {DNNL_ARG_DST, m.sMem}});
  m.softmax.execute(m.stream, {{DNNL_ARG_SRC, m.sMem}, {DNNL_ARG_DST, m.sMem}});
  if (m.bf16)
    m.toBf16.execute(m.stream, m.sMem, m.pMem);
  m.pv.execute(m.stream, {{DNNL_ARG_SRC, m.pMem},
                          {DNNL_ARG_WEIGHTS, m.vMem},
                          {DNNL_ARG_DST, m.oMem}});
  m.stream.wait();
}

std::vector<double> OneDnnSdpa::output() const {
  return std::vector<double>(impl->o.begin(), impl->o.end());
}
