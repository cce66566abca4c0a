#include "render/colormap.h"

#include <algorithm>
#include <cmath>

#include "util/error.h"

namespace camscope::render {
namespace {

// Seventeen anchors at t = k/16, linearly interpolated. The anchors sample the published
// definitions (matplotlib's viridis and inferno, CC0 data by van der Walt and Smith; Google's
// Turbo by Mikhailov); endpoints are the tables' first and last entries. Between anchors the
// interpolation deviates from the 256-entry originals by under ~1%.
using Anchors = std::array<Rgbf, 17>;

constexpr Anchors kViridis = {{{0.2670f, 0.0049f, 0.3294f},
                               {0.2820f, 0.0928f, 0.4171f},
                               {0.2783f, 0.1761f, 0.4828f},
                               {0.2638f, 0.2526f, 0.5257f},
                               {0.2386f, 0.3225f, 0.5482f},
                               {0.2054f, 0.3869f, 0.5565f},
                               {0.1697f, 0.4479f, 0.5568f},
                               {0.1389f, 0.5072f, 0.5531f},
                               {0.1219f, 0.5658f, 0.5456f},
                               {0.1277f, 0.6241f, 0.5309f},
                               {0.1647f, 0.6812f, 0.5029f},
                               {0.2388f, 0.7355f, 0.4546f},
                               {0.3521f, 0.7849f, 0.3819f},
                               {0.5008f, 0.8272f, 0.2875f},
                               {0.6731f, 0.8610f, 0.1869f},
                               {0.8469f, 0.8865f, 0.1144f},
                               {0.9932f, 0.9062f, 0.1439f}}};

constexpr Anchors kInferno = {{{0.0015f, 0.0005f, 0.0139f},
                               {0.0431f, 0.0252f, 0.1737f},
                               {0.1301f, 0.0369f, 0.2918f},
                               {0.2331f, 0.0484f, 0.3647f},
                               {0.3383f, 0.0652f, 0.4066f},
                               {0.4406f, 0.0893f, 0.4227f},
                               {0.5395f, 0.1213f, 0.4134f},
                               {0.6354f, 0.1614f, 0.3784f},
                               {0.7277f, 0.2106f, 0.3199f},
                               {0.8136f, 0.2706f, 0.2444f},
                               {0.8879f, 0.3441f, 0.1635f},
                               {0.9439f, 0.4336f, 0.0940f},
                               {0.9758f, 0.5405f, 0.0570f},
                               {0.9818f, 0.6631f, 0.0754f},
                               {0.9680f, 0.7943f, 0.1716f},
                               {0.9542f, 0.9189f, 0.3629f},
                               {0.9884f, 0.9984f, 0.6449f}}};

constexpr Anchors kTurbo = {{{0.1900f, 0.0718f, 0.2322f},
                             {0.2875f, 0.2441f, 0.6857f},
                             {0.2686f, 0.4148f, 0.9348f},
                             {0.1970f, 0.5855f, 0.9699f},
                             {0.1483f, 0.7405f, 0.8807f},
                             {0.1624f, 0.8664f, 0.7332f},
                             {0.2504f, 0.9528f, 0.5729f},
                             {0.4012f, 0.9925f, 0.4282f},
                             {0.5885f, 0.9819f, 0.3132f},
                             {0.7775f, 0.9209f, 0.2310f},
                             {0.9316f, 0.8139f, 0.1771f},
                             {0.9900f, 0.6697f, 0.1418f},
                             {0.9900f, 0.5017f, 0.1140f},
                             {0.9349f, 0.3288f, 0.0842f},
                             {0.7864f, 0.1749f, 0.0473f},
                             {0.6315f, 0.0701f, 0.0062f},
                             {0.4796f, 0.0158f, 0.0106f}}};

Rgbf interpolate(const Anchors& a, float t) {
  const float x = t * 16.f;
  const int i = std::min(15, static_cast<int>(x));
  const float f = x - static_cast<float>(i);
  return {a[i].r + (a[i + 1].r - a[i].r) * f, a[i].g + (a[i + 1].g - a[i].g) * f,
          a[i].b + (a[i + 1].b - a[i].b) * f};
}

float clamp01(float x) {
  return std::min(1.f, std::max(0.f, x));
}

// MATLAB-style jet: three overlapping trapezoids, dark blue -> blue -> cyan -> yellow -> red ->
// dark red.
Rgbf jet(float t) {
  return {clamp01(1.5f - std::fabs(4.f * t - 3.f)), clamp01(1.5f - std::fabs(4.f * t - 2.f)),
          clamp01(1.5f - std::fabs(4.f * t - 1.f))};
}

uint8_t to_u8(float x) {
  return static_cast<uint8_t>(std::lround(clamp01(x) * 255.f));
}

}  // namespace

Colormap parse_colormap(const std::string& name) {
  if (name == "jet") return Colormap::Jet;
  if (name == "turbo") return Colormap::Turbo;
  if (name == "viridis") return Colormap::Viridis;
  if (name == "inferno") return Colormap::Inferno;
  if (name == "gray" || name == "grey") return Colormap::Gray;
  throw Error("unknown colormap '" + name + "' (expected jet, turbo, viridis, inferno or gray)");
}

const char* colormap_name(Colormap map) {
  switch (map) {
    case Colormap::Jet:
      return "jet";
    case Colormap::Turbo:
      return "turbo";
    case Colormap::Viridis:
      return "viridis";
    case Colormap::Inferno:
      return "inferno";
    case Colormap::Gray:
      return "gray";
  }
  return "?";
}

Rgbf colormap_eval(Colormap map, float t) {
  t = clamp01(t);
  switch (map) {
    case Colormap::Jet:
      return jet(t);
    case Colormap::Turbo:
      return interpolate(kTurbo, t);
    case Colormap::Viridis:
      return interpolate(kViridis, t);
    case Colormap::Inferno:
      return interpolate(kInferno, t);
    case Colormap::Gray:
      return {t, t, t};
  }
  return {};
}

Lut colormap_lut(Colormap map) {
  Lut lut{};
  for (int i = 0; i < kLutSize; ++i) {
    const Rgbf c = colormap_eval(map, static_cast<float>(i) / (kLutSize - 1));
    lut[i * 4 + 0] = to_u8(c.r);
    lut[i * 4 + 1] = to_u8(c.g);
    lut[i * 4 + 2] = to_u8(c.b);
    lut[i * 4 + 3] = 255;
  }
  return lut;
}

float normalize_value(float v, const ValueRange& range) {
  const float span = range.hi - range.lo;
  if (!(std::fabs(span) > 0.f)) return v >= range.hi ? 1.f : 0.f;
  return clamp01((v - range.lo) / span);
}

std::array<float, 3> colormap_apply(const Lut& lut, float v, const ValueRange& range) {
  const float u = std::pow(normalize_value(v, range), range.gamma) * (kLutSize - 1);
  const int i = std::min(kLutSize - 2, static_cast<int>(u));
  const float f = u - static_cast<float>(i);
  std::array<float, 3> out{};
  for (int c = 0; c < 3; ++c) out[c] = lut[i * 4 + c] + (lut[(i + 1) * 4 + c] - lut[i * 4 + c]) * f;
  return out;
}

}  // namespace camscope::render
