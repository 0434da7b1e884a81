//===- JitModule.h - compile once, call many times --------------*- C++ -*-===//
//
// Part of the quantkv project, under the Apache License v2.0 with LLVM
// Exceptions.
//
//===----------------------------------------------------------------------===//
//
// The CPU execution engine every front end shares (quantkv-run, the benchmark,
// the C/C++/Python embedding API): a tensor-level module goes through a named
// pipeline to the LLVM dialect, is JIT-compiled once by MLIR's
// ExecutionEngine, and its functions are then called with memref descriptors.
//
// Calling convention: every public function gets `llvm.emit_c_interface`, and
// after the pipeline its tensor results are trailing out-params, so a call
// passes one descriptor per argument, inputs first, then outputs, in the
// storage ABI of quantkv/Conversion/Utils/StorageTypeConverter.h.
//
//===----------------------------------------------------------------------===//

#ifndef QUANTKV_RUNTIME_JITMODULE_H
#define QUANTKV_RUNTIME_JITMODULE_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"
#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/Error.h"

#include <functional>
#include <memory>
#include <mutex>
#include <string>

namespace mlir {
class ExecutionEngine;
class OpPassManager;
} // namespace mlir

namespace mlir::quantkv {

/// A strided memref descriptor built at run time, laid out as
/// StridedMemRefType<T, rank>: {allocated, aligned, offset, sizes, strides}.
class MemRefDescriptor {
public:
  /// Describes `data` with `sizes`; row-major when `strides` is empty.
  MemRefDescriptor(void *data, llvm::ArrayRef<int64_t> sizes,
                   llvm::ArrayRef<int64_t> strides = {});

  /// Address of the descriptor itself, as the C interface takes it.
  void *get() { return storage.data(); }
  int64_t getRank() const { return rank; }

private:
  int64_t rank;
  llvm::SmallVector<int64_t, 12> storage;
};

/// Options of the JIT compile.
struct JitOptions {
  /// LLVM optimization level (0 to 3) for the generated code.
  unsigned optLevel = 3;
  /// Shared libraries the generated code calls into (e.g. libomp).
  llvm::SmallVector<std::string> sharedLibPaths;
};

/// A module compiled to native code.
class JitModule {
public:
  using PipelineBuilder = std::function<void(OpPassManager &)>;

  ~JitModule();

  /// Marks every function for the C interface, runs `buildPipeline` (which
  /// must reach the LLVM dialect) on `module` in place and JIT-compiles it.
  static llvm::Expected<std::unique_ptr<JitModule>>
  compile(ModuleOp module, const PipelineBuilder &buildPipeline,
          const JitOptions &options = {});

  /// Same as above for a module that is already in the LLVM dialect.
  static llvm::Expected<std::unique_ptr<JitModule>>
  compileLLVMDialect(ModuleOp module, const JitOptions &options = {});

  /// Calls function `name` with one descriptor per memref argument.
  llvm::Error call(llvm::StringRef name,
                   llvm::MutableArrayRef<MemRefDescriptor> args);

  /// Calls function `name` with raw C-interface arguments: `args[i]` points at
  /// the i-th argument value (for a memref, at a pointer to its descriptor).
  llvm::Error callPacked(llvm::StringRef name,
                         llvm::MutableArrayRef<void *> args);

private:
  using PackedFunction = void (*)(void **);

  explicit JitModule(std::unique_ptr<ExecutionEngine> engine);
  /// The C-interface wrapper of `name`, looked up once: a symbol lookup
  /// walks the JIT session's tables, which a call made after other work
  /// (a decode step after the weight GEMVs) finds evicted from the caches.
  llvm::Expected<PackedFunction> getPackedFunction(llvm::StringRef name);

  std::unique_ptr<ExecutionEngine> engine;
  std::mutex entriesMutex;
  llvm::StringMap<PackedFunction> entries;
};

/// Adds `llvm.emit_c_interface` to every func.func with a body in `module`.
void markForCInterface(ModuleOp module);

} // namespace mlir::quantkv

#endif // QUANTKV_RUNTIME_JITMODULE_H
