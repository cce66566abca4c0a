#include "explain/overlay.h"

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
  if (!(alpha >= 0 && alpha <= 1)) throw Error("--alpha must be in [0, 1]");
  const int64_t H = frame_hwc_u8.size(0), W = frame_hwc_u8.size(1);
  auto m = resize_map(map.detach().to(torch::kCPU, torch::kFloat), H, W);
  // Blend the unrounded colour (as the shader's mix() does) and round once at the end.
  auto color = lut_colors(m, lut_rgba).reshape({H, W, 3});
  auto frame = frame_hwc_u8.to(torch::kCPU, torch::kFloat);
  return (frame * (1.0 - alpha) + color * alpha).round().clamp(0, 255).to(torch::kUInt8);
}

}  // namespace camscope::explain
