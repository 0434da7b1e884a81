//===- QuantKVToLinalg.h - reference lowering of quantkv --------*- C++ -*-===//
//
// Part of the quantkv project, under the Apache License v2.0 with LLVM
// Exceptions.
//
//===----------------------------------------------------------------------===//
//
// The reference lowering states the semantics of every quantkv op with
// linalg.generic/arith/math/tensor ops on tensors, operands and results in
// the storage ABI of StorageTypeConverter (4-bit packed two per byte). Other
// lowerings (x86, SPIR-V) reuse these patterns for the ops they do not
// specialize.
//
//===----------------------------------------------------------------------===//

#ifndef QUANTKV_CONVERSION_QUANTKVTOLINALG_QUANTKVTOLINALG_H
#define QUANTKV_CONVERSION_QUANTKVTOLINALG_QUANTKVTOLINALG_H

#include "mlir/Transforms/DialectConversion.h"

namespace mlir::quantkv {

/// quantkv.dequantize -> (unpack) + linalg.generic computing
/// (x - zp) * scale in f32.
void populateDequantizeToLinalgPatterns(const TypeConverter &converter,
                                        RewritePatternSet &patterns);

/// quantkv.quantize -> linalg.generic computing
/// clamp(roundeven(x / scale) + zp, qmin, qmax) (+ pack for 4-bit).
void populateQuantizeToLinalgPatterns(const TypeConverter &converter,
                                      RewritePatternSet &patterns);

/// quantkv.typecast -> linalg.generic with arith.extf / arith.truncf.
void populateTypecastToLinalgPatterns(const TypeConverter &converter,
                                      RewritePatternSet &patterns);

/// quantkv.sdpa -> dequantize K/V, Q.K^T contraction, scale + mask, a
/// max-subtracted softmax and the P.V contraction, each a linalg.generic.
void populateSdpaToLinalgPatterns(const TypeConverter &converter,
                                  RewritePatternSet &patterns);

/// tensor.bitcast / expand_shape / collapse_shape on si*/ui* tensors ->
/// the same op on the storage types (a retype of the same bytes).
void populateStorageTensorOpPatterns(const TypeConverter &converter,
                                     RewritePatternSet &patterns);

/// True for the tensor ops populateStorageTensorOpPatterns rewrites, when
/// they touch si*/ui* values (and so must not survive the conversion).
bool isQuantizedStorageTensorOp(Operation *op);

/// Makes illegal what populateQuantKVToLinalgConversionPatterns rewrites:
/// every quantkv op and the tensor ops above when they touch si*/ui*
/// values. Every other op stays legal: signless i4 operands it takes from a
/// converted signature are unpacked by the converter's materialization.
/// Every pass that uses those patterns configures its target with this.
void configureQuantKVToLinalgTarget(ConversionTarget &target);

/// All of the above. `converter` must be (or extend) StorageTypeConverter.
void populateQuantKVToLinalgConversionPatterns(const TypeConverter &converter,
                                               RewritePatternSet &patterns);

/// Decomposes linalg.softmax (and other linalg aggregate ops) into
/// linalg.generic ops, so that upstream-only modules run on the reference
/// path too.
void populateDecomposeLinalgAggregatePatterns(RewritePatternSet &patterns);

} // namespace mlir::quantkv

#endif // QUANTKV_CONVERSION_QUANTKVTOLINALG_QUANTKVTOLINALG_H
