#pragma once
// Channel-grid atlas geometry, shared by the CPU tiler, the CUDA tiler (explain/ on the model's
// device), the atlas shader and click picking. The convention is normative; every producer
// must tile exactly like this:
//   cols = ceil(sqrt(N)) unless given, rows = ceil(N / cols), border b pixels around every tile;
//   tile i sits at column i % cols, row i / cols (row 0 at the top), its top-left pixel at
//   x = b + col * (w + b), y = b + row * (h + b); atlas W = b + cols * (w + b), H = b + rows * (h +
//   b).
// Pixel coordinates are image coordinates: y grows downwards, atlas row 0 is memory row 0.
#include <cmath>
#include <optional>
#include <string>

#include "util/error.h"

namespace camscope::render {

struct GridPick {
  int channel = 0;
  int x = 0, y = 0;  // pixel inside the channel's map
};

struct GridLayout {
  int count = 0;  // N channels
  int tile_w = 0, tile_h = 0;
  int cols = 0, rows = 0;
  int border = 0;

  // Throws camscope::Error on non-positive sizes or a negative border.
  static GridLayout make(int count, int tile_w, int tile_h, int border = 1, int cols = 0) {
    if (count <= 0 || tile_w <= 0 || tile_h <= 0)
      throw Error("channel grid: need at least one channel of positive size (got " +
                  std::to_string(count) + " x " + std::to_string(tile_w) + "x" +
                  std::to_string(tile_h) + ")");
    if (border < 0) throw Error("channel grid: border must be >= 0");
    if (cols < 0) throw Error("channel grid: columns must be >= 0 (0 = automatic)");
    GridLayout g;
    g.count = count;
    g.tile_w = tile_w;
    g.tile_h = tile_h;
    g.border = border;
    g.cols = cols > 0 ? cols : ceil_sqrt(count);
    g.rows = (count + g.cols - 1) / g.cols;
    return g;
  }

  bool valid() const { return count > 0 && tile_w > 0 && tile_h > 0 && cols > 0 && rows > 0; }
  int width() const { return border + cols * (tile_w + border); }
  int height() const { return border + rows * (tile_h + border); }
  int col_of(int i) const { return i % cols; }
  int row_of(int i) const { return i / cols; }
  int tile_x(int i) const { return border + col_of(i) * (tile_w + border); }
  int tile_y(int i) const { return border + row_of(i) * (tile_h + border); }

  // Atlas pixel -> channel and pixel inside it; none on borders, empty cells and outside.
  std::optional<GridPick> pick(int px, int py) const {
    if (!valid() || px < 0 || py < 0 || px >= width() || py >= height()) return std::nullopt;
    const int sx = px - border, sy = py - border;
    if (sx < 0 || sy < 0) return std::nullopt;
    const int col = sx / (tile_w + border), row = sy / (tile_h + border);
    const int x = sx % (tile_w + border), y = sy % (tile_h + border);
    if (x >= tile_w || y >= tile_h || col >= cols || row >= rows) return std::nullopt;
    const int ch = row * cols + col;
    if (ch >= count) return std::nullopt;
    return GridPick{ch, x, y};
  }

 private:
  // Exact integer ceil(sqrt(n)): floating sqrt can land just below a perfect square.
  static int ceil_sqrt(int n) {
    int c = static_cast<int>(std::sqrt(static_cast<double>(n)));
    while (c * c < n) ++c;
    while (c > 1 && (c - 1) * (c - 1) >= n) --c;
    return c;
  }
};

// Tiles channels [N, h, w] (row pitch `pitch_floats`, channel stride h * pitch_floats) into
// `atlas` (layout.width() * layout.height() floats, tightly packed); borders get `border_value`.
inline void tile_channels(const float* channels, size_t pitch_floats, const GridLayout& layout,
                          float border_value, float* atlas) {
  const size_t aw = static_cast<size_t>(layout.width());
  const size_t ah = static_cast<size_t>(layout.height());
  for (size_t i = 0; i < aw * ah; ++i) atlas[i] = border_value;
  for (int c = 0; c < layout.count; ++c) {
    const float* src = channels + static_cast<size_t>(c) * layout.tile_h * pitch_floats;
    float* dst = atlas + static_cast<size_t>(layout.tile_y(c)) * aw + layout.tile_x(c);
    for (int y = 0; y < layout.tile_h; ++y)
      for (int x = 0; x < layout.tile_w; ++x) dst[y * aw + x] = src[y * pitch_floats + x];
  }
}

}  // namespace camscope::render
