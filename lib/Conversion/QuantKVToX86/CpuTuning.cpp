//===- CpuTuning.cpp - per-core defaults of the x86 kernel ----------------===//
//
// Part of the quantkv project, under the Apache License v2.0 with LLVM
// Exceptions.
//
//===----------------------------------------------------------------------===//

#include "quantkv/Conversion/QuantKVToX86/CpuTuning.h"

#include "llvm/TargetParser/Host.h"
#include "llvm/TargetParser/X86TargetParser.h"

using namespace mlir;
using namespace mlir::quantkv;

bool mlir::quantkv::isKnownX86Cpu(StringRef cpu) {
  return llvm::X86::parseArchX86(cpu) != llvm::X86::CK_None;
}

std::string mlir::quantkv::unknownX86CpuMessage(StringRef cpu) {
  return "cpu: unknown x86 CPU '" + cpu.str() +
         "' (expected an llc -mcpu name, e.g. znver4)";
}

CpuTuning mlir::quantkv::getCpuTuning(StringRef cpu) {
  CpuTuning tuning;
  // Zen cores (znver1 .. znver5): strong L2 stream prefetchers; Zen 4 runs
  // 512-bit vdpbf16ps and vfmadd231ps at one per cycle each.
  if (cpu.starts_with("znver")) {
    tuning.softwarePrefetch = false;
    tuning.prefillBf16Dot = true;
  }
  return tuning;
}

CpuTuning mlir::quantkv::resolveCpuTuning(StringRef cpu,
                                          TuningSwitch softwarePrefetch,
                                          TuningSwitch prefillBf16Dot) {
  CpuTuning tuning =
      getCpuTuning(cpu.empty() ? llvm::sys::getHostCPUName() : cpu);
  auto resolve = [](TuningSwitch choice, bool tuned) {
    return choice == TuningSwitch::Auto ? tuned : choice == TuningSwitch::On;
  };
  tuning.softwarePrefetch = resolve(softwarePrefetch, tuning.softwarePrefetch);
  tuning.prefillBf16Dot = resolve(prefillBf16Dot, tuning.prefillBf16Dot);
  return tuning;
}
