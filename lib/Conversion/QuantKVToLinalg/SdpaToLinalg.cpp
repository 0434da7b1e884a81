//===- SdpaToLinalg.cpp - quantkv.sdpa -> linalg --------------------------===//
//
// Part of the quantkv project, under the Apache License v2.0 with LLVM
// Exceptions.
//
//===----------------------------------------------------------------------===//
//
// The reference form of attention: every intermediate ([B, Hq, Sq, Skv]
// scores, probabilities, the dequantized cache) is a full tensor, so each step
// reads like its formula. It is the oracle other lowerings are compared with,
// so it trades speed for obviousness.
//
//===----------------------------------------------------------------------===//

#include "LoweringUtils.h"
#include "quantkv/Conversion/QuantKVToLinalg/QuantKVToLinalg.h"
#include "quantkv/Dialect/QuantKV/IR/QuantKVOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

#include <cmath>
#include <limits>

using namespace mlir;
using namespace mlir::quantkv;

namespace {

using utils::IteratorType;
constexpr IteratorType kPar = IteratorType::parallel;
constexpr IteratorType kRed = IteratorType::reduction;

/// Rounds an f32 value to the contraction type of `mode` and back (bf16/f16
/// modes), so that the product is formed from exactly representable inputs.
Value roundForMathMode(OpBuilder &b, Location loc, Value x, MathMode mode) {
  Type narrow;
  if (mode == MathMode::bf16)
    narrow = b.getBF16Type();
  else if (mode == MathMode::f16)
    narrow = b.getF16Type();
  else
    return x;
  Value truncated = arith::TruncFOp::create(b, loc, narrow, x);
  return arith::ExtFOp::create(b, loc, b.getF32Type(), truncated);
}

/// Lowers quantkv.sdpa to a chain of linalg.generic ops on tensors:
///
///   K'[b,g,j,d] = dequantize(K)                    (f32, layout kept)
///   Q'          = Q, or Q quantized per row (int8 math)
///   S[b,h,i,j]  = sum_d r(Q'[b,h,i,d]) * r(K'[b, h floordiv G, j, d])
///   S2          = S * scale + mask, -inf where causal masks j out
///   M[b,h,i]    = max_j S2;  M' = (M == -inf) ? 0 : M
///   E           = exp(S2 - M');  L[b,h,i] = sum_j E
///   P           = (L == 0) ? 0 : r(E / L)
///   O[b,h,i,e]  = sum_j P[b,h,i,j] * r(V'[b, h floordiv G, j, e])
///
/// with G = Hq / Hkv and r() the bf16/f16 rounding of those math modes. A row
/// whose keys are all masked has M = -inf, hence E = 0, L = 0 and O = 0.
struct SdpaOpLowering : public OpConversionPattern<SdpaOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(SdpaOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    MLIRContext *ctx = rewriter.getContext();
    for (Value v : op->getOperands())
      if (auto t = dyn_cast<RankedTensorType>(v.getType());
          t && !t.hasStaticShape())
        return rewriter.notifyMatchFailure(
            op, "the reference lowering needs static shapes");

    const int64_t batch = op.getBatchSize(), hq = op.getNumQueryHeads();
    const int64_t hkv = op.getNumKVHeads(), sq = op.getQueryLength();
    const int64_t skv = op.getKVLength(), dv = op.getValueHeadDim();
    const int64_t groupSize = hq / hkv;
    const MathMode mode = op.getMathMode();
    const bool bds = op.getKeyLayout() == KLayout::bds;
    Type f32 = rewriter.getF32Type();

    // K' and V' in f32 (the identity, widened, for float caches).
    auto dequantizeCache = [&](Value original, Value storage, Value scale,
                               Value zp, Value originalZp,
                               Attribute quant) -> Value {
      auto type = cast<RankedTensorType>(original.getType());
      if (!isa<IntegerType>(type.getElementType()))
        return storage;
      RankedTensorType zpType;
      if (originalZp)
        zpType = cast<RankedTensorType>(originalZp.getType());
      return lowering::buildDequantize(
          rewriter, loc, storage, type, scale, zp, zpType,
          cast<GranularityAttrInterface>(quant), f32);
    };
    Value key = dequantizeCache(
        op.getKey(), adaptor.getKey(), adaptor.getKeyScale(),
        adaptor.getKeyZeroPoint(), op.getKeyZeroPoint(), op.getKeyQuantAttr());
    Value value =
        dequantizeCache(op.getValue(), adaptor.getValue(),
                        adaptor.getValueScale(), adaptor.getValueZeroPoint(),
                        op.getValueZeroPoint(), op.getValueQuantAttr());
    Value query = adaptor.getQuery();
    if (mode == MathMode::int8)
      query = quantizeQueryRows(rewriter, loc, query);

    AffineExpr b = getAffineDimExpr(0, ctx), h = getAffineDimExpr(1, ctx);
    AffineExpr i = getAffineDimExpr(2, ctx), x = getAffineDimExpr(3, ctx);
    AffineExpr y = getAffineDimExpr(4, ctx);
    AffineExpr g = groupSize == 1 ? h : h.floorDiv(groupSize);

    // S[b,h,i,j] = sum_d Q'[b,h,i,d] * K'[b,g,j,d]   (loops b, h, i, j, d)
    Value scores =
        lowering::buildFilled(rewriter, loc, {batch, hq, sq, skv}, f32, 0.0);
    Type qElement = op.getQuery().getType().getElementType();
    Type kElement = cast<RankedTensorType>(key.getType()).getElementType();
    SmallVector<AffineMap> qkMaps = {
        AffineMap::get(5, 0, {b, h, i, y}, ctx),
        AffineMap::get(5, 0,
                       bds ? SmallVector<AffineExpr>{b, g, y, x}
                           : SmallVector<AffineExpr>{b, g, x, y},
                       ctx),
        AffineMap::get(5, 0, {b, h, i, x}, ctx)};
    scores =
        linalg::GenericOp::create(
            rewriter, loc, TypeRange{scores.getType()}, ValueRange{query, key},
            ValueRange{scores}, qkMaps, {kPar, kPar, kPar, kPar, kRed},
            [&](OpBuilder &nb, Location l, ValueRange args) {
              Value q = roundForMathMode(
                  nb, l, lowering::convertToF32(nb, l, args[0], qElement),
                  mode);
              Value k = roundForMathMode(
                  nb, l, lowering::convertToF32(nb, l, args[1], kElement),
                  mode);
              Value prod = arith::MulFOp::create(nb, l, q, k);
              linalg::YieldOp::create(
                  nb, l, Value(arith::AddFOp::create(nb, l, args[2], prod)));
            })
            .getResult(0);

    // S2 = S * scale + mask, -inf where the causal mask drops key j.
    scores = scaleAndMask(rewriter, loc, op, adaptor, scores);

    // Softmax over j, max-subtracted.
    SmallVector<int64_t> rowShape = {batch, hq, sq};
    AffineMap full4 = rewriter.getMultiDimIdentityMap(4);
    AffineMap row4 = AffineMap::get(4, 0, {b, h, i}, ctx);
    Value rowMax = lowering::buildFilled(
        rewriter, loc, rowShape, f32, -std::numeric_limits<double>::infinity());
    rowMax =
        linalg::GenericOp::create(
            rewriter, loc, TypeRange{rowMax.getType()}, ValueRange{scores},
            ValueRange{rowMax}, {full4, row4}, {kPar, kPar, kPar, kRed},
            [&](OpBuilder &nb, Location l, ValueRange args) {
              linalg::YieldOp::create(
                  nb, l,
                  Value(arith::MaximumFOp::create(nb, l, args[0], args[1])));
            })
            .getResult(0);
    Value expInit = tensor::EmptyOp::create(
        rewriter, loc, SmallVector<int64_t>{batch, hq, sq, skv}, f32);
    Value exps =
        linalg::GenericOp::create(
            rewriter, loc, TypeRange{expInit.getType()},
            ValueRange{scores, rowMax}, ValueRange{expInit},
            {full4, row4, full4}, {kPar, kPar, kPar, kPar},
            [&](OpBuilder &nb, Location l, ValueRange args) {
              // A fully masked row has max -inf: subtract 0 instead so that
              // exp(-inf - 0) = 0 rather than exp(-inf + inf) = NaN.
              Value negInf = arith::ConstantOp::create(
                  nb, l, f32,
                  nb.getF32FloatAttr(-std::numeric_limits<float>::infinity()));
              Value zero = arith::ConstantOp::create(nb, l, f32,
                                                     nb.getF32FloatAttr(0.0f));
              Value allMasked = arith::CmpFOp::create(
                  nb, l, arith::CmpFPredicate::OEQ, args[1], negInf);
              Value max =
                  arith::SelectOp::create(nb, l, allMasked, zero, args[1]);
              Value shifted = arith::SubFOp::create(nb, l, args[0], max);
              linalg::YieldOp::create(
                  nb, l, Value(math::ExpOp::create(nb, l, shifted)));
            })
            .getResult(0);
    Value rowSum = lowering::buildFilled(rewriter, loc, rowShape, f32, 0.0);
    rowSum =
        linalg::GenericOp::create(
            rewriter, loc, TypeRange{rowSum.getType()}, ValueRange{exps},
            ValueRange{rowSum}, {full4, row4}, {kPar, kPar, kPar, kRed},
            [&](OpBuilder &nb, Location l, ValueRange args) {
              linalg::YieldOp::create(
                  nb, l, Value(arith::AddFOp::create(nb, l, args[0], args[1])));
            })
            .getResult(0);
    Value probs =
        linalg::GenericOp::create(
            rewriter, loc, TypeRange{expInit.getType()},
            ValueRange{exps, rowSum}, ValueRange{expInit}, {full4, row4, full4},
            {kPar, kPar, kPar, kPar},
            [&](OpBuilder &nb, Location l, ValueRange args) {
              Value zero = arith::ConstantOp::create(nb, l, f32,
                                                     nb.getF32FloatAttr(0.0f));
              Value empty = arith::CmpFOp::create(
                  nb, l, arith::CmpFPredicate::OEQ, args[1], zero);
              Value p = arith::DivFOp::create(nb, l, args[0], args[1]);
              p = roundForMathMode(nb, l, p, mode);
              linalg::YieldOp::create(
                  nb, l, Value(arith::SelectOp::create(nb, l, empty, zero, p)));
            })
            .getResult(0);

    // O[b,h,i,e] = sum_j P[b,h,i,j] * V'[b,g,j,e]   (loops b, h, i, e, j)
    Value out =
        lowering::buildFilled(rewriter, loc, {batch, hq, sq, dv}, f32, 0.0);
    Type vElement = cast<RankedTensorType>(value.getType()).getElementType();
    SmallVector<AffineMap> pvMaps = {AffineMap::get(5, 0, {b, h, i, y}, ctx),
                                     AffineMap::get(5, 0, {b, g, y, x}, ctx),
                                     AffineMap::get(5, 0, {b, h, i, x}, ctx)};
    out = linalg::GenericOp::create(
              rewriter, loc, TypeRange{out.getType()}, ValueRange{probs, value},
              ValueRange{out}, pvMaps, {kPar, kPar, kPar, kPar, kRed},
              [&](OpBuilder &nb, Location l, ValueRange args) {
                Value v = roundForMathMode(
                    nb, l, lowering::convertToF32(nb, l, args[1], vElement),
                    mode);
                Value prod = arith::MulFOp::create(nb, l, args[0], v);
                linalg::YieldOp::create(
                    nb, l, Value(arith::AddFOp::create(nb, l, args[2], prod)));
              })
              .getResult(0);

    // Into the destination, in its element type.
    Value init = adaptor.getInit();
    Type outElement = cast<RankedTensorType>(init.getType()).getElementType();
    Value result =
        linalg::GenericOp::create(
            rewriter, loc, TypeRange{init.getType()}, ValueRange{out},
            ValueRange{init}, {full4, full4}, {kPar, kPar, kPar, kPar},
            [&](OpBuilder &nb, Location l, ValueRange args) {
              linalg::YieldOp::create(
                  nb, l, lowering::convertFromF32(nb, l, args[0], outElement));
            })
            .getResult(0);
    rewriter.replaceOp(op, result);
    return success();
  }

private:
  /// int8 math: Q'[b,h,i,d] = clamp(roundeven(q / s), -127, 127) * s with
  /// s = max_d |q| / 127 per row, in f32 (0 for an all-zero row).
  static Value quantizeQueryRows(OpBuilder &b, Location loc, Value query) {
    MLIRContext *ctx = b.getContext();
    auto type = cast<RankedTensorType>(query.getType());
    ArrayRef<int64_t> shape = type.getShape();
    Type f32 = b.getF32Type();
    Type element = type.getElementType();
    AffineMap full = b.getMultiDimIdentityMap(4);
    AffineMap row =
        AffineMap::get(4, 0,
                       {getAffineDimExpr(0, ctx), getAffineDimExpr(1, ctx),
                        getAffineDimExpr(2, ctx)},
                       ctx);
    Value amax = lowering::buildFilled(b, loc, shape.take_front(3), f32, 0.0);
    amax =
        linalg::GenericOp::create(
            b, loc, TypeRange{amax.getType()}, ValueRange{query},
            ValueRange{amax}, {full, row}, {kPar, kPar, kPar, kRed},
            [&](OpBuilder &nb, Location l, ValueRange args) {
              Value q = lowering::convertToF32(nb, l, args[0], element);
              Value a = math::AbsFOp::create(nb, l, q);
              linalg::YieldOp::create(
                  nb, l, Value(arith::MaximumFOp::create(nb, l, args[1], a)));
            })
            .getResult(0);
    Value init = tensor::EmptyOp::create(b, loc, shape, f32);
    return linalg::GenericOp::create(
               b, loc, TypeRange{init.getType()}, ValueRange{query, amax},
               ValueRange{init}, {full, row, full}, {kPar, kPar, kPar, kPar},
               [&](OpBuilder &nb, Location l, ValueRange args) {
                 auto cst = [&](float v) -> Value {
                   return arith::ConstantOp::create(nb, l, f32,
                                                    nb.getF32FloatAttr(v));
                 };
                 Value q = lowering::convertToF32(nb, l, args[0], element);
                 Value s = arith::DivFOp::create(nb, l, args[1], cst(127.0f));
                 Value r = math::RoundEvenOp::create(
                     nb, l, arith::DivFOp::create(nb, l, q, s));
                 r = arith::MaxNumFOp::create(nb, l, r, cst(-127.0f));
                 r = arith::MinNumFOp::create(nb, l, r, cst(127.0f));
                 Value dq = arith::MulFOp::create(nb, l, r, s);
                 Value zeroRow = arith::CmpFOp::create(
                     nb, l, arith::CmpFPredicate::OEQ, args[1], cst(0.0f));
                 linalg::YieldOp::create(nb, l,
                                         Value(arith::SelectOp::create(
                                             nb, l, zeroRow, cst(0.0f), dq)));
               })
        .getResult(0);
  }

  /// S2[b,h,i,j] = S * scale + mask[broadcast], -inf where causal drops j:
  /// j > i (top_left) or j > i + Skv - Sq (bottom_right).
  static Value scaleAndMask(ConversionPatternRewriter &b, Location loc,
                            SdpaOp op, OpAdaptor adaptor, Value scores) {
    MLIRContext *ctx = b.getContext();
    Type f32 = b.getF32Type();
    auto type = cast<RankedTensorType>(scores.getType());
    ArrayRef<int64_t> shape = type.getShape();
    SmallVector<Value> inputs = {scores};
    SmallVector<AffineMap> maps = {b.getMultiDimIdentityMap(4)};
    Type maskElement;
    if (Value mask = adaptor.getMask()) {
      // The mask's dims align with the trailing dims of [B, Hq, Sq, Skv]; a
      // dim of 1 broadcasts.
      auto maskType = cast<RankedTensorType>(mask.getType());
      maskElement = maskType.getElementType();
      int64_t rank = maskType.getRank();
      SmallVector<AffineExpr> exprs;
      for (int64_t d = 0; d < rank; ++d) {
        int64_t full = 4 - rank + d;
        exprs.push_back(maskType.getDimSize(d) == 1 && shape[full] != 1
                            ? getAffineConstantExpr(0, ctx)
                            : getAffineDimExpr(full, ctx));
      }
      inputs.push_back(mask);
      maps.push_back(AffineMap::get(4, 0, exprs, ctx));
    }
    maps.push_back(b.getMultiDimIdentityMap(4));

    double scaleValue = 1.0 / std::sqrt(static_cast<double>(op.getHeadDim()));
    if (auto attr = op.getScaleAttr())
      scaleValue = attr.getValueAsDouble();
    Value dynamicScale = adaptor.getDynamicScale();
    std::optional<CausalAlignment> causal = op.getCausal();
    int64_t diagonal = 0; // key j is dropped for query i when j > i + diagonal
    if (causal && *causal == CausalAlignment::bottom_right)
      diagonal = op.getKVLength() - op.getQueryLength();

    Value init = tensor::EmptyOp::create(b, loc, shape, f32);
    return linalg::GenericOp::create(
               b, loc, TypeRange{init.getType()}, inputs, ValueRange{init},
               maps, {kPar, kPar, kPar, kPar},
               [&](OpBuilder &nb, Location l, ValueRange args) {
                 Value scale = dynamicScale
                                   ? dynamicScale
                                   : Value(arith::ConstantOp::create(
                                         nb, l, f32,
                                         nb.getF32FloatAttr(
                                             static_cast<float>(scaleValue))));
                 Value s = arith::MulFOp::create(nb, l, args[0], scale);
                 if (maskElement)
                   s = arith::AddFOp::create(
                       nb, l, s,
                       lowering::convertToF32(nb, l, args[1], maskElement));
                 if (causal) {
                   Value i = linalg::IndexOp::create(nb, l, 2);
                   Value j = linalg::IndexOp::create(nb, l, 3);
                   Value limit = arith::AddIOp::create(
                       nb, l, i,
                       arith::ConstantIndexOp::create(nb, l, diagonal));
                   Value dropped = arith::CmpIOp::create(
                       nb, l, arith::CmpIPredicate::sgt, j, limit);
                   Value negInf = arith::ConstantOp::create(
                       nb, l, f32,
                       nb.getF32FloatAttr(
                           -std::numeric_limits<float>::infinity()));
                   s = arith::SelectOp::create(nb, l, dropped, negInf, s);
                 }
                 linalg::YieldOp::create(nb, l, s);
               })
        .getResult(0);
  }
};

} // namespace

void mlir::quantkv::populateSdpaToLinalgPatterns(const TypeConverter &converter,
                                                 RewritePatternSet &patterns) {
  patterns.add<SdpaOpLowering>(converter, patterns.getContext());
}
