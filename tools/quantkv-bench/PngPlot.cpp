//===- PngPlot.cpp - a small line plot written as PNG ---------------------===//
//
// Part of the quantkv project, under the Apache License v2.0 with LLVM
// Exceptions.
//
//===----------------------------------------------------------------------===//
//
// No plotting library is assumed on the machine: the plot is rasterized here
// (lines, a 3x5 pixel font scaled 2x) and encoded as a PNG with zlib.
//
//===----------------------------------------------------------------------===//

#include "PngPlot.h"

#include <zlib.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <iterator>
#include <map>

using namespace mlir::quantkv::bench;

namespace {

struct Canvas {
  int w, h;
  std::vector<uint8_t> rgb;
  Canvas(int w, int h) : w(w), h(h), rgb(size_t(w) * h * 3, 255) {}
  void set(int x, int y, uint32_t c) {
    if (x < 0 || y < 0 || x >= w || y >= h)
      return;
    uint8_t *p = &rgb[(size_t(y) * w + x) * 3];
    p[0] = c >> 16;
    p[1] = (c >> 8) & 255;
    p[2] = c & 255;
  }
  void line(double x0, double y0, double x1, double y1, uint32_t c,
            int thick = 2, int dash = 0) {
    int steps = std::max(1, int(std::max(std::fabs(x1 - x0),
                                         std::fabs(y1 - y0))));
    for (int i = 0; i <= steps; ++i) {
      if (dash && (i / dash) % 2)
        continue;
      double t = double(i) / steps;
      int x = int(std::lround(x0 + (x1 - x0) * t));
      int y = int(std::lround(y0 + (y1 - y0) * t));
      for (int dx = 0; dx < thick; ++dx)
        for (int dy = 0; dy < thick; ++dy)
          set(x + dx, y + dy, c);
    }
  }
  void text(int x, int y, const std::string &s, uint32_t c, int scale = 2);
};

// 3x5 glyphs, rows top to bottom, 3 bits per row (MSB = left).
const std::map<char, const char *> &font() {
  static const std::map<char, const char *> glyphs = {
      {'0', "75557"}, {'1', "26227"}, {'2', "71747"}, {'3', "71717"},
      {'4', "55711"}, {'5', "74717"}, {'6', "74757"}, {'7', "71111"},
      {'8', "75757"}, {'9', "75717"}, {'a', "25755"}, {'b', "65656"},
      {'c', "34443"}, {'d', "65556"}, {'e', "74647"}, {'f', "74644"},
      {'g', "34553"}, {'h', "55755"}, {'i', "72227"}, {'j', "11153"},
      {'k', "55655"}, {'l', "44447"}, {'m', "57755"}, {'n', "65555"},
      {'o', "25552"}, {'p', "65644"}, {'q', "25573"}, {'r', "65655"},
      {'s', "34716"}, {'t', "72222"}, {'u', "55557"}, {'v', "55552"},
      {'w', "55775"}, {'x', "55255"}, {'y', "55222"}, {'z', "71247"},
      {'_', "00007"}, {'-', "00700"}, {'.', "00002"}, {':', "02020"},
      {'/', "11244"}, {'=', "07070"}, {'(', "24442"}, {')', "42224"},
      {' ', "00000"}, {'%', "51245"}, {',', "00024"}};
  return glyphs;
}

void Canvas::text(int x, int y, const std::string &s, uint32_t c, int scale) {
  for (char ch : s) {
    char lower = char(std::tolower(static_cast<unsigned char>(ch)));
    auto it = font().find(lower);
    if (it != font().end())
      for (int row = 0; row < 5; ++row) {
        int bits = it->second[row] - '0';
        for (int col = 0; col < 3; ++col)
          if (bits & (4 >> col))
            for (int dx = 0; dx < scale; ++dx)
              for (int dy = 0; dy < scale; ++dy)
                set(x + col * scale + dx, y + row * scale + dy, c);
      }
    x += 4 * scale;
  }
}

void putU32(std::vector<uint8_t> &out, uint32_t v) {
  for (int s = 24; s >= 0; s -= 8)
    out.push_back((v >> s) & 255);
}

void chunk(std::vector<uint8_t> &out, const char *type,
           const std::vector<uint8_t> &data) {
  putU32(out, data.size());
  std::vector<uint8_t> body(type, type + 4);
  body.insert(body.end(), data.begin(), data.end());
  out.insert(out.end(), body.begin(), body.end());
  putU32(out, crc32(0, body.data(), body.size()));
}

bool writePng(const std::string &path, const Canvas &c) {
  std::vector<uint8_t> raw;
  for (int y = 0; y < c.h; ++y) {
    raw.push_back(0); // filter: none
    raw.insert(raw.end(), c.rgb.begin() + size_t(y) * c.w * 3,
               c.rgb.begin() + size_t(y + 1) * c.w * 3);
  }
  uLongf zlen = compressBound(raw.size());
  std::vector<uint8_t> z(zlen);
  if (compress2(z.data(), &zlen, raw.data(), raw.size(), 9) != Z_OK)
    return false;
  z.resize(zlen);
  std::vector<uint8_t> png = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  std::vector<uint8_t> ihdr;
  putU32(ihdr, c.w);
  putU32(ihdr, c.h);
  ihdr.insert(ihdr.end(), {8, 2, 0, 0, 0}); // 8-bit RGB
  chunk(png, "IHDR", ihdr);
  chunk(png, "IDAT", z);
  chunk(png, "IEND", {});
  FILE *f = std::fopen(path.c_str(), "wb");
  if (!f)
    return false;
  bool ok = std::fwrite(png.data(), 1, png.size(), f) == png.size();
  return std::fclose(f) == 0 && ok;
}

/// Colours in legend order; the n-th distinct label takes the n-th.
constexpr uint32_t kPalette[] = {0x1f77b4, 0xd62728, 0x2ca02c, 0xff7f0e,
                                 0x9467bd, 0x8c564b, 0xe377c2, 0x17becf,
                                 0xbcbd22, 0x393b79, 0x7f7f7f, 0x000000};

struct Axes {
  double lx0, lx1, ymax;
};

/// One panel at (x0, y0) of size w x h: axes, grid, ticks, title and series.
void drawPanel(Canvas &c, int x0, int y0, int w, int h, const PlotPanel &panel,
               const Axes &axes,
               const std::map<std::string, uint32_t> &colorOf) {
  const int left = 50, top = 24, bottom = 34, right = 12;
  int pw = w - left - right, ph = h - top - bottom;
  int ox = x0 + left, oy = y0 + top;
  auto px = [&](double x) {
    return ox + (std::log2(x) - axes.lx0) / (axes.lx1 - axes.lx0) * pw;
  };
  auto py = [&](double y) { return oy + ph - y / axes.ymax * ph; };

  c.text(ox, y0 + 4, panel.title, 0x000000);
  c.line(ox, oy, ox, oy + ph, 0x000000, 1);
  c.line(ox, oy + ph, ox + pw, oy + ph, 0x000000, 1);
  for (int i = 0; i <= 4; ++i) {
    double y = axes.ymax * i / 4;
    c.line(ox - 4, py(y), ox + pw, py(y), 0xdddddd, 1);
    char buf[32];
    std::snprintf(buf, sizeof(buf), "%.0f", y);
    c.text(x0 + 8, int(py(y)) - 5, buf, 0x000000);
  }
  for (double x = std::exp2(std::ceil(axes.lx0 - 1e-9));
       std::log2(x) <= axes.lx1 + 1e-9; x *= 2) {
    c.line(px(x), oy + ph, px(x), oy + ph + 4, 0x000000, 1);
    char buf[32];
    if (x >= 1024)
      std::snprintf(buf, sizeof(buf), "%.0fk", x / 1024);
    else
      std::snprintf(buf, sizeof(buf), "%.0f", x);
    c.text(int(px(x)) - 8, oy + ph + 10, buf, 0x000000);
  }
  for (const PlotSeries &s : panel.series) {
    uint32_t color = colorOf.at(s.label);
    int dash = s.dashed ? 7 : 0;
    if (s.horizontal) {
      if (!s.points.empty())
        c.line(ox, py(s.points[0].second), ox + pw, py(s.points[0].second),
               color, 2, dash);
      continue;
    }
    for (size_t k = 0; k + 1 < s.points.size(); ++k)
      c.line(px(s.points[k].first), py(s.points[k].second),
             px(s.points[k + 1].first), py(s.points[k + 1].second), color, 2,
             dash);
    for (auto [x, y] : s.points)
      for (int dx = -2; dx <= 2; ++dx)
        for (int dy = -2; dy <= 2; ++dy)
          c.set(int(px(x)) + dx, int(py(y)) + dy, color);
  }
}

} // namespace

bool mlir::quantkv::bench::writePanelPlot(const std::string &path,
                                          const std::vector<PlotPanel> &panels,
                                          const std::string &title,
                                          const std::string &note,
                                          const std::string &xLabel,
                                          const std::string &yLabel) {
  const int panelW = 480, panelH = 330, header = 56, legendW = 250;
  int cols = panels.size() > 1 ? 2 : 1;
  int rows = std::max<int>(1, (panels.size() + cols - 1) / cols);
  Canvas c(cols * panelW + legendW, header + rows * panelH + 24);

  double xmin = 1e30, xmax = -1e30, ymax = 0;
  std::map<std::string, uint32_t> colorOf;
  std::vector<std::pair<std::string, bool>> legend; // label, horizontal
  for (const PlotPanel &panel : panels)
    for (const PlotSeries &s : panel.series) {
      for (auto [x, y] : s.points) {
        if (!s.horizontal) {
          xmin = std::min(xmin, x);
          xmax = std::max(xmax, x);
        }
        ymax = std::max(ymax, y);
      }
      if (!colorOf.count(s.label)) {
        colorOf[s.label] = kPalette[colorOf.size() % std::size(kPalette)];
        legend.push_back({s.label, s.horizontal});
      }
    }
  if (xmin > xmax)
    xmin = 1, xmax = 2;
  if (xmin == xmax) {
    // One sequence length (a custom case): its points in the middle.
    xmin /= 2;
    xmax *= 2;
  }
  Axes axes{std::log2(xmin), std::log2(xmax), ymax > 0 ? ymax * 1.1 : 1};

  c.text(8, 8, title, 0x000000);
  c.text(8, 26, note, 0x555555);
  for (size_t i = 0; i < panels.size(); ++i)
    drawPanel(c, int(i % cols) * panelW, header + int(i / cols) * panelH,
              panelW, panelH, panels[i], axes, colorOf);
  c.text(cols * panelW / 2 - 4 * int(xLabel.size()), c.h - 18, xLabel,
         0x000000);
  c.text(8, header - 14, yLabel, 0x000000);

  int lx = cols * panelW + 10, ly = header + 24;
  for (auto [label, horizontal] : legend) {
    c.line(lx, ly + 5, lx + 22, ly + 5, colorOf[label], horizontal ? 2 : 3);
    c.text(lx + 30, ly, label, 0x000000);
    ly += 18;
  }
  return writePng(path, c);
}
