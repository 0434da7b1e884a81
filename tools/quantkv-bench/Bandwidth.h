//===- Bandwidth.h - memory read bandwidth probe ----------------*- C++ -*-===//
//
// Part of the quantkv project, under the Apache License v2.0 with LLVM
// Exceptions.
//
//===----------------------------------------------------------------------===//

#ifndef QUANTKV_TOOLS_QUANTKV_BENCH_BANDWIDTH_H
#define QUANTKV_TOOLS_QUANTKV_BENCH_BANDWIDTH_H

#include <cstdint>

namespace mlir::quantkv::bench {

/// A buffer larger than the last-level cache, read with AVX-512 loads by
/// OpenMP threads: one pass measures the machine's read bandwidth from DRAM.
class ReadBandwidthProbe {
public:
  explicit ReadBandwidthProbe(int64_t bytes);
  ~ReadBandwidthProbe();
  ReadBandwidthProbe(const ReadBandwidthProbe &) = delete;
  ReadBandwidthProbe &operator=(const ReadBandwidthProbe &) = delete;

  int64_t bytes() const { return size; }
  /// Reads the whole buffer once with `threads` threads; returns the
  /// microseconds it took.
  double passUs(int threads);

private:
  char *buffer = nullptr;
  int64_t size = 0;
  volatile uint64_t sink = 0;
};

struct BandwidthResult {
  int64_t bytes = 0;
  double medianUs = 0;
};

/// The median of `repeats` passes of `probe` after `warmup` passes.
BandwidthResult measureReadBandwidth(ReadBandwidthProbe &probe, int threads,
                                     int warmup, int repeats);

} // namespace mlir::quantkv::bench

#endif // QUANTKV_TOOLS_QUANTKV_BENCH_BANDWIDTH_H
