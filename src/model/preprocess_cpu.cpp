// The CPU preprocessing path: a separable resampler in plain C++ that reproduces LibTorch's
// CPU kernels value for value (upsample_bilinear2d and _upsample_bilinear2d_aa, both with
// align_corners = false), computing only the crop window. The tap formulas keep LibTorch's
// float/double mix on purpose: the window bounds are truncations, so computing them in another
// precision could move a tap at the edge.
#include <algorithm>
#include <array>
#include <cmath>
#include <vector>

#include <torch/version.h>

#include "model/preprocess.h"
#include "util/error.h"

namespace camscope::model {
namespace {

// Taps of the output indices [first, first + n) of one axis: tap k of output i reads input
// index[i * stride + k] with weight[i * stride + k], for k < count[i].
struct AxisTaps {
  int stride = 0;
  std::vector<int> index, count;
  std::vector<float> weight;
  int lo = 0, hi = 0;  // the input indices touched: [lo, hi)

  void reset(int64_t n, int taps) {
    stride = taps;
    index.assign(static_cast<size_t>(n * taps), 0);
    weight.assign(static_cast<size_t>(n * taps), 0.f);
    count.assign(static_cast<size_t>(n), 0);
  }
  void finish() {
    lo = index.empty() ? 0 : index[0];
    hi = lo;
    for (size_t i = 0; i < count.size(); ++i)
      for (int k = 0; k < count[i]; ++k) {
        lo = std::min(lo, index[i * stride + k]);
        hi = std::max(hi, index[i * stride + k] + 1);
      }
  }
};

// Where output index i samples the input (align_corners = false), in the precision the LibTorch
// this build links computes it: 1.13 keeps scale * (i + 0.5) - 0.5 in double; 2.x computes it in
// double and rounds it to float (checked on 2.6 against torch.nn.functional.interpolate: equal
// to 1.2e-7 over 1280x720 -> 398x224, 606x517 -> 262x224, 3x517 -> 50x8616, 1920x1080 -> 224x224;
// keeping the double differs by up to 7e-5 in [0, 1] units, computing in float by 3e-5).
inline double source_position(float scale, int64_t i) {
#if defined(TORCH_VERSION_MAJOR) && TORCH_VERSION_MAJOR >= 2
  const double real = scale * (i + 0.5) - 0.5;
  return real < 0 ? 0.0 : static_cast<double>(static_cast<float>(real));
#else
  return std::max(scale * (i + 0.5) - 0.5, 0.0);
#endif
}

// Plain bilinear (LibTorch's compute_source_index_and_lambda): two taps, the second clamped to
// the last input index.
void bilinear_taps(int64_t in, int64_t out, int64_t first, int64_t n, AxisTaps& t) {
  t.reset(n, 2);
  const float scale = static_cast<float>(in) / static_cast<float>(out);
  for (int64_t k = 0; k < n; ++k) {
    const int64_t i = first + k;
    int* idx = &t.index[k * 2];
    float* w = &t.weight[k * 2];
    t.count[k] = 2;
    if (in == out) {
      idx[0] = idx[1] = static_cast<int>(i);
      w[0] = 1.f;
      w[1] = 0.f;
      continue;
    }
    const double real = source_position(scale, i);
    const auto i0 = static_cast<int64_t>(real);
    const int64_t offset = i0 < in - 1 ? 1 : 0;
    const auto l1 = static_cast<float>(std::min(std::max(real - i0, 0.0), 1.0));
    idx[0] = static_cast<int>(i0);
    idx[1] = static_cast<int>(i0 + offset);
    w[0] = 1.f - l1;
    w[1] = l1;
  }
}

float triangle(float x) {
  if (x < 0) x = -x;
  return x < 1.f ? 1.f - x : 0.f;
}

// Antialiased bilinear (PIL's / LibTorch's _upsample_bilinear2d_aa): the triangle filter
// stretched by the downscale factor, weights normalized to sum 1.
void antialiased_taps(int64_t in, int64_t out, int64_t first, int64_t n, AxisTaps& t) {
  const float scale = static_cast<float>(in) / static_cast<float>(out);
  const float support = scale >= 1.0f ? scale : 1.0f;  // (2 taps / 2) * scale
  const float invscale = scale >= 1.0f ? static_cast<float>(1.0 / scale) : 1.0f;
  t.reset(n, static_cast<int>(std::ceil(support)) * 2 + 1);
  for (int64_t k = 0; k < n; ++k) {
    const int64_t i = first + k;
    const auto center = static_cast<float>(scale * (i + 0.5));
    const int64_t xmin = std::max<int64_t>(static_cast<int64_t>(center - support + 0.5), 0);
    const int64_t xsize =
        std::min<int64_t>(static_cast<int64_t>(center + support + 0.5), in) - xmin;
    int* idx = &t.index[k * t.stride];
    float* w = &t.weight[k * t.stride];
    float total = 0;
    for (int64_t j = 0; j < xsize; ++j) {
      idx[j] = static_cast<int>(xmin + j);
      w[j] = triangle(static_cast<float>((static_cast<float>(j + xmin) - center + 0.5) *
                                         static_cast<double>(invscale)));
      total += w[j];
    }
    if (total != 0)
      for (int64_t j = 0; j < xsize; ++j) w[j] /= total;
    t.count[k] = static_cast<int>(xsize);
  }
}

// Everything that depends on the frame size and the spec's geometry, plus scratch rows; one per
// thread, recomputed only when the geometry changes.
struct Workspace {
  int in_w = -1, in_h = -1, out_w = -1, out_h = -1;
  ResizeMode mode = ResizeMode::Stretch;
  bool antialias = false;
  AxisTaps rows, cols;
  std::vector<float> row, tmp, acc;

  void plan(int width, int height, const InputSpec& spec) {
    if (width == in_w && height == in_h && spec.width == out_w && spec.height == out_h &&
        spec.resize == mode && spec.antialias == antialias)
      return;
    in_w = width, in_h = height, out_w = spec.width, out_h = spec.height;
    mode = spec.resize, antialias = spec.antialias;
    const InputGeometry g = input_geometry(width, height, spec);
    const int64_t h = g.resized_h, w = g.resized_w, top = g.top, left = g.left;
    // As the LibTorch path: the antialiased kernel on both axes as soon as either shrinks.
    const bool shrinking = h < in_h || w < in_w;
    if (antialias && shrinking) {
      antialiased_taps(in_h, h, top, out_h, rows);
      antialiased_taps(in_w, w, left, out_w, cols);
    } else {
      bilinear_taps(in_h, h, top, out_h, rows);
      bilinear_taps(in_w, w, left, out_w, cols);
    }
    rows.finish();
    cols.finish();
  }
};

const std::array<float, 256>& unit_lut() {
  static const std::array<float, 256> lut = [] {
    std::array<float, 256> a{};
    for (int v = 0; v < 256; ++v) a[v] = static_cast<float>(v) / 255.f;
    return a;
  }();
  return lut;
}

// One input row as [0, 1] floats, model channels interleaved (color first, as the LibTorch
// path does); Gray: ITU-R 601 luma in float.
template <ColorMode kColor>
void convert_row(const uint8_t* src, int n, float* row) {
  const auto& lut = unit_lut();
  for (int x = 0; x < n; ++x, src += 3) {
    if constexpr (kColor == ColorMode::Gray) {
      row[x] = 0.299f * lut[src[0]] + 0.587f * lut[src[1]] + 0.114f * lut[src[2]];
    } else if constexpr (kColor == ColorMode::BGR) {
      row[3 * x] = lut[src[2]];
      row[3 * x + 1] = lut[src[1]];
      row[3 * x + 2] = lut[src[0]];
    } else {
      row[3 * x] = lut[src[0]];
      row[3 * x + 1] = lut[src[1]];
      row[3 * x + 2] = lut[src[2]];
    }
  }
}

// Horizontal taps over one converted row (row[0] is input column cols.lo). Each channel sums
// its taps in order, as LibTorch does.
template <int C>
void filter_row(const float* row, const AxisTaps& cols, int out_w, float* dst) {
  for (int x = 0; x < out_w; ++x, dst += C) {
    const int* idx = &cols.index[static_cast<size_t>(x) * cols.stride];
    const float* w = &cols.weight[static_cast<size_t>(x) * cols.stride];
    const float* p = row + static_cast<ptrdiff_t>(idx[0] - cols.lo) * C;
    float t[C];
    for (int c = 0; c < C; ++c) t[c] = p[c] * w[0];
    for (int k = 1, n = cols.count[x]; k < n; ++k) {
      p = row + static_cast<ptrdiff_t>(idx[k] - cols.lo) * C;
      for (int c = 0; c < C; ++c) t[c] += p[c] * w[k];
    }
    for (int c = 0; c < C; ++c) dst[c] = t[c];
  }
}

template <ColorMode kColor>
void resample(const uint8_t* rgb, int width, const InputSpec& spec, Workspace& ws, float* out) {
  constexpr int C = kColor == ColorMode::Gray ? 1 : 3;
  const AxisTaps& rows = ws.rows;
  const AxisTaps& cols = ws.cols;
  const int out_w = spec.width, out_h = spec.height;
  const int span = cols.hi - cols.lo;
  const size_t line = static_cast<size_t>(out_w) * C;  // one horizontally resampled row
  ws.row.resize(static_cast<size_t>(span) * C);
  ws.tmp.resize(static_cast<size_t>(rows.hi - rows.lo) * line);
  ws.acc.resize(line);

  // Horizontal pass over the input rows the vertical taps read.
  for (int y = rows.lo; y < rows.hi; ++y) {
    convert_row<kColor>(rgb + (static_cast<size_t>(y) * width + cols.lo) * 3, span, ws.row.data());
    filter_row<C>(ws.row.data(), cols, out_w,
                  ws.tmp.data() + static_cast<size_t>(y - rows.lo) * line);
  }

  // Vertical pass, then mean/std into the planar output.
  std::array<float, 3> mean{}, std{};
  for (int c = 0; c < C; ++c) mean[c] = spec.mean[c], std[c] = spec.std[c];
  const size_t plane = static_cast<size_t>(out_w) * out_h;
  float* acc = ws.acc.data();
  for (int y = 0; y < out_h; ++y) {
    const int* idx = &rows.index[static_cast<size_t>(y) * rows.stride];
    const float* w = &rows.weight[static_cast<size_t>(y) * rows.stride];
    const float* r0 = ws.tmp.data() + static_cast<size_t>(idx[0] - rows.lo) * line;
    const float w0 = w[0];
    for (size_t j = 0; j < line; ++j) acc[j] = r0[j] * w0;
    for (int k = 1; k < rows.count[y]; ++k) {
      const float* rk = ws.tmp.data() + static_cast<size_t>(idx[k] - rows.lo) * line;
      const float wk = w[k];
      for (size_t j = 0; j < line; ++j) acc[j] += rk[j] * wk;
    }
    for (int c = 0; c < C; ++c) {
      float* dst = out + c * plane + static_cast<size_t>(y) * out_w;
      const float m = mean[c], s = std[c];
      for (int x = 0; x < out_w; ++x) dst[x] = (acc[x * C + c] - m) / s;
    }
  }
}

}  // namespace

void preprocess_rgb_cpu(const uint8_t* rgb, int width, int height, const InputSpec& spec,
                        float* out) {
  if (!rgb || width < 1 || height < 1) throw Error("preprocess: empty frame");
  if (spec.width < 1 || spec.height < 1) throw Error("preprocess: empty target size");
  const int c = spec.channels();
  if (static_cast<int>(spec.mean.size()) != c || static_cast<int>(spec.std.size()) != c)
    throw Error("preprocess: mean and std need " + std::to_string(c) + " values each");
  thread_local Workspace ws;
  ws.plan(width, height, spec);
  switch (spec.color) {
    case ColorMode::RGB:
      resample<ColorMode::RGB>(rgb, width, spec, ws, out);
      break;
    case ColorMode::BGR:
      resample<ColorMode::BGR>(rgb, width, spec, ws, out);
      break;
    case ColorMode::Gray:
      resample<ColorMode::Gray>(rgb, width, spec, ws, out);
      break;
  }
}

}  // namespace camscope::model
