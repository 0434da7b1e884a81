//===- InitAll.cpp - register every dialect and pass quantkv uses ---------===//
//
// Part of the quantkv project, under the Apache License v2.0 with LLVM
// Exceptions.
//
//===----------------------------------------------------------------------===//

#include "quantkv/InitAllDialects.h"
#include "quantkv/InitAllPasses.h"

#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/InitAllPasses.h"
#include "mlir/Target/LLVMIR/Dialect/All.h"
#include "quantkv/Conversion/Passes.h"
#include "quantkv/Dialect/QuantKV/IR/QuantKVDialect.h"
#include "quantkv/Dialect/QuantKV/Transforms/Passes.h"
#include "quantkv/Pipelines/Pipelines.h"
#include "quantkv/Transforms/Passes.h"

void mlir::quantkv::registerAllDialects(DialectRegistry &registry) {
  registry.insert<QuantKVDialect>();
  mlir::registerAllDialects(registry);
  mlir::registerAllExtensions(registry);
  mlir::registerAllToLLVMIRTranslations(registry);
}

void mlir::quantkv::registerAllPasses() {
  mlir::registerAllPasses();
  registerQuantKVPasses();
  registerQuantKVConversionPasses();
  registerQuantKVGeneralPasses();
  registerPipelines();
}
