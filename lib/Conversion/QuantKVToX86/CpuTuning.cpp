//===- CpuTuning.cpp - per-core defaults of the x86 kernel ----------------===//
//
// Part of the quantkv project, under the Apache License v2.0 with LLVM
// Exceptions.
//
//===----------------------------------------------------------------------===//

#include "quantkv/Conversion/QuantKVToX86/CpuTuning.h"

#include "llvm/TargetParser/X86TargetParser.h"

using namespace mlir;
using namespace mlir::quantkv;

bool mlir::quantkv::isKnownX86Cpu(StringRef cpu) {
  return llvm::X86::parseArchX86(cpu) != llvm::X86::CK_None;
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
