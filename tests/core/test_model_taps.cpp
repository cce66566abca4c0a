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
