//===- Passes.td - quantkv transformation passes -----------*- tablegen -*-===//
//
// Part of the quantkv project, under the Apache License v2.0 with LLVM
// Exceptions.
//
//===----------------------------------------------------------------------===//

#ifndef QUANTKV_DIALECT_QUANTKV_TRANSFORMS_PASSES_TD
#define QUANTKV_DIALECT_QUANTKV_TRANSFORMS_PASSES_TD

include "mlir/Pass/PassBase.td"

def QuantKVFuseSdpaPass : Pass<"quantkv-fuse-sdpa"> {
  let summary = "Fuse dequantize -> matmul -> softmax -> matmul into quantkv.sdpa";
  let description = [{
    Finds scaled dot-product attention over a dequantized K/V cache, starting
    from the final `P x V` contraction and walking up, and replaces it with one
    `quantkv.sdpa`. Two input forms are recognized: quantkv ops
    (`quantkv.dequantize`, `quantkv.typecast`) with upstream linalg named ops,
    and the upstream-only form a framework lowering emits (dequantization,
    casts, transposes, scaling, masking and a possibly decomposed softmax as
    `linalg.generic`s).

    Preconditions: static shapes; the dequantized K/V, the scores and the
    probabilities have no other user. When the computation differs from
    attention (softmax over another dim, scale or mask after the softmax, a
    contraction over the wrong dim, a scale layout that no granularity can
    express) nothing is rewritten.
  }];
  let dependentDialects = [
    "::mlir::quantkv::QuantKVDialect",
    "::mlir::tensor::TensorDialect",
    "::mlir::arith::ArithDialect",
  ];
  let options = [
    Option<"mathMode", "math-mode", "std::string", /*default=*/"\"auto\"",
           "Compute precision of the fused op: auto (the input's precision: "
           "strict for f32, bf16/f16 for bf16/f16 inputs), strict, bf16, "
           "f16 or int8">,
  ];
}

#endif // QUANTKV_DIALECT_QUANTKV_TRANSFORMS_PASSES_TD
