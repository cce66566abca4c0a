// The viewer under a person's hands (issue 14): long methods that report progress and stop when
// superseded or cancelled, Recent lists that keep only what opened, a layout that follows the
// window, readable errors, honest timeline / recording / channel / sanity readouts. Scripted
// headless sessions (view_session.h) and the panels' pure readout functions.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>

#include "ui/panels.h"
#include "view_session.h"

using namespace camscope;

namespace {

void require_ok(const test::Session& s, size_t states) {
  REQUIRE_MESSAGE(s.run.status == 0, s.run.output);
  REQUIRE_MESSAGE(s.states.size() == states, s.run.output);
}

bool contains(const Json& list, const std::string& item) {
  for (const Json& x : list)
    if (x.get<std::string>() == item) return true;
  return false;
}

// ffprobe's container duration in seconds.
double probe_duration(const std::string& path) {
  auto r = test::run("ffprobe -v error -show_entries format=duration -of csv=p=0 '" + path + "'");
  REQUIRE_MESSAGE(r.status == 0, r.output);
  return std::stod(r.output);
}

}  // namespace

TEST_CASE("a long method stops at the next batch when a newer request comes, or on Cancel") {
  test::TempDir dir("hands_cancel");
  // Every intgrad batch takes 1.5 s longer: 50 steps in batches of 8 = 7 batches, > 10 s.
  constexpr double kBatchMs = 1500;
  auto s = test::view_script(dir, "s",
                             "wait_result\n"
                             "method intgrad\nwait_progress\nprint_state\n"  // 0: running
                             "method gradcam\nwait_result\nprint_state\n"   // 1: superseded
                             // Not cached: asked again, it computes again; C cancels it.
                             "method intgrad\nwait_progress\nkey c\nwait_idle\nframes 3\nprint_state\n"
                             // Retry computes it again.
                             "retry\nwait_progress\nprint_state\ncancel\nwait_idle\n"
                             // The sanity check stops too when the layer changes.
                             "method gradcam\nwait_result\nsanity start\nwait_progress\n"
                             "layer features.block2\nwait_result\nframes 5\nprint_state\n",
                             "--debug-batch-delay-ms 1500");
  require_ok(s, 5);
  const Json& run = s.states[0]["progress"];
  CHECK(run["running"] == true);
  CHECK(run["method"] == "intgrad");
  CHECK(run["unit"] == "steps");
  CHECK(run["total"] == 50);
  CHECK(run["done"].get<int>() >= 8);

  // The gradcam result arrived within about one batch (the one running, timed by the job
  // itself: the test hook's delay plus the real work), not after the remaining intgrad batches.
  const Json& after = s.states[1];
  CHECK(after["result"]["method"] == "gradcam");
  CHECK(after["result"]["current"] == true);
  const double waited = after["clock_ms"].get<double>() - s.states[0]["clock_ms"].get<double>();
  const double batch = run["batch_ms"].get<double>();
  MESSAGE("gradcam after intgrad: " << waited << " ms, one batch " << batch << " ms");
  CHECK(batch >= kBatchMs);
  CHECK(waited < 1.5 * batch + 1000);
  const int left = (50 - run["done"].get<int>() + 7) / 8;  // batches intgrad still had
  CHECK(waited < left * batch);
  const Json& stopped = after["progress"];
  CHECK(stopped["id"] == run["id"]);
  CHECK(stopped["running"] == false);
  CHECK(stopped["cancelled"] == true);
  CHECK(stopped["by_user"] == false);
  CHECK(stopped["done"].get<int>() < stopped["total"].get<int>());
  CHECK(after["stats"]["cancelled"].get<int>() >= 1);

  // Cancel (key C): stopped, not restarted, nothing published; the gradcam image stays.
  const Json& user = s.states[2];
  CHECK(user["progress"]["id"].get<int>() > run["id"].get<int>());  // computed again
  CHECK(user["progress"]["cancelled"] == true);
  CHECK(user["progress"]["by_user"] == true);
  CHECK(user["progress"]["running"] == false);
  CHECK(user["progress"]["done"].get<int>() < 50);
  CHECK(user["result"]["method"] == "gradcam");
  CHECK(user["result"]["current"] == false);

  CHECK(s.states[3]["progress"]["running"] == true);  // Retry
  CHECK(s.states[3]["progress"]["id"].get<int>() > user["progress"]["id"].get<int>());

  // The sanity check was stopped by the layer change and says so; its old results are gone.
  const Json& san = s.states[4];
  CHECK(san["progress"]["method"] == "sanity");
  CHECK(san["progress"]["cancelled"] == true);
  CHECK(san["sanity"]["running"] == false);
  CHECK(san["sanity"]["steps"].empty());
  CHECK(san["sanity"]["error"].get<std::string>().find("stopped") != std::string::npos);
  CHECK(san["result"]["layer"] == "features.block2");
}

TEST_CASE("sanity results are cleared when the layer or the input changes") {
  test::TempDir dir("hands_sanity");
  const std::string clip = test::make_clip(dir, "c.mp4", 6, 10);
  auto s = test::view_script(dir, "s",
                             "wait_result\nsanity\nprint_state\nlayer features.block2\nframes 3\n"
                             "print_state\nsanity\nprint_state\nopen_input " +
                                 clip + "\nwait_result\nframes 3\nprint_state\n");
  require_ok(s, 4);
  CHECK(s.states[0]["sanity"]["steps"].size() >= 1);
  CHECK(s.states[1]["sanity"]["steps"].empty());
  CHECK(s.states[2]["sanity"]["steps"].size() >= 1);
  CHECK(s.states[3]["sanity"]["steps"].empty());
}

TEST_CASE("only opens that succeed go into Recent and the settings file") {
  test::TempDir dir("hands_recent");
  const std::string clip = test::make_clip(dir, "good.mp4", 6, 10);
  const std::string bad_model = dir.str("corrupt.pt");
  std::ofstream(bad_model) << "this is not a TorchScript archive";
  const std::string settings = dir.str("settings.json");
  auto s = test::view_script(
      dir, "s",
      "wait_result\n"
      "open_input " + dir.str("missing.mp4") + "\nwait_result\n" +
          "open_model " + bad_model + "\nwait_result\n" +
          "open_model " + dir.str("missing.pt") + "\nwait_result\n" +
          "open_input webcam:57\nwait_result\n" +
          "open_input " + clip + "/" + clip + "\nwait_result\n" +  // a nonsense joined path
          "open_input " + clip + "\nwait_result\nprint_state\n",
      "--settings '" + settings + "'");
  require_ok(s, 1);
  const Json& st = s.states[0];
  CHECK(st["input"] == clip);
  CHECK(st["recent_inputs"] == Json::array({clip, "synthetic"}));
  CHECK(st["recent_models"].empty());
  // What was saved is the same.
  const Json saved = read_json_file(settings);
  CHECK(saved["recent_inputs"] == Json::array({clip, "synthetic"}));
  CHECK(saved["recent_models"].empty());
  CHECK(!contains(saved["recent_inputs"], dir.str("missing.mp4")));
}

TEST_CASE("side columns follow the window size and the splitter drags") {
  test::TempDir dir("hands_layout");
  const std::string settings = dir.str("settings.json");
  // A small window first, then a large one: the columns grow back.
  auto a = test::view_script(dir, "a",
                             "window_size 800 600\nwait_result\nframes 2\nprint_state\n"
                             "window_size 1920 1080\nframes 3\nprint_state\n",
                             "--settings '" + settings + "'");
  require_ok(a, 2);
  const double small_right = a.states[0]["layout"]["right"].get<double>();
  const double large_right = a.states[1]["layout"]["right"].get<double>();
  const double large_left = a.states[1]["layout"]["left"].get<double>();
  CHECK(a.states[1]["window"] == Json::array({1920, 1080}));
  CHECK(small_right <= 0.4 * 800);
  CHECK(large_right > 400);
  CHECK(large_left > 400);
  CHECK(large_right == doctest::Approx(small_right * 1920 / 800).epsilon(0.02));
  // The viewport gets the room between them.
  CHECK(a.states[1]["viewport"][2].get<double>() > 600);

  // Next run (the settings say the window was small): still proportional, then drag the right
  // column's edge 100 px to the left.
  const Json saved = read_json_file(settings);
  CHECK(saved["layout"].contains("right_fraction"));
  CHECK(!saved["layout"].contains("right_width"));
  auto b = test::view_script(dir, "b", "wait_result\nframes 2\nprint_state\n",
                             "--settings '" + settings + "'");
  require_ok(b, 1);
  const double right = b.states[0]["layout"]["right"].get<double>();
  CHECK(right == doctest::Approx(large_right * 960 / 1920).epsilon(0.02));
  const int edge = static_cast<int>(960 - right);
  auto c = test::view_script(dir, "c",
                             "wait_result\nframes 2\ndrag " + std::to_string(edge) + " 300 " +
                                 std::to_string(edge - 100) + " 300\nframes 2\nprint_state\n",
                             "--settings '" + settings + "'");
  require_ok(c, 1);
  CHECK(c.states[0]["layout"]["right"].get<double>() == doctest::Approx(right + 100).epsilon(0.02));
  const Json after = read_json_file(settings);
  CHECK(after["layout"]["right_fraction"].get<double>() ==
        doctest::Approx((right + 100) / 960).epsilon(0.02));
}

TEST_CASE("cam on a layer that does not feed the head: the error names the valid layers") {
  test::TempDir dir("hands_cam");
  const std::string shot = dir.str("cam.png");
  auto s = test::view_script(dir, "s",
                             "layer features.block2\nmethod cam\nwait_result\nprint_state\n"
                             "screenshot " + shot + "\n");
  require_ok(s, 1);
  const Json& r = s.states[0]["result"];
  const std::string err = r["error"].get<std::string>();
  const auto at = err.find("cam works at: ");
  REQUIRE_MESSAGE(at != std::string::npos, err);
  CHECK(err.find("features.block3", at) != std::string::npos);
  CHECK(err.find("--layer features.block3") != std::string::npos);  // the default layer
  CHECK(r["layer"] == "features.block2");  // the header names the layer, not "input"
  // The banner wraps the whole message: red well below its first line.
  Image im = load_image_rgb(shot);
  const test::Rect vp = test::viewport_of(s.states[0]);
  int red = 0, n = 0;
  for (int x = vp.x + 2; x < vp.x + vp.w - 2; ++x) {
    const size_t i = (static_cast<size_t>(vp.y + 48) * im.width + x) * 3;
    red += im.pixels[i] > im.pixels[i + 1] + 40;
    ++n;
  }
  CHECK(red > n / 2);
}

TEST_CASE("the timeline shows the frame on screen and the pending one apart") {
  test::TempDir dir("hands_timeline");
  const std::string clip = test::make_clip(dir, "t.mp4", 40, 20);
  auto s = test::view_script(dir, "s",
                             "wait_result\nseek 5\nwait_result\nprint_state\n"
                             "seek 30\nframes 2\nprint_state\n",
                             "--input '" + clip + "' --debug-worker-delay-ms 1500");
  require_ok(s, 2);
  CHECK(s.states[0]["timeline"] == "frame 5 / 39   0.250 s");
  CHECK(s.states[1]["timeline"] == "frame 5 / 39   0.250 s   (pending: frame 30)");
  CHECK(ui::timeline_label(nullptr, 3, 10) == "no frame on screen yet   (pending: frame 3)");
}

TEST_CASE("recordings follow source time for video and the clock when paused") {
  test::TempDir dir("hands_record");
  const std::string clip = dir.str("src.mp4");
  auto mk = test::run("ffmpeg -loglevel error -y -f lavfi -i testsrc2=size=320x240:rate=30 -t 3 "
                      "-c:v libx264 -pix_fmt yuv420p '" + clip + "'");
  REQUIRE_MESSAGE(mk.status == 0, mk.output);
  const std::string played = dir.str("played.mp4"), paused = dir.str("paused.mp4");
  // Stepped, played at 4x, stepped once more (the end is then a known frame however slow the
  // worker), stopped right away.
  auto s = test::view_script(dir, "s",
                             "wait_result\nrecord_start " + played +
                                 "\nstep +1\nwait_result\nstep +1\nwait_result\nspeed 4\nplay\n"
                                 "frames 40\nstep +1\nwait_result\nprint_state\nrecord_stop\n"
                                 "frames 2\nprint_state\nrecord_start " + paused +
                                 "\nframes 60\nrecord_stop\nframes 1\nprint_state\n",
                             "--input '" + clip + "'");
  require_ok(s, 3);
  // The clip lasts the source time it covers (the last frame shown included), whatever the
  // playback speed or the number of results computed meanwhile.
  const Json& end = s.states[0];
  const double covered = end["result"]["pts"].get<double>() + 1.0 / 30;
  MESSAGE("source covered " << covered << " s, recorded " << probe_duration(played) << " s");
  CHECK(covered > 2.0);  // 2 steps + 40 frames of 4x playback + 1 step
  CHECK(probe_duration(played) == doctest::Approx(covered).epsilon(0.05));
  CHECK(s.states[1]["message"].get<std::string>().find("video time") != std::string::npos);
  // Paused: 60 frames of the (headless, 60 per second) clock = 1 s, not one frame.
  CHECK(probe_duration(paused) == doctest::Approx(1.0).epsilon(0.1));
}

TEST_CASE("an opened channel stays pinned when the ranking leaves it out") {
  test::TempDir dir("hands_pin");
  auto s = test::view_script(dir, "s",
                             "wait_result\nsort_grid index\ntop_k 4\nopen_channel 10\nframes 2\n"
                             "wait_result\nprint_state\nsort_grid activation\nframes 2\n"
                             "wait_result\nprint_state\nopen_channel none\nframes 2\nwait_result\n"
                             "print_state\n");
  require_ok(s, 3);
  CHECK(s.states[0]["result"]["grid_channels"] == Json::array({0, 1, 2, 3, 10}));
  const Json order = s.states[1]["result"]["grid_channels"];
  REQUIRE(order.size() >= 4);
  bool has10 = false;
  for (const Json& c : order) has10 = has10 || c.get<int>() == 10;
  CHECK(has10);
  CHECK(s.states[2]["result"]["grid_count"] == 4);
}

TEST_CASE("readouts say pending and never show absurd rates") {
  CHECK(std::string(ui::channels_placeholder(nullptr, false)).rfind("pending", 0) == 0);
  app::FrameResult r;
  CHECK(std::string(ui::channels_placeholder(&r, false)).rfind("pending", 0) == 0);
  CHECK(std::string(ui::channels_placeholder(&r, true)) == "this layer has no channel maps");
  r.error = "boom";
  CHECK(std::string(ui::channels_placeholder(&r, true)).find("viewport") != std::string::npos);
  CHECK(ui::display_rate_text(59.94) == "59.9 fps");
  CHECK(ui::display_rate_text(17442.0) == "unpaced (> 1000 fps)");
}

TEST_CASE("layer suggestions never start with the root module's empty name") {
  auto r = test::camscope("view --headless --frames 1 --layer x");
  CHECK(r.status != 0);
  CHECK(r.output.find("closest: ") != std::string::npos);
  CHECK(r.output.find("closest: ,") == std::string::npos);
  CHECK(r.output.find(", ,") == std::string::npos);
}

TEST_CASE("--target takes a class label; an unknown one lists the closest labels") {
  test::TempDir dir("hands_target");
  auto s = test::view_script(dir, "s", "wait_result\nprint_state\n", "--target star");
  require_ok(s, 1);
  CHECK(s.states[0]["target"] == 3);  // circle, square, triangle, star, ...
  CHECK(s.states[0]["result"]["target"] == 3);
  auto bad = test::camscope("view --headless --frames 1 --target sqare");
  CHECK(bad.status != 0);
  CHECK(bad.output.find("closest: square") != std::string::npos);
  CHECK(test::line_count(bad.output) == 1);
  auto range = test::camscope("view --headless --frames 1 --target 6");
  CHECK(range.status != 0);
  CHECK(range.output.find("out of range") != std::string::npos);
}

TEST_CASE("the target picker's search matches labels ignoring case, or the index") {
  CHECK(ui::class_matches("golden retriever", 207, ""));
  CHECK(ui::class_matches("golden retriever", 207, "Retr"));
  CHECK(ui::class_matches("golden retriever", 207, "207"));
  CHECK_FALSE(ui::class_matches("golden retriever", 207, "tabby"));
  CHECK_FALSE(ui::class_matches("golden retriever", 207, "20"));
}

TEST_CASE("a colorbar with the value range sits in the viewport's corner") {
  test::TempDir dir("hands_colorbar");
  const std::string shot = dir.str("bar.png");
  auto s = test::view_script(dir, "s",
                             "wait_result\ncolormap jet\nframes 2\nprint_state\nscreenshot " +
                                 shot + "\n");
  require_ok(s, 1);
  const Json& range = s.states[0]["result"]["raw_range"];
  CHECK(range[0].get<double>() <= range[1].get<double>());
  Image im = load_image_rgb(shot);
  const auto& v = s.states[0]["viewport"];
  const double gx = v[0].get<double>(), gy = v[1].get<double>(), gw = v[2].get<double>(),
               gh = v[3].get<double>();
  const int y = static_cast<int>(gy + gh - 17);
  const double bar = std::min(160.0, gw * 0.4);
  auto px = [&](double x, int c) {
    return static_cast<int>(im.pixels[(static_cast<size_t>(y) * im.width + static_cast<int>(x)) * 3 + c]);
  };
  // Jet: dark blue at 0, dark red at 1.
  const double lo = gx + 8, hi = gx + 6 + bar - 3;
  CHECK(px(lo, 2) > px(lo, 0) + 60);
  CHECK(px(hi, 0) > px(hi, 2) + 60);
}
