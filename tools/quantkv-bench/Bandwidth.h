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

struct BandwidthResult {
  int64_t bytes = 0;
  double medianUs = 0;
};

/// Reads a `bytes` buffer (larger than the last-level cache) with `threads`
/// OpenMP threads, AVX-512 loads, `repeats` times after `warmup` passes.
BandwidthResult measureReadBandwidth(int64_t bytes, int threads, int warmup,
                                     int repeats);

} // namespace mlir::quantkv::bench

#endif // QUANTKV_TOOLS_QUANTKV_BENCH_BANDWIDTH_H
