//===- Peak.cpp - arithmetic peak probes ----------------------------------===//
//
// Part of the quantkv project, under the Apache License v2.0 with LLVM
// Exceptions.
//
//===----------------------------------------------------------------------===//
//
// 16 independent accumulator chains per thread (4-cycle latency x 2 ports
// needs 8; 16 leaves room) of one instruction kind, no loads in the loop.
// The accumulators are written to a sink so the loop is not removed.
//
//===----------------------------------------------------------------------===//

#include "Peak.h"

#include <immintrin.h>

#include <algorithm>
#include <chrono>
#include <vector>

using namespace mlir::quantkv::bench;

namespace {

constexpr int kChains = 16;
constexpr long kIters = 1 << 20;

double nowUs() {
  using namespace std::chrono;
  return duration<double, std::micro>(steady_clock::now().time_since_epoch())
      .count();
}

__attribute__((target("avx512f"), noinline)) float fmaChains(long iters) {
  __m512 acc[kChains];
  for (int c = 0; c < kChains; ++c)
    acc[c] = _mm512_set1_ps(0.001f * c);
  __m512 x = _mm512_set1_ps(0.999999f), y = _mm512_set1_ps(1e-7f);
  for (long i = 0; i < iters; ++i) {
    for (int c = 0; c < kChains; ++c)
      acc[c] = _mm512_fmadd_ps(acc[c], x, y);
    __asm__ volatile("" : "+v"(x));
  }
  __m512 s = acc[0];
  for (int c = 1; c < kChains; ++c)
    s = _mm512_add_ps(s, acc[c]);
  return _mm512_reduce_add_ps(s);
}

__attribute__((target("avx512f,avx512bf16"), noinline)) float
dotChains(long iters) {
  __m512 acc[kChains];
  for (int c = 0; c < kChains; ++c)
    acc[c] = _mm512_set1_ps(0.001f * c);
  __m512bh x =
      _mm512_cvtne2ps_pbh(_mm512_set1_ps(1e-3f), _mm512_set1_ps(1e-3f));
  __m512bh y =
      _mm512_cvtne2ps_pbh(_mm512_set1_ps(1e-3f), _mm512_set1_ps(1e-3f));
  for (long i = 0; i < iters; ++i) {
    for (int c = 0; c < kChains; ++c)
      acc[c] = _mm512_dpbf16_ps(acc[c], x, y);
    __asm__ volatile("" : "+v"(x));
  }
  __m512 s = acc[0];
  for (int c = 1; c < kChains; ++c)
    s = _mm512_add_ps(s, acc[c]);
  return _mm512_reduce_add_ps(s);
}

__attribute__((target("avx512f,avx512vnni"), noinline)) float
vnniChains(long iters) {
  __m512i acc[kChains];
  for (int c = 0; c < kChains; ++c)
    acc[c] = _mm512_set1_epi32(c);
  __m512i x = _mm512_set1_epi8(3), y = _mm512_set1_epi8(-5);
  for (long i = 0; i < iters; ++i) {
    for (int c = 0; c < kChains; ++c)
      acc[c] = _mm512_dpbusd_epi32(acc[c], x, y);
    __asm__ volatile("" : "+v"(x));
  }
  __m512i s = acc[0];
  for (int c = 1; c < kChains; ++c)
    s = _mm512_add_epi32(s, acc[c]);
  return static_cast<float>(_mm512_reduce_add_epi32(s));
}

float runChains(PeakKind kind, long iters) {
  switch (kind) {
  case PeakKind::F32Fma:
    return fmaChains(iters);
  case PeakKind::Bf16Dot:
    return dotChains(iters);
  case PeakKind::Int8Dot:
    return vnniChains(iters);
  }
  return 0;
}

double opsPerInstruction(PeakKind kind) {
  switch (kind) {
  case PeakKind::F32Fma:
    return 32;
  case PeakKind::Bf16Dot:
    return 64;
  case PeakKind::Int8Dot:
    return 128;
  }
  return 0;
}

} // namespace

PeakResult mlir::quantkv::bench::measurePeak(PeakKind kind, int threads,
                                             int warmup, int repeats) {
  volatile float sink = 0;
  auto once = [&] {
#pragma omp parallel num_threads(threads)
    {
      float r = runChains(kind, kIters);
#pragma omp atomic
      sink += r;
    }
  };
  for (int i = 0; i < warmup; ++i)
    once();
  std::vector<double> times;
  for (int i = 0; i < repeats; ++i) {
    double t0 = nowUs();
    once();
    times.push_back(nowUs() - t0);
  }
  std::sort(times.begin(), times.end());
  PeakResult r;
  r.bestUs = times.front();
  r.flops = opsPerInstruction(kind) * kChains * double(kIters) * threads;
  r.gflops = r.flops / r.bestUs / 1e3;
  return r;
}
