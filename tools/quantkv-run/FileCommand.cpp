//===- FileCommand.cpp - quantkv-run FILE.mlir ----------------------------===//
//
// Part of the quantkv project, under the Apache License v2.0 with LLVM
// Exceptions.
//
//===----------------------------------------------------------------------===//
//
// Runs one function of a module on seeded random inputs derived only from its
// argument types and the seed, so that the same function run after different
// pass pipelines sees the same inputs (the differential tests of the fusion
// pass rely on this: `--pipeline quantkv-fuse-sdpa --against ""`).
//
//===----------------------------------------------------------------------===//

#include "Commands.h"

#include "quantkv/Dialect/QuantKV/IR/QuantKVAttrs.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Parser/Parser.h"
#include "llvm/Support/MemoryBuffer.h"

#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <iostream>

using namespace mlir;
using namespace quantkv_run;

namespace {
/// One argument or result of the entry function as the host holds it.
struct Slot {
  /// A tensor (in the storage ABI) or a scalar (`isScalar`).
  bool isScalar = false;
  HostTensor tensor;
  /// Scalars: their bytes (up to 8), of `scalarKind` / `scalarWidth`.
  uint64_t scalarBits = 0;
  bool scalarIsFloat = false;
  unsigned scalarWidth = 0;
  std::string typeText;
};
} // namespace

/// The HostTensor kind of a tensor element type, if the tool supports it.
static std::optional<ElementKind> kindOf(Type type) {
  if (type.isF32())
    return ElementKind::f32;
  if (type.isF16())
    return ElementKind::f16;
  if (type.isBF16())
    return ElementKind::bf16;
  auto intType = dyn_cast<IntegerType>(type);
  if (!intType)
    return std::nullopt;
  bool isUnsigned = intType.isUnsigned();
  switch (intType.getWidth()) {
  case 4:
    return isUnsigned ? ElementKind::u4 : ElementKind::s4;
  case 8:
    return isUnsigned ? ElementKind::u8 : ElementKind::s8;
  case 32:
    return isUnsigned ? std::nullopt : std::optional(ElementKind::s32);
  default:
    return std::nullopt;
  }
}

/// Describes `type` as a slot, or returns an error.
static std::string makeSlot(Type type, Slot &slot) {
  slot.typeText = quantkv::typeToString(type);
  if (auto tensorType = dyn_cast<RankedTensorType>(type)) {
    if (!tensorType.hasStaticShape())
      return "dynamic shapes are not supported (" + slot.typeText + ")";
    std::optional<ElementKind> kind = kindOf(tensorType.getElementType());
    if (!kind)
      return "unsupported element type in " + slot.typeText +
             " (supported: f32, f16, bf16, i4/si4/ui4, i8/si8/ui8, i32/si32)";
    std::vector<int64_t> shape(tensorType.getShape().begin(),
                               tensorType.getShape().end());
    double count = 1;
    for (int64_t d : shape)
      count *= static_cast<double>(d);
    if (count > static_cast<double>(int64_t(1) << 28))
      return "tensor too large for quantkv-run (" + slot.typeText +
             ", more than 2^28 elements)";
    if (shape.empty() && isPacked4Bit(*kind))
      return "rank-0 4-bit tensors are not supported";
    slot.tensor = HostTensor(*kind, shape);
    return "";
  }
  slot.isScalar = true;
  if (type.isF32() || type.isF64()) {
    slot.scalarIsFloat = true;
    slot.scalarWidth = type.getIntOrFloatBitWidth();
    return "";
  }
  if (auto intType = dyn_cast<IntegerType>(type);
      intType && (intType.getWidth() == 32 || intType.getWidth() == 64)) {
    slot.scalarWidth = intType.getWidth();
    return "";
  }
  if (type.isIndex()) {
    slot.scalarWidth = 64;
    return "";
  }
  return "unsupported type " + slot.typeText +
         " (tensors of static shape, f32/f64/i32/i64/index scalars)";
}

/// Fills an input slot from `rng`: integers uniform over their range, floats
/// uniform in [-1, 1).
static void randomize(Slot &slot, Random &rng) {
  if (slot.isScalar) {
    if (slot.scalarIsFloat) {
      double v = rng.uniform(-1.0, 1.0);
      if (slot.scalarWidth == 32) {
        float f = static_cast<float>(v);
        std::memcpy(&slot.scalarBits, &f, 4);
      } else {
        std::memcpy(&slot.scalarBits, &v, 8);
      }
    } else if (slot.scalarWidth == 32) {
      int32_t v = static_cast<int32_t>(rng.uniformInt(INT32_MIN, INT32_MAX));
      std::memcpy(&slot.scalarBits, &v, 4);
    } else {
      slot.scalarBits = rng.next();
    }
    return;
  }
  HostTensor &t = slot.tensor;
  for (int64_t i = 0, e = t.size(); i < e; ++i) {
    if (isInteger(t.kind)) {
      auto [lo, hi] = integerRange(t.kind);
      t.setInt(i, rng.uniformInt(lo, hi));
    } else {
      t.set(i, rng.uniform(-1.0, 1.0));
    }
  }
}

/// Values of an output slot as doubles.
static std::vector<double> values(const Slot &slot) {
  std::vector<double> v(slot.tensor.size());
  for (int64_t i = 0, e = slot.tensor.size(); i < e; ++i)
    v[i] = slot.tensor.get(i);
  return v;
}

static void printValue(double v, bool isInt) {
  if (isInt)
    std::printf("%" PRId64, static_cast<int64_t>(v));
  else
    std::printf("%.6g", v);
}

/// Prints a tensor, every value when small, else a summary.
static void printTensor(const char *what, size_t index, const Slot &slot) {
  if (slot.isScalar) {
    std::printf("%s %zu: %s (scalar)\n", what, index, slot.typeText.c_str());
    return;
  }
  std::vector<double> v = values(slot);
  bool isInt = isInteger(slot.tensor.kind);
  std::printf("%s %zu: %s\n  [", what, index, slot.typeText.c_str());
  const size_t kAll = 64, kHead = 8, kTail = 4;
  for (size_t i = 0; i < v.size(); ++i) {
    if (v.size() > kAll && i == kHead) {
      std::printf(", ...");
      i = v.size() - kTail - 1;
      continue;
    }
    if (i)
      std::printf(", ");
    printValue(v[i], isInt);
  }
  std::printf("]\n");
  if (v.size() > kAll) {
    double lo = INFINITY, hi = -INFINITY, sum = 0;
    for (double x : v) {
      lo = std::min(lo, x);
      hi = std::max(hi, x);
      sum += x;
    }
    std::printf("  (%zu elements: min %.6g, max %.6g, mean %.6g)\n", v.size(),
                lo, hi, sum / v.size());
  }
}

/// Compiles `text` with `passes` + the reference pipeline, runs `entry` on
/// copies of `inputs` and fills `outputs`.
static std::string compileAndRun(MLIRContext &ctx, const std::string &text,
                                 const std::string &name,
                                 const std::string &passes, unsigned optLevel,
                                 const std::string &entry,
                                 const std::vector<Slot> &inputs,
                                 std::vector<Slot> &outputs) {
  std::unique_ptr<quantkv::JitModule> jit;
  double ms = 0;
  if (std::string err = compileText(ctx, text, name, Target::Reference, passes,
                                    optLevel, jit, ms);
      !err.empty())
    return err;
  // The function may write into its argument buffers: run on copies.
  std::vector<Slot> in = inputs;
  std::vector<quantkv::MemRefDescriptor> descriptors;
  descriptors.reserve(in.size() + outputs.size());
  std::vector<void *> pointers, slots;
  pointers.reserve(in.size() + outputs.size());
  for (Slot *s : [&] {
         std::vector<Slot *> all;
         for (Slot &x : in)
           all.push_back(&x);
         for (Slot &x : outputs)
           all.push_back(&x);
         return all;
       }()) {
    if (s->isScalar) {
      slots.push_back(&s->scalarBits);
      continue;
    }
    descriptors.emplace_back(s->tensor.bytes.data(),
                             s->tensor.getStorageShape());
    pointers.push_back(descriptors.back().get());
    slots.push_back(&pointers.back());
  }
  if (llvm::Error err = jit->callPacked(entry, slots))
    return "running @" + entry + " failed: " + llvm::toString(std::move(err));
  return "";
}

int quantkv_run::runFileCommand(const std::string &file,
                                const std::vector<std::string> &argv) {
  Args args(
      argv,
      {"entry", "pipeline", "against", "seed", "rtol", "atol", "opt-level"},
      {"print-inputs"});
  std::string passes = args.getString("pipeline", "");
  uint64_t seed = static_cast<uint64_t>(args.getInt("seed", 1, 0));
  Tolerance tol{args.getDouble("atol", 1e-4), args.getDouble("rtol", 1e-4)};
  unsigned optLevel = static_cast<unsigned>(args.getInt("opt-level", 2, 0));
  if (optLevel > 3)
    args.fail("--opt-level must be 0 to 3");
  if (!args.positional().empty())
    args.fail("unexpected argument '" + args.positional().front() + "'");
  if (!args.error().empty())
    return usageError(args.error());

  auto buffer = llvm::MemoryBuffer::getFileOrSTDIN(file);
  if (!buffer)
    return usageError("cannot read '" + file +
                      "': " + buffer.getError().message());
  std::string text = (*buffer)->getBuffer().str();

  // Read the entry's signature from the module as written.
  std::unique_ptr<MLIRContext> ctx = createContext();
  std::string diagnostics;
  OwningOpRef<ModuleOp> module;
  {
    llvm::raw_string_ostream os(diagnostics);
    ScopedDiagnosticHandler handler(ctx.get(), [&](Diagnostic &d) {
      os << d.getLocation() << ": " << d;
      return success();
    });
    module = parseSourceString<ModuleOp>(text, ParserConfig(ctx.get()), file);
  }
  if (!module)
    return usageError("cannot parse " + file + ": " + diagnostics);
  std::string entry = args.getString("entry", "");
  func::FuncOp func;
  if (entry.empty()) {
    for (auto f : module->getOps<func::FuncOp>())
      if (!f.isExternal() && f.isPublic()) {
        if (func)
          return usageError("several functions in " + file +
                            ": choose one with --entry");
        func = f;
      }
    if (!func)
      return usageError("no public function with a body in " + file);
    entry = func.getSymName().str();
  } else {
    func = module->lookupSymbol<func::FuncOp>(entry);
    if (!func || func.isExternal())
      return usageError("no function @" + entry + " with a body in " + file);
  }

  std::vector<Slot> inputs(func.getNumArguments());
  std::vector<Slot> outputs(func.getNumResults());
  for (auto [i, type] : llvm::enumerate(func.getArgumentTypes()))
    if (std::string err = makeSlot(type, inputs[i]); !err.empty())
      return usageError("@" + entry + " argument #" + std::to_string(i) + ": " +
                        err);
  for (auto [i, type] : llvm::enumerate(func.getResultTypes())) {
    if (std::string err = makeSlot(type, outputs[i]); !err.empty())
      return usageError("@" + entry + " result #" + std::to_string(i) + ": " +
                        err);
    if (outputs[i].isScalar)
      return usageError("@" + entry + " result #" + std::to_string(i) +
                        ": scalar results are not supported (" +
                        outputs[i].typeText + ")");
  }
  module = nullptr;

  Random rng(seed);
  for (Slot &s : inputs)
    randomize(s, rng);

  std::vector<Slot> first = outputs;
  if (std::string err = compileAndRun(*ctx, text, file, passes, optLevel, entry,
                                      inputs, first);
      !err.empty())
    return usageError(err);
  if (args.has("print-inputs"))
    for (size_t i = 0; i < inputs.size(); ++i)
      printTensor("input", i, inputs[i]);
  for (size_t i = 0; i < first.size(); ++i)
    printTensor("output", i, first[i]);
  if (first.empty())
    std::printf("@%s has no outputs\n", entry.c_str());

  std::optional<std::string> against = args.get("against");
  if (!against)
    return kExitOk;
  std::vector<Slot> second = outputs;
  if (std::string err = compileAndRun(*ctx, text, file, *against, optLevel,
                                      entry, inputs, second);
      !err.empty())
    return usageError(err);
  bool allPassed = true;
  for (size_t i = 0; i < first.size(); ++i) {
    ErrorStats s =
        compareWithReference(values(first[i]), values(second[i]), tol);
    allPassed &= s.passed();
    std::printf("compare output %zu (--pipeline '%s' vs --against '%s'): "
                "max_abs_err %.3g, max_rel_err %.3g, tolerance %g + %g * |b|: "
                "%s\n",
                i, passes.c_str(), against->c_str(), s.maxAbsError,
                s.maxRelError, tol.atol, tol.rtol,
                s.passed() ? "PASS" : "FAIL");
  }
  std::printf("%s\n", allPassed ? "outputs match" : "outputs differ");
  return allPassed ? kExitOk : kExitCheckFailed;
}
