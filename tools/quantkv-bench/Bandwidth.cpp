//===- Bandwidth.cpp - memory read bandwidth probe ------------------------===//
//
// Part of the quantkv project, under the Apache License v2.0 with LLVM
// Exceptions.
//
//===----------------------------------------------------------------------===//

#include "Bandwidth.h"

#include <immintrin.h>
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <vector>

using namespace mlir::quantkv::bench;

/// Sums 64-byte lines of [begin, end) with four independent accumulators so
/// that the loop is bound by the loads alone.
__attribute__((target("avx512f"))) static uint64_t
readRange(const char *begin, const char *end) {
  __m512i a0 = _mm512_setzero_si512(), a1 = a0, a2 = a0, a3 = a0;
  for (const char *p = begin; p + 256 <= end; p += 256) {
    a0 = _mm512_add_epi64(a0, _mm512_load_si512(p));
    a1 = _mm512_add_epi64(a1, _mm512_load_si512(p + 64));
    a2 = _mm512_add_epi64(a2, _mm512_load_si512(p + 128));
    a3 = _mm512_add_epi64(a3, _mm512_load_si512(p + 192));
  }
  __m512i s = _mm512_add_epi64(_mm512_add_epi64(a0, a1),
                               _mm512_add_epi64(a2, a3));
  return _mm512_reduce_add_epi64(s);
}

ReadBandwidthProbe::ReadBandwidthProbe(int64_t bytes)
    : size(std::max<int64_t>(bytes / 4096, 1) * 4096) {
  buffer = static_cast<char *>(std::aligned_alloc(4096, size));
  // Touch every page so that no pass measures page faults.
  std::memset(buffer, 1, size);
}

ReadBandwidthProbe::~ReadBandwidthProbe() { std::free(buffer); }

double ReadBandwidthProbe::passUs(int threads) {
  auto t0 = std::chrono::steady_clock::now();
  uint64_t total = 0;
  const char *data = buffer;
  int64_t bytes = size;
#pragma omp parallel num_threads(threads) reduction(+ : total)
  {
    int n = omp_get_num_threads(), id = omp_get_thread_num();
    int64_t chunk = bytes / n / 256 * 256;
    const char *begin = data + id * chunk;
    const char *end = id == n - 1 ? data + bytes : begin + chunk;
    total += readRange(begin, end);
  }
  sink = sink + total;
  auto t1 = std::chrono::steady_clock::now();
  return std::chrono::duration<double, std::micro>(t1 - t0).count();
}

BandwidthResult mlir::quantkv::bench::measureReadBandwidth(
    ReadBandwidthProbe &probe, int threads, int warmup, int repeats) {
  for (int it = 0; it < warmup; ++it)
    probe.passUs(threads);
  std::vector<double> times;
  for (int it = 0; it < repeats; ++it)
    times.push_back(probe.passUs(threads));
  std::sort(times.begin(), times.end());
  return {probe.bytes(), times[times.size() / 2]};
}
