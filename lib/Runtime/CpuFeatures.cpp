//===- CpuFeatures.cpp - run-time CPU feature queries ---------------------===//
//
// Part of the quantkv project, under the Apache License v2.0 with LLVM
// Exceptions.
//
//===----------------------------------------------------------------------===//

#include "quantkv/Runtime/CpuFeatures.h"

#include <cstdlib>
#include <cstring>

#if defined(__x86_64__) && defined(__linux__)
#include <cpuid.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

using namespace mlir::quantkv;

#if defined(__x86_64__) && defined(__linux__)
static uint64_t readXcr0() {
  uint32_t lo, hi;
  // xgetbv with ECX = 0 (XCR0); the caller checked OSXSAVE.
  __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  return (static_cast<uint64_t>(hi) << 32) | lo;
}
#endif

bool mlir::quantkv::detectUsableAmx() {
#if defined(__x86_64__) && defined(__linux__)
  unsigned eax, ebx, ecx, edx;
  if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx) || !(ecx & (1u << 27)))
    return false; // no OSXSAVE: xgetbv is unavailable
  if (!__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx))
    return false;
  constexpr unsigned kAmx = (1u << 22) | (1u << 24) | (1u << 25);
  if ((edx & kAmx) != kAmx)
    return false; // AMX-BF16, AMX-TILE and AMX-INT8
  constexpr uint64_t kTileState = (1ull << 17) | (1ull << 18);
  if ((readXcr0() & kTileState) != kTileState)
    return false;
  // Linux enables XTILEDATA per process, on request (since 5.16).
  constexpr long kArchReqXcompPerm = 0x1023, kXfeatureXtiledata = 18;
  return syscall(SYS_arch_prctl, kArchReqXcompPerm, kXfeatureXtiledata) == 0;
#else
  return false;
#endif
}

bool mlir::quantkv::amxDisabledByEnvironment() {
  const char *v = std::getenv("QUANTKV_DISABLE_AMX");
  return v && *v && std::strcmp(v, "0") != 0;
}

extern "C" int32_t quantkv_cpu_has_amx(void) {
  // A function-local static: initialized once, thread-safe, so the
  // permission request happens once per process.
  static const int32_t answer =
      !amxDisabledByEnvironment() && detectUsableAmx() ? 1 : 0;
  return answer;
}
