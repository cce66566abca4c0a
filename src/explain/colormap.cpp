#include "explain/colormap.h"

#include <array>
#include <cmath>

#include "explain/cam_math.h"
#include "util/args.h"
#include "util/error.h"

namespace camscope::explain {
namespace {

struct Rgb {
  double r, g, b;
};

Rgb hex(uint32_t v) { return {((v >> 16) & 255) / 255.0, ((v >> 8) & 255) / 255.0, (v & 255) / 255.0}; }

// Piecewise-linear through evenly spaced anchor colours.
template <size_t N>
Rgb through(const std::array<uint32_t, N>& anchors, double x) {
  double p = x * (N - 1);
  size_t i = std::min<size_t>(static_cast<size_t>(p), N - 2);
  double f = p - i;
  Rgb a = hex(anchors[i]), b = hex(anchors[i + 1]);
  return {a.r + f * (b.r - a.r), a.g + f * (b.g - a.g), a.b + f * (b.b - a.b)};
}

double clamp01(double v) { return v < 0 ? 0 : v > 1 ? 1 : v; }

Rgb sample(Colormap c, double x) {
  switch (c) {
    case Colormap::Jet:  // the classic MATLAB definition: three overlapping ramps
      return {clamp01(1.5 - std::abs(4 * x - 3)), clamp01(1.5 - std::abs(4 * x - 2)),
              clamp01(1.5 - std::abs(4 * x - 1))};
    case Colormap::Turbo: {
      // Polynomial fit published with Turbo (Mikhailov, Google 2019).
      auto poly = [x](std::array<double, 6> k) {
        return clamp01(k[0] + x * (k[1] + x * (k[2] + x * (k[3] + x * (k[4] + x * k[5])))));
      };
      return {poly({0.13572138, 4.61539260, -42.66032258, 132.13108234, -152.94239396,
                    59.28637943}),
              poly({0.09140261, 2.19418839, 4.84296658, -14.18503333, 4.27729857, 2.82956604}),
              poly({0.10667330, 12.64194608, -60.58204836, 110.36276771, -89.90310912,
                    27.34824973})};
    }
    case Colormap::Viridis:
      return through<9>({0x440154, 0x472d7b, 0x3b528b, 0x2c728e, 0x21918c, 0x28ae80, 0x5ec962,
                         0xaddc30, 0xfde725},
                        x);
    case Colormap::Inferno:
      return through<5>({0x000004, 0x57106e, 0xbc3754, 0xf98e09, 0xfcffa4}, x);
    case Colormap::Gray:
      return {x, x, x};
  }
  return {x, x, x};
}

// 256-entry lookup table [256, 3] uint8, built once per colormap.
const torch::Tensor& lut(Colormap c) {
  static std::array<torch::Tensor, 5> tables;
  auto& t = tables[static_cast<int>(c)];
  if (!t.defined()) {
    auto tab = torch::empty({256, 3}, torch::kUInt8);
    auto a = tab.accessor<uint8_t, 2>();
    for (int i = 0; i < 256; ++i) {
      Rgb v = sample(c, i / 255.0);
      a[i][0] = static_cast<uint8_t>(std::lround(v.r * 255));
      a[i][1] = static_cast<uint8_t>(std::lround(v.g * 255));
      a[i][2] = static_cast<uint8_t>(std::lround(v.b * 255));
    }
    t = tab;
  }
  return t;
}

constexpr const char* kNames[] = {"jet", "turbo", "viridis", "inferno", "gray"};

}  // namespace

Colormap parse_colormap(const std::string& name) {
  for (int i = 0; i < 5; ++i)
    if (name == kNames[i]) return static_cast<Colormap>(i);
  auto names = colormap_names();
  auto best = closest(name, names, 1);
  std::string msg = "unknown colormap '" + name + "'";
  if (!best.empty() && edit_distance(name, best[0]) <= 3) msg += " (did you mean " + best[0] + "?)";
  msg += "; colormaps: jet turbo viridis inferno gray";
  throw Error(msg);
}

const char* colormap_name(Colormap c) { return kNames[static_cast<int>(c)]; }

std::vector<std::string> colormap_names() { return {std::begin(kNames), std::end(kNames)}; }

torch::Tensor apply_colormap(const torch::Tensor& map, Colormap c) {
  if (map.dim() != 2) throw Error("colormap expects a 2-D map");
  auto idx = (map.detach().to(torch::kCPU, torch::kFloat).clamp(0, 1) * 255).round().to(torch::kLong);
  return lut(c).index_select(0, idx.flatten()).reshape({map.size(0), map.size(1), 3});
}

torch::Tensor overlay(const torch::Tensor& frame_hwc_u8, const torch::Tensor& map, Colormap c,
                      double alpha) {
  if (frame_hwc_u8.dim() != 3 || frame_hwc_u8.size(2) != 3)
    throw Error("overlay expects an [H, W, 3] frame");
  if (!(alpha >= 0 && alpha <= 1)) throw Error("--alpha must be in [0, 1]");
  const int64_t H = frame_hwc_u8.size(0), W = frame_hwc_u8.size(1);
  auto m = resize_map(map.detach().to(torch::kCPU, torch::kFloat), H, W);
  auto color = apply_colormap(m, c).to(torch::kFloat);
  auto frame = frame_hwc_u8.to(torch::kCPU, torch::kFloat);
  auto out = frame * (1.0 - alpha) + color * alpha;
  return out.round().clamp(0, 255).to(torch::kUInt8);
}

}  // namespace camscope::explain
