// Overlay pass: frame (RGB8) + colormapped heatmap, read back and checked against the blend
// arithmetic: alpha 0 -> the frame exactly, 1 -> the heatmap color, 0.5 -> the mean; heat below
// the threshold is transparent.
#include <doctest/doctest.h>

#include <cstdlib>
#include <vector>

#include "gpu/texture_bridge.h"
#include "render/colormap_pass.h"
#include "render/gl_context.h"
#include "render_helpers.h"
#include "test_support.h"
#include "util/error.h"

using namespace camscope;

namespace {

constexpr int kW = 37, kH = 23;  // odd width: RGB rows are not 4-byte aligned

struct Scene {
  std::vector<uint8_t> frame;  // RGB8, top row first
  std::vector<float> heat;     // same size
  render::Texture2D frame_tex;
  std::unique_ptr<gpu::TextureBridge> bridge = gpu::make_host_bridge();

  Scene() {
    frame.resize(kW * kH * 3);
    heat.resize(kW * kH);
    for (int y = 0; y < kH; ++y)
      for (int x = 0; x < kW; ++x) {
        uint8_t* p = &frame[(y * kW + x) * 3];
        p[0] = static_cast<uint8_t>(x * 7);
        p[1] = static_cast<uint8_t>(y * 11);
        p[2] = static_cast<uint8_t>(255 - x * 3 - y);
        heat[y * kW + x] = static_cast<float>(x) / (kW - 1);  // 0 .. 1 left to right
      }
    frame_tex.ensure(kW, kH, GL_RGB8);
    frame_tex.upload_rgb8(frame.data());
    gpu::MapDesc d;
    d.data = heat.data();
    d.width = kW;
    d.height = kH;
    bridge->upload(d);
  }
  render::MapTexture map() const {
    auto t = bridge->texture(0);
    return {t.id, t.width, t.height};
  }
};

}  // namespace

TEST_CASE("overlay blend: alpha 0, 1, 0.5 and the threshold") {
  auto ctx = gl::create_headless_context({16, 16});
  Scene s;
  render::OverlayPass pass;
  render::RenderTarget target;
  target.resize(kW, kH);
  const render::Lut lut = render::colormap_lut(render::Colormap::Turbo);

  auto render_with = [&](float alpha, float threshold) {
    render::OverlayParams p;
    p.colormap = render::Colormap::Turbo;
    p.alpha = alpha;
    p.threshold = threshold;
    pass.render(s.frame_tex.id(), s.map(), p, target);
    return test::read_target(target);
  };

  const auto a0 = render_with(0.f, 0.f);
  const auto a1 = render_with(1.f, 0.f);
  const auto ah = render_with(0.5f, 0.f);
  // Threshold between two columns' values (17/36 and 18/36), not on one: bilinear sampling at
  // texel centres is exact only up to interpolation rounding.
  const auto th = render_with(1.f, 0.49f);
  int m0 = 0, m1 = 0, mh = 0, mt = 0;  // mismatches per check
  for (int y = 0; y < kH; ++y)
    for (int x = 0; x < kW; ++x) {
      const size_t i = static_cast<size_t>(y) * kW + x;
      const auto heat = render::colormap_apply(lut, s.heat[i], {});
      for (int c = 0; c < 3; ++c) {
        const int f = s.frame[i * 3 + c];
        const int h = test::round_u8(heat[c]);
        m0 += a0[i * 4 + c] != f;                                   // exactly the frame
        m1 += std::abs(a1[i * 4 + c] - h) > 1;                      // the heat color
        mh += std::abs(ah[i * 4 + c] - (f + heat[c]) / 2.f) > 1.f;  // the mean
        const bool visible = s.heat[i] >= 0.49f;
        mt += visible ? std::abs(th[i * 4 + c] - h) > 1 : th[i * 4 + c] != f;
      }
      m0 += a0[i * 4 + 3] != 255;
    }
  CHECK(m0 == 0);
  CHECK(m1 == 0);
  CHECK(mh == 0);
  CHECK(mt == 0);
  // The threshold splits the image between x = 17 and x = 18.
  CHECK(th[(5 * kW + 17) * 4 + 0] == s.frame[(5 * kW + 17) * 3 + 0]);
  CHECK(th[(5 * kW + 18) * 4 + 0] != s.frame[(5 * kW + 18) * 3 + 0]);
}

TEST_CASE("overlay: a low-resolution heatmap is stretched over the frame") {
  auto ctx = gl::create_headless_context({16, 16});
  Scene s;
  // A 2x1 map: left half value 0 (transparent under threshold 0.25), right half 1.
  const std::vector<float> small = {0.f, 1.f};
  gpu::MapDesc d;
  d.data = small.data();
  d.width = 2;
  d.height = 1;
  s.bridge->upload(d);
  render::OverlayPass pass;
  render::RenderTarget target;
  target.resize(kW, kH);
  render::OverlayParams p;
  p.colormap = render::Colormap::Gray;
  p.alpha = 1.f;
  p.threshold = 0.25f;
  pass.render(s.frame_tex.id(), s.map(), p, target);
  const auto px = test::read_target(target);
  // Far left: heat 0 -> frame. Far right: heat 1 -> white.
  for (int y = 0; y < kH; ++y) {
    CHECK(px[(y * kW + 0) * 4 + 1] == s.frame[(y * kW + 0) * 3 + 1]);
    CHECK(px[(y * kW + kW - 1) * 4 + 0] == 255);
    CHECK(px[(y * kW + kW - 1) * 4 + 1] == 255);
  }
  p.alpha = 1.5f;
  CHECK_THROWS_AS(pass.render(s.frame_tex.id(), s.map(), p, target), Error);
}
