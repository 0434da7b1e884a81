//===- QuantKVOps.td - quantkv operations ------------------*- tablegen -*-===//
//
// Part of the quantkv project, under the Apache License v2.0 with LLVM
// Exceptions.
//
//===----------------------------------------------------------------------===//

#ifndef QUANTKV_DIALECT_QUANTKV_IR_QUANTKVOPS_TD
#define QUANTKV_DIALECT_QUANTKV_IR_QUANTKVOPS_TD

include "quantkv/Dialect/QuantKV/IR/QuantKVDialect.td"
include "quantkv/Dialect/QuantKV/IR/QuantKVAttrs.td"
include "mlir/Interfaces/DestinationStyleOpInterface.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

//===----------------------------------------------------------------------===//
// Type constraints
//===----------------------------------------------------------------------===//

def QuantKV_SI4 : SI<4>;
def QuantKV_UI4 : UI<4>;

def QuantKV_StorageInt : AnyTypeOf<[QuantKV_SI4, QuantKV_UI4, SI8, UI8],
    "quantized storage type (si4, ui4, si8 or ui8)">;
def QuantKV_ComputeFloat : AnyTypeOf<[F32, F16, BF16], "f32, f16 or bf16">;
def QuantKV_ZeroPointElement : AnyTypeOf<[QuantKV_SI4, QuantKV_UI4, SI8, UI8, SI32, F32],
    "zero point type (si4, ui4, si8, ui8, si32 or f32)">;
def QuantKV_CacheElement : AnyTypeOf<[QuantKV_SI4, QuantKV_UI4, SI8, UI8, F32, F16, BF16],
    "K/V cache type (si4, ui4, si8, ui8, f32, f16 or bf16)">;

def QuantKV_QuantizedTensor : RankedTensorOf<[QuantKV_StorageInt]>;
def QuantKV_FloatTensor : RankedTensorOf<[QuantKV_ComputeFloat]>;
def QuantKV_ScaleTensor : RankedTensorOf<[QuantKV_ComputeFloat]>;
def QuantKV_ZeroPointTensor : RankedTensorOf<[QuantKV_ZeroPointElement]>;

//===----------------------------------------------------------------------===//
// DequantizeOp
//===----------------------------------------------------------------------===//

def QuantKV_DequantizeOp : QuantKV_Op<"dequantize", [Pure]> {
  let summary = "Dynamic dequantization of an int4/int8 tensor";
  let description = [{
    Computes, for every element,

    ```
    result[i] = (input[i] - zero_point[s(i)]) * scale[s(i)]
    ```

    in f32 (then rounded to the result type when it is f16/bf16), where
    `s(i)` maps the element to its scale entry as the `granularity` says
    (see `#quantkv.per_tensor`, `#quantkv.per_channel`, `#quantkv.per_group`).
    Without `zero_point` the quantization is symmetric (`zero_point = 0`).
    This is oneDNN Graph's `DynamicDequantize` with the RFC's `per_group`
    extension and its review's broadcast of scale dims of size 1.

    ```mlir
    %k = quantkv.dequantize %kq scale(%ks : tensor<1x8x128x4xf16>)
        zero_point(%kz : tensor<1x8x128x4xui4>)
        granularity(#quantkv.per_group<[1, 1, 1, 32]>)
        : tensor<1x8x128x128xui4> -> tensor<1x8x128x128xf32>
    ```
  }];
  let arguments = (ins QuantKV_QuantizedTensor:$input,
                       QuantKV_ScaleTensor:$scale,
                       Optional<QuantKV_ZeroPointTensor>:$zero_point,
                       QuantKV_GranularityAttr:$granularity);
  let results = (outs QuantKV_FloatTensor:$result);
  let assemblyFormat = [{
    $input `scale` `(` $scale `:` type($scale) `)`
    (`zero_point` `(` $zero_point^ `:` type($zero_point) `)`)?
    `granularity` `(` $granularity `)`
    attr-dict `:` type($input) `->` type($result)
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// QuantizeOp
//===----------------------------------------------------------------------===//

def QuantKV_QuantizeOp : QuantKV_Op<"quantize", [Pure]> {
  let summary = "Dynamic quantization to int4/int8";
  let description = [{
    Computes, for every element, with `[qmin, qmax]` the range of the result
    element type (e.g. [-8, 7] for `si4`, [0, 255] for `ui8`):

    ```
    result[i] = clamp(round_half_to_even(input[i] / scale[s(i)])
                      + zero_point[s(i)], qmin, qmax)
    ```

    The division and rounding happen in f32. `s(i)` is as for
    `quantkv.dequantize`.

    ```mlir
    %q = quantkv.quantize %x scale(%s : tensor<16x2xf32>)
        granularity(#quantkv.per_group<[1, 4]>) : tensor<16x8xf32> -> tensor<16x8xsi4>
    ```
  }];
  let arguments = (ins QuantKV_FloatTensor:$input,
                       QuantKV_ScaleTensor:$scale,
                       Optional<QuantKV_ZeroPointTensor>:$zero_point,
                       QuantKV_GranularityAttr:$granularity);
  let results = (outs QuantKV_QuantizedTensor:$result);
  let assemblyFormat = [{
    $input `scale` `(` $scale `:` type($scale) `)`
    (`zero_point` `(` $zero_point^ `:` type($zero_point) `)`)?
    `granularity` `(` $granularity `)`
    attr-dict `:` type($input) `->` type($result)
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// TypecastOp
//===----------------------------------------------------------------------===//

def QuantKV_TypecastOp : QuantKV_Op<"typecast",
    [Pure, SameOperandsAndResultShape]> {
  let summary = "Floating-point conversion between f32 and f16/bf16";
  let description = [{
    oneDNN Graph's `TypeCast`: converts f32 to f16 or bf16 (round to nearest
    even) or f16/bf16 to f32 (exact). f16 <-> bf16 is not allowed; a cast to
    the same type folds away.

    ```mlir
    %h = quantkv.typecast %k : tensor<8x128xf32> to tensor<8x128xbf16>
    ```
  }];
  let arguments = (ins QuantKV_FloatTensor:$input);
  let results = (outs QuantKV_FloatTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `to` type($result)";
  let hasVerifier = 1;
  let hasFolder = 1;
  let hasCanonicalizer = 1;
}

//===----------------------------------------------------------------------===//
// SdpaOp
//===----------------------------------------------------------------------===//

def QuantKV_SdpaOp : QuantKV_Op<"sdpa", [
    AttrSizedOperandSegments,
    AllTypesMatch<["init", "result"]>,
    DeclareOpInterfaceMethods<DestinationStyleOpInterface>]> {
  let summary = "Scaled dot-product attention over a compressed K/V cache";
  let description = [{
    Computes, for every batch `b`, query head `h`, query row `i` and output
    channel `e`, with `g = h / (Hq / Hkv)` the K/V head of `h` (GQA/MQA):

    ```
    K'   = dequantize(key)   (the identity when key is f32/f16/bf16)
    V'   = dequantize(value)
    s[j] = scale * sum_d Q[b,h,i,d] * K'[b,g,j,d] + mask[b,h,i,j]
           (+ -inf where causal masks j out)
    p    = softmax_j(s)
    result[b,h,i,e] = sum_j p[j] * V'[b,g,j,e]
    ```

    Shapes: `query` is `[B, Hq, Sq, D]`, `key` `[B, Hkv, Skv, D]` (or
    `[B, Hkv, D, Skv]` with `key_layout = #quantkv.k_layout<bds>`), `value`
    `[B, Hkv, Skv, Dv]`, `init`/`result` `[B, Hq, Sq, Dv]`. `Hq` is a multiple
    of `Hkv`. K and V are quantized independently: each integer cache operand
    takes a scale, an optional zero point and a granularity attribute
    (`key_quant`, `value_quant`) with the rules of `quantkv.dequantize`.

    `scale` is the `scale` attribute, the `dynamic_scale` operand, or
    `1/sqrt(D)` when neither is given. `mask` is additive and broadcasts to
    `[B, Hq, Sq, Skv]` (rank 2 to 4, each dim 1 or full). `causal` masks key
    `j` out for query `i` when `j > i` (`top_left`) or `j > i + Skv - Sq`
    (`bottom_right`, the KV-cache decode convention). A row with every key
    masked out yields zeros.

    `math_mode` is oneDNN's floating-point math mode: `strict` computes in
    f32; `bf16`/`f16` round every contraction input (Q, K', P and V') to that
    type, as oneDNN's math mode converts every matmul input, and accumulate
    in f32; `int8` quantizes Q per row at run time and
    contracts it with the integer K in int32 (BesTLA's compute type int8).

    Numerics of `int8`: Q is quantized symmetrically per row (`max|q| / 127`,
    round half to even, clamp to +-127); Q.K is then exact in integers up to
    the f32 rounding of the scaled sums. The softmax is f32. A lowering may
    also contract P with the integer V: P is carried in fixed point with
    >= 14 bits relative to the tile maximum, i.e. per block of at most 256
    keys (a KV tile) and per V scale group, `p_j * s_j` (the token-varying V
    scale folded in) is rounded to the nearest multiple of `max_j |p_j s_j| /
    16383`; V's bias and zero point are removed exactly in integers. The
    output error this adds is at most `T / 32766 * max|V'|` for a tile of T
    keys (docs/Rationale.md), and about `sqrt(T / 12) / 16383 * max|V'|` for
    independent rounding errors; the f64 reference evaluates P.V exactly.

    ```mlir
    %o = quantkv.sdpa
        q(%q : tensor<1x32x1x128xf32>)
        k(%k : tensor<1x8x4096x128xsi4>) k_scale(%ks : tensor<1x8x4096x4xf32>)
        v(%v : tensor<1x8x4096x128xui8>) v_scale(%vs : tensor<128xf32>)
        v_zero_point(%vz : tensor<128xui8>)
        outs(%init : tensor<1x32x1x128xf32>)
        {key_quant = #quantkv.per_group<[1, 1, 1, 32]>,
         value_quant = #quantkv.per_channel<axis = 3>,
         causal = #quantkv.causal<bottom_right>}
        : tensor<1x32x1x128xf32>
    ```
  }];
  let arguments = (ins
    QuantKV_FloatTensor:$query,
    RankedTensorOf<[QuantKV_CacheElement]>:$key,
    Optional<QuantKV_ScaleTensor>:$key_scale,
    Optional<QuantKV_ZeroPointTensor>:$key_zero_point,
    RankedTensorOf<[QuantKV_CacheElement]>:$value,
    Optional<QuantKV_ScaleTensor>:$value_scale,
    Optional<QuantKV_ZeroPointTensor>:$value_zero_point,
    Optional<QuantKV_FloatTensor>:$mask,
    Optional<F32>:$dynamic_scale,
    QuantKV_FloatTensor:$init,
    OptionalAttr<QuantKV_GranularityAttr>:$key_quant,
    OptionalAttr<QuantKV_GranularityAttr>:$value_quant,
    OptionalAttr<F32Attr>:$scale,
    OptionalAttr<QuantKV_CausalAlignmentAttr>:$causal,
    DefaultValuedAttr<QuantKV_MathModeAttr,
                      "::mlir::quantkv::MathMode::strict">:$math_mode,
    DefaultValuedAttr<QuantKV_KLayoutAttr,
                      "::mlir::quantkv::KLayout::bsd">:$key_layout);
  let results = (outs QuantKV_FloatTensor:$result);
  let assemblyFormat = [{
    `q` `(` $query `:` type($query) `)`
    `k` `(` $key `:` type($key) `)`
    (`k_scale` `(` $key_scale^ `:` type($key_scale) `)`)?
    (`k_zero_point` `(` $key_zero_point^ `:` type($key_zero_point) `)`)?
    `v` `(` $value `:` type($value) `)`
    (`v_scale` `(` $value_scale^ `:` type($value_scale) `)`)?
    (`v_zero_point` `(` $value_zero_point^ `:` type($value_zero_point) `)`)?
    (`mask` `(` $mask^ `:` type($mask) `)`)?
    (`dynamic_scale` `(` $dynamic_scale^ `)`)?
    `outs` `(` $init `:` type($init) `)`
    attr-dict `:` type($result)
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    /// Sizes read off the operands (the key layout taken into account).
    int64_t getBatchSize();
    int64_t getNumQueryHeads();
    int64_t getNumKVHeads();
    int64_t getQueryLength();
    int64_t getKVLength();
    int64_t getHeadDim();
    int64_t getValueHeadDim();
  }];
}

#endif // QUANTKV_DIALECT_QUANTKV_IR_QUANTKVOPS_TD
