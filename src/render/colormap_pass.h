#pragma once
// GL passes that turn float maps into color: the colormap pass (map or channel-grid atlas ->
// RGBA8) and the overlay pass (frame + colormapped heatmap, alpha-blended). Both render into a
// RenderTarget the UI can show. Programs, LUT and vertex array are created once; switching the
// colormap re-uploads 1 KiB into the existing LUT texture.
#include <array>
#include <optional>

#include "render/colormap.h"
#include "render/grid_layout.h"
#include "render/texture.h"

namespace camscope::render {

struct MapTexture {
  GLuint id = 0;  // R32F
  int width = 0, height = 0;
};

// A frame texture with its size (RGB8 or RGBA8).
struct FrameTexture {
  GLuint id = 0;
  int width = 0, height = 0;  // 0: unknown
};

struct ColormapParams {
  Colormap colormap = Colormap::Jet;
  ValueRange range;
  bool smooth = true;              // bilinear sampling when the target is larger; off for atlases
  std::optional<GridLayout> grid;  // draw this atlas' borders and empty cells in border_color
  std::array<float, 4> border_color{0.f, 0.f, 0.f, 1.f};
};

struct OverlayParams {
  Colormap colormap = Colormap::Jet;
  ValueRange range;
  float alpha = 0.5f;
  float threshold = 0.f;  // on the normalized value t, before gamma
  // Where the map lies on the frame, in frame uv (x0, y0, x1, y1; row 0 = v 0): the crop box
  // of model::InputGeometry divided by the frame size. Outside it the frame is left as it is.
  std::array<float, 4> crop{0.f, 0.f, 1.f, 1.f};
  // Weight of the frame under the map: 1 shows it, 0 paints it black (the map-only view, whose
  // image keeps the frame's size and geometry so hover and crop box stay where they were).
  float frame_gain = 1.f;
};

// Uploads the colormap into its LUT texture only when it changes.
class LutTexture {
 public:
  void bind(Colormap map, GLenum unit);

 private:
  Texture2D m_tex;
  std::optional<Colormap> m_current;
};

// Uniform locations of the value mapping, looked up once per program.
struct RangeUniforms {
  GLint lo = -1, hi = -1, gamma = -1;
  explicit RangeUniforms(GLuint prog = 0);
  void set(const ValueRange& range) const;  // throws camscope::Error on gamma <= 0
};

class ColormapPass {
 public:
  ColormapPass();  // builds the program; GL thread, context current
  // Renders `map` over the whole target (sized by the caller).
  void render(const MapTexture& map, const ColormapParams& params, RenderTarget& target);

 private:
  gl::ProgramHandle m_prog;
  gl::VertexArrayHandle m_vao;
  LutTexture m_lut;
  RangeUniforms m_range;
  GLint m_grid_on = -1, m_grid = -1, m_grid_border = -1, m_border_color = -1;
};

class OverlayPass {
 public:
  OverlayPass();
  // `frame` is an RGB8 texture; the target is usually frame-sized. Two cheaper shader variants
  // give the same pixels for less work per pixel, which a software rasterizer (llvmpipe) pays
  // on the CPU the model also needs: when the frame's size is given and equals the target's,
  // each fragment reads its own frame texel instead of filtering (bilinear sampling at texel
  // centers returns the texel); with alpha 0 the map is not sampled (the result is the frame).
  void render(const FrameTexture& frame, const MapTexture& map, const OverlayParams& params,
              RenderTarget& target);
  void render(GLuint frame, const MapTexture& map, const OverlayParams& params,
              RenderTarget& target) {
    render(FrameTexture{frame, 0, 0}, map, params, target);
  }

 private:
  struct Program {
    gl::ProgramHandle prog;
    RangeUniforms range;
    GLint alpha = -1, threshold = -1, crop = -1, frame_gain = -1;
    explicit Program(gl::ProgramHandle p);
  };
  // Index: 1 = frame fetched texel by texel (else sampled bilinearly), 2 = frame only.
  std::array<Program, 4> m_programs;
  gl::VertexArrayHandle m_vao;
  LutTexture m_lut;
};

}  // namespace camscope::render
