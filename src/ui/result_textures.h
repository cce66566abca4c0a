#pragma once
// The GL side of a published FrameResult: the frame, the map and the channel grid uploaded once
// per new result (through a TextureBridge for the float maps), then colored by the render
// passes into textures the panels show. Re-colors only when the result or a display option
// changes, so an idle frame does no GL work here. GL thread only.
#include <cstdint>
#include <memory>
#include <vector>

#include "app/frame_result.h"
#include "gpu/texture_bridge.h"
#include "render/colormap_pass.h"
#include "render/grid_layout.h"
#include "render/texture.h"

namespace camscope::ui {

struct DisplayOptions {
  render::Colormap colormap = render::Colormap::Jet;
  float alpha = 0.5f;
  float threshold = 0.f;
  bool overlay = true;
  bool operator==(const DisplayOptions& o) const {
    return colormap == o.colormap && alpha == o.alpha && threshold == o.threshold &&
           overlay == o.overlay;
  }
};

struct TextureView {
  GLuint id = 0;
  int width = 0, height = 0;
  explicit operator bool() const { return id != 0; }
};

class ResultTextures {
 public:
  ResultTextures();
  // Uploads/recolors when `result` (by serial) or the options changed. Returns true if it did.
  bool update(const std::shared_ptr<const app::FrameResult>& result, const DisplayOptions& opt);
  // Uploads the model's first-layer filter atlas when the model changed.
  void update_filters(const app::ModelInfo& info);
  // Colors the sanity check's maps (original, then one per step) into one atlas laid out by
  // sanity_layout(), when a new sanity result arrives (generation changed).
  void update_sanity(const app::SanityResult& sanity, uint64_t generation,
                     render::Colormap colormap);

  TextureView overlay() const;  // frame + heatmap (frame-sized)
  TextureView grid() const;     // colored channel atlas
  TextureView filters() const;  // first-layer filters (RGB or gray)
  TextureView sanity_maps() const;  // the sanity maps atlas (tile 0 = original)
  const render::GridLayout& sanity_layout() const { return m_sanity_layout; }
  const render::GridLayout& grid_layout() const { return m_grid_layout; }
  const std::shared_ptr<const app::FrameResult>& shown() const { return m_shown; }

  double upload_ms() const { return m_upload_ms; }  // of the last update that uploaded
  double draw_ms() const { return m_draw_ms; }
  uint64_t bytes_to_gl() const { return m_bytes_to_gl; }  // of the last upload
  // Passes drawn and frame texture uploads since creation: each is redone only when its
  // inputs changed (the grid ignores alpha, threshold and the overlay switch; results of the
  // same frame share its upload).
  long overlay_draws() const { return m_overlay_draws; }
  long grid_draws() const { return m_grid_draws; }
  long frame_uploads() const { return m_frame_uploads; }
  const gpu::TextureBridge& bridge() const { return *m_bridge; }

  // Reads the overlay texture back (RGBA8, top row first) into `out`, resized as needed.
  void read_overlay(std::vector<uint8_t>& out) const;

 private:
  std::unique_ptr<gpu::TextureBridge> m_bridge;
  render::OverlayPass m_overlay_pass;
  render::ColormapPass m_colormap_pass;
  render::Texture2D m_frame_tex, m_filters_tex, m_sanity_tex;
  render::GridLayout m_sanity_layout;
  uint64_t m_sanity_generation = ~0ull;
  render::RenderTarget m_overlay_rt, m_grid_rt;
  render::GridLayout m_grid_layout;
  std::shared_ptr<const app::FrameResult> m_shown;
  std::shared_ptr<const capture::Frame> m_uploaded_frame;  // what m_frame_tex holds
  DisplayOptions m_options;
  uint64_t m_filters_generation = 0;
  bool m_have_map = false, m_have_grid = false;
  std::vector<uint8_t> m_rgb_scratch;
  double m_upload_ms = 0, m_draw_ms = 0;
  uint64_t m_bytes_to_gl = 0;
  long m_overlay_draws = 0, m_grid_draws = 0, m_frame_uploads = 0;
};

}  // namespace camscope::ui
