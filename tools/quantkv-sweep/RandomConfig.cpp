//===- RandomConfig.cpp - seeded random SDPA configurations ---------------===//
//
// Part of the quantkv project, under the Apache License v2.0 with LLVM
// Exceptions.
//
//===----------------------------------------------------------------------===//

#include "RandomConfig.h"

#include "quantkv/Testing/Numerics.h"

#include <initializer_list>
#include <vector>

using namespace mlir::quantkv::testing;

namespace {

/// Picks one of `choices` uniformly.
template <typename T>
T pick(Random &rng, std::initializer_list<T> choices) {
  std::vector<T> v(choices);
  return v[rng.uniformInt(0, static_cast<int64_t>(v.size()) - 1)];
}

/// True with probability `p`.
bool chance(Random &rng, double p) { return rng.uniform(0.0, 1.0) < p; }

/// A group size along a dim of `size`: the whole dim (a broadcast scale dim)
/// or 1 (one scale per index) or a proper divisor, so groups along D, along
/// S and 2-D blocks all come up.
int64_t groupAlong(Random &rng, int64_t size) {
  std::vector<int64_t> divisors;
  for (int64_t g = 2; g < size; ++g)
    if (size % g == 0)
      divisors.push_back(g);
  double r = rng.uniform(0.0, 1.0);
  if (r < 0.3 || size == 1)
    return size;
  if (r < 0.55 || divisors.empty())
    return 1;
  return divisors[rng.uniformInt(0, static_cast<int64_t>(divisors.size()) - 1)];
}

/// A storage scheme for a cache operand whose stored shape is `shape`;
/// `headDimAxis` is where D is (the common per-channel / per-group axis).
QuantScheme randomScheme(Random &rng, const std::vector<int64_t> &shape,
                         int64_t headDimAxis) {
  if (chance(rng, 0.25))
    return QuantScheme::plain(
        pick(rng, {ElementKind::f32, ElementKind::f16, ElementKind::bf16}));
  ElementKind type = pick(
      rng, {ElementKind::s4, ElementKind::u4, ElementKind::s8, ElementKind::u8});
  bool zeroPoint = chance(rng, 0.4);
  QuantScheme scheme;
  double r = rng.uniform(0.0, 1.0);
  if (r < 0.15) {
    scheme = QuantScheme::perTensor(type, zeroPoint);
  } else if (r < 0.45) {
    // Mostly along D (KIVI V) or S (KIVI K); sometimes heads or batch.
    int64_t axis = chance(rng, 0.7)
                       ? (chance(rng, 0.6) ? headDimAxis : 5 - headDimAxis)
                       : rng.uniformInt(0, 1);
    scheme = QuantScheme::perChannel(type, axis, zeroPoint);
  } else {
    std::array<int64_t, 4> group;
    for (int d = 0; d < 4; ++d)
      group[d] = groupAlong(rng, shape[d]);
    scheme = QuantScheme::perGroup(type, group, zeroPoint);
  }
  if (zeroPoint && chance(rng, 0.5))
    scheme.zeroPointType =
        pick(rng, {ElementKind::s4, ElementKind::u4, ElementKind::s8,
                   ElementKind::u8, ElementKind::s32, ElementKind::f32});
  return scheme;
}

/// One draw; may be invalid in rare corners, randomConfig redraws then.
SdpaConfig draw(Random &rng) {
  SdpaConfig c;
  c.batch = pick<int64_t>(rng, {1, 1, 1, 2});
  c.kvHeads = pick<int64_t>(rng, {1, 1, 2, 3});
  c.qHeads = c.kvHeads * pick<int64_t>(rng, {1, 1, 2, 4}); // MHA, GQA, MQA
  c.qLen = pick<int64_t>(rng, {1, 1, 1, 2, 3, 4, 5, 7, 8, 16});
  c.kvLen = pick<int64_t>(
      rng, {1, 2, 3, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33, 48, 64, 65, 100, 128});
  // Half kernel-friendly multiples of 16, half odd or tiny head dims.
  c.headDim = pick<int64_t>(
      rng, {1, 2, 3, 4, 7, 8, 24, 16, 16, 32, 32, 48, 64, 64});
  if (chance(rng, 0.2))
    c.valueHeadDim = pick<int64_t>(rng, {1, 3, 8, 16, 32, 48});
  c.kLayout = chance(rng, 0.25) ? KLayout::BDS : KLayout::BSD;
  c.key = randomScheme(rng, c.keyShape(), c.keyHeadDimAxis());
  c.value = randomScheme(rng, c.valueShape(), 3);

  double m = rng.uniform(0.0, 1.0);
  c.mask = m < 0.4 ? MaskKind::None
                   : (m < 0.75 ? MaskKind::Causal : MaskKind::Explicit);
  c.causalAlign =
      chance(rng, 0.5) ? CausalAlign::BottomRight : CausalAlign::TopLeft;

  double mm = rng.uniform(0.0, 1.0);
  c.math = mm < 0.4 ? MathMode::F32
                    : (mm < 0.6 ? MathMode::BF16
                                : (mm < 0.8 ? MathMode::F16 : MathMode::Int8));
  if (c.math == MathMode::Int8 && !c.key.isQuantized())
    c.math = MathMode::F32;

  // Softmax scales far from 1/sqrt(D): near-uniform and near-one-hot
  // probabilities.
  if (chance(rng, 0.3))
    c.scale = pick<double>(rng, {1e-3, 0.05, 2.0, 8.0, 30.0});
  c.seed = rng.next() >> 1;
  return c;
}

} // namespace

SdpaConfig quantkv_sweep::randomConfig(uint64_t seed, int64_t index) {
  // Each configuration has its own stream, so that --first I --count 1 gives
  // configuration I exactly.
  // Its start is a mixed hash of (seed, index): consecutive indices or seeds
  // do not give shifted copies of one stream.
  Random mix(seed ^ (static_cast<uint64_t>(index) * 0xD1B54A32D192ED03ull));
  Random rng(mix.next());
  SdpaConfig config = draw(rng);
  for (int attempt = 0; attempt < 100 && !config.verify().empty(); ++attempt)
    config = draw(rng);
  return config;
}
