#pragma once
// Channel statistics of a [K, hw] float array in host memory, in plain loops: what
// channels.h's normalize_channels / channel_mean / tensor_stats compute with LibTorch ops, for
// the viewer's per-frame grid stage on the CPU, where ~40 small LibTorch ops cost about 0.8 ms
// of dispatch against ~0.05 ms of arithmetic. The results match those functions (the same
// float arithmetic for the normalized values and the histogram bins; sums in double).
// Every function returns false, leaving its outputs unspecified, when a value is not finite:
// the caller then takes the LibTorch path, which propagates NaN the way the rest of camscope
// reports it.
#include <cstdint>
#include <vector>

namespace camscope::explain {

// mean[k] = mean of channel k; normalized[k * hw + i] = (a - min_k) / (max_k - min_k), 0 for a
// constant channel. Either output may be null.
bool channel_summary_host(const float* a, int64_t K, int64_t hw, float* mean, float* normalized);

struct HostStats {
  double mean = 0, std = 0, min = 0, max = 0, dead_fraction = 0, lo = 0, hi = 0;
  std::vector<int64_t> histogram;
};
// tensor_stats(t, bins, gradient) of t viewed as [K, hw].
bool tensor_stats_host(const float* a, int64_t K, int64_t hw, int bins, bool gradient,
                       HostStats& out);

}  // namespace camscope::explain
