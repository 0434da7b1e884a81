//===- QuantKVAttrs.td - quantkv attributes ----------------*- tablegen -*-===//
//
// Part of the quantkv project, under the Apache License v2.0 with LLVM
// Exceptions.
//
//===----------------------------------------------------------------------===//

#ifndef QUANTKV_DIALECT_QUANTKV_IR_QUANTKVATTRS_TD
#define QUANTKV_DIALECT_QUANTKV_IR_QUANTKVATTRS_TD

include "quantkv/Dialect/QuantKV/IR/QuantKVDialect.td"
include "mlir/IR/AttrTypeBase.td"
include "mlir/IR/EnumAttr.td"
include "mlir/IR/BuiltinAttributeInterfaces.td"

//===----------------------------------------------------------------------===//
// Granularity: one interface, three attributes.
//===----------------------------------------------------------------------===//

def QuantKV_GranularityAttrInterface
    : AttrInterface<"GranularityAttrInterface"> {
  let cppNamespace = "::mlir::quantkv";
  let description = [{
    How a quantized tensor's scale (and zero point) tensor maps onto its
    elements. Every granularity is normalized to an n-d *group shape*: the
    element at index `i` uses the scale at `i[d] / group[d]` on each dim `d`
    of the expanded scale, or 0 where that expanded scale dim is 1.
  }];
  let methods = [
    InterfaceMethod<[{
        Checks that `scaleType` (and `zeroPointType` when non-null) fits a
        source of type `srcType`. Emits one diagnostic per broken rule, naming
        `scaleName`, through `emitError`.
      }],
      "::llvm::LogicalResult", "verifyScaleShape",
      (ins "::llvm::function_ref<::mlir::InFlightDiagnostic()>":$emitError,
           "::mlir::ShapedType":$srcType, "::mlir::ShapedType":$scaleType,
           "::llvm::StringRef":$srcName, "::llvm::StringRef":$scaleName)>,
    InterfaceMethod<[{
        Returns, for each source dim, the source index divisor that gives the
        scale index (a divisor equal to the dim size, or a broadcast scale dim,
        gives index 0), together with the rank-`srcRank` expanded scale shape.
        `scaleShape` is the shape of the scale operand.
      }],
      "void", "getScaleIndexing",
      (ins "::llvm::ArrayRef<int64_t>":$srcShape,
           "::llvm::ArrayRef<int64_t>":$scaleShape,
           "::llvm::SmallVectorImpl<int64_t>&":$groupShape,
           "::llvm::SmallVectorImpl<int64_t>&":$expandedScaleShape)>,
  ];
}

class QuantKV_Attr<string name, string attrMnemonic, list<Trait> traits = []>
    : AttrDef<QuantKV_Dialect, name, traits> {
  let mnemonic = attrMnemonic;
}

def QuantKV_PerTensorAttr : QuantKV_Attr<"PerTensor", "per_tensor",
    [DeclareAttrInterfaceMethods<QuantKV_GranularityAttrInterface>]> {
  let summary = "One scale (and zero point) for the whole tensor";
  let description = [{
    The scale is a 1-d tensor of one element.

    ```mlir
    #quantkv.per_tensor
    ```
  }];
}

def QuantKV_PerChannelAttr : QuantKV_Attr<"PerChannel", "per_channel",
    [DeclareAttrInterfaceMethods<QuantKV_GranularityAttrInterface>]> {
  let summary = "One scale per index of one axis";
  let description = [{
    The scale is a 1-d tensor whose size is the source dim at `axis`.
    KIVI-style per-channel K scales on `[B, H, S, D]` are `axis = 3`.

    ```mlir
    #quantkv.per_channel<axis = 3>
    ```
  }];
  let parameters = (ins "int64_t":$axis);
  let assemblyFormat = "`<` `axis` `=` $axis `>`";
}

def QuantKV_PerGroupAttr : QuantKV_Attr<"PerGroup", "per_group",
    [DeclareAttrInterfaceMethods<QuantKV_GranularityAttrInterface>]> {
  let summary = "One scale per n-d block of elements";
  let description = [{
    `group_shape` has one entry per source dim; each entry divides the source
    dim. The scale has the source's rank and, on each dim, either
    `src_dim / group_dim` entries or 1 (shared along that dim, e.g. the batch
    dim). Groups may span several dims (2-d blocks over S x D).

    ```mlir
    // int4 K with a scale per 32 channels of each token:
    #quantkv.per_group<[1, 1, 1, 32]>
    // a scale per 64 tokens of each channel (KIVI K):
    #quantkv.per_group<[1, 1, 64, 1]>
    ```
  }];
  let parameters = (ins ArrayRefParameter<"int64_t">:$group_shape);
  let assemblyFormat = "`<` `[` $group_shape `]` `>`";
  let genVerifyDecl = 1;
}

def QuantKV_GranularityAttr : Attr<
    CPred<"::llvm::isa<::mlir::quantkv::GranularityAttrInterface>($_self)">,
    "quantkv granularity (per_tensor, per_channel or per_group)"> {
  let storageType = "::mlir::quantkv::GranularityAttrInterface";
  let returnType = "::mlir::quantkv::GranularityAttrInterface";
  let convertFromStorage = "$_self";
}

//===----------------------------------------------------------------------===//
// Enums
//===----------------------------------------------------------------------===//

def QuantKV_MathMode : I32EnumAttr<"MathMode",
    "precision the attention contractions are computed in", [
      I32EnumAttrCase<"strict", 0>,
      I32EnumAttrCase<"bf16", 1>,
      I32EnumAttrCase<"f16", 2>,
      I32EnumAttrCase<"int8", 3>,
    ]> {
  let cppNamespace = "::mlir::quantkv";
  let genSpecializedAttr = 0;
}
def QuantKV_MathModeAttr : EnumAttr<QuantKV_Dialect, QuantKV_MathMode,
                                    "math_mode"> {
  let assemblyFormat = "`<` $value `>`";
}

def QuantKV_CausalAlignment : I32EnumAttr<"CausalAlignment",
    "which corner of the score matrix the causal diagonal starts from", [
      I32EnumAttrCase<"top_left", 0>,
      I32EnumAttrCase<"bottom_right", 1>,
    ]> {
  let cppNamespace = "::mlir::quantkv";
  let genSpecializedAttr = 0;
}
def QuantKV_CausalAlignmentAttr : EnumAttr<QuantKV_Dialect,
    QuantKV_CausalAlignment, "causal"> {
  let assemblyFormat = "`<` $value `>`";
}

def QuantKV_KLayout : I32EnumAttr<"KLayout", "layout of the key operand", [
      I32EnumAttrCase<"bsd", 0>,
      I32EnumAttrCase<"bds", 1>,
    ]> {
  let cppNamespace = "::mlir::quantkv";
  let genSpecializedAttr = 0;
}
def QuantKV_KLayoutAttr : EnumAttr<QuantKV_Dialect, QuantKV_KLayout,
                                   "k_layout"> {
  let assemblyFormat = "`<` $value `>`";
}

#endif // QUANTKV_DIALECT_QUANTKV_IR_QUANTKVATTRS_TD
