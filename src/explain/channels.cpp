#include "explain/channels.h"

#include <algorithm>
#include <cmath>

#include "util/error.h"

namespace camscope::explain {

torch::Tensor normalize_channels(const torch::Tensor& A) {
  if (A.dim() != 3) throw Error("normalize_channels expects [K, h, w]");
  auto mn = A.amin({1, 2}, /*keepdim=*/true);
  auto range = A.amax({1, 2}, /*keepdim=*/true) - mn;
  // Constant channels: divide by 1 so they become exactly 0 instead of NaN.
  auto safe = torch::where(range > 0, range, torch::ones_like(range));
  return (A - mn) / safe;
}

int64_t GridLayout::tile_at(int64_t x, int64_t y) const {
  if (x < border || y < border) return -1;
  int64_t col = (x - border) / (tile_w + border), cx = (x - border) % (tile_w + border);
  int64_t row = (y - border) / (tile_h + border), cy = (y - border) % (tile_h + border);
  if (cx >= tile_w || cy >= tile_h || col >= cols || row >= rows) return -1;
  int64_t i = row * cols + col;
  return i < count ? i : -1;
}

GridLayout grid_layout(int64_t count, int64_t tile_h, int64_t tile_w, int64_t cols_hint,
                       int64_t border) {
  if (count < 1 || tile_h < 1 || tile_w < 1) throw Error("channel grid needs at least one tile");
  if (border < 0) throw Error("grid border must be >= 0");
  GridLayout g;
  g.count = count;
  g.tile_h = tile_h;
  g.tile_w = tile_w;
  g.border = border;
  if (cols_hint > 0) {
    g.cols = cols_hint;
  } else {
    g.cols = static_cast<int64_t>(std::ceil(std::sqrt(static_cast<double>(count))));
    // Guard against sqrt rounding for perfect squares of large counts.
    while (g.cols * g.cols < count) ++g.cols;
    while (g.cols > 1 && (g.cols - 1) * (g.cols - 1) >= count) --g.cols;
  }
  g.rows = (count + g.cols - 1) / g.cols;
  return g;
}

torch::Tensor make_grid(const torch::Tensor& A, int64_t cols, int64_t border, double pad_value) {
  if (A.dim() != 3 && A.dim() != 4) throw Error("make_grid expects [K, h, w] or [K, C, h, w]");
  auto T = A.dim() == 3 ? A.unsqueeze(1) : A;  // [K, C, h, w]
  const int64_t K = T.size(0), C = T.size(1), h = T.size(2), w = T.size(3);
  GridLayout g = grid_layout(K, h, w, cols, border);
  // Pad the channel list to a full rows x cols block, add the border to the right/bottom of each
  // tile, then one permute + reshape lays all tiles out at once (no per-tile copies).
  const int64_t n = g.rows * g.cols;
  auto tiles = torch::full({n, C, h + border, w + border}, pad_value, T.options());
  tiles.narrow(0, 0, K).narrow(2, 0, h).narrow(3, 0, w).copy_(T);
  auto body = tiles.reshape({g.rows, g.cols, C, h + border, w + border})
                  .permute({2, 0, 3, 1, 4})
                  .reshape({C, g.rows * (h + border), g.cols * (w + border)});
  auto atlas = torch::full({C, g.height(), g.width()}, pad_value, T.options());
  atlas.narrow(1, border, body.size(1)).narrow(2, border, body.size(2)).copy_(body);
  return A.dim() == 3 ? atlas[0] : atlas;
}

torch::Tensor channel_mean(const torch::Tensor& A) {
  if (A.dim() < 2) throw Error("channel_mean expects [K, ...]");
  return A.reshape({A.size(0), -1}).mean(1);
}

std::vector<int64_t> top_k(const torch::Tensor& scores, int64_t k) {
  auto s = scores.flatten().to(torch::kCPU, torch::kDouble);
  k = std::max<int64_t>(0, std::min<int64_t>(k, s.numel()));
  std::vector<int64_t> out;
  if (k == 0) return out;
  auto idx = std::get<1>(s.topk(k, 0, /*largest=*/true, /*sorted=*/true));
  auto a = idx.accessor<int64_t, 1>();
  for (int64_t i = 0; i < k; ++i) out.push_back(a[i]);
  return out;
}

Stats tensor_stats(const torch::Tensor& t, int bins, bool gradient) {
  if (!t.defined() || t.numel() == 0) throw Error("statistics of an empty tensor");
  if (bins < 1) throw Error("histogram needs at least one bin");
  auto x = t.detach().to(torch::kFloat);
  Stats s;
  auto mm = torch::stack({x.mean(), x.std(/*unbiased=*/false), x.min(), x.max()}).cpu();
  auto a = mm.accessor<float, 1>();
  s.mean = a[0];
  s.std = a[1];
  s.min = a[2];
  s.max = a[3];
  s.lo = s.min;
  s.hi = s.max > s.min ? s.max : s.min + 1.0;  // a constant tensor still gets a valid range
  auto h = torch::histc(x.flatten(), bins, s.lo, s.hi).to(torch::kCPU, torch::kLong);
  s.histogram.assign(h.data_ptr<int64_t>(), h.data_ptr<int64_t>() + bins);
  auto per = x.reshape({x.size(0), -1});
  auto dead = gradient ? (per == 0).all(1) : (per <= 0).all(1);
  s.dead_fraction = dead.to(torch::kDouble).mean().item<double>();
  return s;
}

}  // namespace camscope::explain
