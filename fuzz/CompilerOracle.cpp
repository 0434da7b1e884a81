//===- CompilerOracle.cpp - what the quantkv fuzz targets check -----------===//
//
// Part of the quantkv project, under the Apache License v2.0 with LLVM
// Exceptions.
//
//===----------------------------------------------------------------------===//

#include "CompilerOracle.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassInstrumentation.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Target/LLVMIR/Export.h"
#include "quantkv/Dialect/QuantKV/IR/QuantKVDialect.h"
#include "quantkv/Dialect/QuantKV/Transforms/Passes.h"
#include "quantkv/InitAllDialects.h"
#include "quantkv/InitAllPasses.h"
#include "quantkv/Pipelines/Pipelines.h"
#include "llvm/ADT/STLFunctionalExtras.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/IR/LLVMContext.h"
#include "llvm/IR/Module.h"
#include "llvm/Support/raw_ostream.h"

#include <cstdint>
#include <cstdlib>
#include <functional>
#include <string>

using namespace mlir;

namespace {

/// Full registry (every dialect, interface model and LLVM IR translation), as
/// in quantkv-opt, so the pipelines behave exactly as they do for users.
DialectRegistry *fullRegistry = nullptr;

/// What happened to the inputs, printed at exit when QUANTKV_FUZZ_STATS is
/// set: tells whether the fuzzer gets past the parser at all.
struct Stats {
  uint64_t inputs = 0, skipped = 0, valid = 0;
  uint64_t pipelineRuns[3] = {0, 0, 0}, pipelineSuccesses[3] = {0, 0, 0};
} stats;

/// QUANTKV_FUZZ_VERBOSE: print why each pipeline failed (to triage valid
/// inputs that a pipeline rejects).
bool verbose = false;

void printStats() {
  static const char *names[] = {"fuse", "reference", "cpu"};
  llvm::errs() << "quantkv-fuzz: " << stats.inputs << " inputs, "
               << stats.skipped << " skipped (known upstream bug), "
               << stats.valid << " valid";
  for (int i = 0; i < 3; ++i)
    llvm::errs() << ", " << names[i] << " " << stats.pipelineSuccesses[i]
                 << "/" << stats.pipelineRuns[i];
  llvm::errs() << " pipelines succeeded\n";
}

/// Reports a bug that is not a crash by itself and aborts, so that libFuzzer
/// records the input as a crashing one.
[[noreturn]] void reportBug(llvm::StringRef what, llvm::StringRef detail) {
  llvm::errs() << "quantkv-fuzz: BUG: " << what << "\n" << detail << "\n";
  llvm::errs().flush();
  std::abort();
}

/// Verifies the IR after every pass that reports success: a pass that
/// succeeds must leave valid IR. (A pass that fails has emitted a diagnostic,
/// which is an acceptable answer to odd input.)
struct VerifyAfterPass : public PassInstrumentation {
  void runAfterPass(Pass *pass, Operation *op) override {
    // Diagnostics of this verification are not swallowed by the handler of
    // the caller: collect them for the report.
    std::string messages;
    ScopedDiagnosticHandler collect(op->getContext(), [&](Diagnostic &diag) {
      messages += diag.str();
      messages += "\n";
      return success();
    });
    if (failed(verify(op)))
      reportBug(("pass '" + pass->getArgument() +
                 "' succeeded but left IR that does not verify")
                    .str(),
                messages);
  }
};

/// Drops what MLIR's lexer skips between tokens: not StringRef::ltrim()'s
/// set, which also drops '\f' and '\v' (invalid characters to the lexer),
/// but NULs in the middle of a buffer, which the lexer steps over.
llvm::StringRef skipLexerSpace(llvm::StringRef text) {
  return text.ltrim(llvm::StringRef(" \t\n\r\0", 5));
}

/// True when `text` starts with `[` elements separated by commas `]`, where
/// `consumeElement` drops one element from the front of its argument and
/// fails on anything else.
bool isPlainList(llvm::StringRef text,
                 llvm::function_ref<bool(llvm::StringRef &)> consumeElement) {
  if (!text.consume_front("["))
    return false;
  text = skipLexerSpace(text);
  if (text.consume_front("]"))
    return true;
  while (true) {
    if (!consumeElement(text))
      return false;
    text = skipLexerSpace(text);
    if (text.consume_front("]"))
      return true;
    if (!text.consume_front(","))
      return false;
    text = skipLexerSpace(text);
  }
}

/// A DenseI64ArrayAttr body that parses: `[` small decimal integers `]`.
bool isPlainI64List(llvm::StringRef text) {
  return isPlainList(text, [](llvm::StringRef &t) {
    t.consume_front("-");
    size_t digits = t.find_first_not_of("0123456789");
    if (digits == 0 || digits == llvm::StringRef::npos || digits > 18)
      return false;
    t = t.drop_front(digits);
    return true;
  });
}

/// `[` double-quoted strings without escapes `]`.
bool isPlainStringList(llvm::StringRef text) {
  return isPlainList(text, [](llvm::StringRef &t) {
    if (!t.consume_front("\""))
      return false;
    size_t end = t.find_first_of("\"\\\n");
    if (end == llvm::StringRef::npos || t[end] != '"')
      return false;
    t = t.drop_front(end + 1);
    return true;
  });
}

/// True when `source` may hit a crash of upstream MLIR 22 that no quantkv
/// code is involved in; such inputs are skipped. Every entry names the bug and
/// is listed in docs/Hardening.md; keep the list short and precise.
bool hitsKnownUpstreamCrash(llvm::StringRef source) {
  // linalg.transpose/broadcast/reduce parse `permutation = [..]` and
  // `dimensions = [..]` with DenseI64ArrayAttr::parse and store its result
  // unchecked: a list that does not parse dereferences a null attribute.
  for (llvm::StringRef keyword : {"permutation", "dimensions"}) {
    for (size_t pos = source.find(keyword); pos != llvm::StringRef::npos;
         pos = source.find(keyword, pos + 1)) {
      llvm::StringRef rest =
          skipLexerSpace(source.drop_front(pos + keyword.size()));
      if (rest.consume_front("=") && !isPlainI64List(skipLexerSpace(rest)))
        return true;
    }
  }
  // linalg.generic (and vector.contract) read `iterator_types = [..]`
  // through ArrayAttr::getAsValueRange<StringAttr>, an unchecked cast: an
  // element that is not a string is read as one (a garbage length).
  for (size_t pos = source.find("iterator_types"); pos != llvm::StringRef::npos;
       pos = source.find("iterator_types", pos + 1)) {
    llvm::StringRef rest = skipLexerSpace(source.drop_front(pos + 14));
    if (rest.consume_front("=") && skipLexerSpace(rest).starts_with("[") &&
        !isPlainStringList(skipLexerSpace(rest)))
      return true;
  }
  return false;
}

/// True when `module` verifies but holds IR that upstream MLIR 22 passes
/// turn into IR that does not verify, with no quantkv code involved; such
/// inputs are skipped after parsing. Listed in docs/Hardening.md.
bool hitsKnownUpstreamVerifierGap(ModuleOp module) {
  // tensor.expand_shape does not check a static `output_shape` entry against
  // its result type; one-shot-bufferize copies it into a memref.expand_shape,
  // whose verifier does ("invalid output shape provided at pos N").
  WalkResult walk = module.walk([](tensor::ExpandShapeOp op) {
    for (auto [given, dim] : llvm::zip_equal(op.getStaticOutputShape(),
                                             op.getResultType().getShape()))
      if (!ShapedType::isDynamic(given) && !ShapedType::isDynamic(dim) &&
          given != dim)
        return WalkResult::interrupt();
    return WalkResult::advance();
  });
  return walk.wasInterrupted();
}

/// Parses `source` into `context`; null when it is rejected.
OwningOpRef<ModuleOp> parse(llvm::StringRef source, MLIRContext &context) {
  ParserConfig config(&context, /*verifyAfterParse=*/true);
  return parseSourceString<ModuleOp>(source, config, "fuzz-input");
}

/// Runs one pipeline on a clone of `module`. Failure is fine; a successful
/// pipeline ending in the LLVM dialect is also translated to LLVM IR, which
/// is what the JIT would do next.
void runPipeline(int index, ModuleOp module,
                 const std::function<void(OpPassManager &)> &build,
                 bool translate) {
  ++stats.pipelineRuns[index];
  OwningOpRef<ModuleOp> clone = module.clone();
  PassManager pm(module.getContext());
  pm.enableVerifier(false); // VerifyAfterPass does it, and tells bugs apart.
  pm.addInstrumentation(std::make_unique<VerifyAfterPass>());
  build(pm);
  std::string messages;
  LogicalResult result = success();
  {
    ScopedDiagnosticHandler collect(module.getContext(), [&](Diagnostic &d) {
      if (verbose && messages.empty())
        messages = d.str();
      return success();
    });
    result = pm.run(*clone);
  }
  if (failed(result)) {
    if (verbose)
      llvm::errs() << "quantkv-fuzz: pipeline " << index << " failed: "
                   << messages << "\n";
    return;
  }
  if (translate) {
    llvm::LLVMContext llvmContext;
    if (!translateModuleToLLVMIR(*clone, llvmContext))
      return;
  }
  ++stats.pipelineSuccesses[index];
}

} // namespace

void quantkv_fuzz::initialize() {
  // The LLVM tail is spelled as a textual pipeline: its passes must be
  // registered by name.
  quantkv::registerAllPasses();
  fullRegistry = new DialectRegistry();
  quantkv::registerAllDialects(*fullRegistry);
  verbose = std::getenv("QUANTKV_FUZZ_VERBOSE") != nullptr;
  if (std::getenv("QUANTKV_FUZZ_STATS"))
    std::atexit(printStats);
}

void quantkv_fuzz::checkSource(llvm::StringRef bytes) {
  // MLIR's lexer reads up to the NUL that ends every buffer read from a file
  // (MemoryBuffer::getFile guarantees it); libFuzzer's buffer has none, so
  // give the input one, as quantkv-opt would.
  std::string input = bytes.str();
  llvm::StringRef source(input);
  ++stats.inputs;
  if (hitsKnownUpstreamCrash(source)) {
    ++stats.skipped;
    return;
  }

  // 1. Parse and verify with only the dialects users write registered.
  DialectRegistry userDialects;
  userDialects.insert<arith::ArithDialect, func::FuncDialect,
                      linalg::LinalgDialect, math::MathDialect,
                      tensor::TensorDialect, quantkv::QuantKVDialect>();
  std::string printed;
  {
    MLIRContext context(userDialects, MLIRContext::Threading::DISABLED);
    ScopedDiagnosticHandler quiet(&context, [](Diagnostic &) {
      return success();
    });
    OwningOpRef<ModuleOp> module = parse(source, context);
    if (!module)
      return;
    if (hitsKnownUpstreamVerifierGap(*module)) {
      ++stats.skipped;
      return;
    }
    llvm::raw_string_ostream os(printed);
    module->print(os);
    ++stats.valid;
  }

  // 2. The printed form of valid IR parses back to valid IR.
  {
    MLIRContext context(userDialects, MLIRContext::Threading::DISABLED);
    std::string messages;
    ScopedDiagnosticHandler collect(&context, [&](Diagnostic &diag) {
      messages += diag.str();
      messages += "\n";
      return success();
    });
    if (!parse(printed, context))
      reportBug("the printed form of valid IR does not parse back",
                messages + "--- printed form:\n" + printed);
  }

  // 3. Fuse, and both pipelines down to LLVM IR, in a context that has what
  //    quantkv-opt and the JIT have.
  MLIRContext context(*fullRegistry, MLIRContext::Threading::DISABLED);
  ScopedDiagnosticHandler quiet(&context, [](Diagnostic &) {
    return success();
  });
  OwningOpRef<ModuleOp> module = parse(source, context);
  if (!module)
    reportBug("input valid with the user dialects is rejected by the full "
              "registry",
              source);
  runPipeline(
      0, *module,
      [](OpPassManager &pm) { pm.addPass(quantkv::createQuantKVFuseSdpaPass()); },
      /*translate=*/false);
  runPipeline(1, *module, quantkv::buildReferencePipeline, /*translate=*/true);
  runPipeline(
      2, *module, [](OpPassManager &pm) { quantkv::buildCpuPipeline(pm); },
      /*translate=*/true);
}
