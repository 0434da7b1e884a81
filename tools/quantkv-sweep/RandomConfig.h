//===- RandomConfig.h - seeded random SDPA configurations -------*- C++ -*-===//
//
// Part of the quantkv project, under the Apache License v2.0 with LLVM
// Exceptions.
//
//===----------------------------------------------------------------------===//

#ifndef QUANTKV_TOOLS_QUANTKV_SWEEP_RANDOMCONFIG_H
#define QUANTKV_TOOLS_QUANTKV_SWEEP_RANDOMCONFIG_H

#include "quantkv/Testing/SdpaConfig.h"

#include <cstdint>

namespace quantkv_sweep {

/// Configuration number `index` of the sweep seeded with `seed`: a valid
/// (SdpaConfig::verify() == "") small problem drawn from every axis the
/// dialect has: storage and zero-point types, per-tensor / per-channel (any
/// axis) / per-group granularity with groups along D, along S and 2-D blocks,
/// broadcast scale dims, GQA/MQA ratios, odd and length-1 sequences and head
/// dims, masks, key layouts, extreme softmax scales and every math mode.
/// The same (seed, index) gives the same configuration on every machine, so
/// `quantkv-sweep --seed S --first I --count 1` reproduces one failure.
mlir::quantkv::testing::SdpaConfig randomConfig(uint64_t seed, int64_t index);

} // namespace quantkv_sweep

#endif // QUANTKV_TOOLS_QUANTKV_SWEEP_RANDOMCONFIG_H
