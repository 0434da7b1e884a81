//===- ExprTree.cpp - scalar expression trees over tensor chains ----------===//
//
// Part of the quantkv project, under the Apache License v2.0 with LLVM
// Exceptions.
//
//===----------------------------------------------------------------------===//

#include "quantkv/Dialect/QuantKV/Transforms/ExprTree.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/AffineExprVisitor.h"
#include "mlir/IR/Matchers.h"
#include "quantkv/Dialect/QuantKV/IR/QuantKVOps.h"
#include "llvm/ADT/DenseMap.h"

#define DEBUG_TYPE "quantkv-expr-tree"

using namespace mlir;
using namespace mlir::quantkv;

std::optional<double> ExprNode::getFloatConstant() const {
  if (auto attr = dyn_cast_if_present<FloatAttr>(constant))
    return attr.getValueAsDouble();
  return std::nullopt;
}

std::optional<int64_t> ExprNode::getIntConstant() const {
  if (auto attr = dyn_cast_if_present<IntegerAttr>(constant))
    return attr.getValue().getSExtValue();
  return std::nullopt;
}

//===----------------------------------------------------------------------===//
// Bounds-aware affine simplification
//===----------------------------------------------------------------------===//

/// The inclusive range of `expr` over dims in [0, sizes[d]).
static std::optional<std::pair<int64_t, int64_t>>
getRange(AffineExpr expr, ArrayRef<int64_t> sizes) {
  if (auto c = dyn_cast<AffineConstantExpr>(expr))
    return std::make_pair(c.getValue(), c.getValue());
  if (auto d = dyn_cast<AffineDimExpr>(expr)) {
    if (d.getPosition() >= sizes.size() ||
        ShapedType::isDynamic(sizes[d.getPosition()]))
      return std::nullopt;
    return std::make_pair<int64_t, int64_t>(0, sizes[d.getPosition()] - 1);
  }
  auto bin = dyn_cast<AffineBinaryOpExpr>(expr);
  if (!bin)
    return std::nullopt;
  auto lhs = getRange(bin.getLHS(), sizes);
  auto rhsConst = dyn_cast<AffineConstantExpr>(bin.getRHS());
  switch (expr.getKind()) {
  case AffineExprKind::Add: {
    auto rhs = getRange(bin.getRHS(), sizes);
    if (!lhs || !rhs)
      return std::nullopt;
    return std::make_pair(lhs->first + rhs->first, lhs->second + rhs->second);
  }
  case AffineExprKind::Mul: {
    if (!lhs || !rhsConst)
      return std::nullopt;
    int64_t k = rhsConst.getValue();
    int64_t a = lhs->first * k, b = lhs->second * k;
    return std::make_pair(std::min(a, b), std::max(a, b));
  }
  case AffineExprKind::FloorDiv: {
    if (!lhs || !rhsConst || rhsConst.getValue() <= 0)
      return std::nullopt;
    int64_t k = rhsConst.getValue();
    auto floorDiv = [k](int64_t v) {
      return v >= 0 ? v / k : -((-v + k - 1) / k);
    };
    return std::make_pair(floorDiv(lhs->first), floorDiv(lhs->second));
  }
  case AffineExprKind::Mod:
    if (!rhsConst || rhsConst.getValue() <= 0)
      return std::nullopt;
    return std::make_pair<int64_t, int64_t>(0, rhsConst.getValue() - 1);
  default:
    return std::nullopt;
  }
}

/// Splits a sum into its terms.
static void collectTerms(AffineExpr expr, SmallVectorImpl<AffineExpr> &terms) {
  if (expr.getKind() == AffineExprKind::Add) {
    auto bin = cast<AffineBinaryOpExpr>(expr);
    collectTerms(bin.getLHS(), terms);
    collectTerms(bin.getRHS(), terms);
    return;
  }
  terms.push_back(expr);
}

/// The constant factor of a term (`d * 4` -> 4, `8` -> 8, `d` -> 1).
static std::pair<AffineExpr, int64_t> splitFactor(AffineExpr term) {
  if (auto c = dyn_cast<AffineConstantExpr>(term))
    return {getAffineConstantExpr(1, term.getContext()), c.getValue()};
  if (term.getKind() == AffineExprKind::Mul) {
    auto bin = cast<AffineBinaryOpExpr>(term);
    if (auto c = dyn_cast<AffineConstantExpr>(bin.getRHS()))
      return {bin.getLHS(), c.getValue()};
  }
  return {term, 1};
}

AffineExpr mlir::quantkv::simplifyWithBounds(AffineExpr expr,
                                             ArrayRef<int64_t> sizes) {
  auto bin = dyn_cast<AffineBinaryOpExpr>(expr);
  if (!bin)
    return expr;
  AffineExpr lhs = simplifyWithBounds(bin.getLHS(), sizes);
  AffineExpr rhs = simplifyWithBounds(bin.getRHS(), sizes);
  AffineExpr rebuilt;
  switch (expr.getKind()) {
  case AffineExprKind::Add:
    rebuilt = lhs + rhs;
    break;
  case AffineExprKind::Mul:
    rebuilt = lhs * rhs;
    break;
  case AffineExprKind::FloorDiv:
    rebuilt = lhs.floorDiv(rhs);
    break;
  case AffineExprKind::CeilDiv:
    rebuilt = lhs.ceilDiv(rhs);
    break;
  case AffineExprKind::Mod:
    rebuilt = lhs % rhs;
    break;
  default:
    return expr;
  }
  auto rb = dyn_cast<AffineBinaryOpExpr>(rebuilt);
  auto c =
      rb ? dyn_cast<AffineConstantExpr>(rb.getRHS()) : AffineConstantExpr();
  if (!rb || !c || c.getValue() <= 0 ||
      (rebuilt.getKind() != AffineExprKind::FloorDiv &&
       rebuilt.getKind() != AffineExprKind::Mod))
    return rebuilt;
  // (q * c + r) floordiv c = q and (q * c + r) mod c = r when 0 <= r < c.
  int64_t k = c.getValue();
  SmallVector<AffineExpr> terms;
  collectTerms(rb.getLHS(), terms);
  AffineExpr quotient = getAffineConstantExpr(0, expr.getContext());
  AffineExpr remainder = getAffineConstantExpr(0, expr.getContext());
  for (AffineExpr term : terms) {
    auto [base, factor] = splitFactor(term);
    if (factor % k == 0)
      quotient = quotient + base * (factor / k);
    else
      remainder = remainder + term;
  }
  auto range = getRange(remainder, sizes);
  if (!range || range->first < 0 || range->second >= k)
    return rebuilt;
  return rebuilt.getKind() == AffineExprKind::FloorDiv ? quotient : remainder;
}

//===----------------------------------------------------------------------===//
// Tree construction
//===----------------------------------------------------------------------===//

ExprNode *ExprTreeBuilder::make(ExprNode::Kind kind, Type type) {
  nodes.push_back(ExprNode{});
  ExprNode *node = &nodes.back();
  node->kind = kind;
  node->type = type;
  return node;
}

const ExprNode *ExprTreeBuilder::makeLeaf(Value value, AffineMap map) {
  Type type = value.getType();
  if (auto shaped = dyn_cast<ShapedType>(type))
    type = shaped.getElementType();
  ExprNode *node = make(ExprNode::Kind::Leaf, type);
  node->tensor = value;
  node->map = map;
  return node;
}

/// Simplifies every result of `map` (bounds taken from `sizes`).
static AffineMap simplifyMap(AffineMap map, ArrayRef<int64_t> sizes) {
  SmallVector<AffineExpr> exprs;
  for (AffineExpr e : map.getResults())
    exprs.push_back(simplifyWithBounds(
        simplifyAffineExpr(e, map.getNumDims(), map.getNumSymbols()), sizes));
  return AffineMap::get(map.getNumDims(), map.getNumSymbols(), exprs,
                        map.getContext());
}

const ExprNode *ExprTreeBuilder::build(Value value, AffineMap map,
                                       ArrayRef<int64_t> rootSizes) {
  sizes.assign(rootSizes.begin(), rootSizes.end());
  return buildImpl(value, map);
}

/// True for a linalg op that computes each result element from the same
/// element of its (mapped) inputs: every loop parallel, one init that is
/// written (not read) through a permutation map.
static bool isElementwiseLinalg(linalg::LinalgOp op) {
  if (op->getNumResults() != 1 || op.getNumDpsInits() != 1 ||
      !op.hasPureTensorSemantics() || !op.isAllParallelLoops())
    return false;
  OpOperand *init = op.getDpsInitOperand(0);
  if (op.payloadUsesValueFromOperand(init))
    return false;
  return op.getMatchingIndexingMap(init).isPermutation();
}

const ExprNode *ExprTreeBuilder::buildImpl(Value value, AffineMap map) {
  auto tensorType = dyn_cast<RankedTensorType>(value.getType());
  Operation *def = value.getDefiningOp();
  if (!tensorType) {
    Attribute attr;
    if (def && matchPattern(value, m_Constant(&attr)) && isa<TypedAttr>(attr)) {
      ExprNode *node = make(ExprNode::Kind::Const, value.getType());
      node->constant = cast<TypedAttr>(attr);
      return node;
    }
    return makeLeaf(value, AffineMap());
  }
  if (!def)
    return makeLeaf(value, map);

  // Splat constants and fills read the same scalar everywhere.
  DenseElementsAttr dense;
  if (matchPattern(value, m_Constant(&dense)) && dense.isSplat()) {
    if (auto splat = dyn_cast<TypedAttr>(dense.getSplatValue<Attribute>())) {
      ExprNode *node =
          make(ExprNode::Kind::Const, tensorType.getElementType());
      node->constant = splat;
      return node;
    }
  }
  if (auto fill = dyn_cast<linalg::FillOp>(def))
    return buildImpl(fill.getInputs()[0], AffineMap());

  if (auto cast = dyn_cast<TypecastOp>(def)) {
    inlined.insert(def);
    ExprNode *node = make(ExprNode::Kind::Op, tensorType.getElementType());
    node->op = def;
    node->operands.push_back(buildImpl(cast.getInput(), map));
    node->origin = value;
    node->originMap = map;
    return node;
  }

  if (auto expand = dyn_cast<tensor::ExpandShapeOp>(def)) {
    // Source index of a group = row-major linearization of its result dims.
    ArrayRef<int64_t> resultShape = expand.getResultType().getShape();
    SmallVector<AffineExpr> exprs;
    for (const ReassociationIndices &group : expand.getReassociationIndices()) {
      AffineExpr linear = getAffineConstantExpr(0, ctx);
      for (int64_t r : group)
        linear = linear * resultShape[r] + map.getResult(r);
      exprs.push_back(linear);
    }
    inlined.insert(def);
    return buildImpl(
        expand.getSrc(),
        simplifyMap(AffineMap::get(map.getNumDims(), 0, exprs, ctx), sizes));
  }
  if (auto collapse = dyn_cast<tensor::CollapseShapeOp>(def)) {
    // Each source dim of a group is a digit of the collapsed index.
    ArrayRef<int64_t> srcShape = collapse.getSrcType().getShape();
    SmallVector<AffineExpr> exprs;
    for (auto [t, group] :
         llvm::enumerate(collapse.getReassociationIndices())) {
      int64_t stride = 1;
      SmallVector<AffineExpr> digits;
      for (int64_t s : llvm::reverse(group)) {
        AffineExpr digit = map.getResult(t).floorDiv(stride);
        if (s != group.front())
          digit = digit % srcShape[s];
        digits.push_back(digit);
        stride *= srcShape[s];
      }
      exprs.append(digits.rbegin(), digits.rend());
    }
    inlined.insert(def);
    return buildImpl(
        collapse.getSrc(),
        simplifyMap(AffineMap::get(map.getNumDims(), 0, exprs, ctx), sizes));
  }

  if (auto linalgOp = dyn_cast<linalg::LinalgOp>(def))
    if (isElementwiseLinalg(linalgOp))
      return inlineBody(def, value, map);
  return makeLeaf(value, map);
}

const ExprNode *ExprTreeBuilder::buildBodyValue(linalg::LinalgOp linalgOp,
                                                Value value,
                                                AffineMap loopMap) {
  Block *body = linalgOp.getBlock();
  llvm::DenseMap<Value, const ExprNode *> memo;
  std::function<const ExprNode *(Value)> scalar =
      [&](Value v) -> const ExprNode * {
    if (const ExprNode *known = memo.lookup(v))
      return known;
    const ExprNode *node = nullptr;
    if (auto arg = dyn_cast<BlockArgument>(v); arg && arg.getOwner() == body) {
      OpOperand *operand = linalgOp.getMatchingOpOperand(arg);
      Value input = operand->get();
      if (linalgOp.isDpsInit(operand))
        // An accumulator: opaque, so that it never equals an input.
        node = makeLeaf(v, AffineMap());
      else if (isa<RankedTensorType>(input.getType()))
        node = buildImpl(
            input, simplifyMap(linalgOp.getMatchingIndexingMap(operand).compose(
                                   loopMap),
                               sizes));
      else
        node = buildImpl(input, AffineMap());
    } else if (Operation *op = v.getDefiningOp();
               op && op->getBlock() == body) {
      Attribute attr;
      if (auto index = dyn_cast<linalg::IndexOp>(op)) {
        ExprNode *n = make(ExprNode::Kind::Index, v.getType());
        n->index = loopMap.getResult(index.getDim());
        node = n;
      } else if (matchPattern(v, m_Constant(&attr)) && isa<TypedAttr>(attr)) {
        ExprNode *n = make(ExprNode::Kind::Const, v.getType());
        n->constant = cast<TypedAttr>(attr);
        node = n;
      } else if (op->getNumResults() == 1 && op->getNumRegions() == 0) {
        ExprNode *n = make(ExprNode::Kind::Op, v.getType());
        n->op = op;
        for (Value operand : op->getOperands())
          n->operands.push_back(scalar(operand));
        node = n;
      } else {
        node = makeLeaf(v, AffineMap());
      }
    } else {
      // Captured from above: a constant or an opaque scalar.
      node = buildImpl(v, AffineMap());
    }
    memo[v] = node;
    return node;
  };
  return scalar(value);
}

const ExprNode *ExprTreeBuilder::buildInBody(linalg::LinalgOp op, Value value,
                                             AffineMap loopMap,
                                             ArrayRef<int64_t> rootSizes) {
  sizes.assign(rootSizes.begin(), rootSizes.end());
  return buildBodyValue(op, value, loopMap);
}

const ExprNode *ExprTreeBuilder::inlineBody(Operation *producer, Value result,
                                            AffineMap map) {
  auto linalgOp = cast<linalg::LinalgOp>(producer);
  inlined.insert(producer);
  AffineMap initMap =
      linalgOp.getMatchingIndexingMap(linalgOp.getDpsInitOperand(0));
  // Loop index of the producer as a function of the root dims.
  AffineMap loopMap =
      simplifyMap(inversePermutation(initMap).compose(map), sizes);
  auto resultIndex = cast<OpResult>(result).getResultNumber();
  Value yielded = linalgOp.getBlock()->getTerminator()->getOperand(resultIndex);
  auto *node =
      const_cast<ExprNode *>(buildBodyValue(linalgOp, yielded, loopMap));
  node->origin = result;
  node->originMap = map;
  return node;
}

//===----------------------------------------------------------------------===//
// Queries
//===----------------------------------------------------------------------===//

bool mlir::quantkv::isEqualExpr(const ExprNode *a, const ExprNode *b) {
  if (a == b)
    return true;
  if (a->kind != b->kind || a->type != b->type)
    return false;
  switch (a->kind) {
  case ExprNode::Kind::Leaf:
    return a->tensor == b->tensor && a->map == b->map;
  case ExprNode::Kind::Const:
    return a->constant == b->constant;
  case ExprNode::Kind::Index:
    return a->index == b->index;
  case ExprNode::Kind::Op:
    if (a->op->getName() != b->op->getName() ||
        a->op->getAttrDictionary() != b->op->getAttrDictionary() ||
        a->operands.size() != b->operands.size())
      return false;
    for (auto [x, y] : llvm::zip(a->operands, b->operands))
      if (!isEqualExpr(x, y))
        return false;
    return true;
  }
  return false;
}

void mlir::quantkv::forEachLeaf(const ExprNode *node,
                                llvm::function_ref<void(const ExprNode *)> fn) {
  if (node->isLeaf())
    fn(node);
  for (const ExprNode *operand : node->operands)
    forEachLeaf(operand, fn);
}

std::optional<double> mlir::quantkv::getSplatFloat(Value tensor) {
  Value scalar = tensor;
  if (auto fill = tensor.getDefiningOp<linalg::FillOp>()) {
    scalar = fill.getInputs()[0];
  } else if (auto generic = tensor.getDefiningOp<linalg::GenericOp>()) {
    if (generic.getNumDpsInputs() != 0 || generic->getNumResults() != 1)
      return std::nullopt;
    scalar = generic.getBody()->getTerminator()->getOperand(0);
  }
  Attribute attr;
  if (!matchPattern(scalar, m_Constant(&attr)))
    return std::nullopt;
  if (auto dense = dyn_cast<DenseElementsAttr>(attr)) {
    if (!dense.isSplat())
      return std::nullopt;
    attr = dense.getSplatValue<Attribute>();
  }
  if (auto f = dyn_cast<FloatAttr>(attr))
    return f.getValueAsDouble();
  return std::nullopt;
}
