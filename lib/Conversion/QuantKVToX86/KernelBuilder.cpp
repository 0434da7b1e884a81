//===- KernelBuilder.cpp - IR-building helpers of the x86 kernels ---------===//
//
// Part of the quantkv project, under the Apache License v2.0 with LLVM
// Exceptions.
//
//===----------------------------------------------------------------------===//

#include "KernelBuilder.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/TypeUtilities.h"

#include <limits>

using namespace mlir;
using namespace mlir::quantkv;

KernelBuilder::KernelBuilder(OpBuilder &b, Location loc, int64_t lanes,
                             MathMode mathMode)
    : b(b), loc(loc), lanes(lanes), mathMode(mathMode) {
  f32 = b.getF32Type();
  i32 = b.getI32Type();
  vecTy = VectorType::get({lanes}, f32);
  i32VecTy = VectorType::get({lanes}, i32);
}

//===----------------------------------------------------------------------===//
// Constants and splats
//===----------------------------------------------------------------------===//

Value KernelBuilder::cIdx(int64_t v) {
  return arith::ConstantIndexOp::create(b, loc, v);
}

Value KernelBuilder::cF32(double v) {
  return arith::ConstantOp::create(b, loc, f32, b.getF32FloatAttr(v));
}

Value KernelBuilder::cI32(int64_t v) {
  return arith::ConstantOp::create(b, loc, i32, b.getI32IntegerAttr(v));
}

Value KernelBuilder::negInf() {
  return cF32(-std::numeric_limits<double>::infinity());
}

Value KernelBuilder::splat(Value scalar) {
  return vector::BroadcastOp::create(
      b, loc, VectorType::get({lanes}, scalar.getType()), scalar);
}

Value KernelBuilder::splatInt(VectorType type, int64_t v) {
  return arith::ConstantOp::create(
      b, loc, type,
      DenseElementsAttr::get(type, b.getIntegerAttr(type.getElementType(), v)));
}

Value KernelBuilder::laneIota() {
  SmallVector<int32_t> iota;
  for (int64_t l = 0; l < lanes; ++l)
    iota.push_back(l);
  return arith::ConstantOp::create(b, loc, i32VecTy,
                                   DenseIntElementsAttr::get(i32VecTy, iota));
}

//===----------------------------------------------------------------------===//
// Arithmetic
//===----------------------------------------------------------------------===//

Value KernelBuilder::add(Value x, Value y) {
  return arith::AddFOp::create(b, loc, x, y);
}

Value KernelBuilder::sub(Value x, Value y) {
  return arith::SubFOp::create(b, loc, x, y);
}

Value KernelBuilder::mul(Value x, Value y) {
  return arith::MulFOp::create(b, loc, x, y);
}

Value KernelBuilder::fma(Value x, Value y, Value acc) {
  return vector::FMAOp::create(b, loc, x, y, acc);
}

Value KernelBuilder::maxf(Value x, Value y) {
  return arith::MaximumFOp::create(b, loc, x, y);
}

// t = x log2(e) = n + f with n = round(t), |f| <= 1/2; 2^f by its degree-6
// Taylor polynomial, times 2^n written into the exponent bits. t < -125
// gives exactly 0, so masked keys contribute nothing and no denormal reaches
// P x V (an FMA on a denormal takes a microcode assist). 16 vector ops
// against about 27 for the generic polynomial expansion of math.exp.
Value KernelBuilder::expNonPositive(Value x) {
  Value t = maxf(mul(x, splat(cF32(1.4426950408889634))), splat(cF32(-127.0)));
  Value n = math::RoundEvenOp::create(b, loc, t);
  Value poly = exp2Fraction(sub(t, n), 6);
  Value ni = arith::FPToSIOp::create(b, loc, i32VecTy, n);
  Value bits = arith::ShLIOp::create(b, loc, addi(ni, splat(cI32(127))),
                                     splat(cI32(23)));
  Value scale = arith::BitcastOp::create(b, loc, vecTy, bits);
  Value tiny = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OLT, t,
                                     splat(cF32(-125.0)));
  return arith::SelectOp::create(b, loc, tiny, splat(cF32(0.0)),
                                 mul(poly, scale));
}

Value KernelBuilder::exp2Fraction(Value f, int degree) {
  double ln2 = 0.6931471805599453, coef = 1.0;
  SmallVector<double> c;
  for (int k = 0; k <= degree; ++k) {
    c.push_back(coef);
    coef *= ln2 / (k + 1);
  }
  Value poly = splat(cF32(c[degree]));
  for (int k = degree - 1; k >= 0; --k)
    poly = fma(poly, f, splat(cF32(c[k])));
  return poly;
}

Value KernelBuilder::maxToSubtract(Value m) {
  bool isVector = isa<VectorType>(m.getType());
  Value inf = isVector ? splat(negInf()) : negInf();
  Value zero = isVector ? splat(cF32(0.0)) : cF32(0.0);
  Value isEmpty =
      arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OEQ, m, inf);
  return arith::SelectOp::create(b, loc, isEmpty, zero, m);
}

Value KernelBuilder::fastMax(Value x, Value y) {
  return arith::MaximumFOp::create(
      b, loc, x, y, arith::FastMathFlags::nnan | arith::FastMathFlags::nsz);
}

Value KernelBuilder::addi(Value x, Value y) {
  return arith::AddIOp::create(b, loc, x, y);
}

Value KernelBuilder::muli(Value x, Value y) {
  return arith::MulIOp::create(b, loc, x, y);
}

Value KernelBuilder::minsi(Value x, Value y) {
  return arith::MinSIOp::create(b, loc, x, y);
}

Value KernelBuilder::divui(Value x, int64_t c) {
  return c == 1 ? x : arith::DivUIOp::create(b, loc, x, cIdx(c)).getResult();
}

Value KernelBuilder::remui(Value x, int64_t c) {
  return arith::RemUIOp::create(b, loc, x, cIdx(c));
}

Value KernelBuilder::zeroVaryingWith(Value varying) {
  Type i64 = b.getI64Type();
  Value x = arith::IndexCastOp::create(b, loc, i64, varying);
  // Not side-effecting: loops that do not use the result drop it; "0" ties
  // the output to the input register, so the asm emits no instruction.
  Value same =
      LLVM::InlineAsmOp::create(b, loc, i64, ValueRange{x}, /*asm_string=*/"",
                                /*constraints=*/"=r,0",
                                /*has_side_effects=*/false,
                                /*is_align_stack=*/false,
                                LLVM::tailcallkind::TailCallKind::None,
                                LLVM::AsmDialectAttr(), ArrayAttr())
          .getResult(0);
  return arith::IndexCastOp::create(b, loc, b.getIndexType(),
                                    arith::SubIOp::create(b, loc, same, x));
}

std::pair<Value, Value> KernelBuilder::inverseOrZero(Value l, Value zero) {
  Value positive =
      arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OGT, l, zero);
  Value inv = arith::SelectOp::create(
      b, loc, positive, arith::DivFOp::create(b, loc, cF32(1.0), l), zero);
  return {positive, inv};
}

//===----------------------------------------------------------------------===//
// Element types
//===----------------------------------------------------------------------===//

Value KernelBuilder::toF32(Value v) {
  if (getElementTypeOrSelf(v.getType()).isF32())
    return v;
  Type target = f32;
  if (auto vt = dyn_cast<VectorType>(v.getType()))
    target = VectorType::get(vt.getShape(), f32);
  return arith::ExtFOp::create(b, loc, target, v);
}

Value KernelBuilder::fromF32(Value v, Type elem) {
  if (elem.isF32())
    return v;
  Type target = elem;
  if (auto vt = dyn_cast<VectorType>(v.getType()))
    target = VectorType::get(vt.getShape(), elem);
  return arith::TruncFOp::create(b, loc, target, v);
}

Value KernelBuilder::roundToMathMode(Value v) {
  Type narrow;
  if (mathMode == MathMode::bf16)
    narrow = b.getBF16Type();
  else if (mathMode == MathMode::f16)
    narrow = b.getF16Type();
  else
    return v;
  return toF32(fromF32(v, narrow));
}

std::pair<Value, Value>
KernelBuilder::quantizeRow(Value buf, ValueRange row, int64_t numVecs,
                           double levels,
                           function_ref<void(int64_t, Value)> codes) {
  auto at = [&](int64_t c) {
    SmallVector<Value> idx(row.begin(), row.end());
    idx.push_back(cIdx(c * lanes));
    return idx;
  };
  Value amax;
  for (int64_t c = 0; c < numVecs; ++c) {
    Value a = math::AbsFOp::create(b, loc, vload(buf, at(c)));
    amax = amax ? maxf(amax, a) : a;
  }
  Value m = treeReduce(amax, /*isMax=*/true);
  Value rowScale = arith::DivFOp::create(b, loc, m, cF32(levels));
  Value isZero =
      arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OEQ, m, cF32(0.0));
  Value lo = splat(cF32(-levels)), hi = splat(cF32(levels));
  Value sV = splat(rowScale), zero = splat(cF32(0.0));
  for (int64_t c = 0; c < numVecs; ++c) {
    Value q = vload(buf, at(c));
    Value qi =
        math::RoundEvenOp::create(b, loc, arith::DivFOp::create(b, loc, q, sV));
    qi = arith::MinimumFOp::create(b, loc, maxf(qi, lo), hi);
    // An all-zero row divides 0 by 0: its codes are 0.
    Value w = arith::SelectOp::create(b, loc, splat(isZero), zero, qi);
    vstore(mul(w, sV), buf, at(c));
    codes(c, w);
  }
  return {rowScale, isZero};
}

std::pair<Value, Value> KernelBuilder::quantizeRowInt8(Value buf,
                                                       ValueRange row,
                                                       int64_t numVecs,
                                                       Value i8Buf) {
  return quantizeRow(buf, row, numVecs, 127.0, [&](int64_t c, Value w) {
    if (!i8Buf)
      return;
    SmallVector<Value> idx(row.begin(), row.end());
    idx.push_back(cIdx(c * lanes));
    vstore(arith::FPToSIOp::create(b, loc,
                                   VectorType::get({lanes}, b.getI8Type()), w),
           i8Buf, idx);
  });
}

//===----------------------------------------------------------------------===//
// Memory
//===----------------------------------------------------------------------===//

Value KernelBuilder::scratch(ArrayRef<int64_t> shape) {
  return scratchOf(shape, f32);
}

Value KernelBuilder::scratchOf(ArrayRef<int64_t> shape, Type elem) {
  return memref::AllocaOp::create(b, loc, MemRefType::get(shape, elem),
                                  b.getI64IntegerAttr(64));
}

Value KernelBuilder::load(Value memref, ValueRange idx) {
  return memref::LoadOp::create(b, loc, memref, idx);
}

void KernelBuilder::store(Value v, Value memref, ValueRange idx) {
  memref::StoreOp::create(b, loc, v, memref, idx);
}

Value KernelBuilder::vload(Value memref, ValueRange idx) {
  return vload(vecTy, memref, idx);
}

Value KernelBuilder::vload(Type type, Value memref, ValueRange idx) {
  return vector::LoadOp::create(b, loc, cast<VectorType>(type), memref, idx);
}

void KernelBuilder::vstore(Value v, Value memref, ValueRange idx) {
  vector::StoreOp::create(b, loc, v, memref, idx);
}

Value KernelBuilder::flatten(Value memref) {
  if (!memref)
    return memref;
  auto type = cast<MemRefType>(memref.getType());
  if (type.getRank() == 1)
    return memref;
  ReassociationIndices all;
  for (int64_t i = 0; i < type.getRank(); ++i)
    all.push_back(i);
  return memref::CollapseShapeOp::create(b, loc, memref,
                                         ArrayRef<ReassociationIndices>{all});
}

//===----------------------------------------------------------------------===//
// Loops
//===----------------------------------------------------------------------===//

SmallVector<Value> KernelBuilder::forLoop(
    Value lb, Value ub, Value step, ValueRange init,
    function_ref<SmallVector<Value>(Value, ValueRange)> body) {
  // The body builder runs on `b` itself (positioned in the new block), so
  // every op is created through the caller's rewriter.
  auto loop = scf::ForOp::create(
      b, loc, lb, ub, step, init,
      [&](OpBuilder &nested, Location l, Value iv, ValueRange args) {
        SmallVector<Value> results = body(iv, args);
        scf::YieldOp::create(nested, l, results);
      });
  return SmallVector<Value>(loop.getResults());
}

void KernelBuilder::forEach(Value lb, Value ub, Value step,
                            function_ref<void(Value)> body) {
  forLoop(lb, ub, step, {}, [&](Value iv, ValueRange) {
    body(iv);
    return SmallVector<Value>{};
  });
}

func::FuncOp KernelBuilder::enclosingFunc() {
  auto func =
      b.getInsertionBlock()->getParentOp()->getParentOfType<func::FuncOp>();
  if (!func)
    func = dyn_cast<func::FuncOp>(b.getInsertionBlock()->getParentOp());
  return func;
}

std::pair<std::string, func::FuncOp>
KernelBuilder::outlineItem(func::FuncOp parent, StringRef base,
                           ArrayRef<Value *> captured,
                           function_ref<void(Value)> body) {
  SmallVector<Type> types = {b.getIndexType()};
  for (Value *v : captured)
    if (*v)
      types.push_back(v->getType());
  auto module = parent->getParentOfType<ModuleOp>();
  std::string name = base.str();
  for (int i = 0; module.lookupSymbol(name); ++i)
    name = (base + "_" + Twine(i)).str();
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPoint(parent);
  auto func = func::FuncOp::create(b, loc, name, b.getFunctionType(types, {}));
  func.setPrivate();
  Block *entry = b.createBlock(&func.getBody(), {}, types,
                               SmallVector<Location>(types.size(), loc));
  b.setInsertionPointToStart(entry);
  auto ret = func::ReturnOp::create(b, loc);
  b.setInsertionPoint(ret);
  SmallVector<Value> saved;
  unsigned argIdx = 1;
  for (Value *v : captured) {
    saved.push_back(*v);
    if (*v)
      *v = entry->getArgument(argIdx++);
  }
  body(entry->getArgument(0));
  for (auto [v, old] : llvm::zip(captured, saved))
    *v = old;
  return {name, func};
}

void KernelBuilder::parallelCall(Value lb, Value ub, Value step,
                                 StringRef callee, ValueRange args) {
  auto par = scf::ParallelOp::create(b, loc, ValueRange{lb}, ValueRange{ub},
                                     ValueRange{step});
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPoint(par.getBody()->getTerminator());
  SmallVector<Value> operands = {par.getInductionVars()[0]};
  operands.append(args.begin(), args.end());
  func::CallOp::create(b, loc, callee, TypeRange{}, operands);
}

//===----------------------------------------------------------------------===//
// Horizontal reductions
//===----------------------------------------------------------------------===//

Value KernelBuilder::treeReduce(Value v, bool isMax, bool finite) {
  int64_t n = cast<VectorType>(v.getType()).getNumElements();
  while (n > 1) {
    n /= 2;
    auto half = VectorType::get({n}, f32);
    auto slice = [&](int64_t off) -> Value {
      return vector::ExtractStridedSliceOp::create(
          b, loc, half, v, b.getI64ArrayAttr({off}), b.getI64ArrayAttr({n}),
          b.getI64ArrayAttr({1}));
    };
    Value lo = slice(0), hi = slice(n);
    v = isMax ? (finite ? fastMax(lo, hi) : maxf(lo, hi)) : add(lo, hi);
  }
  return vector::ExtractOp::create(b, loc, v, ArrayRef<int64_t>{0});
}

Value KernelBuilder::multiReduce(ArrayRef<Value> vecs) {
  return multiReduce(vecs, [&](Value x, Value y) { return add(x, y); });
}

Value KernelBuilder::multiReduce(ArrayRef<Value> vecs,
                                 function_ref<Value(Value, Value)> combine) {
  SmallVector<Value> cur(vecs.begin(), vecs.end());
  int64_t width = lanes, seg = lanes; // lanes per source in a vector
  while (cur.size() > 1) {
    SmallVector<Value> next;
    int64_t segs = width / seg; // sources per vector
    for (size_t v = 0; v + 1 < cur.size(); v += 2) {
      SmallVector<int64_t> lo, hi;
      for (int64_t src = 0; src < 2 * segs; ++src) {
        int64_t base = (src < segs ? 0 : width) + (src % segs) * seg;
        for (int64_t l = 0; l < seg / 2; ++l) {
          lo.push_back(base + l);
          hi.push_back(base + seg / 2 + l);
        }
      }
      Value a = vector::ShuffleOp::create(b, loc, cur[v], cur[v + 1], lo);
      Value c = vector::ShuffleOp::create(b, loc, cur[v], cur[v + 1], hi);
      next.push_back(combine(a, c));
    }
    cur = next;
    seg /= 2;
  }
  Value v = cur[0];
  while (seg > 1) {
    int64_t segs = width / seg;
    SmallVector<int64_t> lo, hi;
    for (int64_t src = 0; src < segs; ++src)
      for (int64_t l = 0; l < seg / 2; ++l) {
        lo.push_back(src * seg + l);
        hi.push_back(src * seg + seg / 2 + l);
      }
    v = combine(vector::ShuffleOp::create(b, loc, v, v, lo),
                vector::ShuffleOp::create(b, loc, v, v, hi));
    width /= 2;
    seg /= 2;
  }
  return v;
}
