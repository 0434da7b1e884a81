//===- QuantKVOps.cpp - quantkv operations --------------------------------===//
//
// Part of the quantkv project, under the Apache License v2.0 with LLVM
// Exceptions.
//
//===----------------------------------------------------------------------===//

#include "quantkv/Dialect/QuantKV/IR/QuantKVOps.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/IR/PatternMatch.h"
#include "llvm/ADT/STLExtras.h"

using namespace mlir;
using namespace mlir::quantkv;

//===----------------------------------------------------------------------===//
// Shared verification helpers
//===----------------------------------------------------------------------===//

/// Checks the scale and zero point of one quantized operand: the scale fits
/// the granularity, and the zero point has exactly the scale's shape.
static LogicalResult verifyQuantParams(Operation *op, ShapedType srcType,
                                       ShapedType scaleType, Value zeroPoint,
                                       GranularityAttrInterface granularity,
                                       StringRef srcName, StringRef scaleName,
                                       StringRef zpName) {
  auto emitError = [op]() { return op->emitOpError(); };
  if (failed(granularity.verifyScaleShape(emitError, srcType, scaleType,
                                          srcName, scaleName)))
    return failure();
  if (!zeroPoint)
    return success();
  auto zpType = cast<ShapedType>(zeroPoint.getType());
  if (zpType.getShape() != scaleType.getShape())
    return op->emitOpError()
           << "'" << zpName << "' shape (" << typeToString(zpType)
           << ") must equal '" << scaleName << "' shape ("
           << typeToString(scaleType) << ")";
  return success();
}

//===----------------------------------------------------------------------===//
// DequantizeOp and QuantizeOp
//===----------------------------------------------------------------------===//

/// The rules dequantize and quantize share: an element-wise op whose result
/// has the input's shape, with scale/zero point fitting the granularity.
template <typename OpTy>
static LogicalResult verifyElementwiseQuantOp(OpTy op) {
  auto inputType = cast<RankedTensorType>(op.getInput().getType());
  auto resultType = cast<RankedTensorType>(op.getResult().getType());
  if (inputType.getShape() != resultType.getShape())
    return op.emitOpError() << "'result' shape (" << typeToString(resultType)
                            << ") must equal 'input' shape ("
                            << typeToString(inputType) << ")";
  return verifyQuantParams(op, inputType, op.getScale().getType(),
                           op.getZeroPoint(), op.getGranularity(), "input",
                           "scale", "zero_point");
}

LogicalResult DequantizeOp::verify() { return verifyElementwiseQuantOp(*this); }

LogicalResult QuantizeOp::verify() { return verifyElementwiseQuantOp(*this); }

//===----------------------------------------------------------------------===//
// TypecastOp
//===----------------------------------------------------------------------===//

LogicalResult TypecastOp::verify() {
  Type from = getInput().getType().getElementType();
  Type to = getResult().getType().getElementType();
  if (from != to && !from.isF32() && !to.isF32())
    return emitOpError() << "converts between f32 and f16/bf16 only, got "
                         << from << " to " << to;
  return success();
}

OpFoldResult TypecastOp::fold(FoldAdaptor) {
  if (getInput().getType() == getResult().getType())
    return getInput();
  return {};
}

namespace {
/// typecast(typecast(x : A -> f32) : f32 -> C) -> typecast(x : A -> C), or x
/// when A == C. Only a widening first cast is exact, so only that one folds:
/// f32 -> bf16 -> f32 rounds and must stay.
struct FoldWideningTypecastPair : public OpRewritePattern<TypecastOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(TypecastOp op,
                                PatternRewriter &rewriter) const override {
    auto producer = op.getInput().getDefiningOp<TypecastOp>();
    if (!producer)
      return rewriter.notifyMatchFailure(op, "input is not a typecast");
    Type a = producer.getInput().getType().getElementType();
    Type b = producer.getResult().getType().getElementType();
    if (!b.isF32() || a.isF32())
      return rewriter.notifyMatchFailure(op, "first cast is not widening");
    Value source = producer.getInput();
    if (source.getType() == op.getResult().getType()) {
      rewriter.replaceOp(op, source);
      return success();
    }
    Type c = op.getResult().getType().getElementType();
    if (!c.isF32() && !a.isF32())
      return rewriter.notifyMatchFailure(op, "f16 <-> bf16 has no direct cast");
    rewriter.replaceOpWithNewOp<TypecastOp>(op, op.getResult().getType(),
                                            source);
    return success();
  }
};
} // namespace

void TypecastOp::getCanonicalizationPatterns(RewritePatternSet &results,
                                             MLIRContext *context) {
  results.add<FoldWideningTypecastPair>(context);
}

//===----------------------------------------------------------------------===//
// SdpaOp
//===----------------------------------------------------------------------===//

MutableOperandRange SdpaOp::getDpsInitsMutable() { return getInitMutable(); }

int64_t SdpaOp::getBatchSize() { return getQuery().getType().getDimSize(0); }
int64_t SdpaOp::getNumQueryHeads() {
  return getQuery().getType().getDimSize(1);
}
int64_t SdpaOp::getNumKVHeads() { return getKey().getType().getDimSize(1); }
int64_t SdpaOp::getQueryLength() { return getQuery().getType().getDimSize(2); }
int64_t SdpaOp::getKVLength() { return getValue().getType().getDimSize(2); }
int64_t SdpaOp::getHeadDim() { return getQuery().getType().getDimSize(3); }
int64_t SdpaOp::getValueHeadDim() {
  return getValue().getType().getDimSize(3);
}

/// Checks that a K or V operand and its optional quantization parameters agree:
/// an integer cache needs a scale and a granularity; a float cache takes none.
static LogicalResult verifyCacheOperand(SdpaOp op, StringRef name,
                                        StringRef prefix, Value cache,
                                        Value scale, Value zeroPoint,
                                        Attribute granularity) {
  auto cacheType = cast<RankedTensorType>(cache.getType());
  Type element = cacheType.getElementType();
  std::string scaleName = (prefix + "_scale").str();
  std::string zpName = (prefix + "_zero_point").str();
  std::string quantName = (name + "_quant").str();
  if (!isa<IntegerType>(element)) {
    if (scale)
      return op.emitOpError() << "'" << scaleName << "' is given but '" << name
                              << "' is not quantized (" << element << ")";
    if (zeroPoint)
      return op.emitOpError() << "'" << zpName << "' is given but '" << name
                              << "' is not quantized (" << element << ")";
    if (granularity)
      return op.emitOpError() << "'" << quantName << "' is given but '"
                              << name << "' is not quantized (" << element
                              << ")";
    return success();
  }
  if (!scale)
    return op.emitOpError() << "'" << name << "' is quantized (" << element
                            << ") and needs '" << scaleName << "'";
  if (!granularity)
    return op.emitOpError() << "'" << name << "' is quantized (" << element
                            << ") and needs a '" << quantName
                            << "' granularity attribute";
  return verifyQuantParams(op, cacheType, cast<ShapedType>(scale.getType()),
                           zeroPoint, cast<GranularityAttrInterface>(granularity),
                           name, scaleName, zpName);
}

LogicalResult SdpaOp::verify() {
  auto qType = getQuery().getType();
  auto kType = getKey().getType();
  auto vType = getValue().getType();
  auto outType = getInit().getType();
  for (auto [name, type] :
       {std::pair<StringRef, RankedTensorType>{"query", qType},
        {"key", kType},
        {"value", vType},
        {"init", outType}})
    if (type.getRank() != 4)
      return emitOpError() << "'" << name
                           << "' must have rank 4 ([batch, heads, seq, dim]),"
                              " got rank "
                           << type.getRank();

  bool bds = getKeyLayout() == KLayout::bds;
  int64_t batch = qType.getDimSize(0), hq = qType.getDimSize(1);
  int64_t sq = qType.getDimSize(2), d = qType.getDimSize(3);
  int64_t hkv = kType.getDimSize(1);
  int64_t kSeq = kType.getDimSize(bds ? 3 : 2);
  int64_t kDim = kType.getDimSize(bds ? 2 : 3);
  int64_t skv = vType.getDimSize(2), dv = vType.getDimSize(3);

  auto mismatch = [](int64_t a, int64_t b) {
    return !ShapedType::isDynamic(a) && !ShapedType::isDynamic(b) && a != b;
  };
  if (mismatch(kType.getDimSize(0), batch))
    return emitOpError() << "'key' batch (" << kType.getDimSize(0)
                         << ") must equal 'query' batch (" << batch << ")";
  if (mismatch(vType.getDimSize(0), batch))
    return emitOpError() << "'value' batch (" << vType.getDimSize(0)
                         << ") must equal 'query' batch (" << batch << ")";
  if (mismatch(vType.getDimSize(1), hkv))
    return emitOpError() << "'value' heads (" << vType.getDimSize(1)
                         << ") must equal 'key' heads (" << hkv << ")";
  // Zero heads make the GQA group size Hq / Hkv zero or undefined, and a zero
  // head dim makes the default scale 1/sqrt(D) infinite: neither is attention
  // (and the lowerings divide by both). Empty batches and sequences are fine.
  for (auto [name, size] : {std::pair<StringRef, int64_t>{"'query' heads", hq},
                            {"'init' heads", outType.getDimSize(1)},
                            {"'key' heads", hkv},
                            {"'value' heads", vType.getDimSize(1)},
                            {"'query' head dim", d},
                            {"'key' head dim", kDim}})
    if (size == 0)
      return emitOpError() << name << " must be positive, got 0";
  if (!ShapedType::isDynamic(hq) && !ShapedType::isDynamic(hkv) &&
      (hkv == 0 || hq % hkv != 0))
    return emitOpError() << "'query' heads (" << hq
                         << ") must be a multiple of 'key' heads (" << hkv
                         << ")";
  if (mismatch(kDim, d))
    return emitOpError() << "'key' head dim (" << kDim
                         << ") must equal 'query' head dim (" << d
                         << ") with key_layout "
                         << stringifyKLayout(getKeyLayout());
  if (mismatch(kSeq, skv))
    return emitOpError() << "'key' sequence length (" << kSeq
                         << ") must equal 'value' sequence length (" << skv
                         << ")";
  SmallVector<int64_t> expectedOut = {batch, hq, sq, dv};
  for (auto [i, expected] : llvm::enumerate(expectedOut))
    if (mismatch(outType.getDimSize(i), expected))
      return emitOpError() << "'init' dim " << i << " ("
                           << outType.getDimSize(i)
                           << ") must be [batch, Hq, Sq, Dv] = [" << batch
                           << ", " << hq << ", " << sq << ", " << dv
                           << "] at that dim (" << expected << ")";

  if (failed(verifyCacheOperand(*this, "key", "k", getKey(), getKeyScale(),
                                getKeyZeroPoint(), getKeyQuantAttr())))
    return failure();
  if (failed(verifyCacheOperand(*this, "value", "v", getValue(),
                                getValueScale(), getValueZeroPoint(),
                                getValueQuantAttr())))
    return failure();

  if (Value mask = getMask()) {
    auto maskType = cast<RankedTensorType>(mask.getType());
    int64_t rank = maskType.getRank();
    if (rank < 2 || rank > 4)
      return emitOpError() << "'mask' must have rank 2 to 4 (broadcast to "
                              "[batch, Hq, Sq, Skv]), got rank "
                           << rank;
    SmallVector<int64_t> full = {batch, hq, sq, skv};
    const char *names[] = {"batch", "Hq", "Sq", "Skv"};
    for (int64_t i = 0; i < rank; ++i) {
      int64_t fullDim = 4 - rank + i;
      int64_t size = maskType.getDimSize(i);
      if (size != 1 && mismatch(size, full[fullDim]))
        return emitOpError() << "'mask' dim " << i << " (" << size
                             << ") must be 1 or " << names[fullDim] << " ("
                             << full[fullDim] << ")";
    }
  }

  if (getScaleAttr() && getDynamicScale())
    return emitOpError()
           << "takes the 'scale' attribute or the 'dynamic_scale' operand, "
              "not both";
  if (auto scale = getScaleAttr()) {
    double value = scale.getValueAsDouble();
    if (!std::isfinite(value) || value == 0.0)
      return emitOpError() << "'scale' must be finite and non-zero, got "
                           << value;
  }
  if (getMathMode() == MathMode::int8 &&
      !isa<IntegerType>(kType.getElementType()))
    return emitOpError() << "math_mode int8 needs an integer 'key', got "
                         << kType.getElementType();
  return success();
}

#define GET_OP_CLASSES
#include "quantkv/Dialect/QuantKV/IR/QuantKVOps.cpp.inc"
