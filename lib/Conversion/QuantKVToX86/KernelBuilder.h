//===- KernelBuilder.h - IR-building helpers of the x86 kernels -*- C++ -*-===//
//
// Part of the quantkv project, under the Apache License v2.0 with LLVM
// Exceptions.
//
//===----------------------------------------------------------------------===//
//
// The small IR builders every x86 kernel emitter writes its code with:
// constants, splats, f32 / index arithmetic, math-mode rounding, scratch
// allocas, (vector) loads and stores, scf.for loops and fixed-order
// horizontal reductions. The emitters (SdpaEmitter, PrefillEmitter) and
// CacheRowReader derive from it, so that each op is built by one function and
// the kernels differ only in what they compute.
//
// Every helper creates its ops at the builder's insertion point in the order
// of its C++ statements: the emitted IR (and its SSA numbering) is a function
// of the call sequence alone.
//
//===----------------------------------------------------------------------===//

#ifndef QUANTKV_LIB_CONVERSION_QUANTKVTOX86_KERNELBUILDER_H
#define QUANTKV_LIB_CONVERSION_QUANTKVTOX86_KERNELBUILDER_H

#include "quantkv/Conversion/QuantKVToX86/KernelPlan.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"

#include <string>

namespace mlir::quantkv {

class KernelBuilder {
public:
  /// `lanes` is the f32 width of one vector register; `mathMode` decides
  /// what roundToMathMode rounds to.
  KernelBuilder(OpBuilder &b, Location loc, int64_t lanes,
                MathMode mathMode = MathMode::strict);

protected:
  //===--------------------------------------------------------------------===//
  // Constants and splats
  //===--------------------------------------------------------------------===//
  Value cIdx(int64_t v);
  Value cF32(double v);
  Value cI32(int64_t v);
  /// -inf as an f32 scalar (the identity of max).
  Value negInf();
  /// `scalar` broadcast to `lanes` lanes of its type.
  Value splat(Value scalar);
  /// A constant integer vector of `type` with every element `v`.
  Value splatInt(VectorType type, int64_t v);
  /// The i32 vector 0, 1, .., lanes - 1 (the position of each lane).
  Value laneIota();

  //===--------------------------------------------------------------------===//
  // Arithmetic
  //===--------------------------------------------------------------------===//
  Value add(Value x, Value y);
  Value sub(Value x, Value y);
  Value mul(Value x, Value y);
  /// x * y + acc as one vector.fma.
  Value fma(Value x, Value y, Value acc);
  Value maxf(Value x, Value y);
  /// max of values known not to be NaN (vmaxps, no NaN/sign-of-zero fixups).
  Value fastMax(Value x, Value y);
  /// e^x of an f32 vector whose lanes are <= 0 or -inf (softmax terms
  /// x - max): 2^round(t) times a degree-6 polynomial in the fraction,
  /// t = x log2(e); relative error below 2e-7, exactly 0 for t < -125.
  Value expNonPositive(Value x);
  /// 2^f for |f| <= 1/2 by its degree-`degree` Taylor polynomial in f ln 2
  /// (Horner form, one fma per degree): the fraction part of the exps.
  Value exp2Fraction(Value f, int degree);
  /// The softmax max to subtract: m, or 0 where m is -inf (a row with
  /// nothing visible yet), so that exp(-inf - -inf) never yields NaN.
  /// Scalar or vector.
  Value maxToSubtract(Value m);
  Value addi(Value x, Value y);
  Value muli(Value x, Value y);
  Value minsi(Value x, Value y);
  /// x / c on indices; x itself when c is 1 (no op).
  Value divui(Value x, int64_t c);
  Value remui(Value x, int64_t c);
  /// An index equal to 0 that LLVM cannot prove invariant in the loop whose
  /// induction variable (or any value varying with it) is `varying`: an
  /// empty inline asm passes `varying` through, and the difference is the
  /// offset. Added to the index of a loop-invariant load, it keeps the load
  /// in the loop, where the backend folds a broadcast load into the
  /// instruction's memory operand; hoisted, the broadcasts of a large
  /// operand set outnumber the registers and come back as 64-byte reloads.
  Value zeroVaryingWith(Value varying);

  /// The softmax normalization of a row with sum `l`: {l > 0, l > 0 ? 1 / l
  /// : 0} (a row whose keys are all masked has l = 0 and outputs 0); `zero`
  /// is the caller's f32 0.
  std::pair<Value, Value> inverseOrZero(Value l, Value zero);

  //===--------------------------------------------------------------------===//
  // Element types
  //===--------------------------------------------------------------------===//
  /// Extends a float scalar or vector to f32 (no op when already f32).
  Value toF32(Value v);
  /// Truncates an f32 scalar or vector to `elem` (no op for f32).
  Value fromF32(Value v, Type elem);
  /// Rounds an f32 value to the math mode's contraction type (bf16/f16 modes
  /// round every contraction input), keeping it in f32.
  Value roundToMathMode(Value v);
  /// The `numVecs` f32 vectors of `buf` at indices `row` ++ [c * lanes] are
  /// quantized symmetrically to integers w in [-levels, levels] with scale
  /// max|x| / levels (round half to even) and replaced by their dequantized
  /// values w * scale, so that a contraction sees exactly the integer row
  /// times its scale. `codes(c, w)` receives vector c's integers (as f32).
  /// Returns the scale and whether the row is all zeros (scale 0, codes and
  /// values 0).
  std::pair<Value, Value> quantizeRow(Value buf, ValueRange row,
                                      int64_t numVecs, double levels,
                                      function_ref<void(int64_t, Value)> codes);
  /// int8 math: quantizeRow to [-127, 127]; `i8Buf`, when given, receives
  /// the integer codes at the same indices.
  std::pair<Value, Value> quantizeRowInt8(Value buf, ValueRange row,
                                          int64_t numVecs,
                                          Value i8Buf = Value());

  //===--------------------------------------------------------------------===//
  // Memory
  //===--------------------------------------------------------------------===//
  /// 64-byte aligned stack scratch of f32 / of `elem`.
  Value scratch(ArrayRef<int64_t> shape);
  Value scratchOf(ArrayRef<int64_t> shape, Type elem);
  Value load(Value memref, ValueRange idx);
  void store(Value v, Value memref, ValueRange idx);
  /// One f32 vector register (vecTy) at `idx`.
  Value vload(Value memref, ValueRange idx);
  /// A vector of `type` at `idx`.
  Value vload(Type type, Value memref, ValueRange idx);
  void vstore(Value v, Value memref, ValueRange idx);
  /// Collapses a memref to 1-d (parameters: a granularity's linear index
  /// addresses it directly; the mask: rows are gathered by linear offsets).
  /// Null and 1-d memrefs pass unchanged.
  Value flatten(Value memref);

  //===--------------------------------------------------------------------===//
  // Loops
  //===--------------------------------------------------------------------===//
  /// scf.for with iteration arguments; `body` returns the yielded values.
  SmallVector<Value>
  forLoop(Value lb, Value ub, Value step, ValueRange init,
          function_ref<SmallVector<Value>(Value, ValueRange)> body);
  /// scf.for without iteration arguments.
  void forEach(Value lb, Value ub, Value step, function_ref<void(Value)> body);

  /// Outlines `body(index)` into a private function `<base>` (`<base>_<i>`
  /// when taken) placed before `parent`, whose arguments are the index and
  /// the non-null `captured` values: while `body` runs, those values are
  /// the function's arguments, restored afterwards. Keeping a work item in
  /// its own function puts its scratch allocas in a function entry block
  /// (allocated once per call) and leaves the parallel loop body one block.
  std::pair<std::string, func::FuncOp>
  outlineItem(func::FuncOp parent, StringRef base, ArrayRef<Value *> captured,
              function_ref<void(Value)> body);
  /// The func.func the insertion point is in.
  func::FuncOp enclosingFunc();
  /// scf.parallel over [lb, ub) step `step` whose body calls `callee` with
  /// the induction variable and `args`.
  void parallelCall(Value lb, Value ub, Value step, StringRef callee,
                    ValueRange args);

  //===--------------------------------------------------------------------===//
  // Horizontal reductions
  //===--------------------------------------------------------------------===//
  /// Reduces a vector by halving (a fixed tree, so that the result does not
  /// depend on LLVM's reassociation flags); `finite` max uses fastMax.
  Value treeReduce(Value v, bool isMax, bool finite = false);
  /// Sums each of `vecs` (n = 1, 2, 4 or 8 vectors of 16 f32) into lane i
  /// of one vector<n>. Adjacent vectors are merged first (each merge halves
  /// the lanes per source: lane segments of a and b side by side), then the
  /// single vector is folded onto itself.
  Value multiReduce(ArrayRef<Value> vecs);
  /// The same with any lane-wise combination (max, integer add; n may also
  /// be 16).
  Value multiReduce(ArrayRef<Value> vecs,
                    function_ref<Value(Value, Value)> combine);

  OpBuilder &b;
  Location loc;
  int64_t lanes;
  MathMode mathMode;
  Type f32, i32;
  /// One register of f32 / i32 lanes.
  VectorType vecTy, i32VecTy;
};

} // namespace mlir::quantkv

#endif // QUANTKV_LIB_CONVERSION_QUANTKVTOX86_KERNELBUILDER_H
