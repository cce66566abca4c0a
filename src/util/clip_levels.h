#pragma once
// Outlier clipping of pixel-space maps (the display's "clip top %"): the value at which the top
// `percent` % of a map's values begin, by nearest rank. The host path computes it from the
// map's values; the device path, which never copies a map to the host, publishes the values at
// a fixed set of percents (computed on the device) and the display picks the nearest. Both use
// the same rank rule, so at the listed percents they agree exactly.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <vector>

namespace camscope {

// Index (ascending order) of the value where the top `percent` % begins among n values.
inline size_t clip_rank(size_t n, float percent) {
  const double q = std::clamp(1.0 - static_cast<double>(percent) / 100.0, 0.0, 1.0);
  return std::min(n - 1, static_cast<size_t>(q * static_cast<double>(n - 1) + 0.5));
}

// The value a clip level saturates at: itself, unless the top values are all equal, zero or not
// finite (nothing to clip).
inline float clip_saturation(float v) { return v > 1e-6f && std::isfinite(v) ? std::min(v, 1.f) : 1.f; }

// The percents the device path publishes: 0.1 .. 10 in steps of 0.1 (the slider's range and
// resolution), then 11 .. 50 in steps of 1 (the settings file and script allow up to 50).
inline const std::vector<float>& clip_level_percents() {
  static const std::vector<float> kPercents = [] {
    std::vector<float> p;
    for (int i = 1; i <= 100; ++i) p.push_back(static_cast<float>(i) / 10.f);
    for (int i = 11; i <= 50; ++i) p.push_back(static_cast<float>(i));
    return p;
  }();
  return kPercents;
}

// The saturation value for `percent` from published levels (one per clip_level_percents()),
// at the nearest listed percent; 1 when percent <= 0 or there are no levels.
inline float clip_from_levels(const std::vector<float>& levels, float percent) {
  const std::vector<float>& p = clip_level_percents();
  if (!(percent > 0.f) || levels.size() != p.size()) return 1.f;
  size_t best = 0;
  for (size_t i = 1; i < p.size(); ++i)
    if (std::fabs(p[i] - percent) < std::fabs(p[best] - percent)) best = i;
  return clip_saturation(levels[best]);
}

}  // namespace camscope
