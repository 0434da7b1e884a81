//===- PngPlot.h - a small line plot written as PNG -------------*- C++ -*-===//
//
// Part of the quantkv project, under the Apache License v2.0 with LLVM
// Exceptions.
//
//===----------------------------------------------------------------------===//

#ifndef QUANTKV_TOOLS_QUANTKV_BENCH_PNGPLOT_H
#define QUANTKV_TOOLS_QUANTKV_BENCH_PNGPLOT_H

#include <string>
#include <utility>
#include <vector>

namespace mlir::quantkv::bench {

struct PlotSeries {
  /// The legend entry: series with the same label are drawn in the same
  /// colour in every panel.
  std::string label;
  /// (x, y) points; x is drawn on a log2 axis.
  std::vector<std::pair<double, double>> points;
  /// Draw as a horizontal line at points[0].second (a roofline).
  bool horizontal = false;
  /// Dashed instead of solid (e.g. the second thread count).
  bool dashed = false;
};

/// One chart of a panel grid.
struct PlotPanel {
  std::string title;
  std::vector<PlotSeries> series;
};

/// Writes an RGB PNG (zlib-compressed) of `panels` as a grid of line charts,
/// two per row, with a common log2 x axis (`xLabel`), a common y axis
/// (`yLabel`, from 0 to the largest value), a legend of the labels shared
/// by all panels, and `title` and `note` lines on top. Returns false on I/O
/// error.
bool writePanelPlot(const std::string &path,
                    const std::vector<PlotPanel> &panels,
                    const std::string &title, const std::string &note,
                    const std::string &xLabel, const std::string &yLabel);

} // namespace mlir::quantkv::bench

#endif // QUANTKV_TOOLS_QUANTKV_BENCH_PNGPLOT_H
