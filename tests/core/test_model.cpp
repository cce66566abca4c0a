// Model engine on the real pretrained person detector (../shared) and preprocessing against
// torch / torchvision computed at test time (tests/core/preprocess_refs.py).
#include <doctest/doctest.h>

#include <fstream>

#include "model/model.h"
#include "model/preprocess.h"
#include "test_support.h"
#include "util/error.h"
#include "util/image_io.h"
#include "util/json.h"
#include "util/npy.h"

using namespace camscope;

namespace {

torch::Tensor load_npy(const std::string& path) {
  NpyArray a = read_npy(path);
  return torch::from_blob(a.data.data(), a.shape, torch::kFloat32).clone();
}

std::unique_ptr<model::Model> person_model() {
  std::string path = test::shared_file("models/person_detect_mbv1_025.pt");
  if (path.empty()) return nullptr;
  return model::Model::load({path, "", "cpu", 0});
}

}  // namespace

TEST_CASE("person detector: layer table, labels, default layer") {
  auto m = person_model();
  if (!m) return;
  CHECK(m->layers().size() >= 32);
  CHECK(m->num_classes() == 2);
  CHECK(m->label(0) == "no_person");
  CHECK(m->label(1) == "person");
  CHECK(m->label(7) == "7");
  CHECK(m->default_layer() == "features.pw11");  // from the sidecar
  CHECK(m->sidecar().input.color == model::ColorMode::Gray);
  CHECK(m->layer("features.pw11").output_shape == std::vector<int64_t>{1, 128, 6, 6});
  CHECK(m->layer("features.pw11").type == "ConvUnit");
  CHECK(m->layer("features.conv0.conv").type == "Conv2d");
  CHECK(m->layer("features.conv0.conv").params == 8 * 1 * 3 * 3 + 8);
  CHECK(m->layer("features").output_shape == std::vector<int64_t>{1, 256, 3, 3});
  CHECK(m->layer("classifier").output_shape == std::vector<int64_t>{1, 2, 1, 1});
  CHECK(m->layer("").params == 210706);  // the converter's recorded parameter count
  CHECK(m->device().is_cpu());
  CHECK(m->device_name() == "cpu");
}

TEST_CASE("person detector: person.jpg is a person, no_person.jpg is not") {
  auto m = person_model();
  if (!m) return;
  torch::NoGradGuard no_grad;
  for (auto [file, cls] : {std::pair{"person.jpg", 1}, std::pair{"no_person.jpg", 0}}) {
    INFO(file);
    std::string path = test::shared_file(std::string("images/person_detect/") + file);
    if (path.empty()) return;
    Image img = load_image_rgb(path);
    torch::Tensor x = m->preprocess(img.pixels.data(), img.width, img.height);
    CHECK(x.sizes() == c10::IntArrayRef{1, 1, 96, 96});
    auto r = m->forward(x, {"features.pw11"});
    auto probs = torch::softmax(r.logits, 1);
    CHECK(r.logits.argmax(1).item<int64_t>() == cls);
    CHECK(probs[0][cls].item<float>() > 0.8f);
    CHECK(r.taps[0].sizes() == c10::IntArrayRef{1, 128, 6, 6});
    CHECK(r.taps[0].min().item<float>() >= 0.f);  // after ReLU6
    CHECK(r.taps[0].max().item<float>() <= 6.f);
  }
}

TEST_CASE("person detector: the default layer without a sidecar is the last spatial module") {
  std::string pt = test::shared_file("models/person_detect_mbv1_025.pt");
  if (pt.empty()) return;
  test::TempDir dir("model_nosidecar");
  std::ofstream(dir.str("c.json")) << R"({"input": {"size": [96, 96], "color": "gray"}})";
  auto m = model::Model::load({pt, dir.str("c.json"), "cpu", 0});
  // features is [1, 256, 3, 3]; pool and classifier are 1x1.
  CHECK(m->default_layer() == "features");
  CHECK(m->label(1) == "1");
}

TEST_CASE("layer lookup suggests the closest paths") {
  auto m = person_model();
  if (!m) return;
  try {
    m->layer("features.pw1l");
    FAIL("no error");
  } catch (const Error& e) {
    std::string msg = e.what();
    CHECK(msg.find("features.pw11") != std::string::npos);
    CHECK(msg.find('\n') == std::string::npos);
  }
  CHECK_THROWS_AS(m->forward(torch::zeros({1, 1, 96, 96}), {"nope"}), Error);
  // A short name is closest to the root module's empty path: it is never suggested.
  try {
    m->layer("x");
    FAIL("no error");
  } catch (const Error& e) {
    const std::string msg = e.what();
    CHECK(msg.find("closest: ") != std::string::npos);
    CHECK(msg.find("closest: ,") == std::string::npos);
    CHECK(msg.find(", ,") == std::string::npos);
  }
}

TEST_CASE("clone is a deep copy with the same outputs") {
  auto m = person_model();
  if (!m) return;
  auto c = m->clone();
  torch::NoGradGuard no_grad;
  torch::Tensor x = torch::rand({1, 1, 96, 96}) * 2 - 1;
  auto a = m->forward(x, {"features.dw5"});
  auto b = c->forward(x, {"features.dw5"});
  CHECK((a.logits - b.logits).abs().max().item<float>() == 0.f);
  CHECK((a.taps[0] - b.taps[0]).abs().max().item<float>() == 0.f);
  for (auto p : c->module().parameters()) p.zero_();
  auto a2 = m->forward(x, {});
  CHECK((a.logits - a2.logits).abs().max().item<float>() == 0.f);
  CHECK(c->forward(x, {}).logits.abs().max().item<float>() == 0.f);
}

TEST_CASE("preprocessing matches torch interpolate / torchvision on float values") {
  test::TempDir dir("preprocess_refs");
  auto r = test::run(test::python() + " " + test::source_dir() + "/tests/core/preprocess_refs.py " +
                     dir.str());
  INFO(r.output);
  REQUIRE(r.status == 0);
  Json cases = read_json_file(dir.str("cases.json"));
  for (size_t k = 0; k < cases.size(); ++k) {
    const Json& c = cases[k];
    INFO("case " << k << ": " << c.dump());
    Json side = {{"input",
                  {{"size", c["size"]},
                   {"color", c["color"]},
                   {"resize", c["resize"]},
                   {"antialias", c["antialias"]},
                   {"mean", c["mean"]},
                   {"std", c["std"]}}}};
    write_json_file(dir.str("side.json"), side);
    model::Sidecar s = model::load_sidecar(dir.str("side.json"));
    torch::Tensor frame = load_npy(dir.str("frame_" + std::to_string(k) + ".npy"));
    torch::Tensor want = load_npy(dir.str("input_" + std::to_string(k) + ".npy"));
    torch::Tensor got = model::preprocess_frame(frame.to(torch::kUInt8), s.input, torch::kCPU);
    REQUIRE(got.sizes() == want.sizes());
    CHECK((got - want).abs().max().item<float>() < 1e-5f);
  }
}

TEST_CASE("Model::preprocess: raw pixels and tensors agree, bad frames are errors") {
  auto m = person_model();
  if (!m) return;
  torch::Tensor u8 = torch::randint(0, 256, {50, 70, 3}, torch::kUInt8);
  torch::Tensor a = m->preprocess(u8);
  torch::Tensor b = m->preprocess(u8.data_ptr<uint8_t>(), 70, 50);
  CHECK(a.sizes() == c10::IntArrayRef{1, 1, 96, 96});
  CHECK((a - b).abs().max().item<float>() == 0.f);
  CHECK_THROWS_AS(m->preprocess(torch::zeros({5, 5, 4}, torch::kUInt8)), Error);
  CHECK_THROWS_AS(m->preprocess(torch::zeros({5, 5, 3}, torch::kFloat32)), Error);
  CHECK_THROWS_AS(m->preprocess(nullptr, 5, 5), Error);
}
