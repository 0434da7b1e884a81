//===- GridCommand.cpp - quantkv-run grid ---------------------------------===//
//
// Part of the quantkv project, under the Apache License v2.0 with LLVM
// Exceptions.
//
//===----------------------------------------------------------------------===//
//
// Checks the cartesian product of storage types x zero point x granularity x
// mask x GQA x Skv (Sq cycling through a list) in one process (one MLIR
// context, JIT at -O0 by default), so that hundreds of configurations cost
// seconds rather than a process start-up each. K and V use the same scheme in
// each configuration.
//
//===----------------------------------------------------------------------===//

#include "Commands.h"

#include "llvm/ADT/STLExtras.h"

#include <chrono>
#include <cstdio>

using namespace quantkv_run;

namespace {
/// The granularities of the grid: along the head dim D or the sequence S.
enum class GridGranularity { PerTensor, PerChannel, PerGroupD, PerGroupS };

std::optional<GridGranularity> parseGridGranularity(const std::string &text) {
  if (text == "per_tensor")
    return GridGranularity::PerTensor;
  if (text == "per_channel")
    return GridGranularity::PerChannel;
  if (text == "per_group_d")
    return GridGranularity::PerGroupD;
  if (text == "per_group_s")
    return GridGranularity::PerGroupS;
  return std::nullopt;
}

const char *toGridString(GridGranularity g) {
  switch (g) {
  case GridGranularity::PerTensor:
    return "per_tensor";
  case GridGranularity::PerChannel:
    return "per_channel";
  case GridGranularity::PerGroupD:
    return "per_group_d";
  case GridGranularity::PerGroupS:
    return "per_group_s";
  }
  return "?";
}

/// A group size along a dim of `size`: 16 (D) or the largest of 32/16/8
/// dividing it (S), else the whole dim when small, else 1.
int64_t groupAlong(int64_t size, bool seq) {
  for (int64_t g :
       seq ? std::vector<int64_t>{32, 16, 8} : std::vector<int64_t>{16, 8})
    if (size % g == 0 && size > g)
      return g;
  return size <= 32 ? size : 1;
}

/// The scheme of one grid cell for an operand whose stored D axis is `dAxis`
/// and S axis `sAxis`.
QuantScheme gridScheme(ElementKind type, bool zp, GridGranularity g,
                       const std::vector<int64_t> &shape, int64_t dAxis,
                       int64_t sAxis) {
  switch (g) {
  case GridGranularity::PerTensor:
    return QuantScheme::perTensor(type, zp);
  case GridGranularity::PerChannel:
    return QuantScheme::perChannel(type, dAxis, zp);
  case GridGranularity::PerGroupD: {
    std::array<int64_t, 4> group = {1, 1, 1, 1};
    group[dAxis] = groupAlong(shape[dAxis], /*seq=*/false);
    return QuantScheme::perGroup(type, group, zp);
  }
  case GridGranularity::PerGroupS: {
    std::array<int64_t, 4> group = {1, 1, 1, 1};
    group[sAxis] = groupAlong(shape[sAxis], /*seq=*/true);
    return QuantScheme::perGroup(type, group, zp);
  }
  }
  return QuantScheme::plain(type);
}
} // namespace

int quantkv_run::runGridCommand(const std::vector<std::string> &argv) {
  Args args(argv,
            {"types", "v-types", "zp", "granularities", "masks", "gqa",
             "kv-lens", "q-lens", "head-dim", "kv-heads", "math", "k-layout",
             "causal-align", "seed", "opt-level", "target"},
            {"quiet"});
  std::vector<ElementKind> types;
  for (const std::string &t : args.getList("types", {"s4", "u4", "s8", "u8"})) {
    std::optional<ElementKind> kind = parseElementKind(t);
    if (!kind || !isInteger(*kind) || *kind == ElementKind::s32)
      args.fail("unknown --types entry '" + t + "' (expected s4, u4, s8, u8)");
    else
      types.push_back(*kind);
  }
  // V's type: the same as K's by default, else every entry of the list.
  std::vector<std::optional<ElementKind>> valueTypes = {std::nullopt};
  if (args.has("v-types")) {
    valueTypes.clear();
    for (const std::string &t : args.getList("v-types", {})) {
      std::optional<ElementKind> kind = parseElementKind(t);
      if (!kind || !isInteger(*kind) || *kind == ElementKind::s32)
        args.fail("unknown --v-types entry '" + t +
                  "' (expected s4, u4, s8, u8)");
      else
        valueTypes.push_back(kind);
    }
  }
  std::vector<bool> zps;
  for (const std::string &z : args.getList("zp", {"off", "on"})) {
    if (z != "off" && z != "on")
      args.fail("unknown --zp entry '" + z + "' (expected off, on)");
    zps.push_back(z == "on");
  }
  std::vector<GridGranularity> grans;
  for (const std::string &g :
       args.getList("granularities", {"per_tensor", "per_channel",
                                      "per_group_d", "per_group_s"})) {
    if (auto parsed = parseGridGranularity(g))
      grans.push_back(*parsed);
    else
      args.fail("unknown --granularities entry '" + g +
                "' (expected per_tensor, per_channel, per_group_d, "
                "per_group_s)");
  }
  std::vector<MaskKind> masks;
  for (const std::string &m :
       args.getList("masks", {"none", "causal", "explicit"})) {
    if (auto parsed = parseMaskKind(m))
      masks.push_back(*parsed);
    else
      args.fail("unknown --masks entry '" + m + "'");
  }
  std::vector<int64_t> gqas = args.getIntList("gqa", {1, 4}, /*min=*/1);
  std::vector<int64_t> kvLens =
      args.getIntList("kv-lens", {1, 17, 128}, /*min=*/1);
  std::vector<int64_t> qLens = args.getIntList("q-lens", {1, 3}, /*min=*/1);
  int64_t headDim = args.getInt("head-dim", 32, 1);
  int64_t kvHeads = args.getInt("kv-heads", 2, 1);
  uint64_t seed = static_cast<uint64_t>(args.getInt("seed", 1, 0));
  SdpaConfig base;
  std::string text = args.getString("math", "f32");
  if (auto m = parseMathMode(text))
    base.math = *m;
  else
    args.fail("unknown --math '" + text + "'");
  text = args.getString("k-layout", "bsd");
  if (auto l = parseKLayout(text))
    base.kLayout = *l;
  else
    args.fail("unknown --k-layout '" + text + "'");
  text = args.getString("causal-align", "bottom_right");
  if (auto a = parseCausalAlign(text))
    base.causalAlign = *a;
  else
    args.fail("unknown --causal-align '" + text + "'");
  SdpaRunOptions options;
  options.check = true;
  options.target = parseTarget(args);
  options.optLevel = static_cast<unsigned>(args.getInt("opt-level", 0, 0));
  if (options.optLevel > 3)
    args.fail("--opt-level must be 0 to 3");
  bool quiet = args.has("quiet");
  if (!args.positional().empty())
    args.fail("unexpected argument '" + args.positional().front() + "'");
  if (!args.error().empty())
    return usageError(args.error());

  // The cells, in a fixed order (the seed of each is seed + its index).
  struct Cell {
    ElementKind keyType, valueType;
    bool zp;
    GridGranularity gran;
    MaskKind mask;
    int64_t gqa, kvLen;
  };
  std::vector<Cell> cells;
  for (ElementKind type : types)
    for (std::optional<ElementKind> valueType : valueTypes)
      for (bool zp : zps)
        for (GridGranularity gran : grans)
          for (MaskKind mask : masks)
            for (int64_t gqa : gqas)
              for (int64_t kvLen : kvLens)
                cells.push_back({type, valueType.value_or(type), zp, gran, mask,
                                 gqa, kvLen});

  std::unique_ptr<mlir::MLIRContext> ctx = createContext();
  auto start = std::chrono::steady_clock::now();
  int64_t passed = 0, failed = 0;
  for (auto [index, cell] : llvm::enumerate(cells)) {
    // Sq cycles through --q-lens rather than multiplying the grid:
    // consecutive cells differ in Skv, so each Sq meets each Skv.
    int64_t qLen = qLens[index % qLens.size()];
    SdpaConfig c = base;
    c.batch = 1;
    c.kvHeads = kvHeads;
    c.qHeads = kvHeads * cell.gqa;
    c.qLen = qLen;
    c.kvLen = cell.kvLen;
    c.headDim = headDim;
    c.mask = cell.mask;
    c.seed = seed + index;
    c.key = gridScheme(cell.keyType, cell.zp, cell.gran, c.keyShape(),
                       c.keyHeadDimAxis(), c.keySeqAxis());
    c.value =
        gridScheme(cell.valueType, cell.zp, cell.gran, c.valueShape(), 3, 2);
    std::string row;
    bool ok = false;
    if (std::string err = c.verify(); !err.empty()) {
      row = "invalid: " + err;
    } else {
      SdpaData data = generateSdpaData(c);
      SdpaRunResult r = runSdpa(*ctx, c, data, options);
      if (!r.error.empty()) {
        row = "error: " + r.error;
      } else {
        ok = r.stats.passed();
        char buf[96];
        std::snprintf(buf, sizeof(buf), "max_abs %.2e max_rel %.2e",
                      r.stats.maxAbsError, r.stats.maxRelError);
        row = buf;
      }
    }
    (ok ? passed : failed)++;
    if (quiet && ok)
      continue;
    std::string types = toString(cell.keyType);
    if (cell.valueType != cell.keyType)
      types += std::string("/") + toString(cell.valueType);
    std::printf("%s %-5s zp=%-3s %-11s %-8s gqa=%lld Skv=%-4lld Sq=%lld  %s\n",
                ok ? "PASS" : "FAIL", types.c_str(), cell.zp ? "on" : "off",
                toGridString(cell.gran), toString(cell.mask),
                static_cast<long long>(cell.gqa),
                static_cast<long long>(cell.kvLen),
                static_cast<long long>(qLen), row.c_str());
  }
  double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();
  std::printf("grid: D=%lld Hkv=%lld math=%s k_layout=%s causal=%s, %.1f s\n",
              static_cast<long long>(headDim), static_cast<long long>(kvHeads),
              toString(base.math), toString(base.kLayout),
              toString(base.causalAlign), seconds);
  std::printf("%lld passed, %lld failed\n", static_cast<long long>(passed),
              static_cast<long long>(failed));
  return failed ? kExitCheckFailed : kExitOk;
}
