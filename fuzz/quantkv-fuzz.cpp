//===- quantkv-fuzz.cpp - libFuzzer target over MLIR text -----------------===//
//
// Part of the quantkv project, under the Apache License v2.0 with LLVM
// Exceptions.
//
//===----------------------------------------------------------------------===//
//
// The input is a .mlir file (seeded with the lit tests and mutated with the
// dialect's tokens, fuzz/quantkv.dict); CompilerOracle.h says what is checked.
//
//===----------------------------------------------------------------------===//

#include "CompilerOracle.h"

#include <cstddef>
#include <cstdint>

extern "C" int LLVMFuzzerInitialize(int *argc, char ***argv) {
  quantkv_fuzz::initialize();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  quantkv_fuzz::checkSource(
      llvm::StringRef(reinterpret_cast<const char *>(data), size));
  return 0;
}
