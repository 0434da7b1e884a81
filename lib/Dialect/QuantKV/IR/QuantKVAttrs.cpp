//===- QuantKVAttrs.cpp - quantkv attributes ------------------------------===//
//
// Part of the quantkv project, under the Apache License v2.0 with LLVM
// Exceptions.
//
//===----------------------------------------------------------------------===//

#include "quantkv/Dialect/QuantKV/IR/QuantKVAttrs.h"
#include "quantkv/Dialect/QuantKV/IR/QuantKVDialect.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectImplementation.h"
#include "llvm/ADT/TypeSwitch.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;
using namespace mlir::quantkv;

#include "quantkv/Dialect/QuantKV/IR/QuantKVAttrInterfaces.cpp.inc"
#include "quantkv/Dialect/QuantKV/IR/QuantKVEnums.cpp.inc"

#define GET_ATTRDEF_CLASSES
#include "quantkv/Dialect/QuantKV/IR/QuantKVAttrs.cpp.inc"

void QuantKVDialect::registerAttributes() {
  addAttributes<
#define GET_ATTRDEF_LIST
#include "quantkv/Dialect/QuantKV/IR/QuantKVAttrs.cpp.inc"
      >();
}

std::pair<int64_t, int64_t> mlir::quantkv::getStorageRange(IntegerType type) {
  unsigned width = type.getWidth();
  if (type.isUnsigned())
    return {0, (int64_t(1) << width) - 1};
  return {-(int64_t(1) << (width - 1)), (int64_t(1) << (width - 1)) - 1};
}

std::string mlir::quantkv::typeToString(Type type) {
  std::string str;
  llvm::raw_string_ostream os(str);
  type.print(os);
  return str;
}

/// Prints a shape as `[a, b, ?]`.
static std::string shapeToString(ArrayRef<int64_t> shape) {
  std::string str = "[";
  llvm::raw_string_ostream os(str);
  llvm::interleaveComma(shape, os, [&](int64_t d) {
    if (ShapedType::isDynamic(d))
      os << "?";
    else
      os << d;
  });
  os << "]";
  return str;
}

/// True when both sizes are static and differ.
static bool staticMismatch(int64_t a, int64_t b) {
  return !ShapedType::isDynamic(a) && !ShapedType::isDynamic(b) && a != b;
}

//===----------------------------------------------------------------------===//
// PerTensorAttr
//===----------------------------------------------------------------------===//

LogicalResult PerTensorAttr::verifyScaleShape(
    function_ref<InFlightDiagnostic()> emitError, ShapedType srcType,
    ShapedType scaleType, StringRef srcName, StringRef scaleName) const {
  if (scaleType.getRank() != 1 || staticMismatch(scaleType.getDimSize(0), 1))
    return emitError() << "'" << scaleName
                       << "' must be a 1-d tensor of 1 element for "
                          "per_tensor quantization, got shape "
                       << shapeToString(scaleType.getShape());
  return success();
}

void PerTensorAttr::getScaleIndexing(
    ArrayRef<int64_t> srcShape, ArrayRef<int64_t> scaleShape,
    SmallVectorImpl<int64_t> &groupShape,
    SmallVectorImpl<int64_t> &expandedScaleShape) const {
  groupShape.assign(srcShape.begin(), srcShape.end());
  expandedScaleShape.assign(srcShape.size(), 1);
}

//===----------------------------------------------------------------------===//
// PerChannelAttr
//===----------------------------------------------------------------------===//

LogicalResult PerChannelAttr::verifyScaleShape(
    function_ref<InFlightDiagnostic()> emitError, ShapedType srcType,
    ShapedType scaleType, StringRef srcName, StringRef scaleName) const {
  int64_t axis = getAxis();
  if (axis < 0 || axis >= srcType.getRank())
    return emitError() << "per_channel axis " << axis
                       << " is out of range for '" << srcName << "' of rank "
                       << srcType.getRank();
  int64_t channels = srcType.getDimSize(axis);
  if (scaleType.getRank() != 1 ||
      staticMismatch(scaleType.getDimSize(0), channels))
    return emitError() << "'" << scaleName << "' must be a 1-d tensor of "
                       << channels << " elements ('" << srcName << "' dim "
                       << axis << ") for per_channel quantization, got shape "
                       << shapeToString(scaleType.getShape());
  return success();
}

void PerChannelAttr::getScaleIndexing(
    ArrayRef<int64_t> srcShape, ArrayRef<int64_t> scaleShape,
    SmallVectorImpl<int64_t> &groupShape,
    SmallVectorImpl<int64_t> &expandedScaleShape) const {
  groupShape.assign(srcShape.begin(), srcShape.end());
  expandedScaleShape.assign(srcShape.size(), 1);
  groupShape[getAxis()] = 1;
  expandedScaleShape[getAxis()] = srcShape[getAxis()];
}

//===----------------------------------------------------------------------===//
// PerGroupAttr
//===----------------------------------------------------------------------===//

LogicalResult
PerGroupAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                     ArrayRef<int64_t> groupShape) {
  if (groupShape.empty())
    return emitError() << "per_group group_shape must not be empty";
  for (auto [i, g] : llvm::enumerate(groupShape))
    if (g <= 0)
      return emitError() << "per_group group_shape dim " << i
                         << " must be positive, got " << g;
  return success();
}

LogicalResult PerGroupAttr::verifyScaleShape(
    function_ref<InFlightDiagnostic()> emitError, ShapedType srcType,
    ShapedType scaleType, StringRef srcName, StringRef scaleName) const {
  ArrayRef<int64_t> group = getGroupShape();
  ArrayRef<int64_t> src = srcType.getShape();
  if (static_cast<int64_t>(group.size()) != srcType.getRank())
    return emitError() << "per_group group_shape has " << group.size()
                       << " dims but '" << srcName << "' has rank "
                       << srcType.getRank();
  for (auto [d, g] : llvm::enumerate(group))
    if (!ShapedType::isDynamic(src[d]) && src[d] % g != 0)
      return emitError() << "per_group group dim " << d << " (" << g
                         << ") must divide '" << srcName << "' dim " << d
                         << " (" << src[d] << ")";
  if (scaleType.getRank() != srcType.getRank())
    return emitError() << "'" << scaleName << "' must have the rank of '"
                       << srcName << "' (" << srcType.getRank()
                       << ") for per_group quantization, got rank "
                       << scaleType.getRank();
  ArrayRef<int64_t> scale = scaleType.getShape();
  for (auto [d, g] : llvm::enumerate(group)) {
    if (ShapedType::isDynamic(src[d]) || ShapedType::isDynamic(scale[d]))
      continue;
    int64_t expected = src[d] / g;
    if (scale[d] != expected && scale[d] != 1)
      return emitError() << "'" << scaleName << "' dim " << d << " ("
                         << scale[d] << ") must be '" << srcName << "' dim / "
                         << "group dim (" << src[d] << " / " << g << " = "
                         << expected << ") or 1 to broadcast";
  }
  return success();
}

void PerGroupAttr::getScaleIndexing(
    ArrayRef<int64_t> srcShape, ArrayRef<int64_t> scaleShape,
    SmallVectorImpl<int64_t> &groupShape,
    SmallVectorImpl<int64_t> &expandedScaleShape) const {
  expandedScaleShape.assign(scaleShape.begin(), scaleShape.end());
  groupShape.assign(getGroupShape().begin(), getGroupShape().end());
  for (size_t d = 0; d < srcShape.size(); ++d)
    if (scaleShape[d] == 1)
      groupShape[d] = srcShape[d];
}
