//===- DequantMatcher.cpp - recognize K/V dequantization ------------------===//
//
// Part of the quantkv project, under the Apache License v2.0 with LLVM
// Exceptions.
//
//===----------------------------------------------------------------------===//

#include "quantkv/Dialect/QuantKV/Transforms/DequantMatcher.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Utils/ReshapeOpsUtils.h"
#include "mlir/IR/PatternMatch.h"

#include <cmath>

#define DEBUG_TYPE "quantkv-fuse-sdpa"

using namespace mlir;
using namespace mlir::quantkv;

//===----------------------------------------------------------------------===//
// Expression matching
//===----------------------------------------------------------------------===//

/// An integer tensor leaf of `widths` bits (signless: the upstream form).
static bool isIntLeaf(const ExprNode *node, ArrayRef<unsigned> widths) {
  if (!node->isLeaf() || !node->map)
    return false;
  auto intType = dyn_cast<IntegerType>(node->type);
  return intType && intType.isSignless() &&
         llvm::is_contained(widths, intType.getWidth());
}

/// Matches `ext(leaf)` or `leaf` for an integer leaf; sets `isUnsigned` from
/// the extension (a leaf without one keeps `isUnsigned`).
static const ExprNode *matchExtendedInt(const ExprNode *node,
                                        ArrayRef<unsigned> widths,
                                        bool &isUnsigned) {
  if (isIntLeaf(node, widths))
    return node;
  if (node->getOp<arith::ExtSIOp>() || node->getOp<arith::ExtUIOp>()) {
    if (!isIntLeaf(node->operands[0], widths))
      return nullptr;
    isUnsigned = node->getOp<arith::ExtUIOp>() != nullptr;
    return node->operands[0];
  }
  return nullptr;
}

/// Matches `sitofp/uitofp([extsi/extui] leaf)` to f32.
static const ExprNode *matchIntToF32(const ExprNode *node,
                                     ArrayRef<unsigned> widths,
                                     bool &isUnsigned) {
  if (!node->type.isF32())
    return nullptr;
  bool toUnsigned = node->getOp<arith::UIToFPOp>() != nullptr;
  if (!toUnsigned && !node->getOp<arith::SIToFPOp>())
    return nullptr;
  const ExprNode *in = node->operands[0];
  if (isIntLeaf(in, widths)) {
    isUnsigned = toUnsigned;
    return in;
  }
  // The extension decides; a unsigned value extended with extsi and read
  // with uitofp would be ambiguous for negative values.
  if (!matchExtendedInt(in, widths, isUnsigned))
    return nullptr;
  if (toUnsigned && !isUnsigned)
    return nullptr;
  return in->operands[0];
}

/// A scale: an f32 tensor, an f16/bf16 tensor extended to f32, or a constant.
static bool matchScale(const ExprNode *node, QuantParam &scale) {
  if (node->isConst()) {
    scale.constant = node->getFloatConstant();
    return scale.constant.has_value();
  }
  if (node->getOp<arith::ExtFOp>())
    node = node->operands[0];
  if (!node->isLeaf() || !node->map ||
      !isa<Float32Type, Float16Type, BFloat16Type>(node->type))
    return false;
  scale.tensor = node->tensor;
  scale.map = node->map;
  return true;
}

/// `x - zp` in f32 (or `x` alone): records storage and zero point.
static bool matchShifted(const ExprNode *node, DequantMatch &match,
                         std::string &why) {
  static constexpr unsigned kStorage[] = {4, 8};
  static constexpr unsigned kZeroPoint[] = {4, 8, 32};
  auto setStorage = [&](const ExprNode *leaf) {
    match.storage = leaf->tensor;
    match.storageMap = leaf->map;
  };
  if (const ExprNode *leaf = matchIntToF32(node, kStorage, match.isUnsigned)) {
    setStorage(leaf);
    return true;
  }
  // Integer subtraction first: sitofp(ext(x) - ext(zp)).
  if (node->getOp<arith::SIToFPOp>() && node->type.isF32()) {
    const ExprNode *sub = node->operands[0];
    if (!sub->getOp<arith::SubIOp>())
      return false;
    const ExprNode *x =
        matchExtendedInt(sub->operands[0], kStorage, match.isUnsigned);
    if (!x || x == sub->operands[0]) {
      why = "integer zero-point subtraction without a widened storage value";
      return false;
    }
    setStorage(x);
    const ExprNode *zpNode = sub->operands[1];
    if (zpNode->isConst()) {
      if (auto c = zpNode->getIntConstant())
        match.zeroPoint.constant = double(*c);
      return match.zeroPoint.constant.has_value();
    }
    bool zpUnsigned = false;
    const ExprNode *zp = matchExtendedInt(zpNode, kZeroPoint, zpUnsigned);
    if (!zp)
      return false;
    match.zeroPoint.tensor = zp->tensor;
    match.zeroPoint.map = zp->map;
    match.zeroPoint.isUnsigned = zpUnsigned;
    return true;
  }
  if (!node->getOp<arith::SubFOp>() || !node->type.isF32())
    return false;
  const ExprNode *x =
      matchIntToF32(node->operands[0], kStorage, match.isUnsigned);
  if (!x)
    return false;
  setStorage(x);
  const ExprNode *zpNode = node->operands[1];
  if (zpNode->isConst()) {
    match.zeroPoint.constant = zpNode->getFloatConstant();
    return match.zeroPoint.constant.has_value();
  }
  if (zpNode->isLeaf() && zpNode->map && zpNode->type.isF32()) {
    match.zeroPoint.tensor = zpNode->tensor;
    match.zeroPoint.map = zpNode->map;
    return true;
  }
  bool zpUnsigned = false;
  const ExprNode *zp = matchIntToF32(zpNode, kZeroPoint, zpUnsigned);
  if (!zp) {
    why = "zero point is neither a constant, an f32 tensor nor an integer "
          "tensor converted to f32";
    return false;
  }
  match.zeroPoint.tensor = zp->tensor;
  match.zeroPoint.map = zp->map;
  match.zeroPoint.isUnsigned = zpUnsigned;
  return true;
}

/// Matches `node` as the dequantization itself (op or element-wise form).
static LogicalResult matchDequantValue(const ExprNode *node,
                                       DequantMatch &match, std::string &why) {
  if (node->isLeaf() && node->map) {
    auto op = node->tensor.getDefiningOp<DequantizeOp>();
    if (!op) {
      why = "operand is not a dequantization (no quantkv.dequantize and no "
            "element-wise int -> float chain)";
      return failure();
    }
    match.dequantizeOp = op;
    match.storage = op.getInput();
    match.storageMap = node->map;
    match.isUnsigned =
        op.getInput().getType().getElementType().isUnsignedInteger();
    return success();
  }
  if (!node->getOp<arith::MulFOp>() || !node->type.isF32()) {
    why = "operand is not a dequantization: expected (x - zp) * scale in f32";
    return failure();
  }
  for (int side = 0; side < 2; ++side) {
    DequantMatch attempt = match;
    std::string reason;
    if (matchShifted(node->operands[side], attempt, reason) &&
        matchScale(node->operands[1 - side], attempt.scale)) {
      match = attempt;
      return success();
    }
    if (!reason.empty())
      why = reason;
  }
  if (why.empty())
    why = "operand is not a dequantization: expected (x - zp) * scale with "
          "an int4/int8 x converted to f32";
  return failure();
}

/// True for a power of two: multiplying by it is exact at any precision.
static bool isPowerOfTwo(double v) {
  int exp;
  return v != 0.0 && std::frexp(std::fabs(v), &exp) == 0.5;
}

FailureOr<DequantMatch> mlir::quantkv::matchDequant(const ExprNode *root,
                                                    std::string &why) {
  why.clear();
  DequantMatch match;
  match.computeType = root->type;
  const ExprNode *node = root;
  // The contraction's promotion to its accumulator type is exact: what it
  // reads is what was cast.
  if (node->getOp<arith::ExtFOp>()) {
    node = node->operands[0];
    match.computeType = node->type;
  }
  // An optional narrowing cast: the contraction reads f16/bf16.
  bool narrowed = false;
  if ((node->getOp<TypecastOp>() || node->getOp<arith::TruncFOp>()) &&
      node->operands[0]->type.isF32()) {
    node = node->operands[0];
    narrowed = true;
  }
  if (succeeded(matchDequantValue(node, match, why)))
    return match;
  // dequant(x) * c, e.g. K scaled by sqrt(scale) as torch's math SDPA does.
  // Under a narrowing cast only an exact (power-of-two) factor commutes with
  // the rounding.
  if (node->getOp<arith::MulFOp>()) {
    for (int side = 0; side < 2; ++side) {
      std::optional<double> c = node->operands[side]->getFloatConstant();
      if (!c || *c == 0.0 || (narrowed && !isPowerOfTwo(*c)))
        continue;
      DequantMatch attempt = match;
      std::string reason;
      if (succeeded(
              matchDequantValue(node->operands[1 - side], attempt, reason))) {
        attempt.factor = *c;
        why.clear();
        return attempt;
      }
    }
  }
  return failure();
}

//===----------------------------------------------------------------------===//
// Granularity recovery
//===----------------------------------------------------------------------===//

namespace {
/// How a scale (or zero point) tensor covers the storage: for each storage
/// dim, the scale extent and the group size.
struct ParamLayout {
  SmallVector<int64_t> expanded;
  SmallVector<int64_t> group;
};
} // namespace

/// Finds, for every dim of `param`'s tensor, the storage dim it groups.
static FailureOr<ParamLayout> getParamLayout(const QuantParam &param,
                                             ArrayRef<AffineExpr> storageExprs,
                                             ArrayRef<int64_t> storageShape,
                                             ArrayRef<int64_t> rootSizes,
                                             StringRef name, std::string &why) {
  int64_t rank = storageShape.size();
  ParamLayout layout;
  layout.expanded.assign(rank, 1);
  layout.group.assign(storageShape.begin(), storageShape.end());
  if (!param.tensor)
    return layout;
  auto type = cast<RankedTensorType>(param.tensor.getType());
  if (!type.hasStaticShape()) {
    why = (name + " has a dynamic shape").str();
    return failure();
  }
  int64_t next = 0;
  for (auto [r, expr] : llvm::enumerate(param.map.getResults())) {
    int64_t size = type.getDimSize(r);
    if (auto c = dyn_cast<AffineConstantExpr>(expr)) {
      if (c.getValue() == 0 && size == 1)
        continue;
      why = (name + " is read at a constant index").str();
      return failure();
    }
    bool found = false;
    for (int64_t j = next; j < rank && !found; ++j) {
      for (int64_t g = 1; g <= storageShape[j] && !found; ++g) {
        if (storageShape[j] % g != 0 || storageShape[j] / g != size)
          continue;
        AffineExpr grouped =
            simplifyWithBounds(simplifyAffineExpr(storageExprs[j].floorDiv(g),
                                                  param.map.getNumDims(), 0),
                               rootSizes);
        if (grouped != expr)
          continue;
        layout.expanded[j] = size;
        layout.group[j] = g;
        next = j + 1;
        found = true;
      }
    }
    if (!found) {
      std::string str;
      llvm::raw_string_ostream os(str);
      os << name << " dim " << r << " (read at " << expr
         << ") is no group of a storage dim in order";
      why = str;
      return failure();
    }
  }
  return layout;
}

Value mlir::quantkv::reshapeTo(RewriterBase &rewriter, Location loc,
                               Value value, ArrayRef<int64_t> shape) {
  auto type = cast<RankedTensorType>(value.getType());
  if (type.getShape() == shape)
    return value;
  // One reshape when the dims only split or merge (the usual case: unit
  // dims added or dropped).
  auto target = RankedTensorType::get(shape, type.getElementType());
  if (type.getRank() > target.getRank() && target.getRank() > 0) {
    if (auto reassociation = getReassociationIndicesForCollapse(
            type.getShape(), target.getShape()))
      return tensor::CollapseShapeOp::create(rewriter, loc, target, value,
                                             *reassociation);
  } else if (type.getRank() < target.getRank() && type.getRank() > 0) {
    if (auto reassociation = getReassociationIndicesForCollapse(
            target.getShape(), type.getShape()))
      return tensor::ExpandShapeOp::create(rewriter, loc, target, value,
                                           *reassociation);
  }
  // Drop the unit dims, then add the target's.
  SmallVector<int64_t> squeezed;
  for (int64_t d : type.getShape())
    if (d != 1)
      squeezed.push_back(d);
  if (!squeezed.empty() && squeezed.size() < size_t(type.getRank()) &&
      squeezed.size() < shape.size() &&
      llvm::equal(squeezed, llvm::make_filter_range(
                                shape, [](int64_t d) { return d != 1; })))
    return reshapeTo(rewriter, loc, reshapeTo(rewriter, loc, value, squeezed),
                     shape);
  int64_t count = type.getNumElements();
  auto flatType = RankedTensorType::get({count}, type.getElementType());
  Value flat = value;
  if (type.getRank() == 0) {
    flat = tensor::ExpandShapeOp::create(rewriter, loc, flatType, value,
                                         ArrayRef<ReassociationIndices>{});
  } else if (type.getRank() != 1) {
    ReassociationIndices all =
        llvm::to_vector(llvm::seq<int64_t>(0, type.getRank()));
    flat = tensor::CollapseShapeOp::create(rewriter, loc, flatType, value,
                                           ArrayRef<ReassociationIndices>{all});
  }
  if (shape.size() == 1)
    return flat;
  if (shape.empty())
    return tensor::CollapseShapeOp::create(rewriter, loc, target, flat,
                                           ArrayRef<ReassociationIndices>{});
  ReassociationIndices all =
      llvm::to_vector(llvm::seq<int64_t>(0, shape.size()));
  return tensor::ExpandShapeOp::create(rewriter, loc, target, flat,
                                       ArrayRef<ReassociationIndices>{all});
}

/// Reinterprets a signless integer tensor as signed or unsigned.
static Value bitcastSignedness(RewriterBase &rewriter, Location loc,
                               Value value, bool isUnsigned) {
  auto type = cast<RankedTensorType>(value.getType());
  auto intType = dyn_cast<IntegerType>(type.getElementType());
  if (!intType || !intType.isSignless())
    return value;
  auto target = IntegerType::get(rewriter.getContext(), intType.getWidth(),
                                 isUnsigned ? IntegerType::Unsigned
                                            : IntegerType::Signed);
  return tensor::BitcastOp::create(rewriter, loc, type.clone(target), value);
}

/// A scale or zero point in the shape `shape`.
static Value materializeParam(RewriterBase &rewriter, Location loc,
                              const QuantParam &param,
                              ArrayRef<int64_t> shape) {
  if (!param.tensor) {
    auto type = RankedTensorType::get(shape, rewriter.getF32Type());
    return arith::ConstantOp::create(
        rewriter, loc, type,
        DenseElementsAttr::get(type, rewriter.getF32FloatAttr(
                                         static_cast<float>(*param.constant))));
  }
  Value value =
      bitcastSignedness(rewriter, loc, param.tensor, param.isUnsigned);
  return reshapeTo(rewriter, loc, value, shape);
}

/// Prepends `pad` unit dims.
static Value padRank(RewriterBase &rewriter, Location loc, Value value,
                     int64_t pad) {
  if (pad == 0)
    return value;
  auto type = cast<RankedTensorType>(value.getType());
  SmallVector<int64_t> shape(pad, 1);
  llvm::append_range(shape, type.getShape());
  return reshapeTo(rewriter, loc, value, shape);
}

/// The zero point's element type must be one quantkv.sdpa takes.
static bool isValidZeroPoint(const QuantParam &zp) {
  if (!zp.tensor)
    return true;
  Type type = cast<RankedTensorType>(zp.tensor.getType()).getElementType();
  if (type.isF32())
    return true;
  auto intType = dyn_cast<IntegerType>(type);
  if (!intType)
    return false;
  unsigned width = intType.getWidth();
  if (width == 32)
    return !zp.isUnsigned || !intType.isSignless();
  return width == 4 || width == 8;
}

FailureOr<QuantOperands> mlir::quantkv::buildQuantOperands(
    RewriterBase &rewriter, Location loc, const DequantMatch &match,
    ArrayRef<int64_t> rootSizes, int64_t pad, std::string &why, bool dryRun) {
  MLIRContext *ctx = rewriter.getContext();
  QuantOperands result;
  auto storageType = cast<RankedTensorType>(match.storage.getType());
  int64_t rank = storageType.getRank() + pad;

  if (DequantizeOp op = match.dequantizeOp) {
    // The op form already has the verifier's shapes; only the rank changes.
    GranularityAttrInterface granularity = op.getGranularity();
    if (pad != 0) {
      if (auto perChannel = dyn_cast<PerChannelAttr>(granularity)) {
        granularity = PerChannelAttr::get(ctx, perChannel.getAxis() + pad);
      } else if (auto perGroup = dyn_cast<PerGroupAttr>(granularity)) {
        SmallVector<int64_t> group(pad, 1);
        llvm::append_range(group, perGroup.getGroupShape());
        granularity = PerGroupAttr::get(ctx, group);
      }
    }
    result.granularity = granularity;
    if (dryRun)
      return result;
    bool grouped = isa<PerGroupAttr>(granularity);
    result.storage = padRank(rewriter, loc, op.getInput(), pad);
    result.scale =
        grouped ? padRank(rewriter, loc, op.getScale(), pad) : op.getScale();
    if (Value zp = op.getZeroPoint())
      result.zeroPoint = grouped ? padRank(rewriter, loc, zp, pad) : zp;
    return result;
  }

  ArrayRef<int64_t> storageShape = storageType.getShape();
  SmallVector<AffineExpr> storageExprs(match.storageMap.getResults());
  FailureOr<ParamLayout> scaleLayout = getParamLayout(
      match.scale, storageExprs, storageShape, rootSizes, "scale", why);
  if (failed(scaleLayout))
    return failure();
  FailureOr<ParamLayout> zpLayout =
      getParamLayout(match.zeroPoint, storageExprs, storageShape, rootSizes,
                     "zero point", why);
  if (failed(zpLayout))
    return failure();
  if (!isValidZeroPoint(match.zeroPoint)) {
    why = "zero point element type has no quantkv.sdpa equivalent";
    return failure();
  }
  // A constant takes the other's layout; two tensors must agree.
  ParamLayout layout = match.scale.tensor ? *scaleLayout : *zpLayout;
  if (match.scale.tensor && match.zeroPoint.tensor &&
      scaleLayout->expanded != zpLayout->expanded) {
    why = "scale and zero point have different granularities";
    return failure();
  }

  SmallVector<int64_t> expanded(pad, 1), group(pad, 1), fullShape(pad, 1);
  llvm::append_range(expanded, layout.expanded);
  llvm::append_range(group, layout.group);
  llvm::append_range(fullShape, storageShape);
  SmallVector<int64_t> varying;
  for (int64_t d = 0; d < rank; ++d)
    if (expanded[d] != 1)
      varying.push_back(d);
  SmallVector<int64_t> paramShape;
  if (varying.empty()) {
    result.granularity = PerTensorAttr::get(ctx);
    paramShape = {1};
  } else if (varying.size() == 1 &&
             expanded[varying[0]] == fullShape[varying[0]]) {
    result.granularity = PerChannelAttr::get(ctx, varying[0]);
    paramShape = {fullShape[varying[0]]};
  } else {
    result.granularity = PerGroupAttr::get(ctx, group);
    paramShape = expanded;
  }
  if (dryRun)
    return result;

  Value storage =
      bitcastSignedness(rewriter, loc, match.storage, match.isUnsigned);
  result.storage = padRank(rewriter, loc, storage, pad);
  result.scale = materializeParam(rewriter, loc, match.scale, paramShape);
  if (match.zeroPoint)
    result.zeroPoint =
        materializeParam(rewriter, loc, match.zeroPoint, paramShape);
  return result;
}
