//===- SdpaCommand.cpp - quantkv-run sdpa ---------------------------------===//
//
// Part of the quantkv project, under the Apache License v2.0 with LLVM
// Exceptions.
//
//===----------------------------------------------------------------------===//

#include "Commands.h"

#include "quantkv/Runtime/CpuFeatures.h"
#include "quantkv/Testing/Npy.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"

#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>

using namespace quantkv_run;

std::set<std::string> quantkv_run::sdpaFlags() {
  std::set<std::string> flags = sdpaConfigFlags();
  flags.insert({"repeat", "target", "dump", "opt-level"});
  return flags;
}

std::set<std::string> quantkv_run::sdpaSwitches() {
  std::set<std::string> switches = sdpaConfigSwitches();
  switches.insert(
      {"check", "json", "help", "print-mlir", "amx", "emulate-amx"});
  return switches;
}

Target quantkv_run::parseTarget(Args &args) {
  std::string target = args.getString("target", "reference");
  if (target == "reference")
    return Target::Reference;
  if (target == "cpu")
    return Target::Cpu;
  if (target == "spirv")
    return Target::Spirv;
  args.fail("unknown --target '" + target +
            "' (expected reference, cpu or spirv)");
  return Target::Reference;
}

/// "[1, 2, 3]".
static std::string jsonShape(const std::vector<int64_t> &shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i)
    s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

static std::string jsonNumber(double v) {
  if (std::isnan(v))
    return "NaN";
  if (std::isinf(v))
    return v > 0 ? "Infinity" : "-Infinity";
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.6g", v);
  return buf;
}

static std::string schemeJson(const QuantScheme &s) {
  std::ostringstream os;
  os << "{\"type\": \"" << toString(s.type) << "\"";
  if (s.isQuantized()) {
    os << ", \"granularity\": \"" << toString(s.granularity) << "\"";
    if (s.granularity == GranularityKind::PerChannel)
      os << ", \"axis\": " << s.axis;
    if (s.granularity == GranularityKind::PerGroup)
      os << ", \"group_shape\": "
         << jsonShape({s.groupShape.begin(), s.groupShape.end()});
    os << ", \"zero_point\": "
       << (s.hasZeroPoint
               ? std::string("\"") + toString(s.getZeroPointType()) + "\""
               : std::string("null"));
    os << ", \"scale_type\": \"f32\"";
  }
  return os.str() + "}";
}

static const char *targetName(Target t) {
  return t == Target::Cpu ? "cpu" : t == Target::Spirv ? "spirv" : "reference";
}

/// Writes every input, the output (and the reference) as .npy plus a
/// manifest.json describing them.
static std::string dumpRun(const std::string &dir, const SdpaConfig &config,
                           const SdpaData &data, const SdpaRunResult &result,
                           Target target) {
  if (std::error_code ec = llvm::sys::fs::create_directories(dir))
    return "cannot create --dump directory '" + dir + "': " + ec.message();
  std::ostringstream files;
  auto add = [&](const std::string &name, const std::string &err,
                 const char *dtype, const std::string &logical,
                 const std::vector<int64_t> &shape,
                 const std::vector<int64_t> &storage, bool packed) {
    if (!files.str().empty())
      files << ",\n    ";
    files << "{\"name\": \"" << name << "\", \"file\": \"" << name
          << ".npy\", \"dtype\": \"" << dtype << "\", \"element_type\": \""
          << logical << "\", \"shape\": " << jsonShape(shape)
          << ", \"storage_shape\": " << jsonShape(storage)
          << ", \"packed_4bit\": " << (packed ? "true" : "false") << "}";
    return err;
  };
  std::vector<std::string> names = data.inputNames();
  std::vector<const HostTensor *> tensors = data.inputs();
  for (size_t i = 0; i < tensors.size(); ++i) {
    const HostTensor &t = *tensors[i];
    std::string err = writeNpy(
        llvm::Twine(dir).concat("/").concat(names[i]).concat(".npy").str(), t);
    if (!err.empty())
      return err;
    add(names[i], err, npyDescr(t.kind), toString(t.kind), t.shape,
        t.getStorageShape(), isPacked4Bit(t.kind));
  }
  HostTensor out(ElementKind::f32, config.outputShape());
  for (size_t i = 0; i < result.output.size(); ++i)
    out.set(i, result.output[i]);
  if (std::string err = writeNpy(dir + "/out.npy", out); !err.empty())
    return err;
  add("out", "", "<f4", "f32", out.shape, out.shape, false);
  if (!result.reference.empty()) {
    if (std::string err =
            writeNpy(dir + "/ref.npy", result.reference, config.outputShape());
        !err.empty())
      return err;
    add("ref", "", "<f8", "f64", config.outputShape(), config.outputShape(),
        false);
  }
  std::ofstream manifest(dir + "/manifest.json");
  if (!manifest)
    return "cannot write '" + dir + "/manifest.json'";
  manifest << "{\n  \"config\": " << jsonString(config.describe()) << ",\n"
           << "  \"abi\": \"4-bit data packed two per byte along the last dim,"
              " element 2i in the low nibble\",\n"
           << "  \"shapes\": {\"batch\": " << config.batch
           << ", \"q_heads\": " << config.qHeads
           << ", \"kv_heads\": " << config.kvHeads
           << ", \"q_len\": " << config.qLen << ", \"kv_len\": " << config.kvLen
           << ", \"head_dim\": " << config.headDim
           << ", \"value_head_dim\": " << config.getValueHeadDim() << "},\n"
           << "  \"scheme\": {\"k\": " << schemeJson(config.key)
           << ", \"v\": " << schemeJson(config.value) << "},\n"
           << "  \"options\": {\"mask\": \"" << toString(config.mask)
           << "\", \"causal_align\": \"" << toString(config.causalAlign)
           << "\", \"math\": \"" << toString(config.math)
           << "\", \"k_layout\": \"" << toString(config.kLayout)
           << "\", \"scale\": " << jsonNumber(config.getScale())
           << ", \"seed\": " << config.seed << ", \"target\": \""
           << targetName(target) << "\"},\n"
           << "  \"files\": [\n    " << files.str() << "\n  ]\n}\n";
  return manifest ? "" : "error writing manifest.json";
}

int quantkv_run::runSdpaCommand(const std::vector<std::string> &argv) {
  Args args(argv, sdpaFlags(), sdpaSwitches());
  SdpaConfig config = parseSdpaConfig(args);
  Target target = parseTarget(args);
  SdpaRunOptions options;
  options.target = target;
  options.check = args.has("check");
  options.emulateAmx = args.has("emulate-amx");
  options.amx = args.has("amx") || options.emulateAmx;
  if (options.amx && target != Target::Cpu)
    args.fail("--amx and --emulate-amx need --target cpu");
  options.repeat = args.getInt("repeat", 1, 1);
  options.optLevel = static_cast<unsigned>(args.getInt("opt-level", 2, 0));
  if (options.optLevel > 3)
    args.fail("--opt-level must be 0 to 3");
  if (!args.positional().empty())
    args.fail("unexpected argument '" + args.positional().front() + "'");
  if (!args.error().empty())
    return usageError(args.error());
  if (std::string err = config.verify(); !err.empty())
    return usageError(err);

  if (args.has("print-mlir")) {
    std::cout << emitSdpaModule(config);
    return kExitOk;
  }

  SdpaData data = generateSdpaData(config);
  std::unique_ptr<mlir::MLIRContext> ctx = createContext();
  SdpaRunResult result = runSdpa(*ctx, config, data, options);
  if (!result.error.empty())
    return usageError(result.error);

  if (std::optional<std::string> dir = args.get("dump"))
    if (std::string err = dumpRun(*dir, config, data, result, target);
        !err.empty())
      return usageError(err);

  const ErrorStats &s = result.stats;
  if (args.has("json")) {
    std::cout << "{\"config\": " << jsonString(config.describe())
              << ", \"target\": \"" << targetName(target)
              << "\", \"compile_ms\": " << jsonNumber(result.compileMs)
              << ", \"run_ms\": " << jsonNumber(result.runMs)
              << ", \"repeat\": " << options.repeat;
    if (options.check)
      std::cout << ", \"max_abs_err\": " << jsonNumber(s.maxAbsError)
                << ", \"max_rel_err\": " << jsonNumber(s.maxRelError)
                << ", \"atol\": " << jsonNumber(result.tolerance.atol)
                << ", \"rtol\": " << jsonNumber(result.tolerance.rtol)
                << ", \"bad_elements\": " << s.numBad
                << ", \"passed\": " << (s.passed() ? "true" : "false");
    std::cout << "}" << std::endl;
  } else {
    std::printf("sdpa %s target=%s\n", config.describe().c_str(),
                targetName(target));
    if (target == Target::Cpu)
      // The variant the kernel's run-time dispatch takes: the same query
      // (quantkv_cpu_has_amx) the compiled code calls.
      std::printf("x86 variant: %s (amx variant %s)\n",
                  !result.amxCompiled          ? "avx512"
                  : options.emulateAmx         ? "amx-emulated"
                  : quantkv_cpu_has_amx() != 0 ? "amx"
                                               : "avx512",
                  result.amxCompiled ? "compiled" : "not compiled");
    std::printf("time: compile %.1f ms, run %.3f ms (median of %lld; "
                "information only)\n",
                result.compileMs, result.runMs,
                static_cast<long long>(options.repeat));
    if (!options.check) {
      double sum = 0, amax = 0;
      for (double v : result.output) {
        sum += v;
        amax = std::max(amax, std::fabs(v));
      }
      std::printf("output: [%lld elements] sum %.6g, max |x| %.6g\n",
                  static_cast<long long>(result.output.size()), sum, amax);
    } else {
      std::printf("check vs f64 reference: max_abs_err %.3g, max_rel_err %.3g, "
                  "tolerance |out - ref| <= %g + %g * |ref| (math %s): %s\n",
                  s.maxAbsError, s.maxRelError, result.tolerance.atol,
                  result.tolerance.rtol, toString(config.math),
                  s.passed() ? "PASS" : "FAIL");
      if (!s.passed())
        std::printf(
            "  %lld of %lld elements out of tolerance; first at %lld: "
            "out %.9g, ref %.9g\n",
            static_cast<long long>(s.numBad), static_cast<long long>(s.count),
            static_cast<long long>(s.firstBadIndex),
            result.output[s.firstBadIndex], result.reference[s.firstBadIndex]);
    }
    std::fflush(stdout);
  }
  return options.check && !s.passed() ? kExitCheckFailed : kExitOk;
}
