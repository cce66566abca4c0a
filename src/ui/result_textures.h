#pragma once
// The GL side of a published FrameResult: the frame, the map and the channel grid uploaded once
// per new result (through a TextureBridge for the float maps), then colored by the render
// passes into textures the panels show. Re-colors only when the result or a display option
// changes, so an idle frame does no GL work here. GL thread only.
#include <cstdint>
#include <memory>
#include <string>
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
  // Map-only view: the heatmap at full opacity on black, in the frame's geometry (hover, crop
  // box and screenshots stay where they were).
  bool map_only = false;
  // A channel of the grid laid over the frame instead of the method's map (the Deep
  // Visualization Toolbox's big unit view): its index, -1 = the map. Shown only while the
  // result's grid holds it (an opened channel is pinned there).
  int channel = -1;
  // Pixel-space methods (saliency family): values above this top percentile of the map
  // saturate, as Captum's visualizer clips outliers; 0 = the plain [0, 1] range.
  float clip_percent = 0.f;
  bool operator==(const DisplayOptions& o) const {
    return colormap == o.colormap && alpha == o.alpha && threshold == o.threshold &&
           overlay == o.overlay && map_only == o.map_only && channel == o.channel &&
           clip_percent == o.clip_percent;
  }
};

// The value of a map at which the top `percent` % of its values begin (the (100 - percent)th
// percentile, nearest rank), or 1 when percent <= 0 or the map is empty. `scratch` is reused.
float clip_value(const std::vector<float>& values, float percent, std::vector<float>& scratch);
// The feature visualizations side by side as RGB8 (4 grey pixels apart): returns the width
// (the height is the images'), 0 when there are none.
int optvis_atlas(const app::OptvisView& view, std::vector<uint8_t>& rgb);
// Methods whose map is a pixel-space attribution (their few extreme pixels wash out the rest).
bool is_pixel_space_method(const std::string& method);

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

  // The feature visualizations of `view` side by side (4 px apart), when generation changed.
  void update_optvis(const app::OptvisView& view, uint64_t generation);
  TextureView optvis() const;

  TextureView overlay() const;  // frame + heatmap (frame-sized)
  // Compare view: frame + the i-th further method's map (same display options as overlay()).
  size_t compare_count() const { return m_compare_shown; }
  TextureView compare(size_t i) const;
  TextureView grid() const;     // colored channel atlas
  TextureView filters() const;  // first-layer filters (RGB or gray)
  TextureView sanity_maps() const;  // the sanity maps atlas (tile 0 = original)
  const render::GridLayout& sanity_layout() const { return m_sanity_layout; }
  const render::GridLayout& grid_layout() const { return m_grid_layout; }
  const std::shared_ptr<const app::FrameResult>& shown() const { return m_shown; }
  // What the overlay shows now: the map's value that saturates the colormap (< 1 when clipped)
  // and the channel laid over the frame (-1: the method's map).
  float shown_clip() const { return m_clip_hi; }
  int shown_channel() const { return m_channel_shown; }

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

  // The shown map's value at map pixel (x, y), read back from its texture (one texel: the
  // device path has no host copy of the map); 0 outside or without a map.
  float map_value(int x, int y) const;
  // The whole map read back from its texture (row 0 = top); false without a map.
  bool read_map(std::vector<float>& out, int* width, int* height) const;

  // Reads the overlay texture back (RGBA8, top row first) into `out`, resized as needed.
  void read_overlay(std::vector<uint8_t>& out) const;

 private:
  std::unique_ptr<gpu::TextureBridge> m_bridge;
  render::OverlayPass m_overlay_pass;
  render::ColormapPass m_colormap_pass;
  render::Texture2D m_frame_tex, m_filters_tex, m_sanity_tex, m_channel_tex, m_optvis_tex;
  uint64_t m_optvis_generation = ~0ull;
  std::vector<render::Texture2D> m_compare_maps;
  std::vector<render::RenderTarget> m_compare_rt;
  size_t m_compare_shown = 0;
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
  std::vector<float> m_clip_scratch;
  mutable gl::FramebufferHandle m_read_fbo;  // map_value, read_map and the channel tile copy
  float m_clip_hi = 1.f;
  int m_channel_shown = -1;
  double m_upload_ms = 0, m_draw_ms = 0;
  uint64_t m_bytes_to_gl = 0;
  long m_overlay_draws = 0, m_grid_draws = 0, m_frame_uploads = 0;
};

}  // namespace camscope::ui
