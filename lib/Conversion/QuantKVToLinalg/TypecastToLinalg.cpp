//===- TypecastToLinalg.cpp - quantkv.typecast -> linalg ------------------===//
//
// Part of the quantkv project, under the Apache License v2.0 with LLVM
// Exceptions.
//
//===----------------------------------------------------------------------===//

#include "LoweringUtils.h"
#include "quantkv/Conversion/QuantKVToLinalg/QuantKVToLinalg.h"
#include "quantkv/Dialect/QuantKV/IR/QuantKVOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

using namespace mlir;
using namespace mlir::quantkv;

namespace {
/// Rewrites
///
///   %h = quantkv.typecast %x : tensor<8xf32> to tensor<8xbf16>
///
/// into an element-wise linalg.generic yielding `arith.truncf` (round to
/// nearest even) or `arith.extf` (exact). A same-type cast becomes its input.
struct TypecastOpLowering : public OpConversionPattern<TypecastOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(TypecastOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    RankedTensorType inType = op.getInput().getType();
    RankedTensorType outType = op.getResult().getType();
    if (inType == outType) {
      rewriter.replaceOp(op, adaptor.getInput());
      return success();
    }
    Location loc = op.getLoc();
    SmallVector<Value> dynamicSizes;
    for (int64_t d = 0; d < inType.getRank(); ++d)
      if (inType.isDynamicDim(d))
        dynamicSizes.push_back(
            tensor::DimOp::create(rewriter, loc, adaptor.getInput(), d));
    Value init =
        tensor::EmptyOp::create(rewriter, loc, outType.getShape(),
                                outType.getElementType(), dynamicSizes);
    unsigned rank = inType.getRank();
    Type from = inType.getElementType(), to = outType.getElementType();
    SmallVector<utils::IteratorType> iterators(rank,
                                               utils::IteratorType::parallel);
    auto generic = linalg::GenericOp::create(
        rewriter, loc, TypeRange{outType}, ValueRange{adaptor.getInput()},
        ValueRange{init},
        SmallVector<AffineMap>(2, rewriter.getMultiDimIdentityMap(rank)),
        iterators, [&](OpBuilder &b, Location l, ValueRange args) {
          Value v;
          if (from.getIntOrFloatBitWidth() < to.getIntOrFloatBitWidth())
            v = arith::ExtFOp::create(b, l, to, args[0]);
          else
            v = arith::TruncFOp::create(b, l, to, args[0]);
          linalg::YieldOp::create(b, l, v);
        });
    rewriter.replaceOp(op, generic.getResult(0));
    return success();
  }
};
} // namespace

void mlir::quantkv::populateTypecastToLinalgPatterns(
    const TypeConverter &converter, RewritePatternSet &patterns) {
  patterns.add<TypecastOpLowering>(converter, patterns.getContext());
}
