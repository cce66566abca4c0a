// Bad models and bad requests: each is a camscope::Error with a clear one-line message, never a
// crash or a silent result. The bad files are built at test time (tests/core/bad_models.py).
#include <doctest/doctest.h>

#include <fstream>

#include "model/model.h"
#include "test_support.h"
#include "util/error.h"

using namespace camscope;

namespace {

const test::TempDir& bad_dir() {
  static test::TempDir dir("bad_models");
  static bool made = [] {
    auto r = test::run(test::python() + " " + test::source_dir() + "/tests/core/bad_models.py " +
                       dir.str());
    INFO(r.output);
    REQUIRE(r.status == 0);
    return true;
  }();
  (void)made;
  return dir;
}

// Runs fn, which must throw camscope::Error; returns its message after checking it is one line.
template <class Fn>
std::string error_of(Fn&& fn) {
  try {
    fn();
  } catch (const Error& e) {
    std::string msg = e.what();
    INFO(msg);
    CHECK(!msg.empty());
    CHECK(msg.find('\n') == std::string::npos);
    return msg;
  } catch (const std::exception& e) {
    FAIL("not a camscope::Error: " << e.what());
  }
  FAIL("no error");
  return "";
}

std::string load_error(const std::string& pt, const std::string& config = "") {
  return error_of([&] { model::Model::load({pt, config, "cpu", 0}); });
}

bool has(const std::string& msg, const std::string& part) {
  INFO("message: " << msg);
  return msg.find(part) != std::string::npos;
}

}  // namespace

TEST_CASE("the good tiny model loads (the bad ones below differ from it in one way)") {
  const auto& d = bad_dir();
  auto m = model::Model::load({d.str("good.pt"), "", "cpu", 0});
  CHECK(m->num_classes() == 4);
  CHECK(m->label(2) == "owl");
  CHECK(m->default_layer() == "conv2");
  CHECK(m->layer("conv2").output_shape == std::vector<int64_t>{1, 16, 16, 16});
  CHECK(m->layer("relu").output_shape == std::vector<int64_t>{1, 8, 32, 32});
}

TEST_CASE("missing, empty, directory, truncated and non-TorchScript files") {
  const auto& d = bad_dir();
  CHECK(has(load_error(d.str("missing.pt")), "no such file"));
  std::ofstream(d.str("empty.pt")).close();
  CHECK(has(load_error(d.str("empty.pt")), "empty file"));
  std::filesystem::create_directories(d.str("dir.pt"));
  CHECK(has(load_error(d.str("dir.pt")), "directory"));
  {
    std::ifstream in(d.str("good.pt"), std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), {});
    std::ofstream(d.str("trunc.pt"), std::ios::binary) << bytes.substr(0, bytes.size() / 2);
  }
  CHECK(has(load_error(d.str("trunc.pt")), "not a loadable TorchScript model"));
  std::ofstream(d.str("text.pt")) << "definitely not a model\n";
  CHECK(has(load_error(d.str("text.pt")), "not a loadable TorchScript model"));
  CHECK(has(load_error(d.str("eager.pt")), "not a loadable TorchScript model"));
  CHECK(has(load_error(""), "no model"));
}

TEST_CASE("a frozen model is refused with the reason") {
  const auto& d = bad_dir();
  std::string msg = load_error(d.str("frozen.pt"));
  CHECK(has(msg, "no submodules"));
  CHECK(has(msg, "torch.jit.freeze"));
}

TEST_CASE("outputs that are not [N, classes] logits, or not finite") {
  const auto& d = bad_dir();
  CHECK(has(load_error(d.str("featuremap.pt")), "shape [1, 16, 112, 112]"));
  CHECK(has(load_error(d.str("tuple.pt")), "must return [N, classes] logits"));
  CHECK(has(load_error(d.str("nan.pt")), "NaN"));
}

TEST_CASE("sidecar that does not fit the model") {
  const auto& d = bad_dir();
  std::string msg = load_error(d.str("good.pt"), d.str("gray.json"));
  CHECK(has(msg, "conv1.weight"));
  CHECK(has(msg, "3 input channel"));
  CHECK(has(msg, "gives 1"));
  CHECK(has(load_error(d.str("good.pt"), d.str("nope.json")), "no such file"));
  std::ofstream(d.str("labels.json")) << R"({"input": {"size": [32, 32]}, "labels": ["a", "b"]})";
  CHECK(has(load_error(d.str("good.pt"), d.str("labels.json")), "2 labels"));
  std::ofstream(d.str("layer.json"))
      << R"({"input": {"size": [32, 32]}, "default_layer": "conv3"})";
  CHECK(has(load_error(d.str("good.pt"), d.str("layer.json")), "conv2"));
  std::ofstream(d.str("broken.json")) << R"({"input": {"size": [32]}})";
  CHECK(has(load_error(d.str("good.pt"), d.str("broken.json")), "input.size"));
}

TEST_CASE("bad requests to a loaded model") {
  const auto& d = bad_dir();
  auto m = model::Model::load({d.str("good.pt"), "", "cpu", 0});
  std::string msg = error_of([&] { m->layer("conv_2"); });
  CHECK(has(msg, "no layer 'conv_2'"));
  CHECK(has(msg, "conv2"));
  CHECK(has(error_of([&] { m->forward(torch::zeros({1, 3, 32, 32}), {"bn"}); }), "bn1"));
  CHECK(has(error_of([&] { m->forward(torch::zeros({1, 1, 32, 32}), {}); }), "channels"));
  CHECK(has(error_of([&] { m->forward(torch::zeros({3, 32, 32}), {}); }), "[N, C, H, W]"));
  CHECK(has(error_of([&] { model::Model::load({d.str("good.pt"), "", "cuda:7", 0}); }), "cuda"));
  CHECK(has(error_of([&] { model::Model::load({d.str("good.pt"), "", "tpu", 0}); }), "device"));
}
