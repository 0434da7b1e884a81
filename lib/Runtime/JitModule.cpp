//===- JitModule.cpp - compile once, call many times ----------------------===//
//
// Part of the quantkv project, under the Apache License v2.0 with LLVM
// Exceptions.
//
//===----------------------------------------------------------------------===//

#include "quantkv/Runtime/JitModule.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/ExecutionEngine/ExecutionEngine.h"
#include "mlir/ExecutionEngine/OptUtils.h"
#include "mlir/IR/Builders.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Target/LLVMIR/Dialect/All.h"
#include "quantkv/Runtime/CpuFeatures.h"
#include "llvm/ExecutionEngine/Orc/JITTargetMachineBuilder.h"
#include "llvm/Support/TargetSelect.h"

#include <algorithm>
#include <mutex>

using namespace mlir;
using namespace mlir::quantkv;

MemRefDescriptor::MemRefDescriptor(void *data, ArrayRef<int64_t> sizes,
                                   ArrayRef<int64_t> strides)
    : rank(sizes.size()) {
  auto ptr = static_cast<int64_t>(reinterpret_cast<intptr_t>(data));
  storage.push_back(ptr); // allocated
  storage.push_back(ptr); // aligned
  storage.push_back(0);   // offset
  storage.append(sizes.begin(), sizes.end());
  if (!strides.empty()) {
    storage.append(strides.begin(), strides.end());
    return;
  }
  SmallVector<int64_t> rowMajor(rank, 1);
  for (int64_t i = rank - 2; i >= 0; --i)
    rowMajor[i] = rowMajor[i + 1] * sizes[i + 1];
  storage.append(rowMajor.begin(), rowMajor.end());
}

JitModule::JitModule(std::unique_ptr<ExecutionEngine> engine)
    : engine(std::move(engine)) {}

JitModule::~JitModule() = default;

void mlir::quantkv::markForCInterface(ModuleOp module) {
  UnitAttr unit = UnitAttr::get(module.getContext());
  module.walk([&](func::FuncOp func) {
    if (!func.isExternal())
      func->setAttr(LLVM::LLVMDialect::getEmitCWrapperAttrName(), unit);
  });
}

static void initializeNativeTarget() {
  static std::once_flag once;
  std::call_once(once, [] {
    llvm::InitializeNativeTarget();
    llvm::InitializeNativeTargetAsmPrinter();
  });
}

llvm::Expected<std::unique_ptr<JitModule>>
JitModule::compile(ModuleOp module, const PipelineBuilder &buildPipeline,
                   const JitOptions &options) {
  markForCInterface(module);
  PassManager pm(module.getContext());
  buildPipeline(pm);
  std::string diagnostics;
  {
    // Route pass failures into the returned error rather than stderr, so
    // that library users see one message they can act on.
    llvm::raw_string_ostream os(diagnostics);
    ScopedDiagnosticHandler handler(module.getContext(), [&](Diagnostic &d) {
      os << d.getLocation() << ": " << d << "\n";
      for (Diagnostic &note : d.getNotes())
        os << "  note: " << note << "\n";
      return success();
    });
    if (failed(pm.run(module)))
      return llvm::createStringError(
          "quantkv: lowering to the LLVM dialect failed:\n" + diagnostics);
  }
  return compileLLVMDialect(module, options);
}

llvm::Expected<std::unique_ptr<JitModule>>
JitModule::compileLLVMDialect(ModuleOp module, const JitOptions &options) {
  initializeNativeTarget();
  DialectRegistry registry;
  registerAllToLLVMIRTranslations(registry);
  module.getContext()->appendDialectRegistry(registry);

  auto tmBuilder = llvm::orc::JITTargetMachineBuilder::detectHost();
  if (!tmBuilder)
    return tmBuilder.takeError();
  // Map the IR optimization level onto the code generator's one-to-one: an
  // -O0 compile (e.g. many small test configurations) must not pay for the
  // default code generator optimizations.
  static constexpr llvm::CodeGenOptLevel kCodeGenLevels[] = {
      llvm::CodeGenOptLevel::None, llvm::CodeGenOptLevel::Less,
      llvm::CodeGenOptLevel::Default, llvm::CodeGenOptLevel::Aggressive};
  tmBuilder->setCodeGenOptLevel(kCodeGenLevels[std::min(options.optLevel, 3u)]);
  auto tm = tmBuilder->createTargetMachine();
  if (!tm)
    return tm.takeError();

  SmallVector<StringRef> libs(options.sharedLibPaths.begin(),
                              options.sharedLibPaths.end());
  ExecutionEngineOptions engineOptions;
  // `transformer` is a function_ref: the callable must outlive create().
  std::function<llvm::Error(llvm::Module *)> transformer =
      makeOptimizingTransformer(options.optLevel, /*sizeLevel=*/0, tm->get());
  engineOptions.transformer = transformer;
  engineOptions.sharedLibPaths = libs;
  auto engine = ExecutionEngine::create(module, engineOptions, std::move(*tm));
  if (!engine)
    return engine.takeError();
  // Run-time queries the generated code calls (kernel variant dispatch).
  // Registered explicitly: an executable does not export its symbols to the
  // process lookup the engine falls back on.
  (*engine)->registerSymbols([](llvm::orc::MangleAndInterner interner) {
    llvm::orc::SymbolMap symbols;
    symbols[interner(kCpuHasAmxSymbol)] = {
        llvm::orc::ExecutorAddr::fromPtr(&quantkv_cpu_has_amx),
        llvm::JITSymbolFlags::Exported};
    return symbols;
  });
  return std::unique_ptr<JitModule>(new JitModule(std::move(*engine)));
}

llvm::Expected<JitModule::PackedFunction>
JitModule::getPackedFunction(StringRef name) {
  std::lock_guard<std::mutex> lock(entriesMutex);
  auto it = entries.find(name);
  if (it != entries.end())
    return it->second;
  // What invokePacked does before each call: run the module's global
  // constructors, once.
  engine->initialize();
  auto entry = engine->lookupPacked(("_mlir_ciface_" + name).str());
  if (!entry) {
    llvm::consumeError(entry.takeError());
    return llvm::createStringError("quantkv: no function '" + name.str() +
                                   "' with a C interface in the module");
  }
  entries[name] = *entry;
  return *entry;
}

llvm::Error JitModule::callPacked(StringRef name,
                                  MutableArrayRef<void *> args) {
  auto function = getPackedFunction(name);
  if (!function)
    return function.takeError();
  (*function)(args.data());
  return llvm::Error::success();
}

llvm::Error JitModule::call(StringRef name,
                            MutableArrayRef<MemRefDescriptor> args) {
  SmallVector<void *> pointers(args.size());
  SmallVector<void *> slots(args.size());
  for (auto [i, arg] : llvm::enumerate(args)) {
    pointers[i] = arg.get();
    slots[i] = &pointers[i];
  }
  return callPacked(name, slots);
}
