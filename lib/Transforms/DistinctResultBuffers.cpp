//===- DistinctResultBuffers.cpp - one buffer per returned allocation -----===//
//
// Part of the quantkv project, under the Apache License v2.0 with LLVM
// Exceptions.
//
//===----------------------------------------------------------------------===//

#include "quantkv/Transforms/Passes.h"

#include "mlir/Dialect/Bufferization/IR/AllocationOpInterface.h"
#include "llvm/ADT/SmallPtrSet.h"

namespace mlir::quantkv {
#define GEN_PASS_DEF_QUANTKVDISTINCTRESULTBUFFERSPASS
#include "quantkv/Transforms/Passes.h.inc"
} // namespace mlir::quantkv

using namespace mlir;

namespace {
/// Whether buffer-results-to-out-params{hoist-static-allocs} erases the
/// definition of `value` when it returns it: a statically shaped allocation
/// (with the identity layout, the only static one that pass accepts).
bool isHoistedAllocation(Value value) {
  auto type = dyn_cast<MemRefType>(value.getType());
  return type && type.hasStaticShape() && type.getLayout().isIdentity() &&
         isa_and_nonnull<bufferization::AllocationOpInterface>(
             value.getDefiningOp());
}

struct DistinctResultBuffersPass
    : public quantkv::impl::QuantKVDistinctResultBuffersPassBase<
          DistinctResultBuffersPass> {
  void runOnOperation() override {
    getOperation().walk([](func::ReturnOp ret) {
      llvm::SmallPtrSet<Value, 4> returned;
      OpBuilder b(ret);
      for (OpOperand &operand : ret->getOpOperands()) {
        Value value = operand.get();
        if (returned.insert(value).second || !isHoistedAllocation(value))
          continue;
        Value copy = memref::AllocOp::create(b, ret.getLoc(),
                                             cast<MemRefType>(value.getType()));
        memref::CopyOp::create(b, ret.getLoc(), value, copy);
        operand.set(copy);
      }
    });
  }
};
} // namespace
