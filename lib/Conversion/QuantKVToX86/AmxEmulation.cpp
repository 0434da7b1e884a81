//===- AmxEmulation.cpp - run the AMX kernel variant without AMX ----------===//
//
// Part of the quantkv project, under the Apache License v2.0 with LLVM
// Exceptions.
//
//===----------------------------------------------------------------------===//
//
// Testing aid (quantkv-emulate-amx): every tile value becomes a memref
// scratch in its function's entry block and every tile op a loop nest with
// the instruction's semantics, so the AMX variant of the kernel runs on a
// CPU without AMX and can be checked against the reference.
//
//===----------------------------------------------------------------------===//

#include "quantkv/Conversion/Passes.h"

#include "quantkv/Runtime/CpuFeatures.h"

namespace mlir::quantkv {
#define GEN_PASS_DEF_QUANTKVEMULATEAMXPASS
#include "quantkv/Conversion/Passes.h.inc"
} // namespace mlir::quantkv

using namespace mlir;
using namespace mlir::quantkv;

namespace {

/// Emits the tile ops of one function as loops over memref scratch.
class TileEmulator {
public:
  TileEmulator(func::FuncOp func) : func(func), b(func.getContext()) {}

  LogicalResult run() {
    SmallVector<Operation *> tileOps;
    WalkResult result = func.walk([&](Operation *op) {
      if (!isa<amx::AMXDialect>(op->getDialect()))
        return WalkResult::advance();
      tileOps.push_back(op);
      b.setInsertionPoint(op);
      loc = op->getLoc();
      return failed(emulate(op)) ? WalkResult::interrupt()
                                 : WalkResult::advance();
    });
    if (result.wasInterrupted())
      return failure();
    for (Operation *op : llvm::reverse(tileOps))
      op->erase();
    return success();
  }

private:
  Value cIdx(int64_t v) { return arith::ConstantIndexOp::create(b, loc, v); }

  /// A fresh scratch for a tile of `type`, allocated in the entry block.
  Value scratchFor(amx::TileType type) {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(&func.getBody().front());
    return memref::AllocaOp::create(
        b, loc, MemRefType::get(type.getShape(), type.getElementType()));
  }

  /// for r < rows, c < cols: body(r, c).
  void forEach(int64_t rows, int64_t cols,
               function_ref<void(Value, Value)> body) {
    scf::ForOp::create(b, loc, cIdx(0), cIdx(rows), cIdx(1), ValueRange{},
                       [&](OpBuilder &, Location, Value r, ValueRange) {
                         scf::ForOp::create(
                             b, loc, cIdx(0), cIdx(cols), cIdx(1), ValueRange{},
                             [&](OpBuilder &, Location, Value c, ValueRange) {
                               body(r, c);
                               scf::YieldOp::create(b, loc);
                             });
                         scf::YieldOp::create(b, loc);
                       });
  }

  /// Memory index of tile element (r, c) of a tile op on `base` at
  /// `indices` (a 2-d memref: the tile's rows are the memref's rows).
  FailureOr<SmallVector<Value>> memIndex(Operation *op, Value base,
                                         ValueRange indices, Value stride,
                                         Value r, Value c) {
    if (stride || cast<MemRefType>(base.getType()).getRank() != 2)
      return op->emitError("emulation handles 2-d memrefs with implicit "
                           "stride only");
    return SmallVector<Value>{arith::AddIOp::create(b, loc, indices[0], r),
                              arith::AddIOp::create(b, loc, indices[1], c)};
  }

  LogicalResult emulate(Operation *op) {
    if (auto zero = dyn_cast<amx::TileZeroOp>(op)) {
      amx::TileType type = zero.getTileType();
      Value t = scratchFor(type);
      Value z = arith::ConstantOp::create(b, loc, type.getElementType(),
                                          b.getZeroAttr(type.getElementType()));
      forEach(type.getDimSize(0), type.getDimSize(1), [&](Value r, Value c) {
        memref::StoreOp::create(b, loc, z, t, ValueRange{r, c});
      });
      tiles[zero.getResult()] = t;
      return success();
    }
    if (auto load = dyn_cast<amx::TileLoadOp>(op)) {
      amx::TileType type = load.getTileType();
      Value t = scratchFor(type);
      LogicalResult ok = success();
      forEach(type.getDimSize(0), type.getDimSize(1), [&](Value r, Value c) {
        FailureOr<SmallVector<Value>> at = memIndex(
            op, load.getBase(), load.getIndices(), load.getStride(), r, c);
        if (failed(at)) {
          ok = failure();
          return;
        }
        Value v = memref::LoadOp::create(b, loc, load.getBase(), *at);
        memref::StoreOp::create(b, loc, v, t, ValueRange{r, c});
      });
      tiles[load.getResult()] = t;
      return ok;
    }
    if (auto store = dyn_cast<amx::TileStoreOp>(op)) {
      amx::TileType type = store.getTileType();
      Value t = tiles.lookup(store.getVal());
      LogicalResult ok = success();
      forEach(type.getDimSize(0), type.getDimSize(1), [&](Value r, Value c) {
        FailureOr<SmallVector<Value>> at = memIndex(
            op, store.getBase(), store.getIndices(), store.getStride(), r, c);
        if (failed(at)) {
          ok = failure();
          return;
        }
        Value v = memref::LoadOp::create(b, loc, t, ValueRange{r, c});
        memref::StoreOp::create(b, loc, v, store.getBase(), *at);
      });
      return ok;
    }
    if (auto mul = dyn_cast<amx::TileMulFOp>(op))
      return emulateDot(mul.getTileType(), mul.getLhs(), mul.getRhs(),
                        mul.getAcc(), mul.getResult(), /*group=*/2,
                        /*zextLhs=*/false, /*zextRhs=*/false);
    if (auto mul = dyn_cast<amx::TileMulIOp>(op))
      return emulateDot(mul.getTileType(), mul.getLhs(), mul.getRhs(),
                        mul.getAcc(), mul.getResult(), /*group=*/4,
                        mul.getIsZextLhs(), mul.getIsZextRhs());
    return op->emitError("no emulation for this tile op");
  }

  /// res[m][n] = acc[m][n] + sum_k sum_i<group lhs[m][k*group + i] *
  /// rhs[k][n*group + i], in f32 (bf16 inputs: fma per product) or i32.
  LogicalResult emulateDot(amx::TileType resType, Value lhs, Value rhs,
                           Value acc, Value res, int64_t group, bool zextLhs,
                           bool zextRhs) {
    Value a = tiles.lookup(lhs), bt = tiles.lookup(rhs), c = tiles.lookup(acc);
    auto lhsType = cast<amx::TileType>(lhs.getType());
    int64_t kPairs = lhsType.getDimSize(1) / group;
    Value t = scratchFor(resType);
    bool isFloat = isa<FloatType>(resType.getElementType());
    Type accType = resType.getElementType();
    auto widen = [&](Value v, bool zext) -> Value {
      if (isFloat)
        return arith::ExtFOp::create(b, loc, accType, v);
      if (zext)
        return arith::ExtUIOp::create(b, loc, accType, v);
      return arith::ExtSIOp::create(b, loc, accType, v);
    };
    forEach(
        resType.getDimSize(0), resType.getDimSize(1), [&](Value m, Value n) {
          Value init = memref::LoadOp::create(b, loc, c, ValueRange{m, n});
          auto loop = scf::ForOp::create(
              b, loc, cIdx(0), cIdx(kPairs), cIdx(1), ValueRange{init},
              [&](OpBuilder &, Location, Value k, ValueRange args) {
                Value sum = args[0];
                for (int64_t i = 0; i < group; ++i) {
                  Value ka = arith::AddIOp::create(
                      b, loc, arith::MulIOp::create(b, loc, k, cIdx(group)),
                      cIdx(i));
                  Value nb = arith::AddIOp::create(
                      b, loc, arith::MulIOp::create(b, loc, n, cIdx(group)),
                      cIdx(i));
                  Value x = widen(
                      memref::LoadOp::create(b, loc, a, ValueRange{m, ka}),
                      zextLhs);
                  Value y = widen(
                      memref::LoadOp::create(b, loc, bt, ValueRange{k, nb}),
                      zextRhs);
                  sum = isFloat
                            ? math::FmaOp::create(b, loc, x, y, sum).getResult()
                            : arith::AddIOp::create(
                                  b, loc, sum,
                                  arith::MulIOp::create(b, loc, x, y))
                                  .getResult();
                }
                scf::YieldOp::create(b, loc, sum);
              });
          memref::StoreOp::create(b, loc, loop.getResult(0), t,
                                  ValueRange{m, n});
        });
    tiles[res] = t;
    return success();
  }

  func::FuncOp func;
  OpBuilder b;
  Location loc = UnknownLoc::get(func.getContext());
  DenseMap<Value, Value> tiles;
};

struct QuantKVEmulateAmxPass
    : public quantkv::impl::QuantKVEmulateAmxPassBase<QuantKVEmulateAmxPass> {
  void getDependentDialects(DialectRegistry &registry) const override {
    Base::getDependentDialects(registry);
    registry.insert<math::MathDialect>();
  }

  void runOnOperation() override {
    ModuleOp module = getOperation();
    // The AMX variant is taken whatever the CPU.
    SmallVector<func::CallOp> queries;
    module.walk([&](func::CallOp call) {
      if (call.getCallee() == kCpuHasAmxSymbol)
        queries.push_back(call);
    });
    for (func::CallOp call : queries) {
      OpBuilder b(call);
      Value one = arith::ConstantOp::create(b, call.getLoc(), b.getI32Type(),
                                            b.getI32IntegerAttr(1));
      call.getResult(0).replaceAllUsesWith(one);
      call.erase();
    }
    for (auto func : module.getOps<func::FuncOp>())
      if (!func.isExternal() && failed(TileEmulator(func).run()))
        return signalPassFailure();
  }
};

} // namespace
