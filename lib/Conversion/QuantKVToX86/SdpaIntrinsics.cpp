//===- SdpaIntrinsics.cpp - x86 instructions as intrinsic calls -----------===//
//
// Part of the quantkv project, under the Apache License v2.0 with LLVM
// Exceptions.
//
//===----------------------------------------------------------------------===//
//
// Single x86 instructions the kernel needs and that no MLIR op produces as one
// instruction (vpdpbusd, vpermps, vgf2p8affineqb, vcvtps2dq, vrangeps, the
// packs): each is an llvm.call_intrinsic in a private helper function that LLVM
// inlines.
//
//===----------------------------------------------------------------------===//

#include "SdpaEmitter.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

using namespace mlir;
using namespace mlir::quantkv;

Value SdpaEmitter::callIntrinsic(
    StringRef name, StringRef intrinsic, Type result, ArrayRef<Type> argTypes,
    ValueRange args, ArrayRef<std::pair<unsigned, int64_t>> immediates) {
  // (Inside scf.for body builders the enclosing ops are not linked yet:
  // the module was recorded when emission started.)
  auto immediateAt = [&](unsigned i) {
    return llvm::find_if(immediates, [&](auto im) { return im.first == i; });
  };
  SmallVector<Type> passed;
  for (unsigned i = 0; i < argTypes.size(); ++i)
    if (immediateAt(i) == immediates.end())
      passed.push_back(argTypes[i]);
  auto type = LLVM::LLVMFunctionType::get(result, passed);
  if (!module.lookupSymbol(name)) {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(module.getBody());
    auto func =
        LLVM::LLVMFuncOp::create(b, loc, name, type, LLVM::Linkage::Internal);
    Block *entry = func.addEntryBlock(b);
    b.setInsertionPointToStart(entry);
    SmallVector<Value> operands;
    unsigned next = 0;
    for (unsigned i = 0; i < argTypes.size(); ++i) {
      auto im = immediateAt(i);
      if (im == immediates.end())
        operands.push_back(entry->getArgument(next++));
      else
        operands.push_back(LLVM::ConstantOp::create(
            b, loc, argTypes[i], b.getIntegerAttr(argTypes[i], im->second)));
    }
    Value r = LLVM::CallIntrinsicOp::create(
                  b, loc, result, b.getStringAttr(intrinsic), operands)
                  .getResult(0);
    LLVM::ReturnOp::create(b, loc, r);
  }
  return LLVM::CallOp::create(b, loc, TypeRange{result}, name, args)
      .getResult();
}

Value SdpaEmitter::permute(Value table, Value idx) {
  auto i32x16 = VectorType::get({p.lanes}, i32);
  return callIntrinsic("__quantkv_vpermps_512",
                       "llvm.x86.avx512.permvar.sf.512", vecTy, {vecTy, i32x16},
                       {table, idx});
}

Value SdpaEmitter::dpbusd(Value acc, Value a, Value bv) {
  auto i32x16 = VectorType::get({p.lanes}, i32);
  auto bytes64 = VectorType::get({64}, b.getI8Type());
  return callIntrinsic("__quantkv_vpdpbusd_512", "llvm.x86.avx512.vpdpbusd.512",
                       i32x16, {i32x16, bytes64, bytes64}, {acc, a, bv});
}

std::pair<Value, Value> SdpaEmitter::nibblePlanes(Value bytes, bool isSigned) {
  auto bytes64 = VectorType::get({64}, b.getI8Type());
  Value lo = arith::AndIOp::create(b, loc, bytes, splatInt(bytes64, 0x0F));
  if (isSigned)
    lo = arith::XOrIOp::create(b, loc, lo, splatInt(bytes64, 0x08));
  if (!p.useGfni) {
    // A word shift and a byte mask: an i8 vector shift would be lowered to
    // vgf2p8affineqb by LLVM wherever the target has GFNI.
    auto words = VectorType::get({32}, b.getI16Type());
    Value shifted = arith::ShRUIOp::create(
        b, loc, vector::BitCastOp::create(b, loc, words, bytes),
        splatInt(words, 4));
    Value hi = arith::AndIOp::create(
        b, loc, vector::BitCastOp::create(b, loc, bytes64, shifted),
        splatInt(bytes64, 0x0F));
    if (isSigned)
      hi = arith::XOrIOp::create(b, loc, hi, splatInt(bytes64, 0x08));
    return {lo, hi};
  }
  // Row i of the matrix (byte 7 - i of each qword) selects the source
  // bits of result bit i: bit i + 4 for i < 4, none above.
  SmallVector<int8_t> rows = {0,    0,    0,   0, static_cast<int8_t>(0x80),
                              0x40, 0x20, 0x10};
  SmallVector<int8_t> matrix;
  for (int64_t i = 0; i < 64; ++i)
    matrix.push_back(rows[i % 8]);
  Value m = arith::ConstantOp::create(
      b, loc, bytes64,
      DenseElementsAttr::get(bytes64, ArrayRef<int8_t>(matrix)));
  StringRef name =
      isSigned ? "__quantkv_gf2p8_shr4_xor8_512" : "__quantkv_gf2p8_shr4_512";
  Value hi = callIntrinsic(name, "llvm.x86.vgf2p8affineqb.512", bytes64,
                           {bytes64, bytes64, b.getI8Type()}, {bytes, m},
                           {{2, isSigned ? 8 : 0}});
  return {lo, hi};
}

SmallVector<Value> SdpaEmitter::vnniCodeOperands(Value bytes, bool int4,
                                                 bool isSigned) {
  if (int4) {
    auto [lo, hi] = nibblePlanes(bytes, isSigned);
    return {lo, hi};
  }
  if (isSigned)
    bytes = arith::XOrIOp::create(b, loc, bytes,
                                  splatInt(VectorType::get({64}, b.getI8Type()),
                                           static_cast<int8_t>(0x80)));
  return {bytes};
}

Value SdpaEmitter::expShifted(Value x, Value m) {
  Value t = mul(sub(x, splat(m)), splat(cF32(1.4426950408889634)));
  Value n = math::RoundEvenOp::create(b, loc, t);
  Value poly = exp2Fraction(sub(t, n), 5);
  // x = -inf: t = n = -inf and f is NaN; the select below returns 0.
  Value all = arith::ConstantOp::create(b, loc, b.getI16Type(),
                                        b.getI16IntegerAttr(-1));
  Value scaled = callIntrinsic("__quantkv_vscalefps_512",
                               "llvm.x86.avx512.mask.scalef.ps.512", vecTy,
                               {vecTy, vecTy, vecTy, b.getI16Type(), i32},
                               {poly, n, poly, all}, {{4, 4}});
  Value tiny = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OLT, t,
                                     splat(cF32(-125.0)));
  return arith::SelectOp::create(b, loc, tiny, splat(cF32(0.0)), scaled);
}

Value SdpaEmitter::cvtRound(Value v) {
  auto i32x16 = VectorType::get({p.lanes}, i32);
  Value pass = splatInt(i32x16, 0);
  Value all = arith::ConstantOp::create(b, loc, b.getI16Type(),
                                        b.getI16IntegerAttr(-1));
  return callIntrinsic(
      "__quantkv_vcvtps2dq_512", "llvm.x86.avx512.mask.cvtps2dq.512", i32x16,
      {vecTy, i32x16, b.getI16Type(), i32}, {v, pass, all}, {{3, 4}});
}

Value SdpaEmitter::maxAbs(Value x, Value y) {
  Value all = arith::ConstantOp::create(b, loc, b.getI16Type(),
                                        b.getI16IntegerAttr(-1));
  return callIntrinsic("__quantkv_vrangeps_512",
                       "llvm.x86.avx512.mask.range.ps.512", vecTy,
                       {vecTy, vecTy, i32, vecTy, b.getI16Type(), i32},
                       {x, y, splat(cF32(0.0)), all}, {{2, 11}, {5, 4}});
}
