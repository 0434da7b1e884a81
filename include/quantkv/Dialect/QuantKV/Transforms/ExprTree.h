//===- ExprTree.h - scalar expression trees over tensor chains --*- C++ -*-===//
//
// Part of the quantkv project, under the Apache License v2.0 with LLVM
// Exceptions.
//
//===----------------------------------------------------------------------===//
//
// Frameworks hand attention over as chains of small element-wise ops whose
// boundaries depend on the lowering (one linalg.generic per torch op, or
// several fused into one, with transposes and broadcasts as separate ops or
// folded into indexing maps). The fusion matchers do not care where those
// boundaries are: they look at the *scalar* expression computed for one
// element of a tensor, with every element-wise producer inlined and every
// leaf tensor read through an affine map from the root's iteration space.
//
//   %b = linalg.broadcast ins(%s : tensor<4xf32>) outs(...) dimensions = [0]
//   %y = linalg.generic ins(%x, %b) { mulf(sitofp(%in0), %in1) }
//
// becomes, for %y read at (d0, d1):
//
//   mulf(sitofp(leaf %x at (d0, d1)), leaf %s at (d1))
//
// Inlined: element-wise linalg ops (all loops parallel, one result whose
// body does not read the init), linalg.fill, splat constants, quantkv.typecast
// and tensor.expand_shape / tensor.collapse_shape (as index arithmetic).
//
//===----------------------------------------------------------------------===//

#ifndef QUANTKV_DIALECT_QUANTKV_TRANSFORMS_EXPRTREE_H
#define QUANTKV_DIALECT_QUANTKV_TRANSFORMS_EXPRTREE_H

#include "mlir/Dialect/Linalg/IR/LinalgInterfaces.h"
#include "mlir/IR/AffineMap.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Operation.h"
#include "mlir/IR/Value.h"
#include "llvm/ADT/SmallPtrSet.h"
#include "llvm/ADT/SmallVector.h"
#include <deque>

namespace mlir::quantkv {

/// One node of a scalar expression tree.
struct ExprNode {
  enum class Kind {
    /// A tensor element `tensor[map(root dims)]` (or a scalar Value when
    /// `map` is null) that is not inlined further.
    Leaf,
    /// A scalar constant (from an arith.constant, a splat or a fill).
    Const,
    /// `linalg.index`, as an affine function of the root dims.
    Index,
    /// A scalar op (arith, math, quantkv.typecast) applied to `operands`.
    Op,
  };
  Kind kind;
  Type type;
  Value tensor;
  AffineMap map;
  TypedAttr constant;
  AffineExpr index;
  Operation *op = nullptr;
  SmallVector<const ExprNode *, 3> operands;
  /// The tensor (and map) this node was inlined from, when it is the yielded
  /// value of an inlined producer: lets a matcher hand a whole sub-tree back
  /// as an operand (e.g. a mask computed by its own generic).
  Value origin;
  AffineMap originMap;

  bool isLeaf() const { return kind == Kind::Leaf; }
  bool isConst() const { return kind == Kind::Const; }
  bool isOp() const { return kind == Kind::Op; }
  /// The op of an Op node when it is an `OpTy`, else null.
  template <typename OpTy> OpTy getOp() const {
    return isOp() ? dyn_cast<OpTy>(op) : OpTy();
  }
  /// The float value of a Const node, if it is a float constant.
  std::optional<double> getFloatConstant() const;
  /// The integer value of a Const node, if it is an integer constant.
  std::optional<int64_t> getIntConstant() const;
};

/// Builds and owns expression trees; records every op it inlined.
class ExprTreeBuilder {
public:
  explicit ExprTreeBuilder(MLIRContext *ctx) : ctx(ctx) {}

  /// The expression of `value` read at `map` (from the root iteration space,
  /// whose static sizes are `rootSizes`, to `value`'s indices). For a scalar
  /// `value`, `map` is ignored.
  const ExprNode *build(Value value, AffineMap map,
                        ArrayRef<int64_t> rootSizes);

  /// The expression of `value`, a scalar of `op`'s body, with `op`'s loops
  /// given as `loopMap` of the root dims (static sizes `rootSizes`); the
  /// op's accumulators stay opaque. Reads what a contraction multiplies or a
  /// reduction combines, producers fused into it included.
  const ExprNode *buildInBody(linalg::LinalgOp op, Value value,
                              AffineMap loopMap, ArrayRef<int64_t> rootSizes);

  /// Ops inlined into any tree built so far (their results are
  /// intermediates of the matched computation).
  const llvm::SmallPtrSetImpl<Operation *> &getInlinedOps() const {
    return inlined;
  }

private:
  ExprNode *make(ExprNode::Kind kind, Type type);
  const ExprNode *makeLeaf(Value value, AffineMap map);
  const ExprNode *buildImpl(Value value, AffineMap map);
  const ExprNode *inlineBody(Operation *producer, Value result, AffineMap map);
  const ExprNode *buildBodyValue(linalg::LinalgOp op, Value value,
                                 AffineMap loopMap);

  MLIRContext *ctx;
  SmallVector<int64_t> sizes;
  std::deque<ExprNode> nodes;
  llvm::SmallPtrSet<Operation *, 16> inlined;
};

/// Structural equality: same ops (name, attributes, types), same leaves read
/// at the same maps, same constants and index expressions.
bool isEqualExpr(const ExprNode *a, const ExprNode *b);

/// The value every element of `tensor` holds, when it is a float constant
/// everywhere: a splat, a linalg.fill or a generic that only yields it (a
/// generalized fill).
std::optional<double> getSplatFloat(Value tensor);

/// Calls `fn` on every Leaf of the tree.
void forEachLeaf(const ExprNode *node,
                 llvm::function_ref<void(const ExprNode *)> fn);

/// Simplifies `expr` with `sizes` as the (exclusive) upper bounds of the
/// dims: rewrites `(a * c + b) floordiv c` to `a` and `(a * c + b) mod c` to
/// `b` when `0 <= b < c` is provable from the bounds, which plain
/// simplifyAffineExpr cannot do (it knows no ranges).
AffineExpr simplifyWithBounds(AffineExpr expr, ArrayRef<int64_t> sizes);

} // namespace mlir::quantkv

#endif // QUANTKV_DIALECT_QUANTKV_TRANSFORMS_EXPRTREE_H
