// The CPU preprocessing path (plain C++) against the LibTorch path it replaces on CPU models,
// over sizes that shrink, enlarge, mix both, crop and degenerate; plus its buffer reuse.
#include <ATen/Parallel.h>
#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <functional>
#include <sstream>

#include "model/model.h"
#include "model/preprocess.h"
#include "test_support.h"
#include "util/error.h"

using namespace camscope;
using model::ColorMode;
using model::InputSpec;
using model::ResizeMode;

namespace {

// Seeded random pixels over a smooth ramp, so both fine detail and gradients are resampled.
torch::Tensor random_frame(int64_t h, int64_t w, uint64_t seed) {
  auto gen = at::detail::createCPUGenerator(seed);
  torch::Tensor noise = torch::randint(-60, 61, {h, w, 3}, gen, torch::kInt32);
  torch::Tensor ramp = (torch::arange(w, torch::kInt32).view({1, w, 1}) * 255 / w) +
                       (torch::arange(h, torch::kInt32).view({h, 1, 1}) * 100 / h);
  return (ramp + noise).clamp(0, 255).to(torch::kUInt8).contiguous();
}

InputSpec make_spec(int h, int w, ColorMode color, ResizeMode resize, bool aa) {
  InputSpec s;
  s.height = h;
  s.width = w;
  s.color = color;
  s.resize = resize;
  s.antialias = aa;
  if (color == ColorMode::Gray) {
    s.mean = {0.45f};
    s.std = {0.27f};
  }
  return s;
}

float max_diff(const torch::Tensor& a, const torch::Tensor& b) {
  return (a - b).abs().max().item<float>();
}

double ms_per_call(int n, const std::function<void()>& f) {
  f();  // warm-up: caches, pools
  const auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < n; ++i) f();
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count() /
         n;
}

}  // namespace

TEST_CASE("CPU path equals the LibTorch path: shrink, enlarge, mixed, crops, odd sizes") {
  const std::vector<std::pair<int, int>> frames{{1, 1},     {3, 517},   {606, 517}, {1080, 1920},
                                                {360, 640}, {17, 13},   {224, 224}, {200, 300},
                                                {97, 2},    {224, 1000}};
  const std::vector<std::pair<int, int>> targets{
      {224, 224}, {112, 112}, {96, 96}, {50, 300}, {1, 7}};
  uint64_t seed = 1;
  int cases = 0;
  float worst = 0;
  for (auto [fh, fw] : frames) {
    torch::Tensor frame = random_frame(fh, fw, seed++);
    for (auto [th, tw] : targets)
      for (ResizeMode resize : {ResizeMode::Stretch, ResizeMode::CenterCrop})
        for (ColorMode color : {ColorMode::RGB, ColorMode::BGR, ColorMode::Gray})
          for (bool aa : {true, false}) {
            InputSpec spec = make_spec(th, tw, color, resize, aa);
            INFO(fh << "x" << fw << " -> " << th << "x" << tw << " color " << int(color)
                    << " center_crop " << (resize == ResizeMode::CenterCrop) << " aa " << aa);
            torch::Tensor want = model::preprocess_frame_torch(frame, spec, torch::kCPU);
            torch::Tensor got = model::preprocess_frame(frame, spec, torch::kCPU);
            REQUIRE(got.sizes() == want.sizes());
            CHECK(got.is_contiguous());
            const float d = max_diff(got, want);
            CHECK(d < 1e-5f);
            worst = std::max(worst, d);
            ++cases;
          }
  }
  MESSAGE(cases << " cases, worst max-abs difference " << worst);
  CHECK(cases == 10 * 5 * 2 * 3 * 2);
}

TEST_CASE("CPU path: non-contiguous frames and the caller-provided output") {
  torch::Tensor big = random_frame(400, 700, 99);
  // A window of a larger frame: rows are not packed.
  torch::Tensor window = big.narrow(0, 13, 360).narrow(1, 21, 640);
  REQUIRE_FALSE(window.is_contiguous());
  InputSpec spec = make_spec(224, 224, ColorMode::RGB, ResizeMode::CenterCrop, true);
  torch::Tensor want = model::preprocess_frame_torch(window, spec, torch::kCPU);
  CHECK(max_diff(model::preprocess_frame(window, spec, torch::kCPU), want) < 1e-5f);

  // Reused in place when it fits, replaced when it does not.
  torch::Tensor out = torch::full({1, 3, 224, 224}, 7.f);
  const float* before = out.data_ptr<float>();
  model::preprocess_frame(window, spec, torch::kCPU, out);
  CHECK(out.data_ptr<float>() == before);
  CHECK(max_diff(out, want) < 1e-5f);
  torch::Tensor wrong = torch::zeros({1, 3, 100, 100});
  model::preprocess_frame(window, spec, torch::kCPU, wrong);
  CHECK(wrong.sizes() == c10::IntArrayRef{1, 3, 224, 224});
  CHECK(max_diff(wrong, want) < 1e-5f);

  // The same frame as raw pixels.
  torch::Tensor packed = window.contiguous();
  std::vector<float> raw(3 * 224 * 224);
  model::preprocess_rgb_cpu(packed.data_ptr<uint8_t>(), 640, 360, spec, raw.data());
  CHECK(max_diff(torch::from_blob(raw.data(), {1, 3, 224, 224}), want) < 1e-5f);
}

TEST_CASE("CPU path: a pooled input is never overwritten while anyone holds it") {
  InputSpec spec = make_spec(64, 64, ColorMode::RGB, ResizeMode::Stretch, true);
  torch::Tensor f1 = random_frame(90, 120, 5), f2 = random_frame(90, 120, 6);
  torch::Tensor a = model::preprocess_frame(f1, spec, torch::kCPU);
  torch::Tensor a_copy = a.clone();
  // Held as a tensor, as a view and as a detached input that requires grad: never reused.
  torch::Tensor view = model::preprocess_frame(f1, spec, torch::kCPU).narrow(3, 1, 10);
  torch::Tensor leaf = model::preprocess_frame(f1, spec, torch::kCPU).detach().requires_grad_();
  for (int i = 0; i < 6; ++i) {
    torch::Tensor b = model::preprocess_frame(f2, spec, torch::kCPU);
    CHECK(b.data_ptr<float>() != a.data_ptr<float>());
    CHECK(b.data_ptr<float>() != view.data_ptr<float>() - 1);
    CHECK(b.data_ptr<float>() != leaf.data_ptr<float>());
  }
  CHECK(max_diff(a, a_copy) == 0.f);
  CHECK(max_diff(view, a_copy.narrow(3, 1, 10)) == 0.f);
  CHECK(max_diff(leaf.detach(), a_copy) == 0.f);

  // Released after each use: steady calls allocate nothing.
  const uint64_t before = model::preprocess_pool_allocations();
  for (int i = 0; i < 20; ++i) {
    torch::Tensor x = model::preprocess_frame(i % 2 ? f1 : f2, spec, torch::kCPU);
    CHECK(max_diff(x, model::preprocess_frame_torch(i % 2 ? f1 : f2, spec, torch::kCPU)) < 1e-5f);
  }
  CHECK(model::preprocess_pool_allocations() == before);
}

TEST_CASE("CPU path: bad frames and specs are errors") {
  InputSpec spec;
  CHECK_THROWS_AS(
      model::preprocess_frame(torch::zeros({5, 5, 4}, torch::kUInt8), spec, torch::kCPU), Error);
  CHECK_THROWS_AS(
      model::preprocess_frame(torch::zeros({0, 5, 3}, torch::kUInt8), spec, torch::kCPU), Error);
  CHECK_THROWS_AS(model::preprocess_rgb_cpu(nullptr, 5, 5, spec, nullptr), Error);
  InputSpec bad = spec;
  bad.mean = {0.5f};
  std::vector<uint8_t> px(5 * 5 * 3, 0);
  std::vector<float> out(3 * 224 * 224);
  CHECK_THROWS_AS(model::preprocess_rgb_cpu(px.data(), 5, 5, bad, out.data()), Error);
}

TEST_CASE("CPU path vs LibTorch path: time per 640x360 frame -> 224x224 (printed only)") {
  torch::Tensor frame = random_frame(360, 640, 3);
  for (ResizeMode resize : {ResizeMode::Stretch, ResizeMode::CenterCrop}) {
    InputSpec spec = make_spec(224, 224, ColorMode::RGB, resize, true);
    const double torch_ms =
        ms_per_call(20, [&] { model::preprocess_frame_torch(frame, spec, torch::kCPU); });
    const double cpu_ms =
        ms_per_call(20, [&] { model::preprocess_frame(frame, spec, torch::kCPU); });
    MESSAGE(std::string(resize == ResizeMode::Stretch ? "stretch" : "center_crop")
            << ": LibTorch path " << torch_ms << " ms (" << at::get_num_threads()
            << " intra-op threads), CPU path " << cpu_ms << " ms (1 thread)");
  }
}

TEST_CASE("input geometry: a source column lands where the crop box says, on both paths") {
  // A bright band of source columns; after preprocessing, the centroid of the model
  // input's column profile, carried back through the geometry, must be at c (within a model
  // pixel's footprint): the crop box and the resizers agree about where pixels go.
  struct G {
    int w, h, iw, ih;
    ResizeMode mode;
  };
  const G cases[] = {{1280, 720, 224, 224, ResizeMode::CenterCrop},
                     {720, 1280, 224, 224, ResizeMode::CenterCrop},
                     {640, 360, 96, 96, ResizeMode::CenterCrop},
                     {333, 517, 64, 48, ResizeMode::CenterCrop},
                     {100, 60, 224, 224, ResizeMode::CenterCrop},
                     {1280, 720, 224, 224, ResizeMode::Stretch}};
  for (const G& g : cases) {
    for (bool aa : {true, false}) {
      InputSpec spec = make_spec(g.ih, g.iw, ColorMode::Gray, g.mode, aa);
      spec.mean = {0.f};
      spec.std = {1.f};
      const model::InputGeometry geo = model::input_geometry(g.w, g.h, spec);
      REQUIRE(geo.valid());
      if (g.mode == ResizeMode::Stretch) {
        CHECK(geo.whole_frame());
      } else {
        // The box keeps the model input's aspect and spans the frame's shorter side.
        CHECK((geo.x1 - geo.x0) / (geo.y1 - geo.y0) ==
              doctest::Approx(double(g.iw) / g.ih).epsilon(0.02));
        CHECK((geo.x1 - geo.x0 <= g.w + 1e-9));
        CHECK((geo.y1 - geo.y0 <= g.h + 1e-9));
      }
      const double footprint = std::max(1.0, (geo.x1 - geo.x0) / g.iw);
      for (double frac : {0.3, 0.5, 0.71}) {
        // A band wide enough that sampling without antialiasing cannot step over it.
        const int band = static_cast<int>(std::ceil(2 * footprint));
        const int c = static_cast<int>(geo.x0 + frac * (geo.x1 - geo.x0));
        torch::Tensor frame = torch::zeros({g.h, g.w, 3}, torch::kUInt8);
        frame.narrow(1, c, band).fill_(255);
        const double centre = c + band / 2.0;
        for (int path = 0; path < 2; ++path) {
          torch::Tensor x = path == 0 ? model::preprocess_frame(frame, spec, torch::kCPU)
                                      : model::preprocess_frame_torch(frame, spec, torch::kCPU);
          torch::Tensor col = x[0][0].sum(0);  // [iw]
          const double total = col.sum().item<double>();
          REQUIRE(total > 0);
          const double centroid =
              (col * (torch::arange(g.iw, torch::kFloat) + 0.5)).sum().item<double>() / total;
          INFO(g.w << "x" << g.h << " -> " << g.iw << "x" << g.ih << " aa " << aa << " c " << c
                   << " path " << path << " centroid " << centroid);
          CHECK(std::abs(geo.to_source_x(centroid) - centre) <= 0.75 * footprint);
        }
      }
    }
  }
}
