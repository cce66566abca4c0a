// The interactive viewer driven by --script in headless sessions: what it shows (screenshots,
// read back from a real off-screen GL context) and what it reports (print_state) after the
// user-level actions of the UI: start, layer switch, grid order, target pick, video seek.
#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <set>

#include "view_session.h"

using namespace camscope;

namespace {

void require_ok(const test::Session& s, size_t states) {
  REQUIRE_MESSAGE(s.run.status == 0, s.run.output);
  REQUIRE_MESSAGE(s.states.size() == states, s.run.output);
}

}  // namespace

TEST_CASE("default start: built-in model, synthetic input, a heatmap on screen") {
  test::TempDir dir("app_default");
  auto s = test::view_script(dir, "s",
                             R"(
wait_result
print_state
screenshot )" + dir.str("start.png") +
                                 R"(
alpha 0
frames 2
screenshot )" + dir.str("start_alpha0.png") +
                                 "\n");
  require_ok(s, 1);
  const Json& st = s.states[0];
  CHECK(st["input"].get<std::string>().rfind("synthetic", 0) == 0);
  CHECK(std::filesystem::path(st["model"].get<std::string>()).filename() == "builtin.pt");
  CHECK(st["source"]["kind"] == "synthetic");
  CHECK(st["playing"] == false);  // headless sessions start paused: deterministic frames
  const Json& r = st["result"];
  REQUIRE(r.is_object());
  CHECK(r["error"] == "");
  CHECK(r["current"] == true);
  CHECK(r["frame_index"] == 0);
  CHECK(r["layer"] == st["layer"]);
  CHECK(r["method"] == "gradcam");
  REQUIRE(r["top"].size() == std::min<size_t>(5, st["num_classes"].get<size_t>()));
  double prev = 2.0, sum = 0;
  for (const Json& c : r["top"]) {
    const double p = c["score"].get<double>();
    CHECK(p <= prev);  // best first
    prev = p;
    sum += p;
  }
  CHECK(sum <= 1.0 + 1e-6);
  CHECK(r["target"] == r["top"][0]["class"]);  // default target = top-1
  // The channel grid holds every channel of the default layer, most active first.
  const auto shape = r["activation_shape"].get<std::vector<int64_t>>();
  REQUIRE(shape.size() == 3);
  CHECK(r["grid_count"] == shape[0]);
  const auto means = r["channel_mean"].get<std::vector<float>>();
  const auto order = r["grid_channels"].get<std::vector<int>>();
  REQUIRE(means.size() == static_cast<size_t>(shape[0]));
  for (size_t i = 1; i < order.size(); ++i) CHECK(means[order[i - 1]] >= means[order[i]]);

  Image shot = load_image_rgb(dir.str("start.png"));
  Image plain = load_image_rgb(dir.str("start_alpha0.png"));
  CHECK(shot.width == 960);
  CHECK(shot.height == 600);
  const test::Rect vp = test::viewport_of(st);
  REQUIRE(vp.w > 100);
  REQUIRE(vp.h > 60);
  // The lower part of the viewport (below the caption) holds a real picture, and the heatmap
  // visibly changes it compared with alpha 0.
  const test::Rect lower{vp.x, vp.y + vp.h / 3, vp.w, vp.h * 2 / 3};
  CHECK(test::region_std(shot, lower) > 5.0);
  CHECK(test::mean_abs_diff(shot, plain, lower) > 3.0);
}

TEST_CASE("layer switched by script and by the ] key retargets the taps") {
  test::TempDir dir("app_layer");
  auto s = test::view_script(dir, "s", R"(
wait_result
print_state
key [
wait_result
print_state
screenshot )" + dir.str("layer.png") + "\n");
  require_ok(s, 2);
  const Json& a = s.states[0];
  const Json& b = s.states[1];
  const auto layers = a["spatial_layers"];
  REQUIRE(layers.size() >= 2);
  // The default layer, then the spatial layer before it.
  size_t idx = 0;
  for (size_t i = 0; i < layers.size(); ++i)
    if (layers[i]["path"] == a["layer"]) idx = i;
  REQUIRE(idx >= 1);
  const Json& prev = layers[idx - 1];
  CHECK(b["layer"] == prev["path"]);
  CHECK(b["result"]["layer"] == prev["path"]);
  CHECK(b["result"]["current"] == true);
  CHECK(b["result"]["error"] == "");
  // The result's activation has the layer's table shape (without the batch dimension).
  const auto table = prev["shape"].get<std::vector<int64_t>>();
  const auto got = b["result"]["activation_shape"].get<std::vector<int64_t>>();
  CHECK(got == std::vector<int64_t>(table.begin() + 1, table.end()));
  CHECK(b["result"]["grid_count"] == table[1]);

  // select_layer by path goes back, and an unknown path stops the script with one line.
  auto back = test::view_script(dir, "back",
                                "wait_result\nselect_layer " + a["layer"].get<std::string>() +
                                    "\nwait_result\nprint_state\n");
  require_ok(back, 1);
  CHECK(back.states[0]["result"]["layer"] == a["layer"]);
  auto bad = test::view_script(dir, "bad", "wait_result\nselect_layer no.such.layer\n");
  CHECK(bad.run.status == 1);
  CHECK(test::line_count(bad.run.output) == 1);
  CHECK(bad.run.output.find("no.such.layer") != std::string::npos);
}

TEST_CASE("channel grid sorted by weight, by index, and filtered to the top k") {
  test::TempDir dir("app_grid");
  auto s = test::view_script(dir, "s", R"(
wait_result
sort_grid weight
wait_result
print_state
screenshot )" + dir.str("weight.png") + R"(
sort_grid index
top_k 5
wait_result
print_state
)");
  require_ok(s, 2);
  const Json& w = s.states[0]["result"];
  const auto weights = w["channel_weight"].get<std::vector<float>>();
  const auto order = w["grid_channels"].get<std::vector<int>>();
  REQUIRE(!weights.empty());
  REQUIRE(order.size() == std::min<size_t>(64, weights.size()));
  for (size_t i = 1; i < order.size(); ++i) CHECK(weights[order[i - 1]] >= weights[order[i]]);
  CHECK(s.states[0]["grid_sort"] == "weight");
  // Re-sorting reuses the cached result: no second forward pass for the same frame.
  const Json& ix = s.states[1]["result"];
  CHECK(ix["from_cache"] == true);
  CHECK(ix["grid_count"] == 5);
  CHECK(ix["grid_channels"] == Json::array({0, 1, 2, 3, 4}));
  CHECK(s.states[1]["stats"]["computed"] == s.states[0]["stats"]["computed"]);
}

TEST_CASE("picking a class as target changes the heatmap, and only the heatmap") {
  test::TempDir dir("app_target");
  // Same frame (paused), two targets, each with the overlay on and off.
  auto s = test::view_script(dir, "s", R"(
wait_result
print_state
screenshot )" + dir.str("t0.png") + R"(
alpha 0
frames 2
screenshot )" + dir.str("t0_plain.png") + R"(
alpha 0.6
target 1
wait_result
print_state
screenshot )" + dir.str("t1.png") + R"(
alpha 0
frames 2
screenshot )" + dir.str("t1_plain.png") + "\n",
                             "--alpha 0.6 --pause");
  require_ok(s, 2);
  REQUIRE(s.states[0]["num_classes"].get<int>() >= 2);
  CHECK(s.states[1]["target"] == 1);
  CHECK(s.states[1]["result"]["target"] == 1);
  CHECK(s.states[1]["result"]["requested_target"] == 1);
  CHECK(s.states[1]["result"]["frame_index"] == s.states[0]["result"]["frame_index"]);
  const test::Rect vp = test::viewport_of(s.states[0]);
  const test::Rect lower{vp.x, vp.y + vp.h / 3, vp.w, vp.h * 2 / 3};
  Image t0 = load_image_rgb(dir.str("t0.png")), t1 = load_image_rgb(dir.str("t1.png"));
  Image p0 = load_image_rgb(dir.str("t0_plain.png")), p1 = load_image_rgb(dir.str("t1_plain.png"));
  if (s.states[0]["result"]["target"] != 1) CHECK(test::mean_abs_diff(t0, t1, lower) > 1.0);
  CHECK(test::mean_abs_diff(p0, p1, lower) == doctest::Approx(0.0));  // same frame underneath
}

TEST_CASE(
    "video: frame-exact seek matches ffmpeg's own decode, and scrubbing back hits the cache") {
  test::TempDir dir("app_video");
  const std::string clip = test::make_clip(dir, "clip.mp4", 30, 10);
  // ffmpeg's decode of frame 17, as a still image.
  auto x = test::run("ffmpeg -loglevel error -y -i '" + clip +
                     "' -vf 'select=eq(n\\,17)' -vframes 1 '" + dir.str("f17.png") + "'");
  REQUIRE_MESSAGE(x.status == 0, x.output);
  auto s = test::view_script(dir, "s", R"(
wait_result
seek 17
wait_result
print_state
screenshot )" + dir.str("seek17.png") + R"(
seek 5
wait_result
seek 17
wait_result
print_state
step -1
wait_result
print_state
)",
                             "--alpha 0 --input '" + clip + "'");
  require_ok(s, 3);
  CHECK(s.states[0]["source"]["kind"] == "video");
  CHECK(s.states[0]["source"]["frame_count"] == 30);
  CHECK(s.states[0]["result"]["frame_index"] == 17);
  CHECK(s.states[0]["result"]["from_cache"] == false);
  CHECK(s.states[1]["result"]["frame_index"] == 17);
  CHECK(s.states[1]["result"]["from_cache"] == true);
  CHECK(s.states[2]["result"]["frame_index"] == 16);
  CHECK(s.states[2]["wanted"] == 16);

  auto still = test::view_script(
      dir, "still", "wait_result\nprint_state\nscreenshot " + dir.str("still17.png") + "\n",
      "--alpha 0 --input '" + dir.str("f17.png") + "'");
  require_ok(still, 1);
  const test::Rect vp = test::viewport_of(s.states[0]);
  const test::Rect lower{vp.x, vp.y + vp.h / 3, vp.w, vp.h * 2 / 3};
  Image a = load_image_rgb(dir.str("seek17.png")), b = load_image_rgb(dir.str("still17.png"));
  // Same pixels up to the decoder's YUV->RGB rounding.
  CHECK(test::mean_abs_diff(a, b, lower) < 2.0);
}

TEST_CASE("shortcuts: method cycle, grid toggle, help overlay, target lock") {
  test::TempDir dir("app_keys");
  auto s = test::view_script(dir, "s", R"(
wait_result
print_state
key m
key g
key f1
key t
frames 2
print_state
screenshot )" + dir.str("help.png") + "\n");
  require_ok(s, 2);
  const Json& a = s.states[0];
  const Json& b = s.states[1];
  CHECK(a["method"] == "gradcam");
  CHECK(b["method"] == "gradcampp");  // the next method in DESIGN.md's order
  CHECK(a["show_grid"] == true);
  CHECK(b["show_grid"] == false);
  CHECK(b["show_help"] == true);
  CHECK(b["target"] == a["result"]["target"]);  // T locks the class on screen
  // Without the grid the viewport takes the right column's space.
  CHECK(b["viewport"][2].get<double>() >= a["viewport"][2].get<double>());
}

TEST_CASE("settings persist between runs") {
  test::TempDir dir("app_settings");
  const std::string cfg = dir.str("settings.json");
  auto a = test::view_script(dir, "a", "colormap viridis\nalpha 0.3\nsort_grid index\nframes 1\n",
                             "--settings '" + cfg + "'");
  REQUIRE_MESSAGE(a.run.status == 0, a.run.output);
  const Json saved = read_json_file(cfg);
  CHECK(saved["colormap"] == "viridis");
  CHECK(saved["alpha"].get<double>() == doctest::Approx(0.3));
  auto b = test::view_script(dir, "b", "print_state\n", "--settings '" + cfg + "'");
  require_ok(b, 1);
  CHECK(b.states[0]["colormap"] == "viridis");
  CHECK(b.states[0]["alpha"].get<double>() == doctest::Approx(0.3));
  CHECK(b.states[0]["grid_sort"] == "index");
  // The command line wins over the file.
  auto c = test::view_script(dir, "c", "print_state\n", "--settings '" + cfg + "' --colormap gray");
  require_ok(c, 1);
  CHECK(c.states[0]["colormap"] == "gray");
}

TEST_CASE("bad scripts and options fail with one line") {
  test::TempDir dir("app_bad");
  auto typo = test::view_script(dir, "typo", "wait_result\nselct_layer x\n");
  CHECK(typo.run.status == 1);
  CHECK(test::line_count(typo.run.output) == 1);
  CHECK(typo.run.output.find(":2:") != std::string::npos);
  CHECK(typo.run.output.find("select_layer") != std::string::npos);
  auto arity = test::view_script(dir, "arity", "seek\n");
  CHECK(arity.run.status == 1);
  CHECK(test::line_count(arity.run.output) == 1);
  auto target = test::view_script(dir, "target", "wait_result\ntarget 100000\n");
  CHECK(target.run.status == 1);
  CHECK(test::line_count(target.run.output) == 1);
  auto layer = test::camscope("view --headless --layer nosuchlayer");
  CHECK(layer.status == 1);
  CHECK(test::line_count(layer.output) == 1);
  auto method = test::camscope("view --headless --method gradcan");
  CHECK(method.status == 1);
  CHECK(method.output.find("gradcam") != std::string::npos);
  // A screenshot never overwrites a file without --force.
  std::ofstream(dir.str("exists.png")) << "x";
  auto shot =
      test::view_script(dir, "shot", "frames 1\nscreenshot " + dir.str("exists.png") + "\n");
  CHECK(shot.run.status == 1);
  CHECK(shot.run.output.find("--force") != std::string::npos);
}

// Debian 13's LibTorch exports a private LLVM that crashes Mesa's llvmpipe when it is in the
// global symbol scope; the camscope program loads LibTorch RTLD_LOCAL (app/launcher.cpp), so
// it renders with llvmpipe at full speed, quietly, on every stack. (Test programs that link
// LibTorch directly fall back to softpipe: render/llvm_guard.h.)
TEST_CASE("the program renders with Mesa's llvmpipe, not the softpipe fallback") {
  test::TempDir dir("view_renderer");
  auto s = test::view_script(dir, "renderer", "print_state\n", "--input synthetic --frames 1");
  require_ok(s, 1);
  const std::string renderer = s.states[0]["renderer"].get<std::string>();
  MESSAGE("renderer: " << renderer);
  const char* forced = std::getenv("GALLIUM_DRIVER");
  if (renderer.find("pipe") == std::string::npos || (forced && *forced)) {
    MESSAGE("SKIPPED: not Mesa's software rasterizer, or GALLIUM_DRIVER is set");
    return;
  }
  CHECK(renderer.find("llvmpipe") != std::string::npos);
  CHECK(s.run.output.find("softpipe") == std::string::npos);
}
