//===- Passes.h - quantkv conversion passes ---------------------*- C++ -*-===//
//
// Part of the quantkv project, under the Apache License v2.0 with LLVM
// Exceptions.
//
//===----------------------------------------------------------------------===//

#ifndef QUANTKV_CONVERSION_PASSES_H
#define QUANTKV_CONVERSION_PASSES_H

#include "mlir/Dialect/AMX/AMXDialect.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Dialect/X86Vector/X86VectorDialect.h"
#include "mlir/Pass/Pass.h"
#include "quantkv/Conversion/QuantKVToX86/CpuTuning.h"

namespace mlir::quantkv {

#define GEN_PASS_DECL
#include "quantkv/Conversion/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "quantkv/Conversion/Passes.h.inc"

} // namespace mlir::quantkv

#endif // QUANTKV_CONVERSION_PASSES_H
