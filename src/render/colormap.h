#pragma once
// Colormaps as data: each map is defined here on the CPU and handed to the GPU as a 256-entry
// RGBA8 lookup texture, so the shader and the tests evaluate the same definition.
// Value mapping (normative for the colormap and overlay passes):
//   t = clamp((v - lo) / (hi - lo), 0, 1);  u = t^gamma;  color = LUT sampled linearly at u,
//   i.e. between entries floor(u * 255) and the next, weight fract(u * 255).
#include <array>
#include <cstdint>
#include <string>

namespace camscope::render {

enum class Colormap { Jet, Turbo, Viridis, Inferno, Gray };

// "jet", "turbo", "viridis", "inferno", "gray" (also "grey"); throws camscope::Error otherwise.
Colormap parse_colormap(const std::string& name);
const char* colormap_name(Colormap map);

struct Rgbf {
  float r = 0, g = 0, b = 0;
};
// The continuous definition at t in [0, 1] (clamped).
Rgbf colormap_eval(Colormap map, float t);

constexpr int kLutSize = 256;
using Lut = std::array<uint8_t, kLutSize * 4>;
// Entry i = colormap_eval(i / 255) rounded to 8 bits, alpha 255.
Lut colormap_lut(Colormap map);

struct ValueRange {
  float lo = 0.f, hi = 1.f;
  float gamma = 1.f;
};
// t as defined above, before gamma (the overlay threshold applies to it).
float normalize_value(float v, const ValueRange& range);
// The 8-bit color the passes produce for value v, computed on the CPU (reference for tests).
std::array<float, 3> colormap_apply(const Lut& lut, float v, const ValueRange& range);

}  // namespace camscope::render
