//===- Args.cpp - quantkv-run command-line parsing ------------------------===//
//
// Part of the quantkv project, under the Apache License v2.0 with LLVM
// Exceptions.
//
//===----------------------------------------------------------------------===//

#include "Args.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>

using namespace quantkv_run;

std::vector<std::string> quantkv_run::splitList(const std::string &text) {
  std::vector<std::string> items;
  size_t start = 0;
  while (start <= text.size()) {
    size_t comma = text.find(',', start);
    if (comma == std::string::npos)
      comma = text.size();
    if (comma > start)
      items.push_back(text.substr(start, comma - start));
    start = comma + 1;
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
                                      const std::vector<int64_t> &dflt) {
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
    out.push_back(v);
  }
  if (out.empty())
    fail("--" + flag + " is empty");
  return out;
}

std::vector<std::string>
Args::getList(const std::string &flag, const std::vector<std::string> &dflt) {
  std::optional<std::string> text = get(flag);
  if (!text)
    return dflt;
  std::vector<std::string> out = splitList(*text);
  if (out.empty())
    fail("--" + flag + " is empty");
  return out;
}
