//===- quantkv-fuzz-ops.cpp - libFuzzer target over generated quantkv ops -===//
//
// Part of the quantkv project, under the Apache License v2.0 with LLVM
// Exceptions.
//
//===----------------------------------------------------------------------===//
//
// Mutated MLIR text rarely stays valid (a few inputs in a thousand), so the
// lowerings see little of it. This target reads its input as a stream of
// choices instead and writes one or two functions, each holding a
// quantkv.sdpa, quantkv.dequantize or quantkv.quantize. Half of the programs
// are tame: valid, small, head dims the fused kernel takes, every element
// type, granularity (groups along any dim, broadcast scale dims), zero point,
// mask, causal alignment, math mode and scale. The other half are wild: edge
// sizes (0, odd, dynamic, rank 0), and now and then a broken rule (a scale or
// zero point of the wrong shape or type, a bad axis or group, a mask of the
// wrong rank, a zero or NaN scale) to probe the verifier right at its rules.
// CompilerOracle.h says what is checked.
//
// QUANTKV_FUZZ_PRINT=1 prints each generated program (to turn a crashing
// input into a .mlir regression test).
//
//===----------------------------------------------------------------------===//

#include "CompilerOracle.h"

#include "llvm/Support/raw_ostream.h"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <initializer_list>
#include <string>
#include <vector>

namespace {

constexpr int64_t kDynamic = -1;

/// The input as a stream of choices; past its end every choice is 0.
class Choices {
public:
  Choices(const uint8_t *data, size_t size) : data(data), size(size) {}

  /// A value in [0, n).
  uint64_t below(uint64_t n) {
    if (n <= 1)
      return 0;
    uint64_t v = next();
    if (n > 256)
      v = v << 8 | next();
    return v % n;
  }
  /// True with about `percent` % probability.
  bool percent(unsigned p) { return below(100) < p; }
  template <typename T> T pick(std::initializer_list<T> choices) {
    return choices.begin()[below(choices.size())];
  }
  /// A rule-breaking choice: never in a tame program (which aims at valid
  /// IR the fused kernel handles), with probability `p` % otherwise.
  bool breakRule(unsigned p) { return wild && percent(p); }

  /// Half of the programs are wild: edge sizes, broken rules.
  bool wild = true;

private:
  uint8_t next() { return pos < size ? data[pos++] : 0; }
  const uint8_t *data;
  size_t size;
  size_t pos = 0;
};

using Shape = std::vector<int64_t>;

std::string tensorType(const Shape &shape, const std::string &element) {
  std::string s = "tensor<";
  for (int64_t d : shape)
    s += (d == kDynamic ? std::string("?") : std::to_string(d)) + "x";
  return s + element + ">";
}

/// A dim size: mostly small and kernel-friendly, sometimes 0, odd or dynamic.
int64_t dimSize(Choices &c) {
  if (!c.wild)
    return c.pick<int64_t>({1, 1, 2, 3, 4, 5, 7, 8, 16, 33});
  return c.pick<int64_t>({1, 1, 2, 3, 4, 5, 7, 8, 16, 16, 32, 64, 17, 0,
                          kDynamic, 128});
}

/// A head dim: multiples of 16 in tame programs (the fused kernel's lanes).
int64_t headDim(Choices &c) {
  return c.wild ? dimSize(c) : c.pick<int64_t>({16, 32, 64});
}

std::string intType(Choices &c) {
  if (c.breakRule(15))
    return c.pick<const char *>({"i8", "si32"});
  return c.pick<const char *>({"si4", "ui4", "si8", "ui8"});
}
std::string floatType(Choices &c) {
  if (c.breakRule(10))
    return "f64";
  return c.pick<const char *>({"f32", "f32", "f16", "bf16"});
}
std::string zeroPointType(Choices &c) {
  if (c.breakRule(10))
    return "f16";
  return c.pick<const char *>({"si4", "ui4", "si8", "ui8", "si32", "f32"});
}

/// A granularity attribute for a source of `src` and the scale shape it
/// expects, mutated now and then (wrong axis, wrong group rank, a group that
/// does not divide, a scale dim off).
struct Quant {
  std::string attr;
  Shape scale;
};

Quant granularity(Choices &c, const Shape &src) {
  Quant q;
  int64_t rank = src.size();
  switch (c.below(3)) {
  case 0:
    q.attr = "#quantkv.per_tensor";
    q.scale = {1};
    break;
  case 1: {
    int64_t axis = !c.breakRule(10) && rank > 0 ? int64_t(c.below(rank))
                                                : c.pick<int64_t>({-1, 4, 9});
    q.attr = "#quantkv.per_channel<axis = " + std::to_string(axis) + ">";
    q.scale = {axis >= 0 && axis < rank ? src[axis] : 3};
    break;
  }
  default: {
    int64_t groupRank = c.breakRule(8) ? int64_t(c.below(6)) : rank;
    Shape group;
    for (int64_t d = 0; d < groupRank; ++d) {
      int64_t size = d < rank ? src[d] : 4;
      int64_t g = 1;
      switch (c.below(5)) {
      case 0:
        g = size > 0 ? size : 1; // broadcast scale dim
        break;
      case 1:
        g = 1;
        break;
      case 2:
        for (int64_t k : {16, 8, 4, 2, 3})
          if (size > k && size % k == 0) {
            g = k;
            break;
          }
        break;
      default:
        g = c.wild ? c.pick<int64_t>({2, 3, 4, 8, 16, 32, 0}) : 1;
      }
      group.push_back(g);
    }
    if (group.empty())
      q.attr = "#quantkv.per_group<[]>";
    else {
      q.attr = "#quantkv.per_group<[";
      for (size_t i = 0; i < group.size(); ++i)
        q.attr += (i ? ", " : "") + std::to_string(group[i]);
      q.attr += "]>";
    }
    for (int64_t d = 0; d < rank; ++d) {
      int64_t g = d < groupRank && group[d] > 0 ? group[d] : 1;
      int64_t size = src[d];
      q.scale.push_back(size == kDynamic ? kDynamic
                                         : (g >= size ? 1 : size / g));
    }
    if (q.scale.empty())
      q.scale = {1};
  }
  }
  if (c.breakRule(10) && !q.scale.empty())
    q.scale[c.below(q.scale.size())] = dimSize(c);
  return q;
}

/// Function arguments and op text built together.
struct Program {
  std::vector<std::string> args;
  int next = 0;
  std::string arg(const std::string &type) {
    std::string name = "%a" + std::to_string(next++);
    args.push_back(name + ": " + type);
    return name;
  }
};

std::string quantOperands(Choices &c, Program &p, const Shape &src,
                          bool isInt, const char *prefix, std::string &attr) {
  std::string text;
  if (!isInt && !c.breakRule(4))
    return text;
  Quant q = granularity(c, src);
  std::string scaleType = tensorType(q.scale, floatType(c));
  if (!c.breakRule(3))
    text += std::string(" ") + prefix + "scale(" + p.arg(scaleType) + " : " +
            scaleType + ")";
  if (c.percent(40)) {
    Shape zp = q.scale;
    if (c.breakRule(8))
      zp.push_back(1);
    std::string zpType = tensorType(zp, zeroPointType(c));
    text += std::string(" ") + prefix + "zero_point(" + p.arg(zpType) +
            " : " + zpType + ")";
  }
  if (!c.breakRule(3))
    attr = q.attr;
  return text;
}

std::string sdpa(Choices &c, Program &p) {
  int64_t b = dimSize(c);
  int64_t hkv = c.breakRule(20) ? c.pick<int64_t>({0, kDynamic})
                                : c.pick<int64_t>({1, 1, 2, 3});
  int64_t hq = hkv == kDynamic ? kDynamic
                               : hkv * c.pick<int64_t>({1, 1, 2, 4, 3});
  if (c.breakRule(5))
    hq = dimSize(c);
  int64_t sq = dimSize(c), skv = dimSize(c), d = headDim(c);
  int64_t dv = c.percent(80) ? d : headDim(c);
  bool bds = c.wild && c.percent(25);
  std::string qElem = c.pick<const char *>({"f32", "f32", "f16", "bf16"});
  Shape qShape = {b, hq, sq, d};
  Shape kShape = bds ? Shape{b, hkv, d, skv} : Shape{b, hkv, skv, d};
  Shape vShape = {b, hkv, skv, dv};
  Shape oShape = {b, hq, sq, dv};
  if (c.breakRule(5))
    kShape[c.below(4)] = dimSize(c);
  if (c.breakRule(5))
    vShape[c.below(4)] = dimSize(c);
  bool kInt = c.percent(75), vInt = c.percent(65);
  std::string kElem = kInt ? intType(c) : floatType(c);
  std::string vElem = vInt ? intType(c) : floatType(c);

  std::string qT = tensorType(qShape, qElem), kT = tensorType(kShape, kElem),
              vT = tensorType(vShape, vElem), oT = tensorType(oShape, qElem);
  std::string kAttr, vAttr;
  std::string ops = "q(" + p.arg(qT) + " : " + qT + ") k(" + p.arg(kT) +
                    " : " + kT + ")";
  ops += quantOperands(c, p, kShape, kInt, "k_", kAttr);
  ops += " v(" + p.arg(vT) + " : " + vT + ")";
  ops += quantOperands(c, p, vShape, vInt, "v_", vAttr);
  if (c.percent(30)) {
    int64_t rank = c.breakRule(10) ? c.pick<int64_t>({1, 5}) : 2 + c.below(3);
    Shape full = {b, hq, sq, skv}, mask;
    for (int64_t i = 0; i < rank; ++i) {
      int64_t fullDim = 4 - rank + i;
      int64_t size = fullDim >= 0 && fullDim < 4 ? full[fullDim] : 2;
      mask.push_back(c.percent(50) ? 1 : (c.breakRule(10) ? dimSize(c) : size));
    }
    std::string mT = tensorType(mask, floatType(c));
    ops += " mask(" + p.arg(mT) + " : " + mT + ")";
  }
  bool dynamicScale = c.percent(10);
  bool scaleAttr = c.percent(25) && (!dynamicScale || c.breakRule(20));
  if (dynamicScale)
    ops += " dynamic_scale(" + p.arg("f32") + ")";
  ops += " outs(" + p.arg(oT) + " : " + oT + ")";

  std::vector<std::string> attrs;
  if (!kAttr.empty())
    attrs.push_back("key_quant = " + kAttr);
  if (!vAttr.empty())
    attrs.push_back("value_quant = " + vAttr);
  if (bds)
    attrs.push_back("key_layout = #quantkv.k_layout<bds>");
  if (c.percent(30))
    attrs.push_back(std::string("causal = #quantkv.causal<") +
                    c.pick<const char *>({"top_left", "bottom_right"}) + ">");
  if (c.percent(50)) {
    std::string mode = c.pick<const char *>({"strict", "bf16", "f16", "int8"});
    if (mode == "int8" && !kInt && !c.wild)
      mode = "strict"; // int8 math needs an integer K
    attrs.push_back("math_mode = #quantkv.math_mode<" + mode + ">");
  }
  if (scaleAttr)
    attrs.push_back(std::string("scale = ") +
                    (c.breakRule(30) ? c.pick<const char *>(
                                           {"0.0", "0x7FC00000", "0x7F800000"})
                                     : c.pick<const char *>({"0.125", "1.0",
                                                             "30.0", "1.0e-30",
                                                             "-1.0"})) +
                    " : f32");
  std::string attrText;
  for (size_t i = 0; i < attrs.size(); ++i)
    attrText += (i ? ", " : " {") + attrs[i];
  if (!attrText.empty())
    attrText += "}";
  return "  %r = quantkv.sdpa " + ops + attrText + " : " + oT +
         "\n  return %r : " + oT + "\n";
}

std::string quantizeOrDequantize(Choices &c, Program &p, bool dequantize) {
  int64_t rank = c.breakRule(5) ? 0 : 1 + c.below(4);
  Shape shape;
  for (int64_t i = 0; i < rank; ++i)
    shape.push_back(dimSize(c));
  std::string intElem = intType(c), floatElem = floatType(c);
  std::string in = tensorType(shape, dequantize ? intElem : floatElem);
  Shape resultShape = shape;
  if (c.breakRule(4) && rank > 0)
    resultShape[c.below(rank)] = dimSize(c);
  std::string out = tensorType(resultShape, dequantize ? floatElem : intElem);
  std::string attr;
  std::string text = std::string("  %r = quantkv.") +
                     (dequantize ? "dequantize " : "quantize ") + p.arg(in);
  text += quantOperands(c, p, shape, /*isInt=*/true, "", attr);
  if (attr.empty())
    attr = "#quantkv.per_tensor";
  text += " granularity(" + attr + ") : " + in + " -> " + out + "\n";
  return text + "  return %r : " + out + "\n";
}

} // namespace

extern "C" int LLVMFuzzerInitialize(int *argc, char ***argv) {
  quantkv_fuzz::initialize();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  Choices c(data, size);
  c.wild = c.percent(50);
  std::string module;
  for (int f = 0, e = 1 + c.below(2); f < e; ++f) {
    Program p;
    std::string body;
    uint64_t kind = c.below(10);
    if (kind < 6)
      body = sdpa(c, p);
    else
      body = quantizeOrDequantize(c, p, /*dequantize=*/kind < 8);
    std::string result = body.substr(body.rfind(" : ") + 3);
    result.pop_back(); // the newline
    module += "func.func @f" + std::to_string(f) + "(";
    for (size_t i = 0; i < p.args.size(); ++i)
      module += (i ? ", " : "") + p.args[i];
    module += ") -> " + result + " {\n" + body + "}\n";
  }
  static bool print = std::getenv("QUANTKV_FUZZ_PRINT") != nullptr;
  if (print)
    llvm::errs() << module << "// -----\n";
  quantkv_fuzz::checkSource(module);
  return 0;
}
