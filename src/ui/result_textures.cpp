#include "ui/result_textures.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <iterator>

#include "util/clip_levels.h"

namespace camscope::ui {
namespace {
using Clock = std::chrono::steady_clock;
double ms_since(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}
}  // namespace

float clip_value(const std::vector<float>& values, float percent, std::vector<float>& scratch) {
  if (!(percent > 0.f) || values.empty()) return 1.f;
  scratch.assign(values.begin(), values.end());
  const size_t k = clip_rank(scratch.size(), percent);
  std::nth_element(scratch.begin(), scratch.begin() + static_cast<std::ptrdiff_t>(k),
                   scratch.end());
  // A map whose top values are all equal (or all zero) has nothing to clip.
  return clip_saturation(scratch[k]);
}

bool is_pixel_space_method(const std::string& m) {
  static const char* kPixel[] = {"saliency", "gradxinput", "smoothgrad",
                                 "intgrad",  "guidedbp",   "guidedgradcam"};
  return std::any_of(std::begin(kPixel), std::end(kPixel), [&](const char* n) { return m == n; });
}

ResultTextures::ResultTextures() : m_bridge(gpu::make_texture_bridge()) {
  m_frame_tex.set_filter(GL_LINEAR);
  m_filters_tex.set_filter(GL_NEAREST);
}

bool ResultTextures::update(const std::shared_ptr<const app::FrameResult>& result,
                            const DisplayOptions& opt) {
  const bool new_result = result && result != m_shown;
  if (!new_result && opt == m_options) return false;
  // The grid's colors depend on the colormap only: alpha, threshold and the overlay switch
  // leave it as it is.
  const bool grid_dirty = new_result || opt.colormap != m_options.colormap;
  const bool clip_dirty = new_result || opt.clip_percent != m_options.clip_percent;
  const bool channel_dirty = new_result || opt.channel != m_options.channel;
  m_options = opt;
  if (new_result) {
    const auto t0 = Clock::now();
    m_shown = result;
    const app::FrameResult& r = *result;
    uint64_t bytes = 0;
    // Results of the same frame (another method, layer or target on a paused frame) share its
    // immutable pixels: they are in the texture already. Holding the pointer keeps a new frame
    // from ever being taken for the old one at a reused address.
    if (r.frame && r.frame->valid() && r.frame != m_uploaded_frame) {
      m_frame_tex.ensure(r.frame->width, r.frame->height, GL_RGB8);
      m_frame_tex.upload_rgb8(r.frame->rgb.data());
      m_uploaded_frame = r.frame;
      ++m_frame_uploads;
      bytes += r.frame->rgb.size();
    }
    // The device path leaves map and grid where the model computed them: they reach GL through
    // the bridge (interop on CUDA, after the worker's event) without a host copy.
    gpu::MapDesc maps[2];
    gpu::CudaSync sync;
    sync.ready_event = r.ready_event.get();
    size_t n = 0;
    m_have_map = r.has_map();
    if (!r.device_map.empty()) {
      maps[n++] = gpu::map_desc(r.device_map, /*atlas=*/false);
    } else if (m_have_map) {
      maps[n].data = r.map.values.data();
      maps[n].width = r.map.width;
      maps[n].height = r.map.height;
      ++n;
    } else {
      // Keep slot numbering stable: the grid always lives in slot 1.
      static const float kZero = 0.f;
      maps[n].data = &kZero;
      maps[n].width = maps[n].height = 1;
      ++n;
    }
    m_have_grid = r.has_grid();
    if (!r.device_grid.empty()) {
      maps[n] = gpu::map_desc(r.device_grid, /*atlas=*/true);
      maps[n].border_value = 0.f;
      ++n;
    } else if (m_have_grid) {
      maps[n].data = r.grid.values.data();
      maps[n].width = r.grid.width;
      maps[n].height = r.grid.height;
      maps[n].channels = r.grid.channels;
      maps[n].grid = render::GridLayout::make(r.grid.channels, r.grid.width, r.grid.height, 1);
      maps[n].border_value = 0.f;
      ++n;
    }
    m_bridge->upload(maps, n, sync);
    bytes += m_bridge->last_frame().total();
    if (m_have_grid)
      m_grid_layout = m_bridge->texture(1).grid;
    else
      m_grid_layout = {};
    m_bytes_to_gl = bytes;
    m_upload_ms = ms_since(t0);
  }
  if (!m_shown || !m_shown->frame || !m_shown->frame->valid()) return true;

  const auto t1 = Clock::now();
  const app::FrameResult& r = *m_shown;
  if (clip_dirty) {
    const bool pixel = m_have_map && is_pixel_space_method(r.params.method);
    if (!pixel)
      m_clip_hi = 1.f;
    else if (!r.map.empty())
      m_clip_hi = clip_value(r.map.values, opt.clip_percent, m_clip_scratch);
    else  // the device path: the levels the worker computed next to the map
      m_clip_hi = clip_from_levels(r.clip_levels, opt.clip_percent);
  }
  if (channel_dirty) {
    // The channel's tile of the grid atlas (per-channel min-max, feature resolution), copied
    // texture to texture (the device path has no host copy of it) and laid over the crop box
    // like the map; bilinear upsampling as the overlay samples any map.
    m_channel_shown = -1;
    const auto it = std::find(r.grid_channels.begin(), r.grid_channels.end(), opt.channel);
    if (opt.channel >= 0 && it != r.grid_channels.end() && m_have_grid && m_grid_layout.valid()) {
      const int pos = static_cast<int>(it - r.grid_channels.begin());
      if (pos < m_grid_layout.count) {
        const int w = m_grid_layout.tile_w, h = m_grid_layout.tile_h;
        m_channel_tex.ensure(w, h, GL_R32F);
        render::copy_r32f(m_read_fbo, m_bridge->texture(1).id, m_grid_layout.tile_x(pos),
                          m_grid_layout.tile_y(pos), w, h, m_channel_tex);
        m_channel_shown = opt.channel;
      }
    }
  }
  m_overlay_rt.resize(r.frame->width, r.frame->height);
  const gpu::BridgeTexture bridge_map = m_bridge->texture(0);
  const bool channel = m_channel_shown >= 0;
  const render::MapTexture map_tex =
      channel ? render::MapTexture{m_channel_tex.id(), m_channel_tex.width(), m_channel_tex.height()}
              : render::MapTexture{bridge_map.id, bridge_map.width, bridge_map.height};
  const bool heat = (m_have_map || channel) && opt.overlay;
  render::OverlayParams op;
  op.colormap = opt.colormap;
  op.alpha = heat ? (opt.map_only ? 1.f : std::clamp(opt.alpha, 0.f, 1.f)) : 0.f;
  op.frame_gain = heat && opt.map_only ? 0.f : 1.f;
  op.range.hi = channel ? 1.f : m_clip_hi;
  op.threshold = opt.threshold;
  // The map covers the pixels the model saw, not the whole frame (center-crop models).
  const model::InputGeometry& g = r.geometry;
  if (g.valid() && g.src_w == r.frame->width && g.src_h == r.frame->height)
    op.crop = {static_cast<float>(g.x0 / g.src_w), static_cast<float>(g.y0 / g.src_h),
               static_cast<float>(g.x1 / g.src_w), static_cast<float>(g.y1 / g.src_h)};
  m_overlay_pass.render(
      render::FrameTexture{m_frame_tex.id(), m_frame_tex.width(), m_frame_tex.height()},
      map_tex, op, m_overlay_rt);
  // Compare view: each further method's map over the frame, with the same options.
  m_compare_shown = 0;
  if (!r.compare.empty()) {
    if (m_compare_maps.size() < r.compare.size()) {
      m_compare_maps.resize(r.compare.size());
      m_compare_rt.resize(r.compare.size());
    }
    render::OverlayParams cop = op;
    cop.range.hi = 1.f;
    for (size_t i = 0; i < r.compare.size(); ++i) {
      const app::HostMap& cm = r.compare[i].second;
      if (cm.empty()) continue;
      if (new_result) {
        m_compare_maps[i].ensure(cm.width, cm.height, GL_R32F);
        m_compare_maps[i].upload_r32f(cm.values.data());
      }
      m_compare_rt[i].resize(r.frame->width, r.frame->height);
      cop.alpha = opt.overlay ? (opt.map_only ? 1.f : std::clamp(opt.alpha, 0.f, 1.f)) : 0.f;
      cop.frame_gain = opt.overlay && opt.map_only ? 0.f : 1.f;
      m_overlay_pass.render(
          render::FrameTexture{m_frame_tex.id(), m_frame_tex.width(), m_frame_tex.height()},
          render::MapTexture{m_compare_maps[i].id(), cm.width, cm.height}, cop, m_compare_rt[i]);
      m_compare_shown = i + 1;
    }
  }
  if (m_have_grid && grid_dirty) {
    const gpu::BridgeTexture g = m_bridge->texture(1);
    m_grid_rt.resize(g.width, g.height);
    render::ColormapParams cp;
    cp.colormap = opt.colormap;
    cp.smooth = false;
    cp.grid = m_grid_layout;
    cp.border_color = {0.12f, 0.12f, 0.14f, 1.f};
    m_colormap_pass.render(render::MapTexture{g.id, g.width, g.height}, cp, m_grid_rt);
    ++m_grid_draws;
  }
  ++m_overlay_draws;
  m_draw_ms = ms_since(t1);
  return true;
}

void ResultTextures::update_filters(const app::ModelInfo& info) {
  if (info.generation == m_filters_generation) return;
  m_filters_generation = info.generation;
  const app::HostMap& f = info.filters;
  if (f.empty() || (f.channels != 1 && f.channels != 3)) {
    m_filters_tex.reset();
    return;
  }
  const size_t plane = static_cast<size_t>(f.width) * f.height;
  m_rgb_scratch.resize(plane * 3);
  for (size_t i = 0; i < plane; ++i)
    for (int c = 0; c < 3; ++c) {
      const float v = f.values[(f.channels == 3 ? c * plane : 0) + i];
      m_rgb_scratch[i * 3 + c] = static_cast<uint8_t>(std::clamp(v, 0.f, 1.f) * 255.f + 0.5f);
    }
  m_filters_tex.ensure(f.width, f.height, GL_RGB8);
  m_filters_tex.upload_rgb8(m_rgb_scratch.data());
}

void ResultTextures::update_sanity(const app::SanityResult& sanity, uint64_t generation,
                                   render::Colormap colormap) {
  if (generation == m_sanity_generation) return;
  m_sanity_generation = generation;
  const app::HostMap& m = sanity.maps;
  if (m.empty() || m.channels <= 0) {
    m_sanity_tex.reset();
    m_sanity_layout = {};
    return;
  }
  // One row per 6 maps keeps the atlas well inside any GL texture size limit.
  m_sanity_layout = render::GridLayout::make(m.channels, m.width, m.height, 2, std::min(m.channels, 6));
  const int W = m_sanity_layout.width(), H = m_sanity_layout.height();
  m_rgb_scratch.assign(static_cast<size_t>(W) * H * 3, 40);
  const render::Lut lut = render::colormap_lut(colormap);
  for (int c = 0; c < m.channels; ++c) {
    const int x0 = m_sanity_layout.tile_x(c), y0 = m_sanity_layout.tile_y(c);
    for (int y = 0; y < m.height; ++y)
      for (int x = 0; x < m.width; ++x) {
        const auto rgb = render::colormap_apply(lut, m.at(c, y, x), render::ValueRange{});
        uint8_t* px = &m_rgb_scratch[(static_cast<size_t>(y0 + y) * W + x0 + x) * 3];
        for (int k = 0; k < 3; ++k)
          px[k] = static_cast<uint8_t>(std::clamp(rgb[k], 0.f, 255.f) + 0.5f);
      }
  }
  m_sanity_tex.ensure(W, H, GL_RGB8);
  m_sanity_tex.upload_rgb8(m_rgb_scratch.data());
}

void ResultTextures::update_optvis(const app::OptvisView& view, uint64_t generation) {
  if (generation == m_optvis_generation) return;
  m_optvis_generation = generation;
  const app::HostMap& m = view.images;
  if (m.empty() || view.batch <= 0 || m.channels != view.batch * 3) {
    if (!view.running) m_optvis_tex.reset();  // keep the last images while a new run starts
    return;
  }
  m_rgb_scratch.clear();
  optvis_atlas(view, m_rgb_scratch);
  const int W = view.batch * m.width + (view.batch - 1) * 4;
  m_optvis_tex.ensure(W, m.height, GL_RGB8);
  m_optvis_tex.upload_rgb8(m_rgb_scratch.data());
}

TextureView ResultTextures::optvis() const {
  if (!m_optvis_tex.id()) return {};
  return {m_optvis_tex.id(), m_optvis_tex.width(), m_optvis_tex.height()};
}

int optvis_atlas(const app::OptvisView& view, std::vector<uint8_t>& rgb) {
  const app::HostMap& m = view.images;
  if (m.empty() || view.batch <= 0) return 0;
  const int S = m.width, H = m.height, B = view.batch;
  const int W = B * S + (B - 1) * 4;
  rgb.assign(static_cast<size_t>(W) * H * 3, 128);
  for (int b = 0; b < B; ++b)
    for (int y = 0; y < H; ++y)
      for (int x = 0; x < S; ++x)
        for (int c = 0; c < 3; ++c)
          rgb[(static_cast<size_t>(y) * W + b * (S + 4) + x) * 3 + c] = static_cast<uint8_t>(
              std::clamp(m.at(b * 3 + c, y, x), 0.f, 1.f) * 255.f + 0.5f);
  return W;
}

TextureView ResultTextures::sanity_maps() const {
  if (!m_sanity_tex.id()) return {};
  return {m_sanity_tex.id(), m_sanity_tex.width(), m_sanity_tex.height()};
}

TextureView ResultTextures::overlay() const {
  if (!m_shown || !m_overlay_rt.texture()) return {};
  return {m_overlay_rt.texture(), m_overlay_rt.width(), m_overlay_rt.height()};
}
TextureView ResultTextures::compare(size_t i) const {
  if (i >= m_compare_shown || !m_compare_rt[i].texture()) return {};
  return {m_compare_rt[i].texture(), m_compare_rt[i].width(), m_compare_rt[i].height()};
}
TextureView ResultTextures::grid() const {
  if (!m_have_grid || !m_grid_rt.texture()) return {};
  return {m_grid_rt.texture(), m_grid_rt.width(), m_grid_rt.height()};
}
TextureView ResultTextures::filters() const {
  if (!m_filters_tex.id()) return {};
  return {m_filters_tex.id(), m_filters_tex.width(), m_filters_tex.height()};
}

void ResultTextures::read_overlay(std::vector<uint8_t>& out) const {
  out.resize(static_cast<size_t>(m_overlay_rt.width()) * m_overlay_rt.height() * 4);
  if (!out.empty()) m_overlay_rt.read_rgba(out.data());
}

float ResultTextures::map_value(int x, int y) const {
  const gpu::BridgeTexture t = m_bridge->texture(0);
  if (!m_have_map || !t.id || x < 0 || y < 0 || x >= t.width || y >= t.height) return 0.f;
  float v = 0.f;
  render::read_r32f(m_read_fbo, t.id, x, y, 1, 1, &v);
  return v;
}

bool ResultTextures::read_map(std::vector<float>& out, int* width, int* height) const {
  const gpu::BridgeTexture t = m_bridge->texture(0);
  if (!m_have_map || !t.id) return false;
  out.resize(static_cast<size_t>(t.width) * t.height);
  render::read_r32f(m_read_fbo, t.id, 0, 0, t.width, t.height, out.data());
  *width = t.width;
  *height = t.height;
  return true;
}

}  // namespace camscope::ui
