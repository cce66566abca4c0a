// Feature visualization (explain/optvis.h) on a hand-built model whose channels are fixed
// oriented-edge filters (tests/core/optvis_fixtures.py): the optimized image's edges follow the
// filter, a class logit rises step by step, a seed fixes the image, a dead unit is revived only
// by the redirected ReLU, and a callback stops it within the step.
#include <doctest/doctest.h>

#include "explain/optvis.h"
#include "model/model.h"
#include "test_support.h"
#include "util/error.h"

using namespace camscope;
using explain::OptvisRequest;

namespace {

const std::string& fixture_dir() {
  static std::unique_ptr<test::TempDir> dir;
  static std::string path;
  static bool tried = false;
  if (!tried) {
    tried = true;
    dir = std::make_unique<test::TempDir>("optvis_fixtures");
    auto r = test::run(test::python() + " '" + test::source_dir() +
                       "/tests/core/optvis_fixtures.py' '" + dir->str() + "'");
    if (r.status == 0) path = dir->str();
    else MESSAGE("optvis fixtures failed: " << r.output);
  }
  return path;
}

bool have_fixtures() {
  if (!fixture_dir().empty()) return true;
  if (test::run(test::python() + " -c 'import torch'").status == 0)
    FAIL_CHECK("optvis fixtures failed although python + torch are present");
  else
    MESSAGE("SKIPPED: python + torch not available for the optvis fixtures");
  return false;
}

std::unique_ptr<model::Model> edges_model() {
  model::Model::Options o;
  o.path = fixture_dir() + "/edges.pt";
  o.threads = 1;
  return model::Model::load(o);
}

// Mean absolute difference between horizontal neighbours (x) and vertical ones (y) of the
// image's grey values.
std::pair<double, double> edge_energy(const torch::Tensor& img) {
  auto g = img.mean(0);  // [H, W]
  const int64_t n = g.size(0) - 1;
  const double ex = (g.narrow(1, 1, n) - g.narrow(1, 0, n)).abs().mean().item<double>();
  const double ey = (g.narrow(0, 1, n) - g.narrow(0, 0, n)).abs().mean().item<double>();
  return {ex, ey};
}

}  // namespace

TEST_CASE("the optimized image's edges follow the channel's filter orientation") {
  if (!have_fixtures()) return;
  auto m = edges_model();
  for (int ch : {0, 1}) {
    OptvisRequest req;
    req.layer = "relu";  // after the ReLU every edge of the filter's polarity counts
    req.channel = ch;
    req.size = 32;
    req.steps = 96;
    auto r = explain::optimize(*m, req);
    REQUIRE(r.images.sizes() == torch::IntArrayRef({1, 3, 32, 32}));
    CHECK(r.images.min().item<float>() >= 0.f);
    CHECK(r.images.max().item<float>() <= 1.f);
    const auto [ex, ey] = edge_energy(r.images[0]);
    INFO("channel " << ch << ": x energy " << ex << ", y energy " << ey);
    if (ch == 0) CHECK(ex > 1.5 * ey);  // vertical edges: intensity changes along x
    else CHECK(ey > 1.5 * ex);
    CHECK(r.objectives.back() > 2.0 * r.objectives.front());
  }
}

TEST_CASE("a class logit rises at every step (no transforms, pixel parameterization)") {
  if (!have_fixtures()) return;
  auto m = edges_model();
  OptvisRequest req;
  req.objective = OptvisRequest::Objective::Class;
  req.cls = 1;
  req.param = OptvisRequest::Param::Pixel;
  req.transforms = false;
  req.size = 32;
  req.steps = 40;
  req.lr = 0.02;
  auto r = explain::optimize(*m, req);
  REQUIRE(r.objectives.size() == 40);
  for (size_t i = 1; i < r.objectives.size(); ++i)
    CHECK_MESSAGE(r.objectives[i] >= r.objectives[i - 1] - 1e-6, "step " << i);
  CHECK(r.objectives.back() > r.objectives.front() + 0.1);
  CHECK(r.layer.empty());
}

TEST_CASE("the same seed gives the same image; another seed another") {
  if (!have_fixtures()) return;
  auto m = edges_model();
  OptvisRequest req;
  req.layer = "conv";
  req.size = 32;
  req.steps = 12;
  req.seed = 7;
  auto a = explain::optimize(*m, req);
  auto b = explain::optimize(*m, req);
  CHECK(torch::equal(a.images, b.images));
  req.seed = 8;
  auto c = explain::optimize(*m, req);
  CHECK_FALSE(torch::equal(a.images, c.images));
}

TEST_CASE("a dead unit moves only with the redirected ReLU") {
  if (!have_fixtures()) return;
  auto m = edges_model();
  OptvisRequest req;
  req.layer = "relu";
  req.channel = 2;  // bias -1000: always 0 after the ReLU
  req.size = 32;
  req.steps = 8;
  req.transforms = false;
  req.redirect_steps = 0;
  auto start = explain::optimize(*m, [&] { auto r = req; r.steps = 0; return r; }());
  auto plain = explain::optimize(*m, req);
  CHECK(torch::equal(plain.images, start.images));  // no gradient reaches the image
  req.redirect_steps = 8;
  auto redirected = explain::optimize(*m, req);
  CHECK((redirected.images - start.images).abs().max().item<float>() > 1e-3f);
  // Its objective is still 0 (the bias is out of reach), but the image is no longer frozen.
  CHECK(redirected.objectives.back() == 0.0);
}

TEST_CASE("a callback that says stop ends the run within that step") {
  if (!have_fixtures()) return;
  auto m = edges_model();
  OptvisRequest req;
  req.layer = "conv";
  req.size = 32;
  req.steps = 100;
  int calls = 0;
  CHECK_THROWS_AS(explain::optimize(*m, req,
                                    [&](const explain::OptvisStep& s,
                                        const explain::OptvisImages& images) {
                                      ++calls;
                                      CHECK(s.step == calls);
                                      CHECK(images().size(0) == 1);
                                      return s.step < 5;
                                    }),
                  explain::Cancelled);
  CHECK(calls == 5);
}

TEST_CASE("accentuate starts from the given image; batches with diversity differ") {
  if (!have_fixtures()) return;
  auto m = edges_model();
  OptvisRequest req;
  req.layer = "conv";
  req.size = 32;
  req.steps = 0;
  req.init = torch::linspace(0.1, 0.9, 32).reshape({1, 1, 32}).expand({3, 32, 32}).contiguous();
  for (auto p : {OptvisRequest::Param::Pixel, OptvisRequest::Param::Fft}) {
    req.param = p;
    auto r = explain::optimize(*m, req);
    CHECK((r.images[0] - req.init).abs().max().item<float>() < 1e-3f);
  }
  OptvisRequest div;
  div.layer = "conv";
  div.size = 32;
  div.steps = 24;
  div.batch = 3;
  div.diversity = 10;
  auto r = explain::optimize(*m, div);
  REQUIRE(r.images.size(0) == 3);
  CHECK((r.images[0] - r.images[1]).abs().mean().item<float>() > 1e-3f);
}

TEST_CASE("bad requests fail with one line naming the problem") {
  if (!have_fixtures()) return;
  auto m = edges_model();
  OptvisRequest req;
  req.layer = "conv";
  req.channel = 9;
  req.steps = 1;
  CHECK_THROWS_WITH_AS(explain::optimize(*m, req),
                       "optvis: channel 9 out of range: layer 'conv' has 3 channels (0..2)",
                       Error);
  req.channel = 0;
  req.layer = "fc";
  CHECK_THROWS_WITH_AS(explain::optimize(*m, req),
                       doctest::Contains("has no [N, K, h, w] output"), Error);
  req.layer = "nope";
  CHECK_THROWS_AS(explain::optimize(*m, req), Error);
  OptvisRequest cls;
  cls.objective = OptvisRequest::Objective::Class;
  cls.cls = 5;
  CHECK_THROWS_WITH_AS(explain::optimize(*m, cls), doctest::Contains("class 5 out of range"),
                       Error);
}
