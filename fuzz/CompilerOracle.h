//===- CompilerOracle.h - what the quantkv fuzz targets check ---*- C++ -*-===//
//
// Part of the quantkv project, under the Apache License v2.0 with LLVM
// Exceptions.
//
//===----------------------------------------------------------------------===//
//
// Feeds one input to the compiler the way a user's .mlir file reaches it:
// parse, verify, then run the fuse pass and both CPU pipelines down to the
// LLVM dialect and LLVM IR. Rejecting the input with a diagnostic at any step
// is the expected outcome for most inputs; what is reported is
//   - a crash, an assertion or a sanitizer report anywhere on the way,
//   - valid IR whose printed form does not parse back to valid IR,
//   - a pass that succeeds but leaves IR that does not verify.
// The last two abort with "quantkv-fuzz: BUG: ..." naming the step, so
// libFuzzer saves the input like any crash. See docs/Hardening.md.
//
// Only the dialects a quantkv user writes (builtin, func, arith, math, tensor,
// linalg, quantkv) are accepted: the rest of upstream MLIR is not
// instrumented and not ours to fix, so inputs using other dialects are
// rejected before any of their code runs.
//
//===----------------------------------------------------------------------===//

#ifndef QUANTKV_FUZZ_COMPILERORACLE_H
#define QUANTKV_FUZZ_COMPILERORACLE_H

#include "llvm/ADT/StringRef.h"

namespace quantkv_fuzz {

/// Registers passes and dialects; call once (LLVMFuzzerInitialize).
/// QUANTKV_FUZZ_STATS=1 prints input statistics at exit and
/// QUANTKV_FUZZ_VERBOSE=1 why each pipeline failed.
void initialize();

/// Runs `source` (MLIR text, any bytes) through every check above.
void checkSource(llvm::StringRef source);

} // namespace quantkv_fuzz

#endif // QUANTKV_FUZZ_COMPILERORACLE_H
