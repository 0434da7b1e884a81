//===- CommandLine.cpp - flag parsing shared by the test tools ------------===//
//
// Part of the quantkv project, under the Apache License v2.0 with LLVM
// Exceptions.
//
//===----------------------------------------------------------------------===//

#include "quantkv/Testing/CommandLine.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>

using namespace mlir::quantkv::testing;

std::vector<std::string>
mlir::quantkv::testing::splitList(const std::string &text, char separator) {
  std::vector<std::string> items;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find(separator, start);
    if (end == std::string::npos)
      end = text.size();
    if (end > start)
      items.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return items;
}

Args::Args(const std::vector<std::string> &argv,
           const std::set<std::string> &flags,
           const std::set<std::string> &switches) {
  for (size_t i = 0; i < argv.size(); ++i) {
    const std::string &arg = argv[i];
    if (arg.size() < 2 || arg[0] != '-' || arg == "-") {
      positionals.push_back(arg);
      continue;
    }
    std::string name = arg.substr(arg[1] == '-' ? 2 : 1);
    std::optional<std::string> inlineValue;
    if (size_t eq = name.find('='); eq != std::string::npos) {
      inlineValue = name.substr(eq + 1);
      name = name.substr(0, eq);
    }
    if (switches.count(name)) {
      if (inlineValue)
        fail("--" + name + " takes no value");
      values[name] = "";
      continue;
    }
    if (!flags.count(name)) {
      fail("unknown option '" + arg + "' (see --help)");
      continue;
    }
    if (inlineValue) {
      values[name] = *inlineValue;
    } else if (i + 1 < argv.size()) {
      values[name] = argv[++i];
    } else {
      fail("--" + name + " needs a value");
    }
  }
}

void Args::fail(const std::string &message) {
  if (firstError.empty())
    firstError = message;
}

std::optional<std::string> Args::get(const std::string &flag) const {
  auto it = values.find(flag);
  if (it == values.end())
    return std::nullopt;
  return it->second;
}

std::string Args::getString(const std::string &flag, const std::string &dflt) {
  return get(flag).value_or(dflt);
}

static bool parseInt(const std::string &text, int64_t &out) {
  if (text.empty())
    return false;
  char *end = nullptr;
  errno = 0;
  long long v = std::strtoll(text.c_str(), &end, 10);
  if (errno || *end)
    return false;
  out = v;
  return true;
}

int64_t Args::getInt(const std::string &flag, int64_t dflt, int64_t min) {
  std::optional<std::string> text = get(flag);
  if (!text)
    return dflt;
  int64_t v;
  if (!parseInt(*text, v)) {
    fail("--" + flag + " expects an integer, got '" + *text + "'");
    return dflt;
  }
  if (v < min) {
    fail("--" + flag + " must be >= " + std::to_string(min) + ", got " +
         std::to_string(v));
    return dflt;
  }
  return v;
}

double Args::getDouble(const std::string &flag, double dflt) {
  std::optional<std::string> text = get(flag);
  if (!text)
    return dflt;
  char *end = nullptr;
  double v = std::strtod(text->c_str(), &end);
  if (text->empty() || *end || !std::isfinite(v)) {
    fail("--" + flag + " expects a finite number, got '" + *text + "'");
    return dflt;
  }
  return v;
}

std::vector<int64_t> Args::getIntList(const std::string &flag,
                                      const std::vector<int64_t> &dflt,
                                      int64_t min) {
  std::optional<std::string> text = get(flag);
  if (!text)
    return dflt;
  std::vector<int64_t> out;
  for (const std::string &item : splitList(*text)) {
    int64_t v;
    if (!parseInt(item, v)) {
      fail("--" + flag + " expects comma-separated integers, got '" + *text +
           "'");
      return dflt;
    }
    if (v < min) {
      fail("--" + flag + " values must be >= " + std::to_string(min) +
           ", got " + std::to_string(v));
      return dflt;
    }
    out.push_back(v);
  }
  if (out.empty())
    fail("--" + flag + " is empty");
  return out;
}

std::vector<std::string> Args::getList(const std::string &flag,
                                       const std::vector<std::string> &dflt) {
  std::optional<std::string> text = get(flag);
  if (!text)
    return dflt;
  std::vector<std::string> out = splitList(*text);
  if (out.empty())
    fail("--" + flag + " is empty");
  return out;
}

std::set<std::string> mlir::quantkv::testing::sdpaConfigFlags() {
  std::set<std::string> flags = {
      "batch",    "q-heads",    "kv-heads", "q-len",        "kv-len",
      "head-dim", "v-head-dim", "mask",     "causal-align", "math",
      "k-layout", "scale",      "seed"};
  for (const char *p : {"k", "v"})
    for (const char *f :
         {"type", "quant", "group", "group-shape", "axis", "zp-type"})
      flags.insert(std::string(p) + "-" + f);
  return flags;
}

std::set<std::string> mlir::quantkv::testing::sdpaConfigSwitches() {
  return {"k-zp", "v-zp"};
}

const char *mlir::quantkv::testing::sdpaConfigHelp() {
  return R"(  --batch B --q-heads HQ --kv-heads HKV --q-len SQ --kv-len SKV --head-dim D
  [--v-head-dim DV]                     shapes (defaults 1 1 1 1 16 64; DV = D)
  --k-type T / --v-type T               s4 | u4 | s8 | u8 | f16 | bf16 | f32 (default s8)
  --k-quant per_tensor|per_channel|per_group
                                        default per_group with --k-group or
                                        --k-group-shape, else per_channel
  --k-group G                           groups of G along the head dim
  --k-group-shape a,b,c,d               explicit 4-d group (stored layout),
                                        e.g. 1,1,64,1 = 64 tokens per scale
  --k-axis N                            per_channel axis (default: head dim)
  --k-zp [--k-zp-type T]                asymmetric, zero point of type
                                        s4|u4|s8|u8|s32|f32 (default: k-type)
  --v-quant, --v-group, --v-group-shape, --v-axis, --v-zp, --v-zp-type
                                        the same for V
  --k-layout bsd|bds                    K as [B,Hkv,Skv,D] or [B,Hkv,D,Skv]
  --mask none|causal|explicit           explicit: additive [B,1,Sq,Skv] f32
  --causal-align top_left|bottom_right  (default bottom_right)
  --math f32|bf16|f16|int8              math mode (default f32)
  --scale F                             softmax scale (default 1/sqrt(D))
  --seed N                              data seed (default 1)
)";
}

/// Reads the --k-... or --v-... flags into `scheme`. `dAxis` is the head-dim
/// axis of the stored operand (where --X-group groups).
static void parseScheme(Args &args, const std::string &p, int64_t dAxis,
                        QuantScheme &scheme) {
  std::string typeText = args.getString(p + "-type", "s8");
  std::optional<ElementKind> type = parseElementKind(typeText);
  if (!type || *type == ElementKind::s32) {
    args.fail("unknown --" + p + "-type '" + typeText +
              "' (expected s4, u4, s8, u8, f16, bf16 or f32)");
    return;
  }
  scheme = QuantScheme::plain(*type);
  if (!isInteger(*type)) {
    for (const char *f :
         {"quant", "group", "group-shape", "axis", "zp", "zp-type"})
      if (args.has(p + "-" + f))
        args.fail("--" + p + "-" + f + " needs an integer --" + p +
                  "-type (s4, u4, s8 or u8), got " + typeText);
    return;
  }
  bool grouped = args.has(p + "-group") || args.has(p + "-group-shape");
  std::string quantText =
      args.getString(p + "-quant", grouped ? "per_group" : "per_channel");
  std::optional<GranularityKind> quant = parseGranularityKind(quantText);
  if (!quant) {
    args.fail("unknown --" + p + "-quant '" + quantText +
              "' (expected per_tensor, per_channel or per_group)");
    return;
  }
  scheme.granularity = *quant;
  if (*quant != GranularityKind::PerGroup && grouped)
    args.fail("--" + p + "-group/--" + p + "-group-shape need --" + p +
              "-quant per_group, got " + quantText);
  if (*quant != GranularityKind::PerChannel && args.has(p + "-axis"))
    args.fail("--" + p + "-axis needs --" + p + "-quant per_channel, got " +
              quantText);
  scheme.axis = args.getInt(p + "-axis", dAxis);
  if (*quant == GranularityKind::PerGroup) {
    if (args.has(p + "-group-shape")) {
      std::vector<int64_t> shape =
          args.getIntList(p + "-group-shape", {}, /*min=*/1);
      if (shape.size() != 4) {
        args.fail("--" + p +
                  "-group-shape needs 4 comma-separated sizes, got '" +
                  args.getString(p + "-group-shape", "") + "'");
        return;
      }
      std::copy(shape.begin(), shape.end(), scheme.groupShape.begin());
    } else if (args.has(p + "-group")) {
      scheme.groupShape = {1, 1, 1, 1};
      scheme.groupShape[dAxis] = args.getInt(p + "-group", 1, 1);
    } else {
      args.fail("--" + p + "-quant per_group needs --" + p + "-group or --" +
                p + "-group-shape");
    }
  }
  scheme.hasZeroPoint = args.has(p + "-zp") || args.has(p + "-zp-type");
  if (args.has(p + "-zp-type")) {
    std::string zpText = args.getString(p + "-zp-type", "");
    std::optional<ElementKind> zp = parseElementKind(zpText);
    if (!zp || *zp == ElementKind::f16 || *zp == ElementKind::bf16)
      args.fail("unknown --" + p + "-zp-type '" + zpText +
                "' (expected s4, u4, s8, u8, s32 or f32)");
    else
      scheme.zeroPointType = *zp;
  }
}

SdpaConfig mlir::quantkv::testing::parseSdpaConfig(Args &args) {
  SdpaConfig c;
  c.batch = args.getInt("batch", 1, 1);
  c.qHeads = args.getInt("q-heads", 1, 1);
  c.kvHeads = args.getInt("kv-heads", 1, 1);
  c.qLen = args.getInt("q-len", 1, 1);
  c.kvLen = args.getInt("kv-len", 16, 1);
  c.headDim = args.getInt("head-dim", 64, 1);
  c.valueHeadDim = args.getInt("v-head-dim", 0, 1);
  c.seed = static_cast<uint64_t>(args.getInt("seed", 1, 0));
  std::string text = args.getString("mask", "none");
  if (auto m = parseMaskKind(text))
    c.mask = *m;
  else
    args.fail("unknown --mask '" + text +
              "' (expected none, causal or explicit)");
  text = args.getString("causal-align", "bottom_right");
  if (auto a = parseCausalAlign(text))
    c.causalAlign = *a;
  else
    args.fail("unknown --causal-align '" + text +
              "' (expected top_left or bottom_right)");
  if (args.has("causal-align") && c.mask != MaskKind::Causal)
    args.fail("--causal-align needs --mask causal");
  text = args.getString("math", "f32");
  if (auto m = parseMathMode(text))
    c.math = *m;
  else
    args.fail("unknown --math '" + text +
              "' (expected f32, bf16, f16 or int8)");
  text = args.getString("k-layout", "bsd");
  if (auto l = parseKLayout(text))
    c.kLayout = *l;
  else
    args.fail("unknown --k-layout '" + text + "' (expected bsd or bds)");
  if (args.has("scale"))
    c.scale = args.getDouble("scale", 0.0);
  parseScheme(args, "k", c.keyHeadDimAxis(), c.key);
  parseScheme(args, "v", 3, c.value);
  return c;
}
