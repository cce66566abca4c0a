#include "model/preprocess.h"

#include <algorithm>
#include <array>
#include <cmath>

#include "util/error.h"

namespace camscope::model {
namespace {

// Bilinear on float values, align_corners = false; the antialiased kernel (as torch's
// interpolate(antialias=True) and PIL) only when a side shrinks — for enlarging it is the plain
// bilinear kernel anyway.
torch::Tensor resize(const torch::Tensor& x, int64_t h, int64_t w, bool antialias) {
  if (x.size(2) == h && x.size(3) == w) return x;
  const bool shrinking = h < x.size(2) || w < x.size(3);
  const std::array<int64_t, 2> size{h, w};
  if (antialias && shrinking) return at::_upsample_bilinear2d_aa(x, size, /*align_corners=*/false);
  return at::upsample_bilinear2d(x, size, /*align_corners=*/false);
}

}  // namespace

torch::Tensor preprocess_frame(const torch::Tensor& hwc_u8, const InputSpec& spec,
                               const torch::Device& device) {
  if (hwc_u8.dim() != 3 || hwc_u8.size(2) != 3 || hwc_u8.scalar_type() != torch::kUInt8)
    throw Error("preprocess expects an [H, W, 3] uint8 RGB frame");
  if (hwc_u8.size(0) < 1 || hwc_u8.size(1) < 1) throw Error("preprocess: empty frame");
  torch::NoGradGuard no_grad;
  // [1, 3, H, W] float in [0, 1], on the model's device before any arithmetic.
  torch::Tensor x = hwc_u8.to(device).permute({2, 0, 1}).unsqueeze(0).to(torch::kFloat32) / 255.f;
  switch (spec.color) {
    case ColorMode::RGB:
      break;
    case ColorMode::BGR:
      x = x.flip({1});
      break;
    case ColorMode::Gray:  // ITU-R 601 luma, in float
      x = 0.299f * x.select(1, 0) + 0.587f * x.select(1, 1) + 0.114f * x.select(1, 2);
      x = x.unsqueeze(1);
      break;
  }
  const int64_t in_h = x.size(2), in_w = x.size(3);
  if (spec.resize == ResizeMode::Stretch) {
    x = resize(x, spec.height, spec.width, spec.antialias);
  } else {
    // Shorter side (relative to the target) to the target, then the central window; sizes
    // truncate and offsets round half to even, as torchvision's Resize + CenterCrop do.
    const double s = std::max(double(spec.height) / in_h, double(spec.width) / in_w);
    const int64_t h = std::max<int64_t>(spec.height, static_cast<int64_t>(in_h * s));
    const int64_t w = std::max<int64_t>(spec.width, static_cast<int64_t>(in_w * s));
    x = resize(x, h, w, spec.antialias);
    const auto top = static_cast<int64_t>(std::nearbyint((h - spec.height) / 2.0));
    const auto left = static_cast<int64_t>(std::nearbyint((w - spec.width) / 2.0));
    x = x.narrow(2, top, spec.height).narrow(3, left, spec.width);
  }
  const auto opts = torch::TensorOptions().dtype(torch::kFloat32);
  const int64_t c = x.size(1);
  auto mean = torch::tensor(spec.mean, opts).to(device).view({1, c, 1, 1});
  auto std = torch::tensor(spec.std, opts).to(device).view({1, c, 1, 1});
  return ((x - mean) / std).contiguous();
}

}  // namespace camscope::model
