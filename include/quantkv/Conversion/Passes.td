//===- Passes.td - quantkv conversion passes ---------------*- tablegen -*-===//
//
// Part of the quantkv project, under the Apache License v2.0 with LLVM
// Exceptions.
//
//===----------------------------------------------------------------------===//

#ifndef QUANTKV_CONVERSION_PASSES_TD
#define QUANTKV_CONVERSION_PASSES_TD

include "mlir/Pass/PassBase.td"

def QuantKVLowerToLinalgPass
    : Pass<"quantkv-lower-to-linalg", "::mlir::ModuleOp"> {
  let summary = "Lower quantkv ops to their reference linalg semantics";
  let description = [{
    Rewrites `quantkv.quantize`, `quantkv.dequantize`, `quantkv.typecast` and
    `quantkv.sdpa` into linalg/arith/math/tensor ops that state the dialect's
    semantics directly (slow, obviously right). Function signatures switch to
    the storage ABI: 4-bit tensors become `i8` tensors holding two elements per
    byte (element `2i` in the low nibble, an odd last dim padded to a whole
    byte) and `si8`/`ui8` become `i8`.
  }];
  let dependentDialects = [
    "::mlir::linalg::LinalgDialect",
    "::mlir::arith::ArithDialect",
    "::mlir::math::MathDialect",
    "::mlir::tensor::TensorDialect",
    "::mlir::func::FuncDialect",
  ];
}

def QuantKVLowerToX86Pass : Pass<"quantkv-lower-to-x86", "::mlir::ModuleOp"> {
  let summary = "Lower quantkv.sdpa to a tiled online-softmax x86 kernel";
  let description = [{
    Lowers `quantkv.sdpa` into a flash-attention style kernel on memrefs
    (scf/vector, x86vector and amx) that loads K/V tiles packed, unpacks them
    in registers and never materializes the dequantized cache; its extra
    memory is O(tile). Other quantkv ops go through the reference lowering.
    Function signatures use the same storage ABI as
    `--quantkv-lower-to-linalg`.

    The instructions the kernel calls follow the CPU's features (the host's,
    edited by `cpu-features`); choices that depend on the core follow `cpu`
    (the host by default): software prefetch in the decode loops and the
    bf16 prefill on `vdpbf16ps`, each overridable with `on` or `off`.
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::math::MathDialect",
    "::mlir::memref::MemRefDialect",
    "::mlir::scf::SCFDialect",
    "::mlir::vector::VectorDialect",
    "::mlir::tensor::TensorDialect",
    "::mlir::bufferization::BufferizationDialect",
    "::mlir::linalg::LinalgDialect",
    "::mlir::func::FuncDialect",
    "::mlir::x86vector::X86VectorDialect",
    "::mlir::amx::AMXDialect",
  ];
  let options = [
    Option<"kvTile", "kv-tile", "int64_t", /*default=*/"64",
           "Keys processed per online-softmax step">,
    Option<"enableAmx", "enable-amx", "bool", /*default=*/"false",
           "Also emit an AMX variant of each work item (Q.K scores on AMX "
           "tiles: bf16 math with a head dim that is a multiple of 32 via "
           "amx.tile_mulf, int8 math with per-token K scales and a head dim "
           "that is a multiple of 64 via amx.tile_muli), "
           "with its own target features, called instead of the AVX-512 one "
           "when quantkv_cpu_has_amx() reports usable AMX at run time "
           "(QUANTKV_DISABLE_AMX=1 forces AVX-512); other configurations get "
           "no AMX variant">,
    Option<"prefillMinQueryLen", "prefill-min-query-len", "int64_t",
           /*default=*/"16",
           "Query length from which the dedicated prefill kernel is used "
           "(0: never)">,
    Option<"prefillBf16Dot", "prefill-bf16-dot",
           "::mlir::quantkv::TuningSwitch",
           /*default=*/"::mlir::quantkv::TuningSwitch::Auto",
           "Prefill bf16 math on vdpbf16ps (pair layouts) instead of f32 "
           "FMAs on bf16-rounded values: a gain where vdpbf16ps issues at "
           "the FMA rate (Zen 4), a loss where it issues at a quarter of it "
           "(Sapphire Rapids); auto (the default) follows option cpu",
           [{::mlir::quantkv::tuningSwitchValues()}]>,
    Option<"softwarePrefetch", "software-prefetch",
           "::mlir::quantkv::TuningSwitch",
           /*default=*/"::mlir::quantkv::TuningSwitch::Auto",
           "Prefetch K/V rows and token-varying scales ahead of the decode "
           "tile loop: needed to stream at DRAM bandwidth on Sapphire Rapids, "
           "half the speed on Zen 4, whose hardware prefetchers stream alone; "
           "auto (the default) follows option cpu",
           [{::mlir::quantkv::tuningSwitchValues()}]>,
    Option<"cpu", "cpu", "std::string", /*default=*/"\"\"",
           "The x86 CPU the kernel is tuned for, in llc -mcpu names (e.g. "
           "\"sapphirerapids\", \"znver4\"; empty: the host, which the JIT "
           "compiles for). It decides software-prefetch=auto and "
           "prefill-bf16-dot=auto; the instructions follow the CPU features "
           "(option cpu-features)">,
    Option<"cpuFeatures", "cpu-features", "std::string", /*default=*/"\"\"",
           "Edits of the host's CPU features that decide which instructions "
           "the kernel calls, in llc -mattr syntax (e.g. "
           "\"-avx512vbmi,-gfni\"): the kernel then runs on a CPU with the "
           "resulting features">,
    Option<"targetParallelism", "target-parallelism", "int64_t",
           /*default=*/"0",
           "Work items the decomposition aims for: splits of the KV length "
           "(flash-decoding) make up for too few batch x head items "
           "(0: four per hardware thread of the host, which the JIT "
           "compiles for)">,
  ];
}

def QuantKVEmulateAmxPass : Pass<"quantkv-emulate-amx", "::mlir::ModuleOp"> {
  let summary = "Testing: run the AMX kernel variant without AMX";
  let description = [{
    Replaces every amx tile op by scalar loops over memref scratch with the
    instructions' semantics (tdpbf16ps: each f32 lane accumulates the two
    bf16 products of a pair; tdpbusd: four u8 x s8 products), and every call
    of `quantkv_cpu_has_amx` by 1, so that the AMX variant of the x86 kernel
    executes, slowly, on CPUs without AMX. It checks the variant's data
    layout and indexing against the reference; it says nothing about the
    AMX hardware itself. Run it after `quantkv-lower-to-x86`.
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::memref::MemRefDialect",
    "::mlir::scf::SCFDialect",
  ];
}

#endif // QUANTKV_CONVERSION_PASSES_TD
