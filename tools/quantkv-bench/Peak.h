//===- Peak.h - arithmetic peak probes --------------------------*- C++ -*-===//
//
// Part of the quantkv project, under the Apache License v2.0 with LLVM
// Exceptions.
//
//===----------------------------------------------------------------------===//

#ifndef QUANTKV_TOOLS_QUANTKV_BENCH_PEAK_H
#define QUANTKV_TOOLS_QUANTKV_BENCH_PEAK_H

namespace mlir::quantkv::bench {

enum class PeakKind {
  /// vfmadd231ps zmm: 16 lanes x 2 flops per instruction.
  F32Fma,
  /// vdpbf16ps zmm: 16 f32 lanes, each accumulating one bf16 pair
  /// (2 multiplies + 2 adds): 64 flops per instruction.
  Bf16Dot,
  /// vpdpbusd zmm: 16 i32 lanes, each accumulating four u8 x s8 products
  /// (4 multiplies + 4 adds): 128 integer ops per instruction.
  Int8Dot,
};

struct PeakResult {
  /// GFLOP/s over all threads, from the fastest of the repeats: a peak is
  /// the best rate the machine delivers (a 3 ms probe is easily slowed by
  /// other processes, a median would understate it).
  double gflops = 0;
  double bestUs = 0;
  double flops = 0;
};

/// Runs independent chains of `kind` on `threads` OpenMP threads (enough
/// accumulators to cover latency x ports) and returns the best rate.
PeakResult measurePeak(PeakKind kind, int threads, int warmup, int repeats);

} // namespace mlir::quantkv::bench

#endif // QUANTKV_TOOLS_QUANTKV_BENCH_PEAK_H
