//===- DequantizeToLinalg.cpp - quantkv.dequantize -> linalg --------------===//
//
// Part of the quantkv project, under the Apache License v2.0 with LLVM
// Exceptions.
//
//===----------------------------------------------------------------------===//

#include "LoweringUtils.h"
#include "quantkv/Conversion/QuantKVToLinalg/QuantKVToLinalg.h"
#include "quantkv/Dialect/QuantKV/IR/QuantKVOps.h"

using namespace mlir;
using namespace mlir::quantkv;

namespace {
/// Rewrites
///
///   %y = quantkv.dequantize %x scale(%s : tensor<4xf32>)
///       zero_point(%z : tensor<4xui4>)
///       granularity(#quantkv.per_group<[1, 2]>)
///       : tensor<2x8xui4> -> tensor<2x8xf32>
///
/// with %x as tensor<2x4xi8> (packed) and %z as tensor<2xi8>, into
///
///   %xi = linalg.generic ... (unpack %x)  : tensor<2x8xi8>
///   %zi = linalg.generic ... (unpack %z)  : tensor<4xi8>
///   %y = linalg.generic {indexing_maps = [(d0, d1) -> (d0, d1),
///                                         (d0, d1) -> (d1 floordiv 2), ...]}
///       ins(%xi, %s, %zi) outs(%e) {
///     (uitofp(x) - uitofp(zp)) * s
///   }
struct DequantizeOpLowering : public OpConversionPattern<DequantizeOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(DequantizeOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    RankedTensorType inputType = op.getInput().getType();
    if (!inputType.hasStaticShape() || inputType.getRank() == 0)
      return rewriter.notifyMatchFailure(
          op, "the reference lowering needs a static shape of rank >= 1");
    if (!op.getScale().getType().hasStaticShape())
      return rewriter.notifyMatchFailure(op, "dynamic scale shape");
    RankedTensorType zpType;
    if (Value zp = op.getZeroPoint())
      zpType = cast<RankedTensorType>(zp.getType());
    Value result = lowering::buildDequantize(
        rewriter, op.getLoc(), adaptor.getInput(), inputType,
        adaptor.getScale(), adaptor.getZeroPoint(), zpType, op.getGranularity(),
        op.getResult().getType().getElementType());
    rewriter.replaceOp(op, result);
    return success();
  }
};
} // namespace

void mlir::quantkv::populateDequantizeToLinalgPatterns(
    const TypeConverter &converter, RewritePatternSet &patterns) {
  patterns.add<DequantizeOpLowering>(converter, patterns.getContext());
}
