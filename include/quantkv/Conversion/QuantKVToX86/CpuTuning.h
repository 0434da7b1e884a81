//===- CpuTuning.h - per-core defaults of the x86 kernel --------*- C++ -*-===//
//
// Part of the quantkv project, under the Apache License v2.0 with LLVM
// Exceptions.
//
//===----------------------------------------------------------------------===//
//
// The instructions the kernel may use follow the CPU's features
// (X86KernelOptions::has*); how it is best scheduled follows the core. Two
// cores measured with the same binaries disagree on two choices:
//
//   - Sapphire Rapids: software prefetch of the K/V rows ahead of the tile
//     loop is needed to stream at DRAM bandwidth, and vdpbf16ps issues at a
//     quarter of the vfmadd231ps rate, so bf16 prefill runs on f32 FMAs.
//   - Zen 4: the hardware prefetchers alone stream K/V at the read bandwidth
//     and the software prefetches halve it (int4 MHA decode, 32k keys, one
//     core: 26.1-27.2 GB/s without, 14.3-14.7 with), and vdpbf16ps issues
//     at the FMA rate, so the bf16 prefill on it runs twice the flops.
//
// docs/X86Kernel.md ("Tuning per core") and docs/Benchmarks.md ("A Zen 4
// host") have the measurements.
//
//===----------------------------------------------------------------------===//

#ifndef QUANTKV_CONVERSION_QUANTKVTOX86_CPUTUNING_H
#define QUANTKV_CONVERSION_QUANTKVTOX86_CPUTUNING_H

#include "mlir/Support/LLVM.h"
#include "llvm/Support/CommandLine.h"

#include <string>

namespace mlir::quantkv {

/// A tuning choice of a pass option: taken from the CPU (`cpu` option) or
/// forced.
enum class TuningSwitch { Auto, On, Off };

/// The command-line values of a TuningSwitch option (the pass's and the
/// pipeline's options share them).
inline auto tuningSwitchValues() {
  return llvm::cl::values(clEnumValN(TuningSwitch::Auto, "auto",
                                     "as tuned for the CPU (option cpu)"),
                          clEnumValN(TuningSwitch::On, "on", "always"),
                          clEnumValN(TuningSwitch::Off, "off", "never"));
}

/// Defaults that depend on the core rather than on its instruction set.
struct CpuTuning {
  /// Prefetch K/V rows (and token-varying scales) ahead of the tile loop.
  bool softwarePrefetch = true;
  /// Run bf16 prefill on vdpbf16ps (worth it where it issues at the FMA rate).
  bool prefillBf16Dot = false;
};

/// Whether `cpu` names an x86 CPU LLVM knows (llc -mcpu names, e.g.
/// "sapphirerapids", "znver4").
bool isKnownX86Cpu(StringRef cpu);

/// The diagnostic for a `cpu` option naming no CPU LLVM knows.
std::string unknownX86CpuMessage(StringRef cpu);

/// The tuning for the x86 CPU `cpu`. Cores that were not measured get the
/// Sapphire Rapids choices, except AMD Zen cores, which get Zen 4's.
CpuTuning getCpuTuning(StringRef cpu);

/// The tuning the kernel gets from the options `cpu` (empty: the host),
/// `software-prefetch` and `prefill-bf16-dot`.
CpuTuning resolveCpuTuning(StringRef cpu, TuningSwitch softwarePrefetch,
                           TuningSwitch prefillBf16Dot);

} // namespace mlir::quantkv

#endif // QUANTKV_CONVERSION_QUANTKVTOX86_CPUTUNING_H
