#include "explain/host_stats.h"

#include <algorithm>
#include <cmath>

namespace camscope::explain {
namespace {

// One channel's min, max, sum and dead flags in one pass; false at a non-finite value.
struct ChannelScan {
  float min = 0, max = 0;
  double sum = 0;
  bool all_le_zero = true, all_zero = true;
};
bool scan_channel(const float* c, int64_t hw, ChannelScan& s) {
  s = ChannelScan{};
  s.min = s.max = c[0];
  for (int64_t i = 0; i < hw; ++i) {
    const float v = c[i];
    if (!std::isfinite(v)) return false;
    s.min = std::min(s.min, v);
    s.max = std::max(s.max, v);
    s.sum += v;
    s.all_le_zero = s.all_le_zero && v <= 0.f;
    s.all_zero = s.all_zero && v == 0.f;
  }
  return true;
}

}  // namespace

bool channel_summary_host(const float* a, int64_t K, int64_t hw, float* mean, float* normalized) {
  if (K < 0 || hw <= 0) return false;
  ChannelScan s;
  for (int64_t k = 0; k < K; ++k) {
    const float* c = a + k * hw;
    if (!scan_channel(c, hw, s)) return false;
    if (mean) mean[k] = static_cast<float>(s.sum / static_cast<double>(hw));
    if (normalized) {
      // As normalize_channels: (x - min) / range in float, range 1 for a constant channel.
      const float range = s.max - s.min;
      const float safe = range > 0.f ? range : 1.f;
      float* out = normalized + k * hw;
      for (int64_t i = 0; i < hw; ++i) out[i] = (c[i] - s.min) / safe;
    }
  }
  return true;
}

bool tensor_stats_host(const float* a, int64_t K, int64_t hw, int bins, bool gradient,
                       HostStats& out) {
  const int64_t n = K * hw;
  if (K <= 0 || hw <= 0 || bins < 1) return false;
  float mn = a[0], mx = a[0];
  double sum = 0;
  int64_t dead = 0;
  ChannelScan s;
  for (int64_t k = 0; k < K; ++k) {
    if (!scan_channel(a + k * hw, hw, s)) return false;
    mn = std::min(mn, s.min);
    mx = std::max(mx, s.max);
    sum += s.sum;
    dead += gradient ? s.all_zero : s.all_le_zero;
  }
  const double mean = sum / static_cast<double>(n);
  double sq = 0;
  for (int64_t i = 0; i < n; ++i) {
    const double d = a[i] - mean;
    sq += d * d;
  }
  out.mean = static_cast<float>(mean);
  out.std = static_cast<float>(std::sqrt(sq / static_cast<double>(n)));  // population
  out.min = mn;
  out.max = mx;
  out.lo = out.min;
  out.hi = out.max > out.min ? out.max : out.min + 1.0;
  out.dead_fraction = static_cast<double>(dead) / static_cast<double>(K);
  // torch.histc's bins: edges in float, pos = (x - left) * bins / (right - left) truncated,
  // the right edge counted in the last bin.
  out.histogram.assign(static_cast<size_t>(bins), 0);
  const float left = static_cast<float>(out.lo), right = static_cast<float>(out.hi);
  for (int64_t i = 0; i < n; ++i) {
    const float v = a[i];
    if (v < left || v > right) continue;
    int64_t pos = static_cast<int64_t>((v - left) * static_cast<float>(bins) / (right - left));
    if (pos >= bins) pos = bins - 1;
    ++out.histogram[static_cast<size_t>(pos)];
  }
  return true;
}

}  // namespace camscope::explain
