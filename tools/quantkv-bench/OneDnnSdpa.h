//===- OneDnnSdpa.h - oneDNN unfused SDPA baseline --------------*- C++ -*-===//
//
// Part of the quantkv project, under the Apache License v2.0 with LLVM
// Exceptions.
//
//===----------------------------------------------------------------------===//

#ifndef QUANTKV_TOOLS_QUANTKV_BENCH_ONEDNNSDPA_H
#define QUANTKV_TOOLS_QUANTKV_BENCH_ONEDNNSDPA_H

#include "SdpaRunner.h"

#include <memory>
#include <vector>

namespace mlir::quantkv::bench {

/// What a framework without a fused kernel does: dequantize the whole K/V
/// cache to f32 (or bf16), then oneDNN matmul (Q.K^T, scale and mask fused as
/// attributes) + softmax + matmul (P.V). GQA heads are batched per K/V head.
class OneDnnSdpa {
public:
  static llvm::Expected<std::unique_ptr<OneDnnSdpa>>
  create(const testing::SdpaConfig &config, const SdpaRunner &inputs,
         bool bf16);
  ~OneDnnSdpa();

  /// Dequantizes copy `copy` of the runner's cache and runs the primitives.
  void run(int64_t copy);
  std::vector<double> output() const;

private:
  struct Impl;
  std::unique_ptr<Impl> impl;
};

} // namespace mlir::quantkv::bench

#endif // QUANTKV_TOOLS_QUANTKV_BENCH_ONEDNNSDPA_H
