//===- StorageTensorOps.cpp - tensor ops on quantized storage -------------===//
//
// Part of the quantkv project, under the Apache License v2.0 with LLVM
// Exceptions.
//
//===----------------------------------------------------------------------===//
//
// The fusion pass feeds quantkv.sdpa through a few tensor ops on quantized
// storage values: a tensor.bitcast that attaches signedness to a frontend's
// signless cache, and expand/collapse_shape that lift 2-d/3-d attention to
// rank 4. Under the storage ABI these are retypes of the same bytes, so they
// are rewritten onto the storage types rather than unpacked and repacked.
//
//===----------------------------------------------------------------------===//

#include "quantkv/Conversion/QuantKVToLinalg/QuantKVToLinalg.h"
#include "quantkv/Conversion/Utils/StorageTypeConverter.h"

#include "mlir/Dialect/Tensor/IR/Tensor.h"

using namespace mlir;
using namespace mlir::quantkv;

/// True when `type` is a tensor whose storage form differs from it only by
/// signedness or packing of a signed/unsigned integer element type. Signless
/// i4 values are left to the converter's unpack materialization instead.
static bool hasSignedOrUnsignedElements(Type type) {
  auto tensorType = dyn_cast<RankedTensorType>(type);
  if (!tensorType)
    return false;
  auto intType = dyn_cast<IntegerType>(tensorType.getElementType());
  return intType && !intType.isSignless();
}

bool mlir::quantkv::isQuantizedStorageTensorOp(Operation *op) {
  if (!isa<tensor::BitcastOp, tensor::ExpandShapeOp, tensor::CollapseShapeOp>(
          op))
    return false;
  return llvm::any_of(op->getOperandTypes(), hasSignedOrUnsignedElements) ||
         llvm::any_of(op->getResultTypes(), hasSignedOrUnsignedElements);
}

namespace {

/// A bitcast between integer types of one width is the identity on storage:
///
///   %s = tensor.bitcast %x : tensor<2x16xi4> to tensor<2x16xsi4>
///
/// becomes the (packed) operand itself.
struct BitcastOnStorage : public OpConversionPattern<tensor::BitcastOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(tensor::BitcastOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Type resultType = getTypeConverter()->convertType(op.getType());
    if (!resultType || resultType != adaptor.getSource().getType())
      return rewriter.notifyMatchFailure(
          op, "storage forms of source and result differ");
    rewriter.replaceOp(op, adaptor.getSource());
    return success();
  }
};

/// A reshape keeps the row-major order of elements, so on packed 4-bit
/// storage it is the same reshape of the bytes as long as no row boundary
/// falls inside a byte: the last dims are equal, or both are even.
///
///   tensor.expand_shape %k [[0, 1], [2], [3]] : tensor<8x16x64xsi4>
///       into tensor<1x8x16x64xsi4>
///   ->
///   tensor.expand_shape %k [[0, 1], [2], [3]] : tensor<8x16x32xi8>
///       into tensor<1x8x16x32xi8>
template <typename ReshapeOp>
struct ReshapeOnStorage : public OpConversionPattern<ReshapeOp> {
  using OpConversionPattern<ReshapeOp>::OpConversionPattern;
  using OpAdaptor = typename ReshapeOp::Adaptor;

  LogicalResult
  matchAndRewrite(ReshapeOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto srcType = cast<RankedTensorType>(op.getSrc().getType());
    auto resultType = cast<RankedTensorType>(op.getResult().getType());
    if (!srcType.hasStaticShape() || !resultType.hasStaticShape())
      return rewriter.notifyMatchFailure(op, "needs static shapes");
    if (isPacked4Bit(srcType.getElementType())) {
      int64_t srcLast = srcType.getShape().back();
      int64_t resultLast = resultType.getShape().back();
      if (srcLast != resultLast && (srcLast % 2 || resultLast % 2))
        return rewriter.notifyMatchFailure(
            op, "a row boundary of the reshape falls inside a packed byte");
    }
    auto newType = dyn_cast_or_null<RankedTensorType>(
        this->getTypeConverter()->convertType(resultType));
    if (!newType)
      return rewriter.notifyMatchFailure(op, "result has no storage type");
    rewriter.replaceOpWithNewOp<ReshapeOp>(op, newType, adaptor.getSrc(),
                                           op.getReassociationIndices());
    return success();
  }
};

} // namespace

void mlir::quantkv::populateStorageTensorOpPatterns(
    const TypeConverter &converter, RewritePatternSet &patterns) {
  patterns.add<BitcastOnStorage, ReshapeOnStorage<tensor::ExpandShapeOp>,
               ReshapeOnStorage<tensor::CollapseShapeOp>>(
      converter, patterns.getContext());
}
