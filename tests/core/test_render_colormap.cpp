// Colormap pass: pixels read back from a headless GL context against the CPU definition
// (render::colormap_apply) and against published reference colors.
#include <doctest/doctest.h>

#include <cstdlib>
#include <vector>

#include "gpu/texture_bridge.h"
#include "render/colormap.h"
#include "render/colormap_pass.h"
#include "render/gl_context.h"
#include "render_helpers.h"
#include "test_support.h"
#include "util/error.h"

using namespace camscope;

namespace {

// Renders `values` (a 1-row map) through the colormap pass at the same size; returns RGBA.
std::vector<uint8_t> colorize(gpu::TextureBridge& bridge, render::ColormapPass& pass,
                              render::RenderTarget& target, const std::vector<float>& values,
                              render::Colormap map, render::ValueRange range) {
  gpu::MapDesc d;
  d.data = values.data();
  d.width = static_cast<int>(values.size());
  d.height = 1;
  bridge.upload(d);
  const gpu::BridgeTexture t = bridge.texture(0);
  target.resize(t.width, t.height);
  render::ColormapParams p;
  p.colormap = map;
  p.range = range;
  p.smooth = false;
  pass.render({t.id, t.width, t.height}, p, target);
  return test::read_target(target);
}

const render::Colormap kAll[] = {render::Colormap::Jet, render::Colormap::Turbo,
                                 render::Colormap::Viridis, render::Colormap::Inferno,
                                 render::Colormap::Gray};

}  // namespace

TEST_CASE("colormap pass matches the CPU definition within 1 LSB") {
  auto ctx = gl::create_headless_context({16, 16});
  auto bridge = gpu::make_host_bridge();
  render::ColormapPass pass;
  render::RenderTarget target;
  // Endpoints, midpoint, quarter points, out-of-range values and an irregular sweep.
  const render::ValueRange range{-2.f, 6.f, 1.f};
  std::vector<float> values = {-2.f, 6.f, 2.f, 0.f, 4.f, -10.f, 50.f};
  for (int i = 0; i <= 40; ++i) values.push_back(-2.f + 8.f * i / 40.f + 0.013f * (i % 3));
  for (render::Colormap map : kAll) {
    for (float gamma : {1.f, 0.5f, 2.2f}) {
      render::ValueRange r = range;
      r.gamma = gamma;
      const auto px = colorize(*bridge, pass, target, values, map, r);
      const render::Lut lut = render::colormap_lut(map);
      for (size_t i = 0; i < values.size(); ++i) {
        const auto want = render::colormap_apply(lut, values[i], r);
        for (int c = 0; c < 3; ++c) {
          INFO(render::colormap_name(map)
               << " gamma " << gamma << " v=" << values[i] << " c=" << c);
          CHECK(std::abs(px[i * 4 + c] - test::round_u8(want[c])) <= 1);
        }
        CHECK(px[i * 4 + 3] == 255);
      }
      // Endpoints and midpoint against the continuous definition itself.
      for (auto [idx, t] : {std::pair<int, float>{0, 0.f}, {1, 1.f}, {2, 0.5f}}) {
        const render::Rgbf want = render::colormap_eval(map, std::pow(t, gamma));
        INFO(render::colormap_name(map) << " gamma " << gamma << " t=" << t);
        CHECK(std::abs(px[idx * 4 + 0] - test::round_u8(want.r * 255.f)) <= 1);
        CHECK(std::abs(px[idx * 4 + 1] - test::round_u8(want.g * 255.f)) <= 1);
        CHECK(std::abs(px[idx * 4 + 2] - test::round_u8(want.b * 255.f)) <= 1);
      }
      // Values outside [lo, hi] clamp to the ends.
      for (int c = 0; c < 3; ++c) {
        CHECK(px[5 * 4 + c] == px[0 * 4 + c]);
        CHECK(px[6 * 4 + c] == px[1 * 4 + c]);
      }
    }
  }
}

TEST_CASE("colormap definitions agree with the published reference colors") {
  // Reference 8-bit colors: matplotlib's viridis/inferno tables (first, middle, last entry),
  // Turbo's table ends, MATLAB jet's ends and middle. Anchored interpolation keeps them within
  // a few levels.
  struct Ref {
    render::Colormap map;
    float t;
    int r, g, b;
  };
  const Ref refs[] = {
      {render::Colormap::Viridis, 0.f, 68, 1, 84},
      {render::Colormap::Viridis, 0.5f, 33, 145, 140},
      {render::Colormap::Viridis, 1.f, 253, 231, 37},
      {render::Colormap::Inferno, 0.f, 0, 0, 4},
      {render::Colormap::Inferno, 0.5f, 188, 55, 84},
      {render::Colormap::Inferno, 1.f, 252, 255, 164},
      {render::Colormap::Turbo, 0.f, 48, 18, 59},
      {render::Colormap::Turbo, 1.f, 122, 4, 3},
      {render::Colormap::Jet, 0.f, 0, 0, 128},
      {render::Colormap::Jet, 0.5f, 128, 255, 128},
      {render::Colormap::Jet, 1.f, 128, 0, 0},
      {render::Colormap::Gray, 0.25f, 64, 64, 64},
  };
  for (const Ref& ref : refs) {
    const render::Rgbf c = render::colormap_eval(ref.map, ref.t);
    INFO(render::colormap_name(ref.map) << " t=" << ref.t);
    CHECK(std::abs(test::round_u8(c.r * 255) - ref.r) <= 3);
    CHECK(std::abs(test::round_u8(c.g * 255) - ref.g) <= 3);
    CHECK(std::abs(test::round_u8(c.b * 255) - ref.b) <= 3);
  }
  CHECK(render::parse_colormap("turbo") == render::Colormap::Turbo);
  CHECK(render::parse_colormap("grey") == render::Colormap::Gray);
  CHECK_THROWS_AS(render::parse_colormap("rainbow"), Error);
}

TEST_CASE("range and gamma: same normalized value, same color") {
  auto ctx = gl::create_headless_context({16, 16});
  auto bridge = gpu::make_host_bridge();
  render::ColormapPass pass;
  render::RenderTarget target;
  for (render::Colormap map : kAll) {
    // t = 0.5 in [10, 20] equals t = 0.5 in [0, 1].
    const auto a = colorize(*bridge, pass, target, {15.f, 12.f}, map, {10.f, 20.f, 1.f});
    const auto b = colorize(*bridge, pass, target, {0.5f, 0.2f}, map, {0.f, 1.f, 1.f});
    // gamma 0.5 at t = 0.25 lands where gamma 1 puts t = 0.5; gamma 2 at t = 0.5 on t = 0.25.
    const auto g = colorize(*bridge, pass, target, {0.25f, 0.5f}, map, {0.f, 1.f, 0.5f});
    const auto g2 = colorize(*bridge, pass, target, {0.5f, 0.25f}, map, {0.f, 1.f, 2.f});
    const auto ref = colorize(*bridge, pass, target, {0.5f, 0.0625f}, map, {0.f, 1.f, 1.f});
    const auto ref2 = colorize(*bridge, pass, target, {0.25f}, map, {0.f, 1.f, 1.f});
    for (int c = 0; c < 3; ++c) {
      INFO(render::colormap_name(map) << " c=" << c);
      CHECK(std::abs(a[c] - b[c]) <= 1);
      CHECK(std::abs(a[4 + c] - b[4 + c]) <= 1);
      CHECK(std::abs(g[c] - ref[c]) <= 1);
      CHECK(std::abs(g2[c] - ref2[c]) <= 1);
      CHECK(std::abs(g2[4 + c] - ref[4 + c]) <= 1);
    }
  }
  // Gray makes the mapping visible directly: [10, 20] at 12.5 is a quarter, 64 of 255.
  const auto q =
      colorize(*bridge, pass, target, {12.5f}, render::Colormap::Gray, {10.f, 20.f, 1.f});
  CHECK(std::abs(q[0] - 64) <= 1);
  // A degenerate range is a step at hi, not a division by zero.
  const auto s =
      colorize(*bridge, pass, target, {0.9f, 1.f, 1.1f}, render::Colormap::Gray, {1.f, 1.f, 1.f});
  CHECK(s[0] == 0);
  CHECK(s[4] == 255);
  CHECK(s[8] == 255);
  render::ColormapParams bad;
  bad.range.gamma = 0.f;
  CHECK_THROWS_AS(pass.render({bridge->texture(0).id, 1, 1}, bad, target), Error);
}
