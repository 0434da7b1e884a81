//===- PngPlot.h - a small line plot written as PNG -------------*- C++ -*-===//
//
// Part of the quantkv project, under the Apache License v2.0 with LLVM
// Exceptions.
//
//===----------------------------------------------------------------------===//

#ifndef QUANTKV_TOOLS_QUANTKV_BENCH_PNGPLOT_H
#define QUANTKV_TOOLS_QUANTKV_BENCH_PNGPLOT_H

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace mlir::quantkv::bench {

struct PlotSeries {
  std::string label;
  /// (x, y) points; x is drawn on a log2 axis.
  std::vector<std::pair<double, double>> points;
  /// Draw as a horizontal dashed line at points[0].second.
  bool horizontal = false;
};

/// Writes a `width` x `height` RGB PNG (zlib-compressed) of the series: GB/s
/// against Skv, a colour per series and a legend. Returns false on I/O error.
bool writeLinePlot(const std::string &path,
                   const std::vector<PlotSeries> &series,
                   const std::string &title, int width = 900,
                   int height = 600);

} // namespace mlir::quantkv::bench

#endif // QUANTKV_TOOLS_QUANTKV_BENCH_PNGPLOT_H
