// Channel-grid atlas: the layout convention (sizes, placement, click-back) and the atlas the
// bridge builds, read back from GL for N = 1, 7, 64, 512, then drawn through the colormap pass.
#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "gpu/texture_bridge.h"
#include "render/colormap_pass.h"
#include "render/gl_context.h"
#include "render/grid_layout.h"
#include "render_helpers.h"
#include "test_support.h"
#include "util/error.h"

using namespace camscope;

TEST_CASE("grid layout follows the convention") {
  // N = 7, 4x3 tiles, border 1: cols = ceil(sqrt 7) = 3, rows = 3, W = 1 + 3*5, H = 1 + 3*4.
  auto g = render::GridLayout::make(7, 4, 3, 1);
  CHECK(g.cols == 3);
  CHECK(g.rows == 3);
  CHECK(g.width() == 16);
  CHECK(g.height() == 13);
  CHECK(g.tile_x(0) == 1);
  CHECK(g.tile_y(0) == 1);
  CHECK(g.tile_x(4) == 6);  // column 1
  CHECK(g.tile_y(4) == 5);  // row 1
  CHECK(g.tile_x(6) == 1);  // column 0, row 2
  CHECK(g.tile_y(6) == 9);
  // Perfect squares and their neighbours: no floating-point off-by-one.
  CHECK(render::GridLayout::make(64, 1, 1).cols == 8);
  CHECK(render::GridLayout::make(65, 1, 1).cols == 9);
  CHECK(render::GridLayout::make(512, 1, 1).cols == 23);
  CHECK(render::GridLayout::make(512, 1, 1).rows == 23);
  CHECK(render::GridLayout::make(1, 5, 5, 2).width() == 9);
  // Given columns, no border.
  auto r = render::GridLayout::make(10, 2, 2, 0, 4);
  CHECK(r.rows == 3);
  CHECK(r.width() == 8);
  CHECK(r.height() == 6);
  CHECK(!r.pick(7, 5));   // row 2, column 3 would be channel 11 of 10: an empty cell
  auto p = r.pick(3, 5);  // row 2, column 1: channel 9, pixel (1, 1)
  REQUIRE(p);
  CHECK(p->channel == 9);
  CHECK(p->x == 1);
  CHECK(p->y == 1);
  CHECK_THROWS_AS(render::GridLayout::make(0, 4, 4), Error);
  CHECK_THROWS_AS(render::GridLayout::make(3, 0, 4), Error);
  CHECK_THROWS_AS(render::GridLayout::make(3, 4, 4, -1), Error);
}

TEST_CASE("click-back: pick inverts placement; borders and empty cells give none") {
  for (int n : {1, 7, 64, 512}) {
    for (int border : {0, 1, 3}) {
      auto g = render::GridLayout::make(n, 5, 3, border);
      int hits = 0, misses = 0, wrong = 0;
      for (int py = -1; py <= g.height(); ++py)
        for (int px = -1; px <= g.width(); ++px) {
          auto p = g.pick(px, py);
          if (!p) {
            ++misses;
            continue;
          }
          ++hits;
          wrong += p->x < 0 || p->x >= 5 || p->y < 0 || p->y >= 3 ||
                   g.tile_x(p->channel) + p->x != px || g.tile_y(p->channel) + p->y != py;
        }
      INFO("n=" << n << " border=" << border);
      CHECK(wrong == 0);
      CHECK(hits == n * 5 * 3);  // every channel pixel is reachable exactly once
      CHECK(misses == (g.width() + 2) * (g.height() + 2) - n * 15);
    }
  }
}

TEST_CASE("the bridge tiles channel maps into the atlas; the colormap pass draws its borders") {
  auto ctx = gl::create_headless_context({16, 16});
  auto bridge = gpu::make_host_bridge();
  render::ColormapPass pass;
  render::RenderTarget target;
  const int w = 6, h = 4;
  for (int n : {1, 7, 64, 512}) {
    // Channel c holds c + 1 everywhere except a marker encoding the pixel position, so both the
    // tile and the orientation inside it are checked. Rows are padded to check the pitch.
    const int pitch = w + 3;
    std::vector<float> maps(static_cast<size_t>(n) * h * pitch, -7.f);
    auto value = [&](int c, int x, int y) { return (c + 1) + (x + y * w) / 100.f; };
    for (int c = 0; c < n; ++c)
      for (int y = 0; y < h; ++y)
        for (int x = 0; x < w; ++x)
          maps[(static_cast<size_t>(c) * h + y) * pitch + x] = value(c, x, y);
    gpu::MapDesc d;
    d.data = maps.data();
    d.width = w;
    d.height = h;
    d.pitch_bytes = pitch * sizeof(float);
    d.channels = n;
    d.border_value = -1.f;
    bridge->upload(d);
    const gpu::BridgeTexture t = bridge->texture(0);
    const auto g = render::GridLayout::make(n, w, h, 1);
    REQUIRE(t.grid.valid());
    CHECK(t.grid.cols == g.cols);
    REQUIRE(t.width == g.width());
    REQUIRE(t.height == g.height());
    CHECK(bridge->last_frame().host_to_gl == static_cast<uint64_t>(t.width) * t.height * 4);

    // Every atlas texel, read back from GL, is the channel value pick() names, or the border.
    const auto atlas = test::read_r32f(t.id, t.width, t.height);
    int wrong = 0;
    for (int py = 0; py < t.height; ++py)
      for (int px = 0; px < t.width; ++px) {
        const auto p = g.pick(px, py);
        const float want = p ? value(p->channel, p->x, p->y) : -1.f;
        wrong += atlas[static_cast<size_t>(py) * t.width + px] != want;
      }
    INFO("n=" << n);
    CHECK(wrong == 0);
    // Channel i's top-left pixel is at the documented place (memory row 0 = top).
    const int last = n - 1;
    CHECK(atlas[static_cast<size_t>(g.tile_y(last)) * t.width + g.tile_x(last)] ==
          value(last, 0, 0));

    // Through the colormap pass (gray over [0, n + 1]): borders and empty cells in the border
    // color, tiles in their gray level.
    target.resize(t.width, t.height);
    render::ColormapParams cp;
    cp.colormap = render::Colormap::Gray;
    cp.range = {0.f, static_cast<float>(n + 1), 1.f};
    cp.grid = t.grid;
    cp.border_color = {1.f, 0.f, 1.f, 1.f};  // magenta: not a gray
    pass.render({t.id, t.width, t.height}, cp, target);
    const auto px = test::read_target(target);
    const render::Lut lut = render::colormap_lut(render::Colormap::Gray);
    int bad = 0;
    for (int py = 0; py < t.height; ++py)
      for (int qx = 0; qx < t.width; ++qx) {
        const uint8_t* c = &px[(static_cast<size_t>(py) * t.width + qx) * 4];
        const auto p = g.pick(qx, py);
        if (!p) {
          bad += c[0] != 255 || c[1] != 0 || c[2] != 255;
        } else {
          const float want =
              render::colormap_apply(lut, value(p->channel, p->x, p->y), cp.range)[0];
          bad += std::abs(c[0] - want) > 1.f || c[0] != c[1];
        }
      }
    CHECK(bad == 0);
  }
}
