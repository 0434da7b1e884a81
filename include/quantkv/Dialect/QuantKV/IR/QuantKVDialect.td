//===- QuantKVDialect.td - quantkv dialect definition ------*- tablegen -*-===//
//
// Part of the quantkv project, under the Apache License v2.0 with LLVM
// Exceptions.
//
//===----------------------------------------------------------------------===//

#ifndef QUANTKV_DIALECT_QUANTKV_IR_QUANTKVDIALECT_TD
#define QUANTKV_DIALECT_QUANTKV_IR_QUANTKVDIALECT_TD

include "mlir/IR/OpBase.td"

def QuantKV_Dialect : Dialect {
  let name = "quantkv";
  let cppNamespace = "::mlir::quantkv";
  let summary = "Attention over compressed (int4/int8) key/value caches.";
  let description = [{
    The `quantkv` dialect models the compressed K/V-cache attention of LLM
    inference as proposed in oneDNN's "int4/int8 compression for K/V in fused
    SDPA" RFC, extended with its review: s4/u4/s8/u8 storage, per-tensor,
    per-channel and n-d per-group scales with optional zero points (a scale
    dimension of 1 broadcasts, e.g. over the batch), dynamic quantize and
    dequantize, a floating-point typecast, and one fused `quantkv.sdpa`
    operation that consumes the compressed cache directly.

    Integer storage uses the builtin signed/unsigned integer types (`si4`,
    `ui4`, `si8`, `ui8`) so that the signedness, which changes the
    dequantization, is part of the type. At function boundaries 4-bit tensors
    are stored two elements per byte (element `2i` in the low nibble), see
    `docs/Rationale.md`.
  }];
  let useDefaultAttributePrinterParser = 1;
  let extraClassDeclaration = [{
    void registerAttributes();
  }];
}

class QuantKV_Op<string mnemonic, list<Trait> traits = []>
    : Op<QuantKV_Dialect, mnemonic, traits>;

#endif // QUANTKV_DIALECT_QUANTKV_IR_QUANTKVDIALECT_TD
