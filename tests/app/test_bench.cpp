// `camscope bench` smoke test: a tiny seeded TorchScript model (made by /usr/bin/python3 at test
// time) on a tiny H.264 clip (made by the ffmpeg CLI). Checks the report's structure and the
// numbers that do not depend on speed (frames computed, bytes per frame, grid size, steady-state
// allocations); never how fast anything ran.
#include <doctest/doctest.h>

#include <fstream>
#include <sstream>

#include "test_support.h"
#include "util/json.h"

using namespace camscope;

namespace {

// 16x16 RGB input; conv2 gives [1, 16, 8, 8]; 5 classes.
const char* kMakeModel = R"PY(
import json, sys, torch
torch.manual_seed(0)
class Tiny(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = torch.nn.Conv2d(3, 8, 3, padding=1)
        self.relu1 = torch.nn.ReLU()
        self.conv2 = torch.nn.Conv2d(8, 16, 3, stride=2, padding=1)
        self.relu2 = torch.nn.ReLU()
        self.pool = torch.nn.AdaptiveAvgPool2d(1)
        self.fc = torch.nn.Linear(16, 5)
    def forward(self, x):
        x = self.relu2(self.conv2(self.relu1(self.conv1(x))))
        return self.fc(torch.flatten(self.pool(x), 1))
d = sys.argv[1]
torch.jit.script(Tiny().eval()).save(d + "/tiny.pt")
json.dump({"input": {"size": [16, 16], "color": "rgb", "resize": "stretch",
                     "mean": [0.5, 0.5, 0.5], "std": [0.25, 0.25, 0.25]},
           "default_layer": "conv2"}, open(d + "/tiny.json", "w"))
)PY";

constexpr int kClipW = 64, kClipH = 48;

struct Assets {
  test::TempDir dir{"bench_assets"};
  std::string model, clip, image;
  Assets() {
    { std::ofstream(dir.str("make.py")) << kMakeModel; }
    auto r = test::run(test::python() + " " + dir.str("make.py") + " " + dir.str(), 300);
    REQUIRE_MESSAGE(r.status == 0, r.output);
    model = dir.str("tiny.pt");
    clip = dir.str("clip.mp4");
    r = test::run("ffmpeg -nostdin -v error -f lavfi -i testsrc2=size=" + std::to_string(kClipW) +
                  "x" + std::to_string(kClipH) + ":rate=10 -frames:v 8 -c:v libx264 -pix_fmt " +
                  "yuv420p " + clip);
    REQUIRE_MESSAGE(r.status == 0, r.output);
    image = dir.str("still.png");
    r = test::run("ffmpeg -nostdin -v error -f lavfi -i testsrc2=size=32x32 -frames:v 1 " + image);
    REQUIRE_MESSAGE(r.status == 0, r.output);
  }
};

const Assets& assets() {
  static Assets a;
  return a;
}

// Runs camscope with stdout and stderr apart: the JSON report must be alone on stdout.
struct Split {
  int status = -1;
  std::string out, err;
};
Split run_split(const std::string& args) {
  test::TempDir d("bench_run");
  auto r = test::run("sh -c \"'" + test::camscope_bin() + "' " + args + " >" + d.str("out") +
                     " 2>" + d.str("err") + "\"");
  Split s;
  s.status = r.status;
  std::stringstream o, e;
  o << std::ifstream(d.str("out")).rdbuf();
  e << std::ifstream(d.str("err")).rdbuf();
  s.out = o.str();
  s.err = e.str();
  return s;
}

void check_one_line_error(const test::RunResult& r) {
  CHECK(r.status != 0);
  CHECK(r.status < 124);  // neither a hang nor a crash
  CHECK(test::line_count(r.output) == 1);
  CHECK(r.output.find("camscope: error:") != std::string::npos);
}

}  // namespace

TEST_CASE("bench --frames 3 --json reports every stage, a positive rate and exact byte counts") {
  const Assets& a = assets();
  Split s = run_split("bench --model " + a.model + " --input " + a.clip +
                      " --frames 3 --warmup 1 --threads 1 --idle 0 --json");
  REQUIRE_MESSAGE(s.status == 0, s.err);
  Json j;
  REQUIRE_NOTHROW(j = Json::parse(s.out));

  CHECK(j["method"] == "gradcam");
  CHECK(j["layer"] == "conv2");
  CHECK(j["device"] == "cpu");
  CHECK(j["engine"] == "fast");  // the default, for the pipeline and the bare model alike
  CHECK(j["threads"] == 1);
  CHECK(j["frames"] == 3);
  CHECK(j["warmup"] == 1);
  CHECK(j["source"]["size"][0] == kClipW);
  CHECK(j["source"]["size"][1] == kClipH);

  for (const char* stage : {"decode", "preprocess", "forward", "backward", "postprocess", "grid",
                            "upload", "draw", "frame"}) {
    CAPTURE(stage);
    REQUIRE(j["stages_ms"].contains(stage));
    const Json& st = j["stages_ms"][stage];
    CHECK(st["p50"].get<double>() >= 0.0);
    CHECK(st["p95"].get<double>() >= st["p50"].get<double>());
    CHECK(st["mean"].get<double>() >= 0.0);
  }
  CHECK(j["fps"].get<double>() > 0.0);
  CHECK(j["bare_model"]["fps"].get<double>() > 0.0);
  CHECK(j["ratio_to_bare"].get<double>() > 0.0);

  // Every frame computed by the worker (warm-up included), none answered from the cache.
  CHECK(j["pipeline"]["computed"] == 4);
  CHECK(j["pipeline"]["cache_hits"] == 0);

  // conv2 has 16 channels of 8x8: all 16 in the grid, 4 columns, 1-pixel borders -> 37x37.
  CHECK(j["grid"]["channels"] == 16);
  const double atlas = 37.0 * 37.0 * 4;
  const double map = 16.0 * 16.0 * 4;
  const double frame = kClipW * kClipH * 3.0;
  CHECK(j["bytes_per_frame"]["host_to_gl"].get<double>() == doctest::Approx(frame + map + atlas));
  CHECK(j["bytes_per_frame"]["host_to_device"].get<double>() == 0.0);  // CPU model
  CHECK(j["bytes_per_frame"]["device_to_gl"].get<double>() == 0.0);

  // Same sizes every frame: no texture is reallocated and no GL object leaks after warm-up.
  CHECK(j["steady_state"]["texture_allocations"] == 0);
  CHECK(j["steady_state"]["gl_objects_delta"] == 0);
}

TEST_CASE("bench --grid N limits the channel grid, and the text report names the rates") {
  const Assets& a = assets();
  Split s = run_split("bench --model " + a.model + " --input " + a.clip +
                      " --frames 2 --warmup 0 --grid 4 --threads 1 --idle 0 --json");
  REQUIRE_MESSAGE(s.status == 0, s.err);
  Json j = Json::parse(s.out);
  CHECK(j["grid"]["channels"] == 4);
  // 2x2 tiles of 8x8 with borders: 19x19.
  CHECK(j["bytes_per_frame"]["host_to_gl"].get<double>() ==
        doctest::Approx(kClipW * kClipH * 3.0 + 16 * 16 * 4 + 19 * 19 * 4));

  auto t = test::camscope("bench --model " + a.model + " --input " + a.clip +
                          " --frames 2 --warmup 0 --threads 1 --idle 0");
  REQUIRE_MESSAGE(t.status == 0, t.output);
  CHECK(t.output.find("end to end") != std::string::npos);
  CHECK(t.output.find("bare model") != std::string::npos);
  CHECK(t.output.find("backward") != std::string::npos);
}

TEST_CASE("bench with Score-CAM reports its cost against batched forward passes") {
  const Assets& a = assets();
  Split s = run_split("bench --model " + a.model + " --input " + a.clip +
                      " --method scorecam --frames 1 --warmup 1 --threads 1 --idle 0 --json");
  REQUIRE_MESSAGE(s.status == 0, s.err);
  Json j = Json::parse(s.out);
  REQUIRE(j.contains("scorecam"));
  CHECK(j["scorecam"]["channels"] == 16);
  CHECK(j["scorecam"]["batch"] == 16);
  CHECK(j["scorecam"]["forward_passes"] == 1);  // ceil(16 / 16)
  CHECK(j["scorecam"]["cost_ratio"].get<double>() > 0.0);
}

TEST_CASE("bench --idle S measures the viewer at rest: next to no CPU, next to no redraws") {
  const Assets& a = assets();
  Split s = run_split("bench --model " + a.model + " --input " + a.clip +
                      " --frames 2 --warmup 1 --threads 1 --idle 2 --json");
  REQUIRE_MESSAGE(s.status == 0, s.err);
  Json j = Json::parse(s.out);
  REQUIRE(j.contains("idle"));
  CHECK(j["idle"]["seconds"].get<double>() == 2.0);
  const Json& h = j["idle"]["headless"];
  REQUIRE_MESSAGE(h.contains("cpu_percent"), h.dump());
  MESSAGE("idle headless: " << h.dump());
  CHECK(h["wall_s"].get<double>() >= 2.0);
  CHECK(h["cpu_percent"].get<double>() >= 0.0);
  CHECK(h["cpu_percent"].get<double>() < 10.0);  // the target (2%) is bench's to report
  CHECK(h["redraws"].get<int>() <= 2);
  REQUIRE(j["idle"].contains("window"));  // measured under DISPLAY, else says why not
  CHECK((j["idle"]["window"].contains("cpu_percent") || j["idle"]["window"].contains("skipped")));
}

TEST_CASE("bench rejects bad options with one line") {
  const Assets& a = assets();
  const std::string base = "bench --model " + a.model + " --input " + a.clip + " ";
  SUBCASE("zero frames") {
    check_one_line_error(test::camscope(base + "--frames 0"));
  }
  SUBCASE("non-numeric frames") {
    auto r = test::camscope(base + "--frames many");
    check_one_line_error(r);
    CHECK(r.output.find("--frames") != std::string::npos);
  }
  SUBCASE("negative warm-up") {
    check_one_line_error(test::camscope(base + "--warmup -1"));
  }
  SUBCASE("negative grid") {
    check_one_line_error(test::camscope(base + "--grid -2"));
  }
  SUBCASE("negative threads") {
    check_one_line_error(test::camscope(base + "--threads -1"));
  }
  SUBCASE("bad engine") {
    auto r = test::camscope(base + "--engine turbo");
    check_one_line_error(r);
    CHECK(r.output.find("--engine") != std::string::npos);
  }
  SUBCASE("bad target") {
    check_one_line_error(test::camscope(base + "--target first"));
  }
  SUBCASE("misspelt method suggests the right one") {
    auto r = test::camscope(base + "--method gradcan");
    check_one_line_error(r);
    CHECK(r.output.find("gradcam") != std::string::npos);
  }
  SUBCASE("misspelt option suggests the right one") {
    auto r = test::camscope(base + "--frame 3");
    check_one_line_error(r);
    CHECK(r.output.find("--frames") != std::string::npos);
  }
  SUBCASE("missing input") {
    check_one_line_error(
        test::camscope("bench --model " + a.model + " --input " + a.dir.str("nope.mp4")));
  }
  SUBCASE("missing model") {
    check_one_line_error(
        test::camscope("bench --model " + a.dir.str("nope.pt") + " --input " + a.clip));
  }
  SUBCASE("a single image is refused") {
    auto r = test::camscope("bench --model " + a.model + " --input " + a.image);
    check_one_line_error(r);
    CHECK(r.output.find("single image") != std::string::npos);
  }
}
