// `camscope export` end to end: files, shapes, value ranges and summary.json against the library
// run on the same input, overlays, refusal to overwrite, multi-frame inputs and the error paths.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <map>

#include "core/explain_fixture.h"
#include "explain/cam_math.h"
#include "explain/explain.h"
#include "model/model.h"
#include "test_support.h"
#include "util/fs.h"
#include "util/image_io.h"
#include "util/json.h"
#include "util/npy.h"

using namespace camscope;
namespace fs = std::filesystem;

namespace {

// A 20x14 RGB test card: a horizontal ramp in red, a vertical ramp in green, a bright square.
std::string make_png(const test::TempDir& dir, const std::string& name, int w = 20, int h = 14,
                     int shift = 0) {
  std::vector<uint8_t> px(w * h * 3);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      uint8_t* p = &px[(y * w + x) * 3];
      p[0] = static_cast<uint8_t>(x * 255 / (w - 1));
      p[1] = static_cast<uint8_t>(y * 255 / (h - 1));
      bool sq = x >= 4 + shift && x < 9 + shift && y >= 3 && y < 8;
      p[2] = sq ? 255 : 30;
    }
  write_png(dir.str(name), px.data(), w, h, 3);
  return dir.str(name);
}

torch::Tensor npy_tensor(const std::string& path) {
  NpyArray a = read_npy(path);
  return torch::tensor(a.data).reshape(a.shape);
}

void check_one_line_error(const test::RunResult& r, const std::string& needle) {
  CHECK_MESSAGE(r.status != 0, r.output);
  CHECK(r.status < 128);
  CHECK(r.status != 124);
  CHECK_MESSAGE(test::line_count(r.output) == 1, r.output);
  CHECK(r.output.find("camscope: error:") != std::string::npos);
  CHECK_MESSAGE(r.output.find(needle) != std::string::npos, r.output);
}

int count_files(const std::string& dir) {
  int n = 0;
  for (const auto& e : fs::directory_iterator(dir)) n += e.is_regular_file();
  return n;
}

}  // namespace

TEST_CASE("export writes the map, raw map, overlay and summary of one image") {
  if (!test::have_explain_fixtures()) return;
  const std::string fx = test::explain_fixture_dir();
  test::TempDir dir("export_one");
  const std::string img = make_png(dir, "card.png");
  const std::string model = fx + "/tiny.pt", out = dir.str("out");
  auto r = test::camscope("export --model " + model + " --input " + img + " --out " + out +
                          " --layer relu --method gradcampp --raw --device cpu");
  REQUIRE_MESSAGE(r.status == 0, r.output);
  CHECK(r.output.empty());  // one frame: no progress bar, nothing on stdout

  auto cam = npy_tensor(out + "/cam_000000.npy");
  REQUIRE(cam.sizes() == torch::IntArrayRef({6, 6}));  // model input size
  CHECK(cam.min().item<float>() >= 0.0f);
  CHECK(cam.max().item<float>() <= 1.0f);
  auto raw = npy_tensor(out + "/raw_000000.npy");
  CHECK(raw.sizes() == torch::IntArrayRef({3, 3}));  // feature resolution

  // The same computation through the library gives the same numbers.
  model::Model::Options o;
  o.path = model;
  o.device = "cpu";
  auto m = model::Model::load(o);
  Image card = load_image_rgb(img);
  auto x = m->preprocess(card.pixels.data(), card.width, card.height);
  explain::Request req;
  req.method = explain::Method::GradCamPP;
  req.layer = "relu";
  explain::Result ref = explain::explain(*m, x, req);
  CHECK((cam - ref.map).abs().max().item<float>() < 1e-6f);
  CHECK((raw - ref.raw).abs().max().item<float>() < 1e-6f);

  Image ov = load_image_rgb(out + "/overlay_000000.png");
  CHECK(ov.width == 20);  // source resolution
  CHECK(ov.height == 14);

  Json s = read_json_file(out + "/summary.json");
  CHECK(s["model"] == model);
  CHECK(s["layer"] == "relu");
  CHECK(s["method"] == "gradcampp");
  CHECK(s["device"] == "cpu");
  REQUIRE(s["frames"].size() == 1);
  const Json& f = s["frames"][0];
  CHECK(f["index"] == 0);
  CHECK(f["source_size"] == Json::array({20, 14}));
  CHECK(f["target"] == ref.target);
  REQUIRE(f["top"].size() == 2);  // 5 best, but the model has 2 classes
  CHECK(f["top"][0]["class"] == ref.target);
  CHECK(f["top"][0]["label"] == "class" + std::to_string(ref.target));
  double p0 = f["top"][0]["score"], p1 = f["top"][1]["score"];
  CHECK(p0 >= p1);
  CHECK(p0 + p1 == doctest::Approx(1.0));
  for (const char* stage : {"decode", "preprocess", "forward", "backward", "postprocess", "write"})
    CHECK_MESSAGE(f["timings_ms"].contains(stage), stage);

  SUBCASE("refuses to overwrite without --force, overwrites with it") {
    auto before = fs::last_write_time(out + "/cam_000000.npy");
    auto again = test::camscope("export --model " + model + " --input " + img + " --out " + out +
                                " --layer relu --method gradcampp");
    check_one_line_error(again, "--force");
    CHECK(fs::last_write_time(out + "/cam_000000.npy") == before);
    auto forced = test::camscope("export --model " + model + " --input " + img + " --out " + out +
                                 " --layer relu --method layercam --force");
    CHECK_MESSAGE(forced.status == 0, forced.output);
    CHECK(read_json_file(out + "/summary.json")["method"] == "layercam");
  }
}

TEST_CASE("export overlays: alpha 0 is the frame, alpha 1 the colormapped map") {
  if (!test::have_explain_fixtures()) return;
  const std::string fx = test::explain_fixture_dir();
  test::TempDir dir("export_overlay");
  const std::string img = make_png(dir, "card.png");
  const std::string base = "export --model " + fx + "/tiny.pt --input " + img + " --layer relu ";
  auto r0 = test::camscope(base + "--alpha 0 --out " + dir.str("a0"));
  REQUIRE_MESSAGE(r0.status == 0, r0.output);
  Image card = load_image_rgb(img), ov0 = load_image_rgb(dir.str("a0/overlay_000000.png"));
  CHECK(ov0.pixels == card.pixels);

  auto r1 = test::camscope(base + "--alpha 1 --colormap gray --out " + dir.str("a1"));
  REQUIRE_MESSAGE(r1.status == 0, r1.output);
  Image ov1 = load_image_rgb(dir.str("a1/overlay_000000.png"));
  auto cam = npy_tensor(dir.str("a1/cam_000000.npy"));
  auto up = explain::resize_map(cam, 14, 20);  // bilinear to the source resolution
  int worst = 0;
  for (int y = 0; y < 14; ++y)
    for (int x = 0; x < 20; ++x) {
      int expect = static_cast<int>(std::lround(up[y][x].item<float>() * 255));
      for (int c = 0; c < 3; ++c)
        worst = std::max(worst, std::abs(int(ov1.pixels[(y * 20 + x) * 3 + c]) - expect));
    }
  CHECK(worst <= 1);

  auto none = test::camscope(base + "--overlay none --out " + dir.str("none"));
  REQUIRE_MESSAGE(none.status == 0, none.output);
  CHECK(!fs::exists(dir.str("none/overlay_000000.png")));
  CHECK(fs::exists(dir.str("none/cam_000000.npy")));
}

TEST_CASE("export of a pixel-space method writes [C, H, W] raw attributions") {
  if (!test::have_explain_fixtures()) return;
  const std::string fx = test::explain_fixture_dir();
  test::TempDir dir("export_pixel");
  const std::string img = make_png(dir, "card.png");
  auto r = test::camscope("export --model " + fx + "/small.pt --input " + img +
                          " --method smoothgrad --raw --overlay none --out " + dir.str("o"));
  REQUIRE_MESSAGE(r.status == 0, r.output);
  CHECK(npy_tensor(dir.str("o/raw_000000.npy")).sizes() == torch::IntArrayRef({3, 16, 16}));
  auto cam = npy_tensor(dir.str("o/cam_000000.npy"));
  CHECK(cam.sizes() == torch::IntArrayRef({16, 16}));
  CHECK(cam.max().item<float>() == doctest::Approx(1.0).epsilon(1e-5));
}

TEST_CASE("export of several frames: a folder, a frame range, an MP4 overlay") {
  if (!test::have_explain_fixtures()) return;
  const std::string fx = test::explain_fixture_dir();
  test::TempDir dir("export_multi");
  fs::create_directories(dir.str("frames"));
  for (int i = 0; i < 4; ++i) make_png(dir, "frames/f" + std::to_string(i) + ".png", 20, 14, i * 2);
  auto probe = test::camscope("export --model " + fx + "/tiny.pt --input " + dir.str("frames") +
                              " --layer relu --overlay none --out " + dir.str("probe"));
  REQUIRE_MESSAGE(probe.status == 0, probe.output);
  for (int i = 0; i < 4; ++i)
    CHECK(fs::exists(dir.str("probe/" + format_index("cam_%06d.npy", i))));
  CHECK(probe.output.find("4/4 frames") != std::string::npos);  // progress bar on stderr

  auto r = test::camscope("export --model " + fx + "/tiny.pt --input " + dir.str("frames") +
                          " --layer relu --frames 1:3 --overlay mp4 --out " + dir.str("o"));
  REQUIRE_MESSAGE(r.status == 0, r.output);
  CHECK(!fs::exists(dir.str("o/cam_000000.npy")));
  CHECK(fs::exists(dir.str("o/cam_000001.npy")));
  CHECK(fs::exists(dir.str("o/cam_000002.npy")));
  CHECK(!fs::exists(dir.str("o/cam_000003.npy")));
  Json s = read_json_file(dir.str("o/summary.json"));
  REQUIRE(s["frames"].size() == 2);
  CHECK(s["frames"][0]["index"] == 1);
  CHECK(s["frames"][1]["index"] == 2);
  auto frames = test::run(
      "ffprobe -v error -count_frames -select_streams v:0 -show_entries "
      "stream=nb_read_frames,width,height -of csv=p=0 " +
      dir.str("o/overlay.mp4"));
  CHECK_MESSAGE(frames.output.find("20,14,2") != std::string::npos, frames.output);
  auto again = test::camscope("export --model " + fx + "/tiny.pt --input " + dir.str("frames") +
                              " --layer relu --frames 1:3 --overlay mp4 --out " + dir.str("o"));
  check_one_line_error(again, "--force");

  // A video: frame indices and timestamps come from the source.
  auto mk = test::run(
      "ffmpeg -v error -f lavfi -i testsrc2=size=64x48:rate=10 -t 1 -c:v libx264 "
      "-pix_fmt yuv420p " +
      dir.str("clip.mp4"));
  REQUIRE_MESSAGE(mk.status == 0, mk.output);
  auto v = test::camscope("export --model " + fx + "/tiny.pt --input " + dir.str("clip.mp4") +
                          " --layer relu --frames 4:7 --out " + dir.str("v"));
  REQUIRE_MESSAGE(v.status == 0, v.output);
  Json vs = read_json_file(dir.str("v/summary.json"));
  REQUIRE(vs["frames"].size() == 3);
  for (int i = 0; i < 3; ++i) {
    CHECK(vs["frames"][i]["index"] == 4 + i);
    CHECK(vs["frames"][i]["pts"].get<double>() == doctest::Approx((4 + i) / 10.0).epsilon(1e-3));
    CHECK(vs["frames"][i]["source_size"] == Json::array({64, 48}));
    CHECK(fs::exists(dir.str("v/" + format_index("overlay_%06d.png", 4 + i))));
  }
  CHECK(!fs::exists(dir.str("v/cam_000003.npy")));
}

// The fast engine (frozen, folded weights; oneDNN where no gradient passes) against the exact
// one, through the CLI: the same maps up to float rounding, and summary.json says which ran.
TEST_CASE("export --engine fast gives the exact engine's maps") {
  if (!test::have_explain_fixtures()) return;
  const std::string fx = test::explain_fixture_dir();
  test::TempDir dir("export_engine");
  const std::string img = make_png(dir, "card.png");
  for (const char* method : {"gradcam", "scorecam", "saliency"}) {
    INFO(method);
    std::map<std::string, torch::Tensor> maps;
    for (const char* engine : {"exact", "fast"}) {
      const std::string out = dir.str(std::string(method) + "_" + engine);
      auto r = test::camscope("export --model " + fx + "/tiny.pt --input " + img + " --out " +
                              out + " --layer relu --raw --overlay none --device cpu --method " +
                              method + " --engine " + engine);
      REQUIRE_MESSAGE(r.status == 0, r.output);
      CHECK(read_json_file(out + "/summary.json")["engine"] == engine);
      maps[engine] = npy_tensor(out + "/raw_000000.npy");
    }
    const double scale = std::max(1.0, maps["exact"].abs().max().item<double>());
    CHECK((maps["fast"] - maps["exact"]).abs().max().item<double>() <= 1e-4 * scale);
  }
  // Default: exact.
  auto r = test::camscope("export --model " + fx + "/tiny.pt --input " + img + " --out " +
                          dir.str("default") + " --layer relu --overlay none --device cpu");
  REQUIRE_MESSAGE(r.status == 0, r.output);
  CHECK(read_json_file(dir.str("default") + "/summary.json")["engine"] == "exact");
}

TEST_CASE("export errors are one line, non-zero, and write nothing") {
  if (!test::have_explain_fixtures()) return;
  const std::string fx = test::explain_fixture_dir();
  test::TempDir dir("export_err");
  const std::string img = make_png(dir, "card.png");
  const std::string base = "export --model " + fx + "/tiny.pt --input " + img + " ";
  const std::string out = " --out " + dir.str("o");
  check_one_line_error(test::camscope(base + "--method gradcan --layer relu" + out),
                       "did you mean gradcam");
  check_one_line_error(test::camscope(base + "--target 2 --layer relu" + out), "out of range");
  check_one_line_error(test::camscope(base + "--target two --layer relu" + out), "--target");
  check_one_line_error(test::camscope(base + "--layer fc" + out), "without spatial");
  check_one_line_error(test::camscope(base + "--method scorecam --layer pool" + out), "1x1");
  check_one_line_error(test::camscope(base + "--method cam --layer conv" + out),
                       "global-average-pool");
  check_one_line_error(test::camscope(base + "--layer relux" + out), "relux");
  check_one_line_error(test::camscope(base + "--overlay gif --layer relu" + out), "--overlay");
  check_one_line_error(test::camscope(base + "--alpha 1.5 --layer relu" + out), "--alpha");
  check_one_line_error(test::camscope(base + "--colormap jte --layer relu" + out), "jet");
  check_one_line_error(test::camscope(base + "--engine turbo --layer relu" + out), "--engine");
  check_one_line_error(test::camscope(base + "--frames 3:5 --layer relu" + out), "no frames");
  check_one_line_error(test::camscope(base + "--layer relu"), "--out");
  check_one_line_error(
      test::camscope("export --model " + dir.str("none.pt") + " --input " + img + out), "none.pt");
  check_one_line_error(
      test::camscope("export --model " + fx + "/tiny.pt --input " + dir.str("missing.png") + out),
      "missing.png");
  if (fs::exists(dir.str("o"))) CHECK(count_files(dir.str("o")) == 0);
}

TEST_CASE("export --sanity writes the cascading-randomization report") {
  if (!test::have_explain_fixtures()) return;
  const std::string fx = test::explain_fixture_dir();
  test::TempDir dir("export_sanity");
  const std::string img = make_png(dir, "card.png");
  auto r = test::camscope("export --model " + fx + "/tiny.pt --input " + img +
                          " --layer relu --method activation --sanity --overlay none --out " +
                          dir.str("o"));
  REQUIRE_MESSAGE(r.status == 0, r.output);
  CHECK(r.output.find("spearman") != std::string::npos);  // the table on stdout
  Json s = read_json_file(dir.str("o/sanity.json"));
  CHECK(s["method"] == "activation");
  CHECK(s["layer"] == "relu");
  REQUIRE(s["steps"].size() == 2);
  CHECK(s["steps"][0]["block"] == "fc");  // from the logits down
  CHECK(s["steps"][1]["block"] == "conv");
  // The activation at relu does not depend on fc; after conv is re-drawn it does change.
  CHECK(s["steps"][0]["spearman"].get<double>() == doctest::Approx(1.0));
  CHECK(s["steps"][1]["spearman"].get<double>() < 0.999);
  auto again = test::camscope("export --model " + fx + "/tiny.pt --input " + img +
                              " --layer relu --sanity --overlay none --out " + dir.str("o"));
  check_one_line_error(again, "--force");
}

TEST_CASE("export on the shared person-detection model") {
  const std::string model = test::shared_file("models/person_detect_mbv1_025.pt");
  const std::string img = test::shared_file("images/person_detect/person.jpg");
  if (model.empty() || img.empty()) return;
  test::TempDir dir("export_person");
  auto r = test::camscope("export --model " + model + " --input " + img + " --raw --out " +
                          dir.str("o"));
  REQUIRE_MESSAGE(r.status == 0, r.output);
  auto cam = npy_tensor(dir.str("o/cam_000000.npy"));
  CHECK(cam.sizes() == torch::IntArrayRef({96, 96}));
  CHECK(cam.max().item<float>() == doctest::Approx(1.0).epsilon(1e-5));
  Json s = read_json_file(dir.str("o/summary.json"));
  CHECK(s["layer"] == "features.pw11");  // the sidecar's default layer
  CHECK(s["method"] == "gradcam");
  CHECK(s["frames"][0]["top"][0]["label"] == "person");
  Image src = load_image_rgb(img), ov = load_image_rgb(dir.str("o/overlay_000000.png"));
  CHECK(ov.width == src.width);
  CHECK(ov.height == src.height);
}
