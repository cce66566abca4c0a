#pragma once
// Channel tools: per-channel normalization, the channel-grid atlas, channel ranking and
// activation/gradient statistics. All on the tensor's device.
#include <torch/script.h>

#include <cstdint>
#include <vector>

namespace camscope::explain {

// Each channel of A [K, h, w] scaled to [0, 1] by (x - min) / (max - min); constant channels
// become 0.
torch::Tensor normalize_channels(const torch::Tensor& A);

// Atlas layout shared with gpu/'s GridLayout (same numbers, both sides):
//   cols = cols_hint > 0 ? cols_hint : ceil(sqrt(K)), rows = ceil(K / cols),
//   tile i at column i % cols, row i / cols (row 0 = top), top-left corner at
//   x = b + col * (w + b), y = b + row * (h + b); atlas W = b + cols * (w + b),
//   H = b + rows * (h + b), b = border. Unused tiles and borders hold pad_value.
struct GridLayout {
  int64_t count = 0, tile_h = 0, tile_w = 0, border = 0, cols = 0, rows = 0;
  int64_t width() const { return border + cols * (tile_w + border); }
  int64_t height() const { return border + rows * (tile_h + border); }
  int64_t tile_x(int64_t i) const { return border + (i % cols) * (tile_w + border); }
  int64_t tile_y(int64_t i) const { return border + (i / cols) * (tile_h + border); }
  // Tile index under atlas pixel (x, y), or -1 for a border/unused tile.
  int64_t tile_at(int64_t x, int64_t y) const;
};
GridLayout grid_layout(int64_t count, int64_t tile_h, int64_t tile_w, int64_t cols_hint = 0,
                       int64_t border = 1);

// A [K, h, w] -> [H_atlas, W_atlas]; A [K, C, h, w] -> [C, H_atlas, W_atlas] (e.g. RGB filters).
torch::Tensor make_grid(const torch::Tensor& A, int64_t cols = 0, int64_t border = 1,
                        double pad_value = 0.0);

// Channel scores [K].
torch::Tensor channel_mean(const torch::Tensor& A);  // mean_ij A_k
// Indices of the k largest scores, largest first (k clamped to K).
std::vector<int64_t> top_k(const torch::Tensor& scores, int64_t k);

struct Stats {
  double mean = 0, std = 0, min = 0, max = 0;
  double dead_fraction = 0;        // channels that are <= 0 everywhere (activations) / == 0 (grads)
  double lo = 0, hi = 0;           // histogram range (min .. max)
  std::vector<int64_t> histogram;  // `bins` counts over [lo, hi]
};
// Statistics of a [K, ...] tensor. `gradient` selects the dead-channel rule (== 0 everywhere
// instead of <= 0 everywhere).
Stats tensor_stats(const torch::Tensor& t, int bins = 64, bool gradient = false);

}  // namespace camscope::explain
