//===- TestFuseSdpaPlan.cpp - report fusion decisions as remarks ----------===//
//
// Part of the quantkv project, under the Apache License v2.0 with LLVM
// Exceptions.
//
//===----------------------------------------------------------------------===//
//
// --test-quantkv-fuse-sdpa-plan runs the matchers of --quantkv-fuse-sdpa
// without rewriting and reports, at every contraction a func.return reads,
// whether it ends a fusable attention and, if not, why. Lets the negative
// fusion tests check that the intended guard fired, not any guard.
//
//===----------------------------------------------------------------------===//

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Pass/Pass.h"
#include "quantkv/Dialect/QuantKV/IR/QuantKVDialect.h"
#include "quantkv/Dialect/QuantKV/Transforms/AttentionMatcher.h"

using namespace mlir;
using namespace mlir::quantkv;

namespace {
struct TestFuseSdpaPlanPass
    : public PassWrapper<TestFuseSdpaPlanPass, OperationPass<func::FuncOp>> {
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(TestFuseSdpaPlanPass)

  StringRef getArgument() const final { return "test-quantkv-fuse-sdpa-plan"; }
  StringRef getDescription() const final {
    return "Report, as remarks, whether each returned contraction ends an "
           "attention --quantkv-fuse-sdpa fuses (math-mode auto)";
  }

  void getDependentDialects(DialectRegistry &registry) const override {
    // The plan builds granularity attributes.
    registry.insert<QuantKVDialect>();
  }

  void runOnOperation() override {
    getOperation().walk([](linalg::LinalgOp op) {
      if (op.getNumDpsInputs() < 2 || op.getNumReductionLoops() != 1 ||
          op->getNumResults() != 1 ||
          llvm::none_of(op->getResult(0).getUsers(), [](Operation *user) {
            return isa<func::ReturnOp>(user);
          }))
        return;
      std::string why;
      FailureOr<SdpaFusionPlan> plan =
          planSdpaFusion(op, /*mathMode=*/std::nullopt, why);
      if (failed(plan)) {
        op->emitRemark() << "not fusable: " << why;
        return;
      }
      op->emitRemark() << "fusable: math_mode "
                       << stringifyMathMode(plan->mathMode);
    });
  }
};
} // namespace

namespace mlir::quantkv::test {
void registerTestFuseSdpaPlanPass() {
  PassRegistration<TestFuseSdpaPlanPass>();
}
} // namespace mlir::quantkv::test
