//===- LoweringUtils.cpp - builders shared by the linalg lowering ---------===//
//
// Part of the quantkv project, under the Apache License v2.0 with LLVM
// Exceptions.
//
//===----------------------------------------------------------------------===//

#include "LoweringUtils.h"

#include "quantkv/Conversion/Utils/NibblePacking.h"
#include "quantkv/Conversion/Utils/StorageTypeConverter.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

using namespace mlir;
using namespace mlir::quantkv;

Value lowering::getIntegerValues(OpBuilder &b, Location loc, Value storage,
                                 RankedTensorType logicalType) {
  Type element = logicalType.getElementType();
  if (!isPacked4Bit(element))
    return storage;
  return unpackNibbles(b, loc, storage, logicalType.getShape(),
                       /*isSigned=*/!element.isUnsignedInteger(),
                       b.getI8Type());
}

Value lowering::convertToF32(OpBuilder &b, Location loc, Value value,
                             Type logicalElement) {
  Type f32 = b.getF32Type();
  if (isa<IntegerType>(logicalElement)) {
    if (logicalElement.isUnsignedInteger())
      return arith::UIToFPOp::create(b, loc, f32, value);
    return arith::SIToFPOp::create(b, loc, f32, value);
  }
  if (value.getType() == f32)
    return value;
  return arith::ExtFOp::create(b, loc, f32, value);
}

Value lowering::convertFromF32(OpBuilder &b, Location loc, Value value,
                               Type type) {
  if (value.getType() == type)
    return value;
  return arith::TruncFOp::create(b, loc, type, value);
}

AffineMap lowering::getScaleMap(GranularityAttrInterface granularity,
                                ArrayRef<int64_t> srcShape,
                                ArrayRef<int64_t> scaleShape,
                                MLIRContext *ctx) {
  SmallVector<int64_t> group, expanded;
  granularity.getScaleIndexing(srcShape, scaleShape, group, expanded);
  unsigned rank = srcShape.size();
  // Scale index along each source dim, on the rank-`rank` expanded scale.
  SmallVector<AffineExpr> perDim;
  for (unsigned d = 0; d < rank; ++d) {
    AffineExpr dim = getAffineDimExpr(d, ctx);
    if (expanded[d] == 1)
      perDim.push_back(getAffineConstantExpr(0, ctx));
    else if (group[d] == 1)
      perDim.push_back(dim);
    else
      perDim.push_back(dim.floorDiv(group[d]));
  }
  if (scaleShape.size() == rank)
    return AffineMap::get(rank, 0, perDim, ctx);
  // A 1-d scale (per_tensor, per_channel) is the expanded scale with its unit
  // dims dropped: index it by the one non-broadcast dim, or 0.
  AffineExpr index = getAffineConstantExpr(0, ctx);
  for (unsigned d = 0; d < rank; ++d)
    if (expanded[d] != 1)
      index = perDim[d];
  return AffineMap::get(rank, 0, index, ctx);
}

Value lowering::buildDequantize(OpBuilder &b, Location loc, Value storage,
                                RankedTensorType logicalType, Value scale,
                                Value zeroPoint, RankedTensorType zeroPointType,
                                GranularityAttrInterface granularity,
                                Type resultElement) {
  MLIRContext *ctx = b.getContext();
  ArrayRef<int64_t> shape = logicalType.getShape();
  unsigned rank = shape.size();
  auto scaleType = cast<RankedTensorType>(scale.getType());
  AffineMap scaleMap =
      getScaleMap(granularity, shape, scaleType.getShape(), ctx);

  SmallVector<Value> inputs = {getIntegerValues(b, loc, storage, logicalType),
                               scale};
  SmallVector<AffineMap> maps = {b.getMultiDimIdentityMap(rank), scaleMap};
  if (zeroPoint) {
    inputs.push_back(getIntegerValues(b, loc, zeroPoint, zeroPointType));
    maps.push_back(scaleMap);
  }
  maps.push_back(b.getMultiDimIdentityMap(rank));
  Value init = tensor::EmptyOp::create(b, loc, shape, resultElement);
  Type element = logicalType.getElementType();
  SmallVector<utils::IteratorType> iterators(rank,
                                             utils::IteratorType::parallel);
  auto generic = linalg::GenericOp::create(
      b, loc, TypeRange{init.getType()}, inputs, ValueRange{init}, maps,
      iterators, [&](OpBuilder &nb, Location l, ValueRange args) {
        Value x = convertToF32(nb, l, args[0], element);
        if (zeroPoint) {
          Value zp =
              convertToF32(nb, l, args[2], zeroPointType.getElementType());
          x = arith::SubFOp::create(nb, l, x, zp);
        }
        Value s = convertToF32(nb, l, args[1], scaleType.getElementType());
        Value y = arith::MulFOp::create(nb, l, x, s);
        linalg::YieldOp::create(nb, l, convertFromF32(nb, l, y, resultElement));
      });
  return generic.getResult(0);
}

Value lowering::buildFilled(OpBuilder &b, Location loc, ArrayRef<int64_t> shape,
                            Type elementType, double value) {
  Value init = tensor::EmptyOp::create(b, loc, shape, elementType);
  Value constant = arith::ConstantOp::create(
      b, loc, elementType, b.getFloatAttr(elementType, value));
  return linalg::FillOp::create(b, loc, constant, init).getResult(0);
}
