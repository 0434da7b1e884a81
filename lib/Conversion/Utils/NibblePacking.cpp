//===- NibblePacking.cpp - 4-bit storage <-> integer tensors --------------===//
//
// Part of the quantkv project, under the Apache License v2.0 with LLVM
// Exceptions.
//
//===----------------------------------------------------------------------===//

#include "quantkv/Conversion/Utils/NibblePacking.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/AffineMap.h"

using namespace mlir;
using namespace mlir::quantkv;

Value mlir::quantkv::unpackNibbles(OpBuilder &builder, Location loc,
                                   Value packed, ArrayRef<int64_t> shape,
                                   bool isSigned, Type elementType) {
  MLIRContext *ctx = builder.getContext();
  unsigned rank = shape.size();
  Type i8 = builder.getI8Type();
  Value init = tensor::EmptyOp::create(builder, loc, shape, elementType);
  // The byte of element (..., n) is (..., n floordiv 2).
  SmallVector<AffineExpr> byteExprs;
  for (unsigned d = 0; d < rank; ++d)
    byteExprs.push_back(getAffineDimExpr(d, ctx));
  byteExprs.back() = byteExprs.back().floorDiv(2);
  SmallVector<AffineMap> maps = {AffineMap::get(rank, 0, byteExprs, ctx),
                                 builder.getMultiDimIdentityMap(rank)};
  SmallVector<utils::IteratorType> iterators(rank,
                                             utils::IteratorType::parallel);
  auto generic = linalg::GenericOp::create(
      builder, loc, TypeRange{init.getType()}, ValueRange{packed},
      ValueRange{init}, maps, iterators,
      [&](OpBuilder &b, Location l, ValueRange args) {
        Value n = linalg::IndexOp::create(b, l, rank - 1);
        Value odd = arith::AndIOp::create(
            b, l, n, arith::ConstantIndexOp::create(b, l, 1));
        Value shift = arith::MulIOp::create(
            b, l, arith::IndexCastOp::create(b, l, i8, odd),
            arith::ConstantIntOp::create(b, l, i8, 4));
        Value bits = arith::ShRUIOp::create(b, l, args[0], shift);
        Value value;
        if (isSigned) { // move the nibble's sign bit to bit 7, shift back
          Value four = arith::ConstantIntOp::create(b, l, i8, 4);
          value = arith::ShRSIOp::create(
              b, l, arith::ShLIOp::create(b, l, bits, four), four);
        } else
          value = arith::AndIOp::create(
              b, l, bits, arith::ConstantIntOp::create(b, l, i8, 0xF));
        if (elementType != i8)
          value = arith::TruncIOp::create(b, l, elementType, value);
        linalg::YieldOp::create(b, l, value);
      });
  return generic.getResult(0);
}

Value mlir::quantkv::packNibbles(OpBuilder &builder, Location loc,
                                 Value values) {
  auto type = cast<RankedTensorType>(values.getType());
  unsigned rank = type.getRank();
  int64_t lastDim = type.getShape().back();
  SmallVector<int64_t> packedShape(type.getShape());
  packedShape.back() = (lastDim + 1) / 2;
  Type i8 = builder.getI8Type();
  Value init = tensor::EmptyOp::create(builder, loc, packedShape, i8);
  SmallVector<AffineMap> maps = {builder.getMultiDimIdentityMap(rank)};
  SmallVector<utils::IteratorType> iterators(rank,
                                             utils::IteratorType::parallel);
  auto generic = linalg::GenericOp::create(
      builder, loc, TypeRange{init.getType()}, ValueRange{}, ValueRange{init},
      maps, iterators, [&](OpBuilder &b, Location l, ValueRange) {
        SmallVector<Value> indices;
        for (unsigned d = 0; d < rank; ++d)
          indices.push_back(linalg::IndexOp::create(b, l, d));
        Value one = arith::ConstantIndexOp::create(b, l, 1);
        Value lowIndex = arith::MulIOp::create(
            b, l, indices.back(), arith::ConstantIndexOp::create(b, l, 2));
        Value highIndex = arith::AddIOp::create(b, l, lowIndex, one);
        auto read = [&](Value index) -> Value {
          SmallVector<Value> at(indices);
          at.back() = index;
          Value v = tensor::ExtractOp::create(b, l, values, at);
          if (v.getType() != i8)
            v = arith::ExtUIOp::create(b, l, i8, v);
          return v;
        };
        Value mask = arith::ConstantIntOp::create(b, l, i8, 0xF);
        Value low = arith::AndIOp::create(b, l, read(lowIndex), mask);
        Value high;
        if (lastDim % 2 == 0) {
          high = read(highIndex);
        } else {
          // The last byte of an odd row has no high element: read the low
          // one again (in bounds) and drop it.
          Value last = arith::ConstantIndexOp::create(b, l, lastDim);
          Value inBounds = arith::CmpIOp::create(
              b, l, arith::CmpIPredicate::ult, highIndex, last);
          Value safe =
              arith::SelectOp::create(b, l, inBounds, highIndex, lowIndex);
          high = arith::SelectOp::create(
              b, l, inBounds, read(safe),
              arith::ConstantIntOp::create(b, l, i8, 0));
        }
        high = arith::ShLIOp::create(b, l, high,
                                     arith::ConstantIntOp::create(b, l, i8, 4));
        linalg::YieldOp::create(b, l,
                                Value(arith::OrIOp::create(b, l, low, high)));
      });
  return generic.getResult(0);
}
