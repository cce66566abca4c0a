// ui::ResultTextures redraws a pass only when its inputs changed: these tests change one input
// at a time and read the overlay and the channel grid back from a headless GL context, so a
// skipped redraw (or a skipped frame upload) that should have happened shows as stale pixels.
#include <doctest/doctest.h>

#include <cstdlib>
#include <memory>
#include <vector>

#include "render/colormap.h"
#include "render/gl_context.h"
#include "ui/result_textures.h"

using namespace camscope;

namespace {

constexpr int kW = 8, kH = 6;  // frame and map share this size: no resampling
constexpr int kTile = 3, kChannels = 4;

std::shared_ptr<const capture::Frame> make_frame(int seed) {
  auto f = std::make_shared<capture::Frame>();
  f->index = seed;
  f->width = kW;
  f->height = kH;
  f->rgb.resize(kW * kH * 3);
  for (size_t i = 0; i < f->rgb.size(); ++i)
    f->rgb[i] = static_cast<uint8_t>((i * 29 + static_cast<size_t>(seed) * 101) % 256);
  return f;
}

app::HostMap make_map(int channels, int w, int h, int seed) {
  app::HostMap m;
  m.channels = channels;
  m.width = w;
  m.height = h;
  m.values.resize(static_cast<size_t>(channels) * w * h);
  for (size_t i = 0; i < m.values.size(); ++i)
    m.values[i] = static_cast<float>((i * 7 + static_cast<size_t>(seed) * 13) % 17) / 16.f;
  return m;
}

std::shared_ptr<const app::FrameResult> make_result(uint64_t serial,
                                                    std::shared_ptr<const capture::Frame> frame,
                                                    int map_seed, int grid_seed) {
  auto r = std::make_shared<app::FrameResult>();
  r->serial = serial;
  r->frame = std::move(frame);
  r->map = make_map(1, kW, kH, map_seed);
  r->grid = make_map(kChannels, kTile, kTile, grid_seed);
  return r;
}

std::vector<uint8_t> read_grid(const ui::ResultTextures& t) {
  const ui::TextureView g = t.grid();
  REQUIRE(g);
  std::vector<uint8_t> px(static_cast<size_t>(g.width) * g.height * 4);
  glBindTexture(GL_TEXTURE_2D, g.id);
  glPixelStorei(GL_PACK_ALIGNMENT, 1);
  glGetTexImage(GL_TEXTURE_2D, 0, GL_RGBA, GL_UNSIGNED_BYTE, px.data());
  return px;
}

// Alpha 0: the overlay is the frame, exactly.
void check_overlay_is_frame(const ui::ResultTextures& t, const capture::Frame& f) {
  std::vector<uint8_t> px;
  t.read_overlay(px);
  REQUIRE(px.size() == static_cast<size_t>(kW * kH * 4));
  int bad = 0;
  for (int i = 0; i < kW * kH; ++i)
    for (int c = 0; c < 3; ++c) bad += px[i * 4 + c] != f.rgb[i * 3 + c];
  CHECK(bad == 0);
}

// Alpha 1, threshold 0: the overlay is the colormapped map (within the passes' 1 LSB).
void check_overlay_is_map(const ui::ResultTextures& t, const app::HostMap& m, render::Colormap cm) {
  std::vector<uint8_t> px;
  t.read_overlay(px);
  const render::Lut lut = render::colormap_lut(cm);
  int bad = 0;
  for (int i = 0; i < kW * kH; ++i) {
    const auto rgb = render::colormap_apply(lut, m.values[i], render::ValueRange{});
    for (int c = 0; c < 3; ++c)
      bad += std::abs(px[i * 4 + c] - static_cast<int>(rgb[c] + 0.5f)) > 1;
  }
  CHECK(bad == 0);
}

// Every tile pixel of the grid is its channel's value, colormapped.
void check_grid(const ui::ResultTextures& t, const app::HostMap& g, render::Colormap cm) {
  const std::vector<uint8_t> px = read_grid(t);
  const render::GridLayout& L = t.grid_layout();
  REQUIRE(L.count == kChannels);
  const render::Lut lut = render::colormap_lut(cm);
  int bad = 0;
  for (int ch = 0; ch < kChannels; ++ch)
    for (int y = 0; y < kTile; ++y)
      for (int x = 0; x < kTile; ++x) {
        const auto rgb = render::colormap_apply(lut, g.at(ch, y, x), render::ValueRange{});
        const size_t o = (static_cast<size_t>(L.tile_y(ch) + y) * L.width() + L.tile_x(ch) + x) * 4;
        for (int c = 0; c < 3; ++c)
          bad += std::abs(px[o + c] - static_cast<int>(rgb[c] + 0.5f)) > 1;
      }
  CHECK(bad == 0);
}

}  // namespace

TEST_CASE("each changed input is redrawn; passes whose inputs did not change are skipped") {
  auto ctx = gl::create_headless_context({16, 16});
  ui::ResultTextures t;
  ui::DisplayOptions opt;
  opt.colormap = render::Colormap::Jet;
  opt.alpha = 1.f;

  const auto frame_a = make_frame(1);
  const auto r1 = make_result(1, frame_a, 1, 1);
  REQUIRE(t.update(r1, opt));
  check_overlay_is_map(t, r1->map, opt.colormap);
  check_grid(t, r1->grid, opt.colormap);
  CHECK(t.frame_uploads() == 1);
  CHECK(t.overlay_draws() == 1);
  CHECK(t.grid_draws() == 1);

  SUBCASE("nothing changed: no GL work") {
    CHECK_FALSE(t.update(r1, opt));
    CHECK(t.overlay_draws() == 1);
    CHECK(t.grid_draws() == 1);
  }

  SUBCASE("alpha: the overlay is redrawn, the grid is not (and stays right)") {
    opt.alpha = 0.f;
    REQUIRE(t.update(r1, opt));
    check_overlay_is_frame(t, *frame_a);
    CHECK(t.overlay_draws() == 2);
    CHECK(t.grid_draws() == 1);
    check_grid(t, r1->grid, opt.colormap);
  }

  SUBCASE("colormap: both passes are redrawn") {
    opt.colormap = render::Colormap::Gray;
    REQUIRE(t.update(r1, opt));
    check_overlay_is_map(t, r1->map, opt.colormap);
    check_grid(t, r1->grid, opt.colormap);
    CHECK(t.grid_draws() == 2);
  }

  SUBCASE("a new result of the same frame: new map and grid, the frame is not re-uploaded") {
    const auto r2 = make_result(2, frame_a, 5, 6);
    REQUIRE(t.update(r2, opt));
    check_overlay_is_map(t, r2->map, opt.colormap);
    check_grid(t, r2->grid, opt.colormap);
    CHECK(t.frame_uploads() == 1);
    opt.alpha = 0.f;
    REQUIRE(t.update(r2, opt));
    check_overlay_is_frame(t, *frame_a);
  }

  SUBCASE("a new frame with the same size and map is uploaded and shown") {
    const auto frame_b = make_frame(2);
    REQUIRE(frame_b->rgb != frame_a->rgb);
    opt.alpha = 0.f;
    REQUIRE(t.update(make_result(3, frame_b, 1, 1), opt));
    CHECK(t.frame_uploads() == 2);
    check_overlay_is_frame(t, *frame_b);
    // Back to the first frame, in a new result.
    REQUIRE(t.update(make_result(4, frame_a, 1, 1), opt));
    check_overlay_is_frame(t, *frame_a);
  }
}
