//===- StorageTypeConverter.h - the quantkv storage ABI ---------*- C++ -*-===//
//
// Part of the quantkv project, under the Apache License v2.0 with LLVM
// Exceptions.
//
//===----------------------------------------------------------------------===//
//
// Every lowering of quantkv rewrites function signatures to the same storage
// ABI, so that one caller (JIT runtime, C API, Vulkan runner) can drive any
// target:
//   tensor<...xNxsi4/ui4>  ->  tensor<...x(ceil(N/2))xi8>, element 2i in the
//                              low nibble of byte i, two's complement for si4
//   tensor<...xsi8/ui8/si32> -> the signless integer of the same width
// Every other type is left alone.
//
//===----------------------------------------------------------------------===//

#ifndef QUANTKV_CONVERSION_UTILS_STORAGETYPECONVERTER_H
#define QUANTKV_CONVERSION_UTILS_STORAGETYPECONVERTER_H

#include "mlir/IR/BuiltinTypes.h"
#include "mlir/Transforms/DialectConversion.h"

namespace mlir::quantkv {

/// Converts quantized tensor types to their storage types (see above).
class StorageTypeConverter : public TypeConverter {
public:
  StorageTypeConverter();
};

/// True for 4-bit integer element types (packed two per byte in storage).
bool isPacked4Bit(Type elementType);

/// The storage type of `type` under the ABI above.
RankedTensorType getStorageTensorType(RankedTensorType type);

/// Adds the patterns and legality that rewrite func.func/call/return
/// signatures through `converter`.
void populateStorageSignatureConversion(const TypeConverter &converter,
                                        RewritePatternSet &patterns,
                                        ConversionTarget &target);

} // namespace mlir::quantkv

#endif // QUANTKV_CONVERSION_UTILS_STORAGETYPECONVERTER_H
