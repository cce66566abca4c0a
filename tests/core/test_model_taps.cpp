// Taps by graph rewriting against an independent reference: eager PyTorch models with forward
// hooks and torch.autograd.grad (tests/core/model_refs.py, run here at test time). Traced and
// scripted TorchScript, taps at several depths, in-place ReLU after BatchNorm, modules called
// twice, three consecutive runs (the profiling-executor pitfall shows from the 2nd run on).
#include <doctest/doctest.h>

#include <cmath>

#include "model/model.h"
#include "test_support.h"
#include "util/json.h"
#include "util/npy.h"

using namespace camscope;

namespace {

// The reference files, made once per test process.
const test::TempDir& refs() {
  static test::TempDir dir("model_refs");
  static bool made = [] {
    auto r = test::run(
        test::python() + " " + test::source_dir() + "/tests/core/model_refs.py " + dir.str(), 600);
    INFO(r.output);
    REQUIRE(r.status == 0);
    return true;
  }();
  (void)made;
  return dir;
}

torch::Tensor load_npy(const std::string& path) {
  NpyArray a = read_npy(path);
  return torch::from_blob(a.data.data(), a.shape, torch::kFloat32).clone();
}

double max_abs_diff(const torch::Tensor& a, const torch::Tensor& b) {
  REQUIRE(a.sizes() == b.sizes());
  return (a.detach().cpu() - b.detach().cpu()).abs().max().item<double>();
}

// Tolerance relative to the reference's scale (gradients of deep random nets can be large).
void check_close(const torch::Tensor& got, const torch::Tensor& want, const std::string& what) {
  INFO(what);
  REQUIRE(got.defined());
  const double scale = std::max(1.0, want.abs().max().item<double>());
  CHECK(max_abs_diff(got, want) <= 1e-5 * scale);
}

// One model file, one ReLU mode, `runs` consecutive forwards, against the reference.
void check_run(model::Model& m, const Json& entry, model::ReluMode mode, int runs) {
  const auto& dir = refs();
  const auto taps = entry["taps"].get<std::vector<std::string>>();
  const std::string name = entry["name"];
  const Json ref = entry[name + (mode == model::ReluMode::Guided ? "_guided" : "_normal")];
  const int64_t target = ref["target"].get<int64_t>();
  const torch::Tensor input = load_npy(dir.str("input.npy"));
  for (int run = 0; run < runs; ++run) {
    INFO((mode == model::ReluMode::Guided ? "guided" : "normal") << " run " << run);
    torch::Tensor x = input.clone().requires_grad_(true);
    auto r = m.forward(x, taps, mode);
    REQUIRE(r.taps.size() == taps.size());
    check_close(r.logits, load_npy(dir.str(ref["logits"])), "logits");
    CHECK(r.logits.argmax(1).item<int64_t>() == target);
    for (size_t i = 0; i < taps.size(); ++i)
      check_close(r.taps[i], load_npy(dir.str(ref["acts"][i])), "activation of " + taps[i]);
    std::vector<torch::Tensor> wrt = r.taps;
    wrt.push_back(x);
    auto grads = torch::autograd::grad({r.logits[0][target]}, wrt);
    for (size_t i = 0; i < taps.size(); ++i)
      check_close(grads[i], load_npy(dir.str(ref["grads"][i])), "gradient to " + taps[i]);
    check_close(grads.back(), load_npy(dir.str(ref["input_grad"])), "gradient to the input");
  }
}

// Traced and scripted variants; plain backprop three times in a row (the profiling-executor
// pitfall shows from the 2nd run on), then guided backprop, then plain again (the cached
// rewrites must not leak into each other).
void check_model(const std::string& name, const std::string& default_layer) {
  const auto& dir = refs();
  Json manifest = read_json_file(dir.str("manifest.json"));
  Json entry;
  for (const auto& m : manifest["models"])
    if (m["name"] == name) entry = m;
  REQUIRE(!entry.is_null());
  for (const auto& file : entry["files"]) {
    INFO("model file " << file.get<std::string>());
    auto m = model::Model::load({dir.str(file.get<std::string>()), "", "cpu", 0});
    // No default_layer in these sidecars: the last module with a 4-D output larger than 1x1.
    CHECK(m->default_layer() == default_layer);
    check_run(*m, entry, model::ReluMode::Normal, 3);
    check_run(*m, entry, model::ReluMode::Guided, 2);
    check_run(*m, entry, model::ReluMode::Normal, 1);
  }
}

}  // namespace

// Guided references come from a custom autograd Function in Python applied to every ReLU and
// ReLU6 module of the eager model.
TEST_CASE("taps, gradients, guided backprop match eager PyTorch: resnet18 (in-place ops)") {
  check_model("resnet18", "layer4");
}
TEST_CASE("taps, gradients, guided backprop match eager PyTorch: mobilenet_v2 (flags, ReLU6)") {
  check_model("mobilenet_v2", "features");
}
TEST_CASE("taps, gradients, guided backprop match eager PyTorch: squeezenet1_1") {
  check_model("squeezenet1_1", "classifier.2");  // the class-map conv's ReLU
}
TEST_CASE("taps, gradients, guided backprop match eager PyTorch: squeeze-and-excitation toy") {
  check_model("tiny_se", "act2");
}

TEST_CASE("taps do not disturb the plain forward and cached rewrites are reused correctly") {
  const auto& dir = refs();
  auto m = model::Model::load({dir.str("resnet18_script.pt"), "", "cpu", 0});
  const torch::Tensor input = load_npy(dir.str("input.npy"));
  torch::NoGradGuard no_grad;
  auto plain = m->forward(input, {}).logits;
  auto a = m->forward(input, {"layer4", "layer1.0.bn1"});
  auto b = m->forward(input, {"layer1.0.bn1", "layer4"});
  CHECK(max_abs_diff(plain, a.logits) == 0.0);
  CHECK(max_abs_diff(a.taps[0], b.taps[1]) == 0.0);
  CHECK(max_abs_diff(a.taps[1], b.taps[0]) == 0.0);
  // Pre-ReLU BatchNorm output has negative values; the in-place ReLU must not have zeroed them.
  CHECK(a.taps[1].min().item<float>() < 0.f);
}

TEST_CASE("gradients reach the taps when the input does not require grad") {
  const auto& dir = refs();
  Json manifest = read_json_file(dir.str("manifest.json"));
  const Json& entry = manifest["models"][0];
  REQUIRE(entry["name"] == "resnet18");
  auto m = model::Model::load({dir.str("resnet18_trace.pt"), "", "cpu", 0});
  const torch::Tensor input = load_npy(dir.str("input.npy"));
  const Json& ref = entry["resnet18_normal"];
  auto r = m->forward(input, {"layer1.0.bn1", "layer4"});
  auto grads = torch::autograd::grad({r.logits[0][ref["target"].get<int64_t>()]}, r.taps);
  check_close(grads[0], load_npy(dir.str(ref["grads"][1])), "gradient to layer1.0.bn1");
  check_close(grads[1], load_npy(dir.str(ref["grads"][6])), "gradient to layer4");
  CHECK(!input.requires_grad());
  for (const auto& p : m->module().parameters()) CHECK(!p.grad().defined());
}

TEST_CASE("layer table of resnet18 agrees with named_modules and the probe shapes") {
  const auto& dir = refs();
  for (const char* file : {"resnet18_trace.pt", "resnet18_script.pt"}) {
    INFO(file);
    auto m = model::Model::load({dir.str(file), "", "cpu", 0});
    const auto& layers = m->layers();
    REQUIRE(layers.size() == 68);  // named_modules() of torchvision resnet18, root included
    CHECK(layers[0].path == "");
    CHECK(layers[0].type == "ResNet");
    CHECK(layers[0].params == 11181642);  // resnet18 with 10 classes
    CHECK(m->layer("conv1").type == "Conv2d");
    CHECK(m->layer("conv1").params == 64 * 3 * 7 * 7);
    CHECK(m->layer("conv1").output_shape == std::vector<int64_t>{1, 64, 32, 32});
    CHECK(m->layer("layer4").output_shape == std::vector<int64_t>{1, 512, 2, 2});
    CHECK(m->layer("layer1.0").type == "BasicBlock");
    CHECK(m->layer("fc").output_shape == std::vector<int64_t>{1, 10});
    CHECK(m->num_classes() == 10);
    CHECK(m->label(3) == "3");
    CHECK(m->default_layer() == "layer4");
  }
}

namespace {

model::Model::Options engine_options(const std::string& path, model::GraphOptimization opt) {
  model::Model::Options o{path, "", "cpu", 0};
  o.optimization = opt;
  return o;
}

}  // namespace

// The viewer asks for one tap and never for the input's gradient: the model then runs the part
// before the tap without autograd and hands back the tap as a leaf. Every tap of every model,
// against the eager references, with the model's own ops (exact) and with frozen, folded,
// oneDNN weights before the tap (fast; float rounding only, so a looser tolerance).
TEST_CASE("one tap, input not requiring grad: autograd starts at the tap, exact and fast") {
  const auto& dir = refs();
  Json manifest = read_json_file(dir.str("manifest.json"));
  const torch::Tensor input = load_npy(dir.str("input.npy"));
  REQUIRE(!input.requires_grad());
  for (const auto& entry : manifest["models"]) {
    const std::string name = entry["name"];
    const auto taps = entry["taps"].get<std::vector<std::string>>();
    for (const auto& file : entry["files"]) {
      for (auto opt : {model::GraphOptimization::Exact, model::GraphOptimization::Fast}) {
        const double tol = opt == model::GraphOptimization::Fast ? 1e-4 : 1e-5;
        auto m = model::Model::load(engine_options(dir.str(file.get<std::string>()), opt));
        for (auto mode : {model::ReluMode::Normal, model::ReluMode::Guided}) {
          const bool guided = mode == model::ReluMode::Guided;
          const Json& ref = entry[name + (guided ? "_guided" : "_normal")];
          const int64_t target = ref["target"].get<int64_t>();
          for (size_t i = 0; i < taps.size(); ++i) {
            INFO(file.get<std::string>() << ", " << std::string(model::engine_name(opt))
                                         << " engine, " << (guided ? "guided" : "normal")
                                         << ", tap " << taps[i]);
            auto r = m->forward(input, {taps[i]}, mode);
            REQUIRE(r.taps.size() == 1);
            CHECK(r.taps[0].is_leaf());
            CHECK(r.taps[0].requires_grad());
            const torch::Tensor want_logits = load_npy(dir.str(ref["logits"]));
            const double scale = std::max(1.0, want_logits.abs().max().item<double>());
            CHECK(max_abs_diff(r.logits, want_logits) <= tol * scale);
            const torch::Tensor want_act = load_npy(dir.str(ref["acts"][i]));
            CHECK(max_abs_diff(r.taps[0], want_act) <=
                  tol * std::max(1.0, want_act.abs().max().item<double>()));
            auto g = torch::autograd::grad({r.logits[0][target]}, {r.taps[0]});
            const torch::Tensor want_grad = load_npy(dir.str(ref["grads"][i]));
            CHECK(max_abs_diff(g[0], want_grad) <=
                  tol * std::max(1.0, want_grad.abs().max().item<double>()));
          }
        }
      }
    }
  }
}

TEST_CASE("the exact engine's cut changes nothing: same logits, tap and gradient bit for bit") {
  const auto& dir = refs();
  auto m = model::Model::load(
      engine_options(dir.str("resnet18_script.pt"), model::GraphOptimization::Exact));
  const torch::Tensor input = load_npy(dir.str("input.npy"));
  for (const char* tap : {"layer1.0.bn1", "layer2", "layer3.1.conv2", "layer4"}) {
    INFO(tap);
    auto whole = m->forward(input.clone().requires_grad_(true), {tap});  // records everything
    auto cut = m->forward(input, {tap});
    CHECK(!whole.taps[0].is_leaf());
    CHECK(cut.taps[0].is_leaf());
    CHECK(torch::equal(whole.logits, cut.logits));
    CHECK(torch::equal(whole.taps[0], cut.taps[0]));
    const int64_t t = whole.logits.argmax(1).item<int64_t>();
    auto gw = torch::autograd::grad({whole.logits[0][t]}, {whole.taps[0]});
    auto gc = torch::autograd::grad({cut.logits[0][t]}, {cut.taps[0]});
    CHECK(torch::equal(gw[0], gc[0]));
  }
}

TEST_CASE("fast engine without autograd matches the exact one, and follows in-place weight edits") {
  const auto& dir = refs();
  const std::string path = dir.str("resnet18_script.pt");
  auto exact = model::Model::load(engine_options(path, model::GraphOptimization::Exact));
  auto fast = model::Model::load(engine_options(path, model::GraphOptimization::Fast));
  const torch::Tensor input = load_npy(dir.str("input.npy"));
  torch::NoGradGuard no_grad;
  const std::vector<std::string> taps{"layer4", "layer1.0.bn1", "layer2.0.downsample"};
  auto close = [](const model::ForwardResult& a, const model::ForwardResult& b) {
    double worst = max_abs_diff(a.logits, b.logits) / std::max(1.0, b.logits.abs().max().item<double>());
    for (size_t i = 0; i < b.taps.size(); ++i)
      worst = std::max(worst, max_abs_diff(a.taps[i], b.taps[i]) /
                                  std::max(1.0, b.taps[i].abs().max().item<double>()));
    return worst;
  };
  auto before = exact->forward(input, taps);
  CHECK(close(fast->forward(input, taps), before) <= 1e-4);
  CHECK(close(fast->forward(input, {}), exact->forward(input, {})) <= 1e-4);

  // More tap lists than the model keeps rewrites for: old ones are rebuilt on demand, right.
  for (const char* layer : {"conv1", "layer1", "layer1.1", "layer2", "layer2.1.conv1", "layer3",
                            "layer3.0.downsample", "layer4.1", "fc"})
    CHECK(close(fast->forward(input, {layer}), exact->forward(input, {layer})) <= 1e-4);
  CHECK(close(fast->forward(input, taps), before) <= 1e-4);

  // What the sanity check does: overwrite weights in place. The fast engine's folded constants
  // were made from the old values and must be rebuilt.
  for (auto* m : {exact.get(), fast.get()}) {
    for (const auto& p : m->module().named_parameters(/*recurse=*/true))
      if (p.name.rfind("layer1.0.bn1.", 0) == 0 || p.name.rfind("layer3.", 0) == 0)
        p.value.copy_(torch::randn(p.value.sizes(), at::detail::createCPUGenerator(11)));
    for (const auto& b : m->module().named_buffers(/*recurse=*/true))
      if (b.name == "layer1.0.bn1.running_mean") b.value.add_(0.5);
  }
  auto after = exact->forward(input, taps);
  CHECK(max_abs_diff(after.logits, before.logits) > 1e-3);  // the edit matters
  CHECK(close(fast->forward(input, taps), after) <= 1e-4);
  CHECK(close(fast->forward(input, {}), exact->forward(input, {})) <= 1e-4);
}
