// `camscope info`: the layer table as text and JSON, checked against PyTorch's own
// named_modules() of the same file, and its one-line errors.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "test_support.h"
#include "util/json.h"

using namespace camscope;

namespace {

void check_one_line_error(const test::RunResult& r) {
  INFO(r.output);
  CHECK(r.status != 0);
  CHECK(r.status < 124);  // neither a timeout nor a signal
  CHECK(test::line_count(r.output) == 1);
  CHECK(r.output.find("camscope: error:") != std::string::npos);
}

}  // namespace

TEST_CASE("info --json lists every named module of the person detector with shapes") {
  const std::string pt = test::shared_file("models/person_detect_mbv1_025.pt");
  if (pt.empty()) return;
  auto r = test::camscope("info --json --device cpu --model " + pt);
  INFO(r.output);
  REQUIRE(r.status == 0);
  Json j = Json::parse(r.output);
  CHECK(j["model"] == pt);
  CHECK(j["input"] == Json::array({1, 96, 96}));
  const Json& layers = j["layers"];
  REQUIRE(layers.size() >= 32);
  bool found = false;
  for (const auto& l : layers) {
    if (l["path"] == "features.pw11") {
      found = true;
      CHECK(l["type"] == "ConvUnit");
      CHECK(l["output_shape"] == Json::array({1, 128, 6, 6}));
      CHECK(l["params"] == 128 * 128 + 128);  // 1x1 conv 128 -> 128 with bias
    }
  }
  CHECK(found);

  // Independent reference: PyTorch's named_modules() and parameter counts of the same file.
  test::TempDir dir("info_ref");
  auto py = test::run(test::python() +
                      " -c \"import torch,sys\n"
                      "m = torch.jit.load(sys.argv[1])\n"
                      "for n, s in m.named_modules():\n"
                      "    print(n or '-', sum(p.numel() for p in s.parameters()))\n\" " +
                      pt);
  INFO(py.output);
  REQUIRE(py.status == 0);
  std::istringstream in(py.output);
  size_t i = 0;
  std::string name;
  long long params = 0;
  for (; in >> name >> params; ++i) {
    REQUIRE(i < layers.size());
    CHECK(layers[i]["path"] == (name == "-" ? "" : name));
    CHECK(layers[i]["params"] == params);
  }
  CHECK(i == layers.size());
}

TEST_CASE("info prints a readable table") {
  const std::string pt = test::shared_file("models/person_detect_mbv1_025.pt");
  if (pt.empty()) return;
  auto r = test::camscope("info --device cpu --model " + pt);
  INFO(r.output);
  REQUIRE(r.status == 0);
  CHECK(r.output.find("default layer: features.pw11") != std::string::npos);
  CHECK(r.output.find("[1, 96, 96] gray") != std::string::npos);
  // One row per layer: the header block, the column header, 1 + submodules.
  CHECK(test::line_count(r.output) >= 32 + 5);
  std::istringstream lines(r.output);
  bool row = false;
  for (std::string line; std::getline(lines, line);)
    if (line.find(" features.pw11 ") != std::string::npos &&
        line.find("[1, 128, 6, 6]") != std::string::npos)
      row = true;
  CHECK(row);
}

TEST_CASE("info errors are one line") {
  test::TempDir dir("info_bad");
  check_one_line_error(test::camscope("info --model " + dir.str("missing.pt")));
  std::ofstream(dir.str("x.pt")) << "not a model";
  check_one_line_error(test::camscope("info --model " + dir.str("x.pt")));
  check_one_line_error(test::camscope("info --modle x.pt"));
  auto r = test::camscope("info --json --device cpu");
  if (std::filesystem::exists(test::source_dir() + "/assets/builtin.pt")) {
    CHECK(r.status == 0);
  } else {
    check_one_line_error(r);
    CHECK(r.output.find("builtin.pt") != std::string::npos);
  }
  const std::string pt = test::shared_file("models/person_detect_mbv1_025.pt");
  if (pt.empty()) return;
  std::ofstream(dir.str("rgb.json")) << R"({"input": {"size": [96, 96], "color": "rgb"}})";
  auto rc = test::camscope("info --model " + pt + " --model-config " + dir.str("rgb.json"));
  check_one_line_error(rc);
  CHECK(rc.output.find("input channel") != std::string::npos);
}
