//===- quantkv-opt.cpp - quantkv optimizer driver -------------------------===//
//
// Part of the quantkv project, under the Apache License v2.0 with LLVM
// Exceptions.
//
//===----------------------------------------------------------------------===//
//
// mlir-opt with the quantkv dialect, passes and pipelines registered beside
// every upstream dialect and pass.
//
//===----------------------------------------------------------------------===//

#include "mlir/IR/DialectRegistry.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"
#include "quantkv/InitAllDialects.h"
#include "quantkv/InitAllPasses.h"

namespace mlir::quantkv::test {
void registerTestFuseSdpaPlanPass();
} // namespace mlir::quantkv::test

int main(int argc, char **argv) {
  mlir::quantkv::registerAllPasses();
  mlir::quantkv::test::registerTestFuseSdpaPlanPass();
  mlir::DialectRegistry registry;
  mlir::quantkv::registerAllDialects(registry);
  return mlir::asMainReturnCode(mlir::MlirOptMain(
      argc, argv, "quantkv optimizer driver\n", registry));
}
