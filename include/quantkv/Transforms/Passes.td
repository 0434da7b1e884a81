//===- Passes.td - quantkv passes on upstream IR -----------*- tablegen -*-===//
//
// Part of the quantkv project, under the Apache License v2.0 with LLVM
// Exceptions.
//
//===----------------------------------------------------------------------===//

#ifndef QUANTKV_TRANSFORMS_PASSES_TD
#define QUANTKV_TRANSFORMS_PASSES_TD

include "mlir/Pass/PassBase.td"

def QuantKVDistinctResultBuffersPass
    : Pass<"quantkv-distinct-result-buffers", "::mlir::func::FuncOp"> {
  let summary = "Give every returned allocation of a function its own buffer";
  let description = [{
    A `func.return` that returns the same statically shaped allocation more
    than once (`return %a, %a`) returns, for each repetition, a copy of it in
    a new allocation of the same type, made just before the return.

    The CPU pipelines run `buffer-results-to-out-params` with
    `hoist-static-allocs`, which replaces a returned allocation by its
    out-param and erases it once per result: MLIR 22 erases a repeated
    allocation at its first result and reads it again at the next
    (use-after-free, a crash on any function returning one tensor twice).
    With distinct buffers every result hoists into its own out-param and the
    copy fills the second out-param from the first. Other repeated results
    (arguments, views, dynamic shapes) are copied into their out-params by
    that pass already and are left alone.
  }];
  let dependentDialects = ["::mlir::memref::MemRefDialect"];
}

#endif // QUANTKV_TRANSFORMS_PASSES_TD
