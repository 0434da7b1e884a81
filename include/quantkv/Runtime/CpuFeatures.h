//===- CpuFeatures.h - run-time CPU feature queries -------------*- C++ -*-===//
//
// Part of the quantkv project, under the Apache License v2.0 with LLVM
// Exceptions.
//
//===----------------------------------------------------------------------===//
//
// What the CPU running a compiled kernel can execute, asked at run time (the
// compile-time host features say what the code generator may use; a kernel
// with a variant for an optional extension asks here which one to call).
//
// AMX is usable on Linux only when all of these hold:
//   * CPUID.(EAX=7,ECX=0):EDX reports AMX-TILE (bit 24), AMX-BF16 (bit 22)
//     and AMX-INT8 (bit 25), the instructions the AMX kernel variants
//     execute (every AMX CPU so far has all three);
//   * the OS enabled the tile state in XCR0 (XTILECFG bit 17, XTILEDATA
//     bit 18; read with xgetbv after checking OSXSAVE);
//   * the kernel grants this process the dynamically enabled XTILEDATA
//     state: arch_prctl(ARCH_REQ_XCOMP_PERM, XFEATURE_XTILEDATA) returns 0.
//     Without that permission the first tile instruction faults.
// The environment variable QUANTKV_DISABLE_AMX=1 (any value but "0" or
// empty) reports no AMX, so the AVX-512 variant runs.
//
//===----------------------------------------------------------------------===//

#ifndef QUANTKV_RUNTIME_CPUFEATURES_H
#define QUANTKV_RUNTIME_CPUFEATURES_H

#include <cstdint>

extern "C" {
/// 1 when the AMX kernel variant may run in this process, else 0. Computed
/// on the first call (which also requests the tile-data permission) and
/// cached; thread-safe. Compiled kernels call it by this name (the JIT
/// resolves it, see JitModule).
int32_t quantkv_cpu_has_amx(void);
}

namespace mlir::quantkv {

/// The C symbol kernels call to choose their AMX variant.
inline constexpr const char *kCpuHasAmxSymbol = "quantkv_cpu_has_amx";

/// Uncached: the CPU reports AMX-TILE/BF16/INT8, the OS enabled the tile
/// state, and the kernel granted the tile-data permission (requested here).
/// Ignores QUANTKV_DISABLE_AMX.
bool detectUsableAmx();

/// Uncached: QUANTKV_DISABLE_AMX is set to something other than "" or "0".
bool amxDisabledByEnvironment();

} // namespace mlir::quantkv

#endif // QUANTKV_RUNTIME_CPUFEATURES_H
