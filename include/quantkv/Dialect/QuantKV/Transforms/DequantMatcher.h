//===- DequantMatcher.h - recognize K/V dequantization ----------*- C++ -*-===//
//
// Part of the quantkv project, under the Apache License v2.0 with LLVM
// Exceptions.
//
//===----------------------------------------------------------------------===//
//
// Recovers a quantized cache operand (storage, scale, zero point,
// granularity) from the expression a contraction reads, in either form:
//
//   op form:        [quantkv.typecast] (quantkv.dequantize %q scale(%s) ...)
//   upstream form:  [truncf] (mulf (subf (sitofp %q) (sitofp %zp)) %s)
//                   with %s read through broadcast / floordiv maps
//
// and turns the scale and zero point maps into a granularity attribute plus
// the scale / zero point tensors the quantkv.sdpa verifier accepts.
//
//===----------------------------------------------------------------------===//

#ifndef QUANTKV_DIALECT_QUANTKV_TRANSFORMS_DEQUANTMATCHER_H
#define QUANTKV_DIALECT_QUANTKV_TRANSFORMS_DEQUANTMATCHER_H

#include "quantkv/Dialect/QuantKV/IR/QuantKVOps.h"
#include "quantkv/Dialect/QuantKV/Transforms/ExprTree.h"

namespace mlir {
class RewriterBase;
namespace quantkv {

/// A scale or zero point: a tensor read at `map` (from the contraction's
/// iteration space) or a scalar constant.
struct QuantParam {
  Value tensor;
  AffineMap map;
  std::optional<double> constant;
  /// For an integer zero point read from a signless tensor: its signedness.
  bool isUnsigned = false;
  explicit operator bool() const { return tensor || constant; }
};

/// A dequantized K or V as a contraction reads it.
struct DequantMatch {
  /// The integer storage tensor and its map from the contraction space.
  Value storage;
  AffineMap storageMap;
  /// Signedness of a signless storage tensor (from extsi/extui, sitofp/uitofp).
  bool isUnsigned = false;
  QuantParam scale;
  QuantParam zeroPoint;
  /// Set in the op form: the quantization comes from this op as is.
  DequantizeOp dequantizeOp;
  /// Element type the contraction reads (f32, or f16/bf16 after a cast).
  Type computeType;
  /// A constant the dequantized value is multiplied by before the
  /// contraction (K scaled by sqrt(scale)): folded into the attention scale.
  double factor = 1.0;
};

/// Matches `root` (the expression of a contraction operand) as a dequantized
/// cache. On failure, `why` says what did not fit.
FailureOr<DequantMatch> matchDequant(const ExprNode *root, std::string &why);

/// The quantized operands of quantkv.sdpa for one cache, rank 4.
struct QuantOperands {
  Value storage, scale, zeroPoint;
  GranularityAttrInterface granularity;
};

/// Checks that the scale / zero point maps of `match` are expressible as a
/// granularity of the storage, whose dim `j` is read at `storageExprs[j]`
/// (root dims, sizes `rootSizes`), and builds the rank-4 operands (the
/// storage gets `pad` leading unit dims). Builds nothing on failure.
FailureOr<QuantOperands>
buildQuantOperands(RewriterBase &rewriter, Location loc,
                   const DequantMatch &match, ArrayRef<int64_t> rootSizes,
                   int64_t pad, std::string &why, bool dryRun);

/// Reshapes `value` (static shape) to `shape` with the same number of
/// elements, by collapsing to 1-d and expanding (no-op when equal).
Value reshapeTo(RewriterBase &rewriter, Location loc, Value value,
                ArrayRef<int64_t> shape);

} // namespace quantkv
} // namespace mlir

#endif // QUANTKV_DIALECT_QUANTKV_TRANSFORMS_DEQUANTMATCHER_H
