// Viewer actions beyond the panels' state: recording the viewport to MP4, the sanity check on
// the current frame, opening another input or model while running, zoom and the large tile.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <set>

#include "view_session.h"

using namespace camscope;

TEST_CASE("record the viewport to MP4 while a clip plays") {
  test::TempDir dir("app_record");
  const std::string clip = test::make_clip(dir, "c.mp4", 20, 10, "128x96");
  const std::string out = dir.str("rec.mp4");
  auto s = test::view_script(dir, "s",
                             "wait_result\nrecord_start " + out +
                                 // Two steps, each waited for, give two new viewport images
                                 // however slow the machine; then the clip plays on.
                                 "\nstep +1\nwait_result\nstep +1\nwait_result\nplay\n"
                                 "frames 60\nrecord_stop\nframes 2\nprint_state\n",
                             "--input '" + clip + "'");
  REQUIRE_MESSAGE(s.run.status == 0, s.run.output);
  REQUIRE(s.states.size() == 1);
  CHECK(s.states[0]["recording"] == false);
  CHECK(s.states[0]["message"].get<std::string>().find("recorded") != std::string::npos);
  REQUIRE(std::filesystem::exists(out));
  // ffprobe (independent of camscope) reads back a video of the viewport's size.
  auto probe = test::run(
      "ffprobe -v error -count_frames -select_streams v:0 -show_entries "
      "stream=width,height,nb_read_frames -of csv=p=0 '" +
      out + "'");
  REQUIRE_MESSAGE(probe.status == 0, probe.output);
  int w = 0, h = 0, n = 0;
  REQUIRE(std::sscanf(probe.output.c_str(), "%d,%d,%d", &w, &h, &n) == 3);
  CHECK(w == 128);
  CHECK(h == 96);
  CHECK(n >= 3);  // the first image at start plus one per step
  // Recording never overwrites an existing file without --force.
  auto again = test::view_script(dir, "again", "wait_result\nrecord_start " + out + "\nframes 2\n",
                                 "--input '" + clip + "'");
  CHECK(again.run.status == 1);
  CHECK(again.run.output.find("--force") != std::string::npos);
}

TEST_CASE("sanity check on the current frame reports one Spearman value per randomized block") {
  test::TempDir dir("app_sanity");
  // Also: the SE gates (an extra forward pass) are read only while their tab is shown.
  auto s = test::view_script(dir, "s",
                             "wait_result\nprint_state\ntab se\nframes 3\nwait_result\n"
                             "print_state\nsanity\nprint_state\nscreenshot " +
                                 dir.str("sanity.png") + "\n");
  REQUIRE_MESSAGE(s.run.status == 0, s.run.output);
  REQUIRE(s.states.size() == 3);
  CHECK(s.states[0]["result"]["se_blocks"] == 0);
  CHECK(s.states[1]["result"]["se_blocks"].get<int>() >= 1);  // the built-in model is an SE CNN
  CHECK(s.states[1]["result"]["from_cache"] == true);         // same frame, gates added
  const Json& san = s.states[2]["sanity"];
  CHECK(san["running"] == false);
  CHECK(san["error"] == "");
  REQUIRE(san["steps"].size() >= 1);
  std::set<std::string> blocks;
  for (const Json& st : san["steps"]) {
    const double r = st["spearman"].get<double>(), ra = st["spearman_abs"].get<double>();
    CHECK(r >= -1.0);
    CHECK(r <= 1.0);
    CHECK(ra >= -1.0);
    CHECK(ra <= 1.0);
    blocks.insert(st["block"].get<std::string>());
  }
  CHECK(blocks.size() == san["steps"].size());  // each step randomizes a new block
  // One map for the original model plus one per step, at the model's input size (112x112).
  REQUIRE(san["maps"].size() == 3);
  CHECK(san["maps"][0].get<size_t>() == san["steps"].size() + 1);
  CHECK(san["maps"][1] == 112);
  CHECK(san["maps"][2] == 112);
}

TEST_CASE("open another input and model while running") {
  test::TempDir dir("app_open");
  const std::string clip = test::make_clip(dir, "o.mp4", 10, 10);
  auto s = test::view_script(dir, "s",
                             "wait_result\nseek 3\nwait_result\nprint_state\nopen_input " + clip +
                                 "\nwait_result\nprint_state\nopen_input " + dir.str("nope.mp4") +
                                 "\nwait_result\nprint_state\n");
  REQUIRE_MESSAGE(s.run.status == 0, s.run.output);
  REQUIRE(s.states.size() == 3);
  CHECK(s.states[0]["result"]["frame_index"] == 3);
  CHECK(s.states[1]["input"] == clip);
  CHECK(s.states[1]["source"]["frame_count"] == 10);
  CHECK(s.states[1]["result"]["frame_index"] == 0);  // a new input starts at its first frame
  CHECK(s.states[1]["result"]["current"] == true);
  // A bad path leaves the running input alone and says why.
  CHECK(s.states[2]["input"] == clip);
  CHECK(s.states[2]["status"].get<std::string>().find("nope.mp4") != std::string::npos);

  const std::string other = test::shared_file("models/person_detect_mbv1_025.pt");
  if (other.empty()) return;
  auto m = test::view_script(
      dir, "m", "wait_result\nprint_state\nopen_model " + other + "\nwait_result\nprint_state\n");
  REQUIRE_MESSAGE(m.run.status == 0, m.run.output);
  REQUIRE(m.states.size() == 2);
  CHECK(m.states[1]["model"] == other);
  CHECK(m.states[1]["layer"] == "features.pw11");  // the new model's default layer
  CHECK(m.states[1]["result"]["layer"] == "features.pw11");
  CHECK(m.states[1]["result"]["map_size"] == Json::array({96, 96}));
}

TEST_CASE("zoom magnifies the viewport and a channel opens large") {
  test::TempDir dir("app_zoom");
  auto s = test::view_script(dir, "s",
                             "wait_result\nalpha 0\nframes 2\nscreenshot " + dir.str("z1.png") +
                                 "\nzoom 4\nopen_channel 0\nframes 2\n"
                                 "print_state\nscreenshot " +
                                 dir.str("z4.png") + "\n");
  REQUIRE_MESSAGE(s.run.status == 0, s.run.output);
  REQUIRE(s.states.size() == 1);
  CHECK(s.states[0]["zoom"].get<double>() == doctest::Approx(4.0));
  CHECK(s.states[0]["open_channel"] == 0);
  Image z1 = load_image_rgb(dir.str("z1.png")), z4 = load_image_rgb(dir.str("z4.png"));
  const test::Rect vp = test::viewport_of(s.states[0]);
  const test::Rect lower{vp.x, vp.y + vp.h / 3, vp.w, vp.h * 2 / 3};
  // Magnified 4x the picture is smoother: neighbouring pixels differ less on average.
  auto roughness = [&](const Image& im) {
    double sum = 0;
    long n = 0;
    for (int y = lower.y; y < lower.y + lower.h; ++y)
      for (int x = lower.x + 1; x < lower.x + lower.w; ++x) {
        const size_t i = (static_cast<size_t>(y) * im.width + x) * 3;
        sum += std::abs(static_cast<int>(im.pixels[i]) - static_cast<int>(im.pixels[i - 3]));
        ++n;
      }
    return sum / n;
  };
  CHECK(roughness(z4) < roughness(z1));
}

TEST_CASE("window mode (GLFW under Xvfb) runs the same session as headless") {
  if (!std::filesystem::exists("/usr/bin/xvfb-run")) {
    MESSAGE("SKIPPED: xvfb-run not installed");
    return;
  }
  test::TempDir dir("app_window");
  const std::string script = dir.str("w.txt");
  std::ofstream(script) << "wait_result\nkey f1\nframes 3\nprint_state\nscreenshot "
                        << dir.str("window.png") << "\nquit\n";
  auto r = test::run("env XDG_CONFIG_HOME='" + dir.str() +
                         "' xvfb-run -a -s '-screen 0 1280x720x24' '" + test::camscope_bin() +
                         "' view --size 1024x640 --pause --script '" + script + "'",
                     240);
  REQUIRE_MESSAGE(r.status == 0, r.output);
  const auto brace = r.output.find('{');
  REQUIRE(brace != std::string::npos);
  const Json st = Json::parse(r.output.substr(brace, r.output.find('\n', brace) - brace));
  CHECK(st["window"] == Json::array({1024, 640}));
  CHECK(st["show_help"] == true);
  CHECK(st["result"]["current"] == true);
  Image shot = load_image_rgb(dir.str("window.png"));
  CHECK(shot.width == 1024);
  CHECK(shot.height == 640);
  // Window runs keep their settings in $XDG_CONFIG_HOME/camscope.
  CHECK(std::filesystem::exists(dir.str("camscope/settings.json")));
}
