#pragma once
// Helpers shared by the render/gpu suites: read a texture or target back, upload host maps.
#include <cmath>
#include <cstdint>
#include <vector>

#include "gpu/texture_bridge.h"
#include "render/texture.h"

namespace camscope::test {

inline std::vector<float> read_r32f(GLuint tex, int w, int h) {
  std::vector<float> out(static_cast<size_t>(w) * h);
  glBindTexture(GL_TEXTURE_2D, tex);
  glPixelStorei(GL_PACK_ALIGNMENT, 4);
  glGetTexImage(GL_TEXTURE_2D, 0, GL_RED, GL_FLOAT, out.data());
  return out;
}

inline std::vector<uint8_t> read_target(const render::RenderTarget& t) {
  std::vector<uint8_t> px(static_cast<size_t>(t.width()) * t.height() * 4);
  t.read_rgba(px.data());
  return px;
}

inline int round_u8(float x) {
  return static_cast<int>(std::lround(x));
}

}  // namespace camscope::test
