#include "explain/overlay.h"

#include <cstring>

#include "explain/overlay_blend.h"

#include <cmath>
#include <vector>

#include "explain/cam_math.h"
#include "util/error.h"

namespace camscope::explain {
namespace {

// Colours [n, 3] (float, unrounded) of map values in [0, 1], sampled linearly between LUT
// entries like the colormap shader does.
torch::Tensor lut_colors(const torch::Tensor& map, const uint8_t* lut_rgba) {
  auto lut = torch::from_blob(const_cast<uint8_t*>(lut_rgba), {256, 4}, torch::kUInt8)
                 .narrow(1, 0, 3)
                 .to(torch::kFloat);  // a copy: the table is not owned
  auto u = map.detach().to(torch::kCPU, torch::kFloat).clamp(0, 1).flatten() * 255.0f;
  auto i0 = u.floor().clamp(0, 254).to(torch::kLong);
  auto f = (u - i0.to(torch::kFloat)).unsqueeze(1);
  return lut.index_select(0, i0) * (1 - f) + lut.index_select(0, i0 + 1) * f;
}

}  // namespace

torch::Tensor apply_lut(const torch::Tensor& map, const uint8_t* lut_rgba) {
  if (map.dim() != 2) throw Error("colormap expects a 2-D map");
  return lut_colors(map, lut_rgba)
      .round()
      .clamp(0, 255)
      .to(torch::kUInt8)
      .reshape({map.size(0), map.size(1), 3});
}

torch::Tensor overlay(const torch::Tensor& frame_hwc_u8, const torch::Tensor& map,
                      const uint8_t* lut_rgba, double alpha) {
  if (frame_hwc_u8.dim() != 3 || frame_hwc_u8.size(2) != 3)
    throw Error("overlay expects an [H, W, 3] frame");
  if (map.dim() != 2) throw Error("overlay expects a 2-D map");
  // The whole frame: the `stretch` geometry of a model input of the map's size.
  const auto g = model::plan_geometry(static_cast<int>(frame_hwc_u8.size(1)),
                                      static_cast<int>(frame_hwc_u8.size(0)),
                                      static_cast<int>(map.size(1)),
                                      static_cast<int>(map.size(0)), false);
  return overlay(frame_hwc_u8.to(torch::kUInt8), map, lut_rgba, alpha, g);
}

namespace {

// Per source pixel of one axis: the two map texels and the second one's weight, or inside = 0
// where the pixel centre lies outside the crop box.
struct AxisSamples {
  std::vector<int> i0, i1;
  std::vector<float> w1;
  std::vector<uint8_t> inside;
};

// pos(p): the sampling position in map texels for source pixel p; [lo, hi): the crop box.
template <class Pos>
void axis_samples(int n, int map_n, double lo, double hi, Pos pos, AxisSamples& a) {
  a.i0.assign(n, 0), a.i1.assign(n, 0), a.w1.assign(n, 0.f), a.inside.assign(n, 0);
  for (int p = 0; p < n; ++p) {
    const double c = p + 0.5;
    if (!(c >= lo && c < hi)) continue;
    a.inside[p] = 1;
    const double real = std::min(std::max(pos(p), 0.0), static_cast<double>(map_n - 1));
    const int i0 = static_cast<int>(real);
    a.i0[p] = i0;
    a.i1[p] = std::min(i0 + 1, map_n - 1);
    a.w1[p] = static_cast<float>(real - i0);
  }
}

}  // namespace

void blend_overlay(const uint8_t* frame, int W, int H, const float* mv, int mw, int mh,
                   const uint8_t* lut_rgba, double alpha, const model::InputGeometry& g,
                   uint8_t* o) {
  if (mh < 1 || mw < 1) throw Error("overlay expects a non-empty 2-D map");
  if (!(alpha >= 0 && alpha <= 1)) throw Error("--alpha must be in [0, 1]");
  if (!g.valid() || g.src_w != W || g.src_h != H)
    throw Error("overlay: the geometry does not belong to this frame");
  if (o != frame) std::memcpy(o, frame, static_cast<size_t>(W) * H * 3);
  // The map covers the model input; a map of another size (e.g. feature resolution) covers it
  // too, scaled.
  const double kx = static_cast<double>(mw) / g.in_w, ky = static_cast<double>(mh) / g.in_h;
  AxisSamples xs, ys;
  axis_samples(W, mw, g.x0, g.x1, [&](int p) { return (g.to_input_x(p + 0.5)) * kx - 0.5; }, xs);
  axis_samples(H, mh, g.y0, g.y1, [&](int p) { return (g.to_input_y(p + 0.5)) * ky - 0.5; }, ys);

  const float a = static_cast<float>(alpha), keep = static_cast<float>(1.0 - alpha);
  for (int y = 0; y < H; ++y) {
    if (!ys.inside[y]) continue;
    const float* r0 = mv + static_cast<size_t>(ys.i0[y]) * mw;
    const float* r1 = mv + static_cast<size_t>(ys.i1[y]) * mw;
    const float wy1 = ys.w1[y], wy0 = 1.f - wy1;
    uint8_t* row = o + static_cast<size_t>(y) * W * 3;
    for (int x = 0; x < W; ++x) {
      if (!xs.inside[x]) continue;
      const float wx1 = xs.w1[x], wx0 = 1.f - wx1;
      const int c0 = xs.i0[x], c1 = xs.i1[x];
      // As LibTorch's bilinear kernel orders it.
      const float v = wy0 * (wx0 * r0[c0] + wx1 * r0[c1]) + wy1 * (wx0 * r1[c0] + wx1 * r1[c1]);
      const float u = std::min(std::max(v, 0.f), 1.f) * 255.0f;
      const int i0 = std::min(std::max(static_cast<int>(std::floor(u)), 0), 254);
      const float f = u - static_cast<float>(i0);
      const uint8_t* e0 = lut_rgba + 4 * i0;
      const uint8_t* e1 = e0 + 4;
      uint8_t* px = row + 3 * x;
      for (int c = 0; c < 3; ++c) {
        const float color = static_cast<float>(e0[c]) * (1 - f) + static_cast<float>(e1[c]) * f;
        const float b = static_cast<float>(px[c]) * keep + color * a;
        px[c] = static_cast<uint8_t>(std::min(std::max(std::nearbyint(b), 0.f), 255.f));
      }
    }
  }
}

torch::Tensor overlay(const torch::Tensor& frame_hwc_u8, const torch::Tensor& map,
                      const uint8_t* lut_rgba, double alpha, const model::InputGeometry& g) {
  if (frame_hwc_u8.dim() != 3 || frame_hwc_u8.size(2) != 3 ||
      frame_hwc_u8.scalar_type() != torch::kUInt8)
    throw Error("overlay expects an [H, W, 3] uint8 frame");
  if (map.dim() != 2 || map.size(0) < 1 || map.size(1) < 1)
    throw Error("overlay expects a non-empty 2-D map");
  const int H = static_cast<int>(frame_hwc_u8.size(0)), W = static_cast<int>(frame_hwc_u8.size(1));
  torch::Tensor frame = frame_hwc_u8.to(torch::kCPU).contiguous();
  torch::Tensor m = map.detach().to(torch::kCPU, torch::kFloat).contiguous();
  torch::Tensor out = torch::empty_like(frame);
  blend_overlay(frame.data_ptr<uint8_t>(), W, H, m.data_ptr<float>(), static_cast<int>(m.size(1)),
                static_cast<int>(m.size(0)), lut_rgba, alpha, g, out.data_ptr<uint8_t>());
  return out;
}

}  // namespace camscope::explain
