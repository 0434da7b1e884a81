//===- quantkv-bench.cpp - quantkv vs oneDNN vs the memory roofline -------===//
//
// Part of the quantkv project, under the Apache License v2.0 with LLVM
// Exceptions.
//
//===----------------------------------------------------------------------===//
//
// Times, on the same shapes and thread counts: quantkv's fused kernel (the
// cpu pipeline), oneDNN's unfused SDPA on the dequantized cache (f32, and
// bf16 where oneDNN supports it), the naive reference lowering, and the
// machine's read bandwidth. Median of --repeats runs after --warmup runs;
// decode cases rotate over enough independent caches to exceed the
// last-level cache, and each of their runs is paired with a pass of the
// bandwidth probe (the fraction of the bandwidth compares runs made under
// the same conditions). Prints a table and a summary of the ratios (fraction
// of the bandwidth or of the arithmetic peak, speedup over oneDNN), writes
// JSON Lines and a PNG plot.
//
//   quantkv-bench [--quick] [--threads 1,2] [--cases decode,prefill]
//                 [--kv-lens 1024,4096] [--repeats 20] [--warmup 3]
//                 [--json FILE] [--png FILE] [--no-onednn] [--no-naive]
//                 [--check] [--llc-mib 260]
//
//===----------------------------------------------------------------------===//

#include "Bandwidth.h"
#include "OneDnnSdpa.h"
#include "Peak.h"
#include "PngPlot.h"
#include "SdpaRunner.h"

#include "quantkv/Conversion/QuantKVToX86/CpuTuning.h"
#include "quantkv/Pipelines/Pipelines.h"
#include "quantkv/Testing/CommandLine.h"
#include "quantkv/Testing/Numerics.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/raw_ostream.h"
#include "llvm/TargetParser/Host.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

using namespace mlir::quantkv;
using namespace mlir::quantkv::bench;
using namespace mlir::quantkv::testing;

namespace {

struct BenchCase {
  std::string name;
  SdpaConfig config;
  bool isDecode = true;
};

struct Options {
  bool help = false;
  bool quick = false;
  std::vector<int> threads = {1, 2};
  std::vector<int64_t> kvLens = {1024, 4096, 16384, 32768};
  std::vector<std::string> kinds = {"decode", "prefill"};
  std::vector<std::string> mathModes = {"f32"};
  int repeats = 20;
  int warmup = 3;
  std::string jsonPath = "quantkv-bench.jsonl";
  std::string pngPath = "quantkv-bench.png";
  bool onednn = true;
  bool naive = true;
  bool check = false;
  /// Only compile, run once and compare with the reference (no timing).
  bool checkOnly = false;
  int64_t llcMiB = 0; // 0: read from sysfs
  int64_t bandwidthMiB = 1024;
  int64_t naiveMaxKv = 4096;
  /// Options of quantkv-cpu-pipeline for quantkv's kernel, e.g.
  /// "software-prefetch=on" (tuning A/B without a rebuild): as given, and
  /// parsed (checked) once.
  std::string pipelineOptions;
  std::unique_ptr<CpuPipelineOptions> pipeline =
      std::make_unique<CpuPipelineOptions>();
  /// A single configuration from --shape/--k/--v/--mask (replaces the suite).
  std::optional<BenchCase> custom;
};

struct Measurement {
  std::string caseName;
  std::string impl;
  /// The case's kind and math mode (what the plot groups by).
  bool isDecode = false;
  std::string math;
  int threads = 1;
  double medianUs = 0;
  int64_t bytesMoved = 0;
  double gbps = 0;
  int64_t kvLen = 0;
  double flops = 0;
  std::string note;
  /// Prefill: the arithmetic peak the kernel is judged against (impl of a
  /// peak_* row of the same run) and the fraction of it reached.
  std::string peak;
  double peakFraction = 0;
  /// Decode (quantkv): the read bandwidth measured in passes alternating
  /// with the kernel's runs, and the kernel's fraction of it.
  double readGbps = 0;
  double bandwidthFraction = 0;
  /// Baselines: how many times faster quantkv ran on the same case.
  double quantkvSpeedup = 0;
};

double nowUs() {
  using namespace std::chrono;
  return duration<double, std::micro>(
             steady_clock::now().time_since_epoch())
      .count();
}

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values[values.size() / 2];
}

/// Calls fn(0) .. fn(warmup + repeats - 1) and returns the times of the last
/// `repeats` calls; `afterEach(i)` runs untimed after every call.
template <typename Fn, typename AfterEach>
std::vector<double> timeRuns(int warmup, int repeats, Fn &&fn,
                             AfterEach &&afterEach) {
  std::vector<double> times;
  for (int i = 0; i < warmup + repeats; ++i) {
    double t0 = nowUs();
    fn(i);
    if (i >= warmup)
      times.push_back(nowUs() - t0);
    afterEach(i);
  }
  return times;
}

template <typename Fn>
double medianUs(int warmup, int repeats, Fn &&fn) {
  return median(timeRuns(warmup, repeats, fn, [](int) {}));
}

struct PairedTiming {
  double kernelUs = 0;
  double readGbps = 0;
  double fraction = 0;
};

/// Times `fn`, which reads `bytes`, alternately with passes of the bandwidth
/// probe. On a shared machine the read bandwidth drifts by 10-50% within
/// minutes (most with two threads), so a fraction of one bandwidth figure
/// taken at the start of the run says as much about the drift as about the
/// kernel: the fraction is the median over back-to-back pairs of kernel GB/s
/// over probe GB/s.
template <typename Fn>
PairedTiming pairedWithBandwidth(ReadBandwidthProbe &probe, int threads,
                                 int64_t bytes, int warmup, int repeats,
                                 Fn &&fn) {
  std::vector<double> readGbps;
  std::vector<double> kernelUs = timeRuns(warmup, repeats, fn, [&](int i) {
    double gbps = probe.bytes() / (probe.passUs(threads) * 1e3);
    if (i >= warmup)
      readGbps.push_back(gbps);
  });
  std::vector<double> fractions;
  for (size_t i = 0; i < kernelUs.size(); ++i)
    fractions.push_back(bytes / (kernelUs[i] * 1e3) / readGbps[i]);
  return {median(kernelUs), median(readGbps), median(fractions)};
}

int64_t lastLevelCacheBytes(const Options &opts) {
  if (opts.llcMiB > 0)
    return opts.llcMiB << 20;
  int64_t best = 0;
  for (int idx = 0; idx < 8; ++idx) {
    std::ifstream f("/sys/devices/system/cpu/cpu0/cache/index" +
                    std::to_string(idx) + "/size");
    std::string s;
    if (!(f >> s))
      continue;
    int64_t v = std::atoll(s.c_str());
    if (s.back() == 'K')
      v <<= 10;
    else if (s.back() == 'M')
      v <<= 20;
    best = std::max(best, v);
  }
  return best ? best : (int64_t(64) << 20);
}

QuantScheme int4Group32() {
  return QuantScheme::perGroup(ElementKind::s4, {1, 1, 1, 32});
}
QuantScheme int8PerChannel() {
  return QuantScheme::perChannel(ElementKind::s8, 3);
}

std::vector<BenchCase> buildSuite(const Options &opts) {
  std::vector<BenchCase> cases;
  std::vector<int64_t> kvHeads = {8, 32};
  std::vector<int64_t> kvLens = opts.kvLens;
  if (opts.quick) {
    kvHeads = {8};
    kvLens = {1024, 4096};
  }
  auto has = [&](const char *kind) {
    return std::find(opts.kinds.begin(), opts.kinds.end(), kind) !=
           opts.kinds.end();
  };
  for (const std::string &math : opts.mathModes) {
    MathMode mode = parseMathMode(math).value_or(MathMode::F32);
    if (has("decode"))
      for (int64_t hkv : kvHeads)
        for (auto [qname, scheme] :
             {std::pair<const char *, QuantScheme>{"s4g32", int4Group32()},
              {"s8pc", int8PerChannel()}})
          for (int64_t skv : kvLens) {
            BenchCase c;
            c.config.batch = 1;
            c.config.qHeads = 32;
            c.config.kvHeads = hkv;
            c.config.qLen = 1;
            c.config.kvLen = skv;
            c.config.headDim = 128;
            c.config.key = scheme;
            c.config.value = scheme;
            c.config.mask = MaskKind::Causal;
            c.config.causalAlign = CausalAlign::BottomRight;
            c.config.math = mode;
            if (mode == MathMode::Int8 && !scheme.isQuantized())
              continue;
            c.name = "decode_hq32_hkv" + std::to_string(hkv) + "_" + qname +
                     "_skv" + std::to_string(skv) + "_" + math;
            cases.push_back(c);
          }
    if (has("prefill")) {
      BenchCase c;
      c.isDecode = false;
      int64_t len = opts.quick ? 512 : 2048;
      c.config.batch = 1;
      c.config.qHeads = opts.quick ? 8 : 32;
      c.config.kvHeads = opts.quick ? 8 : 32;
      c.config.qLen = len;
      c.config.kvLen = len;
      c.config.headDim = 128;
      c.config.key = int4Group32();
      c.config.value = int4Group32();
      c.config.mask = MaskKind::Causal;
      c.config.causalAlign = CausalAlign::TopLeft;
      c.config.math = mode;
      c.name = "prefill_h" + std::to_string(c.config.qHeads) + "_s4g32_s" +
               std::to_string(len) + "_causal_" + math;
      cases.push_back(c);
    }
  }
  return cases;
}

/// 2 x (Q.K + P.V) multiply-adds over the visible (causal) part.
double attentionFlops(const SdpaConfig &c) {
  double visible = 0;
  for (int64_t i = 0; i < c.qLen; ++i) {
    int64_t limit = c.kvLen;
    if (c.mask == MaskKind::Causal)
      limit = std::min<int64_t>(
          c.kvLen, (c.causalAlign == CausalAlign::TopLeft
                        ? i
                        : i + c.kvLen - c.qLen) +
                       1);
    visible += std::max<int64_t>(limit, 0);
  }
  return 2.0 * c.batch * c.qHeads * visible *
         (c.headDim + c.getValueHeadDim());
}

/// One line naming the CPU the JIT compiles for, the instructions the kernel
/// may use and the tuning it gets (CpuTuning.h): figures from different
/// cores are not comparable, and the same code runs differently on them.
std::string describeHost(llvm::StringRef cpu, const Options &opts) {
  llvm::StringMap<bool> features = llvm::sys::getHostCPUFeatures();
  std::string isa;
  for (auto [feature, label] : {std::pair{"avx512f", "AVX-512F"},
                                {"avx512vnni", "VNNI"},
                                {"avx512bf16", "BF16"},
                                {"avx512fp16", "FP16"},
                                {"avx512vbmi", "VBMI"},
                                {"gfni", "GFNI"},
                                {"amx-int8", "AMX-INT8"},
                                {"amx-bf16", "AMX-BF16"}})
    if (features.lookup(feature))
      isa += (isa.empty() ? "" : " ") + std::string(label);
  // The tuning the kernel gets: the host's, or what --pipeline-options force.
  const CpuPipelineOptions &options = *opts.pipeline;
  CpuTuning tuning = resolveCpuTuning(options.cpu, options.softwarePrefetch,
                                      options.prefillBf16Dot);
  std::string line =
      llvm::formatv("host: {0} ({1}); kernel tuning: software prefetch {2}, "
                    "bf16 prefill on {3}",
                    cpu, isa.empty() ? "no AVX-512" : isa,
                    tuning.softwarePrefetch ? "on" : "off",
                    tuning.prefillBf16Dot ? "vdpbf16ps" : "f32 FMAs")
          .str();
  if (!opts.pipelineOptions.empty())
    line += "; pipeline options: " + opts.pipelineOptions;
  return line;
}

void writeJson(std::ofstream &os, const Measurement &m, llvm::StringRef cpu) {
  char buf[512];
  std::snprintf(buf, sizeof(buf),
                "{\"case\": \"%s\", \"impl\": \"%s\", \"threads\": %d, "
                "\"median_us\": %.3f, \"bytes_moved\": %lld, \"gbps\": %.4f, "
                "\"kv_len\": %lld, \"gflops\": %.3f",
                m.caseName.c_str(), m.impl.c_str(), m.threads, m.medianUs,
                static_cast<long long>(m.bytesMoved), m.gbps,
                static_cast<long long>(m.kvLen),
                m.medianUs > 0 ? m.flops / m.medianUs / 1e3 : 0.0);
  std::string line = buf;
  auto number = [&](const char *key, double value) {
    std::snprintf(buf, sizeof(buf), ", \"%s\": %.4g", key, value);
    line += buf;
  };
  if (!m.peak.empty()) {
    line += ", \"peak\": \"" + m.peak + "\"";
    number("peak_pct", 100 * m.peakFraction);
  }
  if (m.readGbps > 0) {
    number("read_gbps", m.readGbps);
    number("bw_pct", 100 * m.bandwidthFraction);
  }
  if (m.quantkvSpeedup > 0)
    number("quantkv_speedup", m.quantkvSpeedup);
  if (!m.note.empty())
    line += ", \"note\": \"" + m.note + "\"";
  line += ", \"cpu\": \"" + cpu.str() + "\"";
  os << line << "}\n";
  os.flush();
}

/// The line-style key of the plot.
std::string plotNote(const std::vector<int> &threads) {
  auto count = [](int t) {
    return std::to_string(t) + (t == 1 ? " thread" : " threads");
  };
  if (threads.size() == 1)
    return count(threads[0]);
  if (threads.size() == 2)
    return "solid: " + count(threads[0]) + ", dashed: " + count(threads[1]);
  return "one colour per implementation and thread count";
}

/// Decode measurements as one GB/s-vs-Skv panel per case family (shape and
/// cache scheme): quantkv per math mode, oneDNN f32 and bf16, and the read
/// bandwidth as a horizontal line; the second thread count dashed.
std::vector<PlotPanel> plotPanels(const std::vector<Measurement> &all,
                                  const std::vector<int> &threads) {
  auto label = [&](std::string name, int t) {
    return threads.size() > 2 ? name + " t" + std::to_string(t) : name;
  };
  bool dashedFor2 = threads.size() > 1;
  auto dashed = [&](int t) { return dashedFor2 && t != threads.front(); };
  std::vector<PlotSeries> bandwidth;
  std::vector<PlotPanel> panels;
  std::map<std::string, size_t> panelOf;
  // (panel, label, threads) -> index of the series in the panel.
  std::map<std::tuple<size_t, std::string, int>, size_t> seriesOf;
  for (const Measurement &m : all) {
    if (m.impl == "bandwidth") {
      PlotSeries s;
      s.label = label("read bw", m.threads);
      s.points = {{1.0, m.gbps}};
      s.horizontal = true;
      s.dashed = dashed(m.threads);
      bandwidth.push_back(s);
      continue;
    }
    if (!m.isDecode || m.medianUs <= 0 || m.impl == "naive")
      continue;
    // "decode_hq32_hkv8_s4g32_skv4096_int8" -> family "hq32 hkv8 s4g32";
    // a custom case is one family.
    std::string family = "custom";
    if (m.caseName.rfind("decode_", 0) == 0) {
      family = m.caseName.substr(7, m.caseName.find("_skv") - 7);
      std::replace(family.begin(), family.end(), '_', ' ');
    }
    auto [it, added] = panelOf.try_emplace(family, panels.size());
    if (added)
      panels.push_back({family, {}});
    std::string name =
        m.impl == "quantkv"
            ? "quantkv " + m.math
            : (m.impl == "onednn_f32" ? "onednn f32" : "onednn bf16");
    std::string l = label(name, m.threads);
    auto [sit, newSeries] = seriesOf.try_emplace(
        {it->second, l, m.threads}, panels[it->second].series.size());
    if (newSeries) {
      PlotSeries s;
      s.label = l;
      s.dashed = dashed(m.threads);
      panels[it->second].series.push_back(s);
    }
    // A baseline measured again for a second math mode keeps its first
    // point.
    auto &points = panels[it->second].series[sit->second].points;
    if (llvm::any_of(points, [&](const std::pair<double, double> &p) {
          return p.first == double(m.kvLen);
        }))
      continue;
    points.push_back({double(m.kvLen), m.gbps});
  }
  // The legend (in order of first appearance) lists quantkv, then the
  // baselines, then the bandwidth.
  for (PlotPanel &panel : panels) {
    std::vector<PlotSeries> ordered;
    for (bool quantkv : {true, false})
      for (const PlotSeries &x : panel.series)
        if ((x.label.rfind("quantkv", 0) == 0) == quantkv)
          ordered.push_back(x);
    ordered.insert(ordered.end(), bandwidth.begin(), bandwidth.end());
    panel.series = std::move(ordered);
  }
  return panels;
}

/// Parses a cache scheme "TYPE[:GRAN][:zp[=ZPTYPE]]": TYPE s4|u4|s8|u8|f32|
/// f16|bf16; GRAN tensor | ch<axis> | g<n> (groups of n along D) | s<n>
/// (groups of n tokens) | b<gb>x<gh>x<gs>x<gd> (any 4-d group).
std::optional<QuantScheme> parseScheme(const std::string &text) {
  std::vector<std::string> parts = splitList(text, ':');
  if (parts.empty())
    return std::nullopt;
  auto type = parseElementKind(parts[0]);
  if (!type)
    return std::nullopt;
  if (!isInteger(*type))
    return parts.size() == 1 ? std::optional(QuantScheme::plain(*type))
                             : std::nullopt;
  QuantScheme scheme = QuantScheme::perTensor(*type);
  for (size_t i = 1; i < parts.size(); ++i) {
    const std::string &p = parts[i];
    if (p == "tensor") {
      scheme.granularity = GranularityKind::PerTensor;
    } else if (p.rfind("ch", 0) == 0) {
      scheme.granularity = GranularityKind::PerChannel;
      scheme.axis = std::atoll(p.c_str() + 2);
    } else if (p[0] == 'g') {
      scheme.granularity = GranularityKind::PerGroup;
      scheme.groupShape = {1, 1, 1, std::atoll(p.c_str() + 1)};
    } else if (p[0] == 's') {
      scheme.granularity = GranularityKind::PerGroup;
      scheme.groupShape = {1, 1, std::atoll(p.c_str() + 1), 1};
    } else if (p[0] == 'b') {
      std::vector<std::string> dims = splitList(p.substr(1), 'x');
      if (dims.size() != 4)
        return std::nullopt;
      scheme.granularity = GranularityKind::PerGroup;
      for (int d = 0; d < 4; ++d)
        scheme.groupShape[d] = std::atoll(dims[d].c_str());
    } else if (p.rfind("zp", 0) == 0) {
      scheme.hasZeroPoint = true;
      if (p.size() > 3 && p[2] == '=') {
        auto zpType = parseElementKind(p.substr(3));
        if (!zpType)
          return std::nullopt;
        scheme.zeroPointType = *zpType;
      }
    } else {
      return std::nullopt;
    }
  }
  return scheme;
}

/// The ratios the measurements are judged by, one line per quantkv
/// measurement: decode against the read bandwidth measured alongside it,
/// prefill against the arithmetic peak, both against the oneDNN baselines.
void printSummary(const std::vector<Measurement> &all) {
  std::map<std::tuple<std::string, int, std::string>, double> speedups;
  for (const Measurement &m : all)
    if (m.quantkvSpeedup > 0)
      speedups[{m.caseName, m.threads, m.impl}] = m.quantkvSpeedup;
  bool header = false;
  for (const Measurement &m : all) {
    if (m.impl != "quantkv")
      continue;
    if (!header) {
      std::printf("\nsummary: decode as %% of the read bandwidth measured "
                  "alongside, prefill as %% of the arithmetic peak; decode "
                  "runs of quantkv and oneDNN each follow a probe pass\n"
                  "%-44s %3s %9s %9s %-12s %12s %12s\n",
                  "case", "thr", "GB/s", "GFLOP/s", "roofline", "x onednn_f32",
                  "x onednn_bf16");
      header = true;
    }
    char roofline[32] = "-";
    if (m.readGbps > 0)
      std::snprintf(roofline, sizeof(roofline), "%.0f%% bw",
                    100 * m.bandwidthFraction);
    else if (!m.peak.empty())
      std::snprintf(roofline, sizeof(roofline), "%.0f%% %s",
                    100 * m.peakFraction, m.peak.c_str());
    auto ratio = [&](const char *impl) {
      auto it = speedups.find({m.caseName, m.threads, impl});
      return it == speedups.end() ? std::string("-")
                                  : llvm::formatv("{0:F1}", it->second).str();
    };
    std::printf("%-44s %3d %9.2f %9.1f %-12s %12s %12s\n", m.caseName.c_str(),
                m.threads, m.gbps,
                m.medianUs > 0 ? m.flops / m.medianUs / 1e3 : 0.0, roofline,
                ratio("onednn_f32").c_str(), ratio("onednn_bf16").c_str());
  }
}

int usage(const char *argv0) {
  std::fprintf(
      stderr,
      "usage: %s [--quick] [--threads 1,2] [--cases decode,prefill]\n"
      "  [--kv-lens 1024,4096,16384,32768] [--math f32,bf16,f16,int8]\n"
      "  [--repeats N (default 20)] [--warmup N] [--json FILE] [--png FILE]\n"
      "  [--no-onednn] [--no-naive] [--naive-max-kv N] [--llc-mib N]\n"
      "  [--bandwidth-mib N] [--check] [--check-only]\n"
      "  [--pipeline-options 'OPTIONS of quantkv-cpu-pipeline']\n"
      "  [--shape B,HQ,HKV,SQ,SKV,D[,DV] --k SCHEME --v SCHEME --mask M]\n"
      "  SCHEME: "
      "TYPE[:tensor|:ch<axis>|:g<n>|:s<n>|:b<b>x<h>x<s>x<d>][:zp[=T]]\n"
      "  M: none|causal-br|causal-tl|explicit\n",
      argv0);
  return 2;
}

/// Parses the command line into `opts`; returns the first error, if any.
/// Every value is checked: a malformed or out-of-range one is an error, not
/// a silently clamped default.
std::string parseOptions(const std::vector<std::string> &argv, Options &opts) {
  Args args(
      argv,
      {"threads", "kv-lens", "cases", "math", "repeats", "warmup", "json",
       "png", "naive-max-kv", "llc-mib", "bandwidth-mib", "shape", "k", "v",
       "mask", "seed", "scale", "pipeline-options"},
      {"quick", "no-onednn", "no-naive", "check", "check-only", "help", "h"});
  if (!args.positional().empty())
    args.fail("unexpected argument '" + args.positional().front() + "'");
  if (args.has("pipeline-options")) {
    opts.pipelineOptions = args.getString("pipeline-options", "");
    opts.pipeline = CpuPipelineOptions::createFromString(opts.pipelineOptions);
    if (!opts.pipeline)
      args.fail("--pipeline-options: cannot parse '" + opts.pipelineOptions +
                "' as options of quantkv-cpu-pipeline");
    else if (!opts.pipeline->cpu.empty() && !isKnownX86Cpu(opts.pipeline->cpu))
      args.fail("--pipeline-options: " +
                unknownX86CpuMessage(opts.pipeline->cpu));
  }
  std::vector<int64_t> threads = args.getIntList("threads", {1, 2}, /*min=*/1);
  opts.threads.assign(threads.begin(), threads.end());
  opts.kvLens = args.getIntList("kv-lens", opts.kvLens, /*min=*/1);
  opts.kinds = args.getList("cases", opts.kinds);
  for (const std::string &kind : opts.kinds)
    if (kind != "decode" && kind != "prefill")
      args.fail("--cases: unknown case kind '" + kind + "' (decode, prefill)");
  opts.mathModes = args.getList("math", opts.mathModes);
  for (const std::string &m : opts.mathModes)
    if (!parseMathMode(m))
      args.fail("--math: unknown math mode '" + m + "'");
  opts.repeats = args.getInt("repeats", opts.repeats, /*min=*/1);
  opts.warmup = args.getInt("warmup", opts.warmup, /*min=*/0);
  opts.jsonPath = args.getString("json", opts.jsonPath);
  opts.pngPath = args.getString("png", opts.pngPath);
  opts.naiveMaxKv = args.getInt("naive-max-kv", opts.naiveMaxKv, /*min=*/0);
  opts.llcMiB = args.getInt("llc-mib", opts.llcMiB, /*min=*/0);
  opts.bandwidthMiB =
      args.getInt("bandwidth-mib", opts.bandwidthMiB, /*min=*/1);
  opts.help = args.has("help") || args.has("h");
  opts.quick = args.has("quick");
  opts.onednn = !args.has("no-onednn");
  opts.naive = !args.has("no-naive");
  opts.check = args.has("check");
  if (args.has("check-only")) {
    opts.check = opts.checkOnly = true;
    opts.onednn = opts.naive = false;
    opts.pngPath.clear();
  }

  bool custom = false;
  for (const char *flag : {"shape", "k", "v", "mask", "seed", "scale"})
    custom |= args.has(flag);
  if (custom) {
    opts.custom = BenchCase();
    opts.custom->name = "custom";
    SdpaConfig &c = opts.custom->config;
    c.headDim = 128;
    if (args.has("shape")) {
      std::vector<int64_t> dims = args.getIntList("shape", {}, /*min=*/1);
      if (dims.size() < 6 || dims.size() > 7)
        args.fail("--shape expects B,HQ,HKV,SQ,SKV,D[,DV]");
      int64_t *fields[] = {&c.batch, &c.qHeads,  &c.kvHeads,     &c.qLen,
                           &c.kvLen, &c.headDim, &c.valueHeadDim};
      for (size_t d = 0; d < std::min<size_t>(dims.size(), 7); ++d)
        *fields[d] = dims[d];
    }
    opts.custom->isDecode = c.qLen <= 16;
    for (const char *flag : {"k", "v"}) {
      std::optional<std::string> text = args.get(flag);
      if (!text)
        continue;
      if (std::optional<QuantScheme> scheme = parseScheme(*text))
        (flag[0] == 'k' ? c.key : c.value) = *scheme;
      else
        args.fail(std::string("--") + flag + ": bad scheme '" + *text + "'");
    }
    std::string mask = args.getString("mask", "none");
    if (mask == "none")
      c.mask = MaskKind::None;
    else if (mask == "explicit")
      c.mask = MaskKind::Explicit;
    else if (mask == "causal" || mask == "causal-br")
      c.mask = MaskKind::Causal, c.causalAlign = CausalAlign::BottomRight;
    else if (mask == "causal-tl")
      c.mask = MaskKind::Causal, c.causalAlign = CausalAlign::TopLeft;
    else
      args.fail("--mask: unknown mask '" + mask + "'");
    c.seed = args.getInt("seed", c.seed, /*min=*/0);
    if (args.has("scale"))
      c.scale = args.getDouble("scale", 0.0);
  }
  return args.error();
}

} // namespace

int main(int argc, char **argv) {
  Options opts;
  std::string err =
      parseOptions(std::vector<std::string>(argv + 1, argv + argc), opts);
  if (opts.help) {
    usage(argv[0]);
    return 0;
  }
  if (!err.empty()) {
    std::fprintf(stderr, "quantkv-bench: %s\n", err.c_str());
    return usage(argv[0]);
  }
  if (opts.quick) {
    opts.repeats = std::max(opts.repeats, 20);
    opts.warmup = std::min(opts.warmup, 2);
    opts.bandwidthMiB = std::min<int64_t>(opts.bandwidthMiB, 512);
    opts.naiveMaxKv = std::min<int64_t>(opts.naiveMaxKv, 1024);
  }

  std::vector<BenchCase> cases;
  if (opts.custom) {
    // One case per math mode listed, like the suite.
    for (const std::string &math : opts.mathModes) {
      BenchCase bc = *opts.custom;
      SdpaConfig &c = bc.config;
      c.math = parseMathMode(math).value_or(MathMode::F32);
      if (std::string err = c.verify(); !err.empty()) {
        std::fprintf(stderr, "quantkv-bench: invalid configuration: %s\n",
                     err.c_str());
        return 2;
      }
      bc.name = c.describe();
      cases.push_back(bc);
    }
  } else {
    cases = buildSuite(opts);
  }
  int64_t llc = lastLevelCacheBytes(opts);
  std::ofstream json(opts.jsonPath);
  if (!json) {
    std::fprintf(stderr, "quantkv-bench: cannot write %s\n",
                 opts.jsonPath.c_str());
    return 1;
  }
  std::vector<Measurement> all;
  int failures = 0;

  std::string hostCpu = llvm::sys::getHostCPUName().str();
  std::printf("%s\n", describeHost(hostCpu, opts).c_str());
  std::printf("%-44s %-12s %3s %12s %12s %9s %9s\n", "case", "impl", "thr",
              "median_us", "bytes", "GB/s", "GFLOP/s");
  auto report = [&](const Measurement &m) {
    std::printf("%-44s %-12s %3d %12.1f %12lld %9.2f %9.1f%s%s\n",
                m.caseName.c_str(), m.impl.c_str(), m.threads, m.medianUs,
                static_cast<long long>(m.bytesMoved), m.gbps,
                m.medianUs > 0 ? m.flops / m.medianUs / 1e3 : 0.0,
                m.note.empty() ? "" : "  ", m.note.c_str());
    std::fflush(stdout);
    writeJson(json, m, hostCpu);
    all.push_back(m);
  };

  std::optional<ReadBandwidthProbe> bandwidthProbe;
  if (!opts.checkOnly)
    bandwidthProbe.emplace(opts.bandwidthMiB << 20);
  for (int threads : opts.checkOnly ? std::vector<int>{} : opts.threads) {
    setNumThreads(threads);
    BandwidthResult bw = measureReadBandwidth(*bandwidthProbe, threads,
                                              opts.warmup, opts.repeats);
    Measurement m;
    m.caseName = "read_" + std::to_string(opts.bandwidthMiB) + "MiB";
    m.impl = "bandwidth";
    m.threads = threads;
    m.medianUs = bw.medianUs;
    m.bytesMoved = bw.bytes;
    m.gbps = bw.bytes / (bw.medianUs * 1e3);
    report(m);
  }

  // Arithmetic peaks, measured in the same run as the prefill cases they
  // judge: f32 FMA (also the peak of f16 math, which contracts f16-rounded
  // values with f32 FMAs: AVX512-FP16 has no f32-accumulating dot product)
  // and bf16 vdpbf16ps (4 flops per f32 lane per instruction).
  // On a shared machine a probe can be slowed by other processes: the peaks
  // are measured again right after each prefill measurement and the best
  // rate seen for a thread count is the peak.
  std::map<std::pair<std::string, int>, double> peaks; // (impl, threads)
  auto measurePeaks = [&](int threads) {
    // Each probe runs only where the host has its instruction's feature
    // (the f32 FMA is in every AVX-512 CPU).
    struct Probe {
      PeakKind kind;
      const char *impl, *instruction, *feature;
    };
    llvm::StringMap<bool> host = llvm::sys::getHostCPUFeatures();
    for (Probe probe :
         {Probe{PeakKind::F32Fma, "peak_f32", "vfmadd231ps_zmm", nullptr},
          Probe{PeakKind::Bf16Dot, "peak_bf16", "vdpbf16ps_zmm", "avx512bf16"},
          Probe{PeakKind::Int8Dot, "peak_int8", "vpdpbusd_zmm",
                "avx512vnni"}}) {
      auto [kind, impl, instruction, feature] = probe;
      if (feature && !host.lookup(feature))
        continue;
      PeakResult pr = measurePeak(kind, threads, opts.warmup, opts.repeats);
      Measurement m;
      m.caseName = instruction;
      m.impl = impl;
      m.threads = threads;
      m.medianUs = pr.bestUs; // best of the repeats (see PeakResult)
      m.flops = pr.flops;
      double &best = peaks[{impl, threads}];
      best = std::max(best, pr.gflops);
      report(m);
    }
  };
  bool anyPrefill = std::any_of(cases.begin(), cases.end(),
                                [](const BenchCase &c) { return !c.isDecode; });
  for (int threads : anyPrefill && !opts.checkOnly ? opts.threads
                                                   : std::vector<int>{})
    measurePeaks(threads);

  for (const BenchCase &bc : cases) {
    const SdpaConfig &cfg = bc.config;
    // Enough independent copies of the cache to exceed the last-level cache
    // (decode is judged from DRAM); prefill is compute-bound and uses one.
    auto probe = SdpaRunner::create(cfg, SdpaRunner::Target::Cpu, 1,
                                    opts.pipeline.get());
    if (!probe) {
      std::fprintf(stderr, "quantkv-bench: %s: %s\n", bc.name.c_str(),
                   llvm::toString(probe.takeError()).c_str());
      ++failures;
      continue;
    }
    int64_t perCopy = (*probe)->cacheBytes();
    int64_t copies =
        bc.isDecode && !opts.checkOnly
            ? std::max<int64_t>(1, 2 * llc / perCopy + 1)
            : 1;
    copies = std::min<int64_t>(copies, std::max<int64_t>(1, (int64_t(3) << 30) /
                                                                perCopy));
    (*probe)->replicate(copies);
    SdpaRunner &runner = **probe;

    if (opts.check) {
      if (auto err = runner.run(0)) {
        std::fprintf(stderr, "quantkv-bench: %s: %s\n", bc.name.c_str(),
                     llvm::toString(std::move(err)).c_str());
        ++failures;
        continue;
      }
      std::vector<double> ref = referenceSdpa(cfg, runner.data());
      ErrorStats stats = compareWithReference(runner.output(), ref,
                                              toleranceFor(cfg.math));
      std::printf("check %-40s max_abs=%.3g max_rel=%.3g %s\n",
                  bc.name.c_str(), stats.maxAbsError, stats.maxRelError,
                  stats.passed() ? "PASS" : "FAIL");
      if (!stats.passed()) {
        ++failures;
        std::vector<double> got = runner.output();
        int64_t at = stats.firstBadIndex;
        std::printf("  first bad element %lld: got %.6g, expected %.6g\n",
                    static_cast<long long>(at), got[at], ref[at]);
      }
    }

    for (int threads : opts.checkOnly ? std::vector<int>{} : opts.threads) {
      setNumThreads(threads);
      Measurement m;
      m.caseName = bc.name;
      m.isDecode = bc.isDecode;
      m.math = toString(cfg.math);
      m.threads = threads;
      m.kvLen = cfg.kvLen;
      m.flops = attentionFlops(cfg);
      m.impl = "quantkv";
      m.bytesMoved = perCopy;
      llvm::Error err = llvm::Error::success();
      auto run = [&](int it) {
        if (auto e = runner.run(it))
          err = std::move(e);
      };
      if (bc.isDecode) {
        PairedTiming paired =
            pairedWithBandwidth(*bandwidthProbe, threads, m.bytesMoved,
                                opts.warmup, opts.repeats, run);
        m.medianUs = paired.kernelUs;
        m.readGbps = paired.readGbps;
        m.bandwidthFraction = paired.fraction;
      } else {
        m.medianUs = medianUs(opts.warmup, opts.repeats, run);
      }
      if (err) {
        std::fprintf(stderr, "quantkv-bench: %s: %s\n", bc.name.c_str(),
                     llvm::toString(std::move(err)).c_str());
        ++failures;
        continue;
      }
      m.gbps = m.bytesMoved / (m.medianUs * 1e3);
      m.note = "copies=" + std::to_string(copies);
      if (m.readGbps > 0) {
        char pct[64];
        std::snprintf(pct, sizeof(pct), " %.0f%% of read bw %.2f",
                      100 * m.bandwidthFraction, m.readGbps);
        m.note += pct;
      }
      if (!bc.isDecode) {
        measurePeaks(threads);
        // Every math mode contracts on f32 FMAs (bf16/f16 on rounded
        // values, exact products); bf16 math is judged against the faster
        // of the f32 FMA and vdpbf16ps peaks.
        m.peak = cfg.math == MathMode::BF16 &&
                         peaks[{"peak_bf16", threads}] >
                             peaks[{"peak_f32", threads}]
                     ? "peak_bf16"
                     : "peak_f32";
        auto it = peaks.find({m.peak, threads});
        if (it != peaks.end() && it->second > 0) {
          m.peakFraction = m.flops / m.medianUs / 1e3 / it->second;
          char pct[64];
          std::snprintf(pct, sizeof(pct), " %.0f%% of %s", 100 * m.peakFraction,
                        m.peak.c_str());
          m.note += pct;
        } else {
          m.peak.clear();
        }
      }
      report(m);

      if (opts.onednn) {
        for (bool bf16 : {false, true}) {
          Measurement o = m;
          o.impl = bf16 ? "onednn_bf16" : "onednn_f32";
          o.note.clear();
          o.readGbps = o.bandwidthFraction = 0;
          auto base = OneDnnSdpa::create(cfg, runner, bf16);
          if (!base) {
            o.note = "unsupported: " + llvm::toString(base.takeError());
            o.medianUs = 0;
            o.gbps = 0;
            report(o);
            continue;
          }
          // Timed as quantkv's run was: a decode run follows a probe pass
          // (cold caches, as after a model layer's weight GEMVs) for both,
          // so the ratio compares runs started from the same state.
          auto runBase = [&](int it) { (*base)->run(it); };
          o.medianUs =
              bc.isDecode
                  ? pairedWithBandwidth(*bandwidthProbe, threads, o.bytesMoved,
                                        opts.warmup, opts.repeats, runBase)
                        .kernelUs
                  : medianUs(opts.warmup, opts.repeats, runBase);
          o.gbps = o.bytesMoved / (o.medianUs * 1e3);
          o.quantkvSpeedup = o.medianUs / m.medianUs;
          char speedup[64];
          std::snprintf(speedup, sizeof(speedup), "quantkv x%.1f",
                        o.quantkvSpeedup);
          o.note = speedup;
          if (opts.check && threads == opts.threads.front()) {
            (*base)->run(0);
            std::vector<double> ref = referenceSdpa(cfg, runner.data());
            ErrorStats stats = compareWithReference(
                (*base)->output(), ref,
                bf16 ? toleranceFor(MathMode::BF16) : toleranceFor(cfg.math));
            o.note +=
                std::string(" check ") + (stats.passed() ? "PASS" : "FAIL");
          }
          report(o);
        }
      }
      if (opts.naive && cfg.kvLen <= opts.naiveMaxKv && bc.isDecode) {
        auto ref = SdpaRunner::create(cfg, SdpaRunner::Target::Reference, 1);
        Measurement n = m;
        n.impl = "naive";
        n.note.clear();
        n.readGbps = n.bandwidthFraction = 0;
        if (!ref) {
          n.note = "failed: " + llvm::toString(ref.takeError());
          report(n);
          continue;
        }
        int reps = std::min(opts.repeats, 20);
        n.medianUs = medianUs(1, reps, [&](int) {
          llvm::consumeError((*ref)->run(0));
        });
        n.gbps = n.bytesMoved / (n.medianUs * 1e3);
        report(n);
      }
    }
  }

  printSummary(all);
  if (!opts.pngPath.empty())
    if (!writePanelPlot(
            opts.pngPath, plotPanels(all, opts.threads),
            "decode: quantkv and onednn 2.6 against the read bandwidth",
            plotNote(opts.threads), "skv (log2)", "gb/s"))
      std::fprintf(stderr, "quantkv-bench: could not write %s\n",
                   opts.pngPath.c_str());
  return failures ? 1 : 0;
}
