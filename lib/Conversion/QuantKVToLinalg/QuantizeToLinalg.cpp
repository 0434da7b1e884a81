//===- QuantizeToLinalg.cpp - quantkv.quantize -> linalg ------------------===//
//
// Part of the quantkv project, under the Apache License v2.0 with LLVM
// Exceptions.
//
//===----------------------------------------------------------------------===//

#include "LoweringUtils.h"
#include "quantkv/Conversion/QuantKVToLinalg/QuantKVToLinalg.h"
#include "quantkv/Conversion/Utils/NibblePacking.h"
#include "quantkv/Conversion/Utils/StorageTypeConverter.h"
#include "quantkv/Dialect/QuantKV/IR/QuantKVOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

using namespace mlir;
using namespace mlir::quantkv;

namespace {
/// Rewrites
///
///   %q = quantkv.quantize %x scale(%s : tensor<2xf32>)
///       granularity(#quantkv.per_group<[1, 4]>)
///       : tensor<2x8xf32> -> tensor<2x8xsi4>
///
/// into one element-wise generic, in f32,
///
///   v = clamp(math.roundeven(x / s) + zp, qmin, qmax)     (maxnumf/minnumf)
///   q = trunci(fptosi(v))                                  : i8 (i32 for si32)
///
/// followed, for 4-bit results, by the packing generic of the storage ABI
/// (tensor<2x4xi8>). maxnumf(NaN, qmin) = qmin, so NaN quantizes to qmin;
/// +-inf saturate.
struct QuantizeOpLowering : public OpConversionPattern<QuantizeOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(QuantizeOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    RankedTensorType inputType = op.getInput().getType();
    RankedTensorType resultType = op.getResult().getType();
    if (!inputType.hasStaticShape() || inputType.getRank() == 0)
      return rewriter.notifyMatchFailure(
          op, "the reference lowering needs a static shape of rank >= 1");
    if (!op.getScale().getType().hasStaticShape())
      return rewriter.notifyMatchFailure(op, "dynamic scale shape");

    auto resultElement = cast<IntegerType>(resultType.getElementType());
    // Plain variables: the body lambda captures them (C++17 cannot capture
    // structured bindings).
    auto range = getStorageRange(resultElement);
    int64_t qmin = range.first, qmax = range.second;
    unsigned valueWidth = resultElement.getWidth() > 8 ? 32 : 8;
    Type valueType = rewriter.getIntegerType(valueWidth);
    unsigned rank = inputType.getRank();
    ArrayRef<int64_t> shape = inputType.getShape();
    auto scaleType = op.getScale().getType();
    AffineMap scaleMap = lowering::getScaleMap(
        op.getGranularity(), shape, scaleType.getShape(), getContext());

    SmallVector<Value> inputs = {adaptor.getInput(), adaptor.getScale()};
    SmallVector<AffineMap> maps = {rewriter.getMultiDimIdentityMap(rank),
                                   scaleMap};
    Type zpElement;
    if (Value zp = op.getZeroPoint()) {
      auto zpType = cast<RankedTensorType>(zp.getType());
      zpElement = zpType.getElementType();
      inputs.push_back(lowering::getIntegerValues(
          rewriter, loc, adaptor.getZeroPoint(), zpType));
      maps.push_back(scaleMap);
    }
    maps.push_back(rewriter.getMultiDimIdentityMap(rank));
    Value init = tensor::EmptyOp::create(rewriter, loc, shape, valueType);
    Type inElement = inputType.getElementType();
    Type f32 = rewriter.getF32Type();
    SmallVector<utils::IteratorType> iterators(rank,
                                               utils::IteratorType::parallel);
    Value values =
        linalg::GenericOp::create(
            rewriter, loc, TypeRange{init.getType()}, inputs, ValueRange{init},
            maps, iterators,
            [&](OpBuilder &b, Location l, ValueRange args) {
              Value x = lowering::convertToF32(b, l, args[0], inElement);
              Value s = lowering::convertToF32(b, l, args[1],
                                               scaleType.getElementType());
              Value r = math::RoundEvenOp::create(
                  b, l, arith::DivFOp::create(b, l, x, s));
              if (zpElement)
                r = arith::AddFOp::create(
                    b, l, r, lowering::convertToF32(b, l, args[2], zpElement));
              auto cst = [&](int64_t v) -> Value {
                return arith::ConstantOp::create(
                    b, l, f32, b.getF32FloatAttr(static_cast<float>(v)));
              };
              r = arith::MaxNumFOp::create(b, l, r, cst(qmin));
              r = arith::MinNumFOp::create(b, l, r, cst(qmax));
              // ui8 values up to 255 do not fit si8: convert through i32.
              Value v = arith::FPToSIOp::create(b, l, b.getI32Type(), r);
              if (valueWidth != 32)
                v = arith::TruncIOp::create(b, l, valueType, v);
              linalg::YieldOp::create(b, l, v);
            })
            .getResult(0);
    if (isPacked4Bit(resultElement))
      values = packNibbles(rewriter, loc, values);
    rewriter.replaceOp(op, values);
    return success();
  }
};
} // namespace

void mlir::quantkv::populateQuantizeToLinalgPatterns(
    const TypeConverter &converter, RewritePatternSet &patterns) {
  patterns.add<QuantizeOpLowering>(converter, patterns.getContext());
}
