//===- InitAllPasses.h - register every quantkv pass ------------*- C++ -*-===//
//
// Part of the quantkv project, under the Apache License v2.0 with LLVM
// Exceptions.
//
//===----------------------------------------------------------------------===//

#ifndef QUANTKV_INITALLPASSES_H
#define QUANTKV_INITALLPASSES_H

namespace mlir::quantkv {

/// Registers the upstream passes and quantkv's transforms, conversions and
/// named pipelines with the global pass registry.
void registerAllPasses();

} // namespace mlir::quantkv

#endif // QUANTKV_INITALLPASSES_H
