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
      {' ', "00000"}, {'%', "51245"}};
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

} // namespace

bool mlir::quantkv::bench::writeLinePlot(const std::string &path,
                                         const std::vector<PlotSeries> &series,
                                         const std::string &title, int width,
                                         int height) {
  Canvas c(width, height);
  const int left = 70, right = 300, top = 40, bottom = 60;
  double xmin = 1e30, xmax = -1e30, ymax = 0;
  for (const PlotSeries &s : series)
    for (auto [x, y] : s.points) {
      if (!s.horizontal) {
        xmin = std::min(xmin, x);
        xmax = std::max(xmax, x);
      }
      ymax = std::max(ymax, y);
    }
  if (xmin > xmax) {
    xmin = 1;
    xmax = 2;
  }
  if (xmin == xmax)
    xmax = xmin * 2;
  ymax = ymax > 0 ? ymax * 1.1 : 1;
  double lx0 = std::log2(xmin), lx1 = std::log2(xmax);
  int pw = width - left - right, ph = height - top - bottom;
  auto px = [&](double x) { return left + (std::log2(x) - lx0) / (lx1 - lx0) * pw; };
  auto py = [&](double y) { return top + ph - y / ymax * ph; };

  // Axes, ticks and labels.
  c.line(left, top, left, top + ph, 0x000000, 1);
  c.line(left, top + ph, left + pw, top + ph, 0x000000, 1);
  for (int i = 0; i <= 5; ++i) {
    double y = ymax * i / 5;
    c.line(left - 4, py(y), left + pw, py(y), 0xdddddd, 1);
    char buf[32];
    std::snprintf(buf, sizeof(buf), "%.0f", y);
    c.text(8, int(py(y)) - 5, buf, 0x000000);
  }
  for (double x = std::exp2(std::floor(lx0)); x <= xmax * 1.01; x *= 2) {
    if (x < xmin * 0.99)
      continue;
    c.line(px(x), top + ph, px(x), top + ph + 4, 0x000000, 1);
    char buf[32];
    if (x >= 1024)
      std::snprintf(buf, sizeof(buf), "%.0fk", x / 1024);
    else
      std::snprintf(buf, sizeof(buf), "%.0f", x);
    c.text(int(px(x)) - 8, top + ph + 10, buf, 0x000000);
  }
  c.text(left + pw / 2 - 20, height - 22, "skv", 0x000000);
  c.text(8, 10, "gb/s  " + title, 0x000000);

  static const uint32_t palette[] = {0x1f77b4, 0xff7f0e, 0x2ca02c, 0xd62728,
                                     0x9467bd, 0x8c564b, 0xe377c2, 0x7f7f7f,
                                     0xbcbd22, 0x17becf, 0x000000, 0x393b79};
  int legendY = top;
  for (size_t i = 0; i < series.size(); ++i) {
    const PlotSeries &s = series[i];
    uint32_t color = palette[i % (sizeof(palette) / sizeof(palette[0]))];
    if (s.horizontal && !s.points.empty()) {
      double y = py(s.points[0].second);
      c.line(left, y, left + pw, y, color, 2, 8);
    } else {
      for (size_t k = 0; k + 1 < s.points.size(); ++k)
        c.line(px(s.points[k].first), py(s.points[k].second),
               px(s.points[k + 1].first), py(s.points[k + 1].second), color);
      for (auto [x, y] : s.points)
        for (int dx = -3; dx <= 3; ++dx)
          for (int dy = -3; dy <= 3; ++dy)
            c.set(int(px(x)) + dx, int(py(y)) + dy, color);
    }
    c.line(left + pw + 15, legendY + 5, left + pw + 35, legendY + 5, color, 3,
           s.horizontal ? 4 : 0);
    c.text(left + pw + 42, legendY, s.label, 0x000000);
    legendY += 16;
  }
  return writePng(path, c);
}
