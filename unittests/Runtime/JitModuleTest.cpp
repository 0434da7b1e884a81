//===- JitModuleTest.cpp - compile once, call many ------------------------===//
//
// Part of the quantkv project, under the Apache License v2.0 with LLVM
// Exceptions.
//
//===----------------------------------------------------------------------===//
//
// JitModule resolves a function's entry point once and reuses it: repeated
// and concurrent calls see the same compiled code, and a name the module
// does not define is an error on every call, without disturbing the others.
//
//===----------------------------------------------------------------------===//

#include "quantkv/Runtime/JitModule.h"
#include "quantkv/InitAllDialects.h"
#include "quantkv/Pipelines/Pipelines.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "gtest/gtest.h"

#include <thread>
#include <vector>

using namespace mlir;
using namespace mlir::quantkv;

namespace {

/// @add(x, y): x[i] += y[i] for i < 4; @scale(x): x[i] *= 2.
constexpr const char *kModule = R"mlir(
func.func @add(%x: memref<4xf32>, %y: memref<4xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  scf.for %i = %c0 to %c4 step %c1 {
    %a = memref.load %x[%i] : memref<4xf32>
    %b = memref.load %y[%i] : memref<4xf32>
    %s = arith.addf %a, %b : f32
    memref.store %s, %x[%i] : memref<4xf32>
  }
  return
}
func.func @scale(%x: memref<4xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %two = arith.constant 2.0 : f32
  scf.for %i = %c0 to %c4 step %c1 {
    %a = memref.load %x[%i] : memref<4xf32>
    %s = arith.mulf %a, %two : f32
    memref.store %s, %x[%i] : memref<4xf32>
  }
  return
}
)mlir";

class JitModuleTest : public ::testing::Test {
public:
  JitModuleTest() {
    DialectRegistry registry;
    registerAllDialects(registry);
    ctx = std::make_unique<MLIRContext>(registry);
    OwningOpRef<ModuleOp> module =
        parseSourceString<ModuleOp>(kModule, ParserConfig(ctx.get()));
    EXPECT_TRUE(module);
    JitOptions options;
    options.optLevel = 0;
    auto compiled =
        JitModule::compile(*module, buildReferencePipeline, options);
    if (!compiled) {
      ADD_FAILURE() << llvm::toString(compiled.takeError());
      return;
    }
    jit = std::move(*compiled);
  }

  llvm::Error add(std::vector<float> &x, std::vector<float> &y) {
    MemRefDescriptor args[] = {{x.data(), {4}}, {y.data(), {4}}};
    return jit->call("add", args);
  }

  std::unique_ptr<MLIRContext> ctx;
  std::unique_ptr<JitModule> jit;
};

TEST_F(JitModuleTest, RepeatedCallsRunTheSameFunction) {
  ASSERT_TRUE(jit);
  std::vector<float> x = {1, 2, 3, 4}, y = {10, 20, 30, 40};
  for (int i = 0; i < 3; ++i)
    ASSERT_FALSE(llvm::errorToBool(add(x, y)));
  EXPECT_EQ(x, (std::vector<float>{31, 62, 93, 124}));
  // A second function of the same module has its own entry.
  MemRefDescriptor arg(x.data(), {4});
  ASSERT_FALSE(llvm::errorToBool(jit->call("scale", arg)));
  EXPECT_EQ(x, (std::vector<float>{62, 124, 186, 248}));
  ASSERT_FALSE(llvm::errorToBool(add(x, y)));
  EXPECT_EQ(x, (std::vector<float>{72, 144, 216, 288}));
}

TEST_F(JitModuleTest, UnknownFunctionIsAnErrorEveryTime) {
  ASSERT_TRUE(jit);
  std::vector<float> x = {1, 2, 3, 4};
  MemRefDescriptor arg(x.data(), {4});
  for (int i = 0; i < 2; ++i) {
    llvm::Error err = jit->call("missing", arg);
    ASSERT_TRUE(bool(err));
    EXPECT_EQ(llvm::toString(std::move(err)),
              "quantkv: no function 'missing' with a C interface in the "
              "module");
  }
  EXPECT_EQ(x, (std::vector<float>{1, 2, 3, 4}));
  ASSERT_FALSE(llvm::errorToBool(jit->call("scale", arg)));
  EXPECT_EQ(x, (std::vector<float>{2, 4, 6, 8}));
}

TEST_F(JitModuleTest, ConcurrentFirstCallsAgree) {
  ASSERT_TRUE(jit);
  // Several threads make their first calls at once: each must get the
  // compiled function (no lost or torn cache entry).
  constexpr int kThreads = 4, kCalls = 50;
  std::vector<std::vector<float>> xs(kThreads, {0, 0, 0, 0});
  std::vector<std::vector<float>> ys(kThreads, {1, 2, 3, 4});
  std::vector<int> failures(kThreads, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < kCalls; ++i)
        failures[t] += llvm::errorToBool(add(xs[t], ys[t]));
    });
  for (std::thread &thread : threads)
    thread.join();
  for (int t = 0; t < kThreads; ++t) {
    EXPECT_EQ(failures[t], 0);
    EXPECT_EQ(xs[t], (std::vector<float>{50, 100, 150, 200}));
  }
}

} // namespace
