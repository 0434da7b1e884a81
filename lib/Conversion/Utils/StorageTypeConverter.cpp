//===- StorageTypeConverter.cpp - the quantkv storage ABI -----------------===//
//
// Part of the quantkv project, under the Apache License v2.0 with LLVM
// Exceptions.
//
//===----------------------------------------------------------------------===//

#include "quantkv/Conversion/Utils/StorageTypeConverter.h"
#include "quantkv/Conversion/Utils/NibblePacking.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Func/Transforms/FuncConversions.h"
#include "mlir/IR/BuiltinOps.h"

using namespace mlir;
using namespace mlir::quantkv;

bool mlir::quantkv::isPacked4Bit(Type elementType) {
  auto intType = dyn_cast<IntegerType>(elementType);
  return intType && intType.getWidth() == 4;
}

RankedTensorType mlir::quantkv::getStorageTensorType(RankedTensorType type) {
  auto intType = dyn_cast<IntegerType>(type.getElementType());
  if (!intType || (intType.isSignless() && intType.getWidth() != 4))
    return type;
  MLIRContext *ctx = type.getContext();
  if (intType.getWidth() != 4)
    return RankedTensorType::get(type.getShape(),
                                 IntegerType::get(ctx, intType.getWidth()));
  SmallVector<int64_t> shape(type.getShape());
  if (shape.empty())
    shape.push_back(1);
  else if (!ShapedType::isDynamic(shape.back()))
    shape.back() = (shape.back() + 1) / 2;
  return RankedTensorType::get(shape, IntegerType::get(ctx, 8));
}

/// True when `logical` is a static tensor of signless i4 (rank >= 1) whose
/// storage form is `storage`.
static bool isUnpackableI4(Type logical, Type storage) {
  auto tensorType = dyn_cast<RankedTensorType>(logical);
  if (!tensorType || !tensorType.hasStaticShape() || tensorType.getRank() == 0)
    return false;
  auto intType = dyn_cast<IntegerType>(tensorType.getElementType());
  return intType && intType.isSignless() && intType.getWidth() == 4 &&
         getStorageTensorType(tensorType) == storage;
}

static bool isUnpackableI4(Type logical, ValueRange storage) {
  return storage.size() == 1 && isUnpackableI4(logical, storage[0].getType());
}

StorageTypeConverter::StorageTypeConverter() {
  addConversion([](Type type) { return type; });
  addConversion(
      [](RankedTensorType type) -> Type { return getStorageTensorType(type); });
  // Casts between the logical and storage forms of quantized (si4/ui4/si8/
  // ui8) tensors only exist transiently inside a conversion; a cast that
  // survives means an op was left unconverted.
  auto materialize = [](OpBuilder &builder, Type type, ValueRange inputs,
                        Location loc) -> Value {
    return UnrealizedConversionCastOp::create(builder, loc, type, inputs)
        .getResult(0);
  };
  // A signless i4 tensor is used by ops that stay (linalg, arith): they get
  // the unpacked tensor, one i4 per element, so the rest of the function is
  // unchanged; LLVM later stores such memref elements one per byte.
  addSourceMaterialization([=](OpBuilder &builder, Type type, ValueRange inputs,
                               Location loc) -> Value {
    if (isUnpackableI4(type, inputs)) {
      auto tensorType = cast<RankedTensorType>(type);
      return unpackNibbles(builder, loc, inputs[0], tensorType.getShape(),
                           /*isSigned=*/false, tensorType.getElementType());
    }
    return materialize(builder, type, inputs, loc);
  });
  addTargetMaterialization([=](OpBuilder &builder, Type type, ValueRange inputs,
                               Location loc) -> Value {
    if (inputs.size() == 1 && isUnpackableI4(inputs[0].getType(), type))
      return packNibbles(builder, loc, inputs[0]);
    return materialize(builder, type, inputs, loc);
  });
}

void mlir::quantkv::populateStorageSignatureConversion(
    const TypeConverter &converter, RewritePatternSet &patterns,
    ConversionTarget &target) {
  populateFunctionOpInterfaceTypeConversionPattern<func::FuncOp>(patterns,
                                                                 converter);
  populateCallOpTypeConversionPattern(patterns, converter);
  populateReturnOpTypeConversionPattern(patterns, converter);
  target.addDynamicallyLegalOp<func::FuncOp>([&](func::FuncOp op) {
    return converter.isSignatureLegal(op.getFunctionType()) &&
           converter.isLegal(&op.getBody());
  });
  target.addDynamicallyLegalOp<func::CallOp, func::ReturnOp>(
      [&](Operation *op) { return converter.isLegal(op); });
}
