// What the viewport shows and where things go (issue 14, "go past" list): the map-only view,
// a channel laid over the frame, pixel-space maps with their outliers clipped, playback that
// waits or skips (and says which), the first result's progress line, the captures folder, and
// the Open dialog's file browser. Scripted headless sessions read back the overlay texture
// (save_overlay) and the state the panels draw from (print_state).
#include <doctest/doctest.h>

#include <array>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "render/colormap.h"
#include "ui/result_textures.h"
#include "view_session.h"

using namespace camscope;

namespace {

void require_ok(const test::Session& s, size_t states) {
  REQUIRE_MESSAGE(s.run.status == 0, s.run.output);
  REQUIRE_MESSAGE(s.states.size() == states, s.run.output);
}

// Distance from an 8-bit color to the nearest color of the colormap (its 256 entries and the
// blends between neighbours, sampled finely).
double distance_to_colormap(const render::Lut& lut, const uint8_t* px) {
  double best = 1e9;
  for (int i = 0; i < 255 * 8; ++i) {
    const float t = static_cast<float>(i) / (255 * 8);
    const auto c = render::colormap_apply(lut, t, render::ValueRange{});
    double d = 0;
    for (int k = 0; k < 3; ++k) d = std::max(d, static_cast<double>(std::abs(c[k] - px[k])));
    best = std::min(best, d);
  }
  return best;
}

}  // namespace

TEST_CASE("clip_value: the top percent of a map saturates; nothing to clip stays at 1") {
  std::vector<float> v(101), scratch;
  for (int i = 0; i <= 100; ++i) v[static_cast<size_t>(i)] = i / 100.f;
  CHECK(ui::clip_value(v, 2.f, scratch) == doctest::Approx(0.98f));
  CHECK(ui::clip_value(v, 10.f, scratch) == doctest::Approx(0.90f));
  CHECK(ui::clip_value(v, 0.f, scratch) == 1.f);
  std::vector<float> zeros(50, 0.f);
  CHECK(ui::clip_value(zeros, 2.f, scratch) == 1.f);
  CHECK(ui::is_pixel_space_method("saliency"));
  CHECK(ui::is_pixel_space_method("intgrad"));
  CHECK_FALSE(ui::is_pixel_space_method("gradcam"));
}

TEST_CASE("map-only view: the heatmap alone, every pixel a colormap color; threshold leaves black") {
  test::TempDir dir("display_maponly");
  const std::string plain = dir.str("plain.png"), maponly = dir.str("maponly.png"),
                    thresh = dir.str("thresh.png");
  auto s = test::view_script(dir, "s",
                             "wait_result 240\n"
                             "save_overlay " + plain + "\n"
                             "map_only on\nalpha 0\n"  // alpha does not hide the map-only view
                             "save_overlay " + maponly + "\n"
                             "threshold 0.5\n"
                             "save_overlay " + thresh + "\n"
                             "print_state\nquit\n");
  require_ok(s, 1);
  CHECK(s.states[0].at("map_only").get<bool>());
  const Image a = load_image_rgb(plain), b = load_image_rgb(maponly), c = load_image_rgb(thresh);
  REQUIRE(a.width == b.width);
  const render::Lut lut = render::colormap_lut(render::Colormap::Jet);
  // Every 97th pixel: map-only pixels are colormap colors (the frame is gone), the blended
  // overlay's mostly are not.
  int off_map_plain = 0, off_map_only = 0, n = 0, black = 0, colored = 0;
  for (size_t i = 0; i < static_cast<size_t>(a.width) * a.height; i += 97, ++n) {
    off_map_plain += distance_to_colormap(lut, &a.pixels[i * 3]) > 3.0;
    off_map_only += distance_to_colormap(lut, &b.pixels[i * 3]) > 3.0;
    const uint8_t* p = &c.pixels[i * 3];
    if (p[0] == 0 && p[1] == 0 && p[2] == 0)
      ++black;
    else if (distance_to_colormap(lut, p) <= 3.0)
      ++colored;
  }
  CHECK(off_map_only == 0);
  CHECK(off_map_plain > n / 2);
  // Threshold 0.5: low values are black (no frame behind), the rest colormap colors.
  CHECK(black > n / 10);
  CHECK(colored > 0);
  CHECK(black + colored == n);
}

TEST_CASE("a channel laid over the frame replaces the map, and switching back restores it") {
  test::TempDir dir("display_channel");
  const std::string map0 = dir.str("map.png"), ch3 = dir.str("ch3.png"), ch7 = dir.str("ch7.png"),
                    back = dir.str("back.png");
  auto s = test::view_script(dir, "s",
                             "wait_result 240\nalpha 1\n"
                             "save_overlay " + map0 + "\n"
                             "channel_on_frame 3\nwait_result 60\n"
                             "save_overlay " + ch3 + "\nprint_state\n"
                             "channel_on_frame 7\nwait_result 60\n"
                             "save_overlay " + ch7 + "\n"
                             "channel_on_frame off\n"
                             "save_overlay " + back + "\nprint_state\nquit\n");
  require_ok(s, 2);
  CHECK(s.states[0].at("display").at("channel").get<int>() == 3);
  CHECK(s.states[0].at("open_channel").get<int>() == 3);
  CHECK(s.states[1].at("display").at("channel").get<int>() == -1);
  const Image m = load_image_rgb(map0), a = load_image_rgb(ch3), b = load_image_rgb(ch7),
              r = load_image_rgb(back);
  const test::Rect all{0, 0, m.width, m.height};
  CHECK(test::mean_abs_diff(m, a, all) > 5.0);
  CHECK(test::mean_abs_diff(a, b, all) > 5.0);
  CHECK(m.pixels == r.pixels);  // the method's map again, bit for bit
  // At alpha 1 the channel view is pure colormap colors.
  const render::Lut lut = render::colormap_lut(render::Colormap::Jet);
  int off = 0;
  for (size_t i = 0; i < static_cast<size_t>(a.width) * a.height; i += 211)
    off += distance_to_colormap(lut, &a.pixels[i * 3]) > 3.0;
  CHECK(off == 0);
}

TEST_CASE("pixel-space maps clip their top 2 % by default; CAM maps are left alone") {
  test::TempDir dir("display_clip");
  auto s = test::view_script(dir, "s",
                             "wait_result 240\nprint_state\n"
                             "method saliency\nwait_result 240\nprint_state\n"
                             "clip 0\nframes 2\nprint_state\nquit\n");
  require_ok(s, 3);
  CHECK(s.states[0].at("display").at("clip_value").get<double>() == 1.0);
  const double clipped = s.states[1].at("display").at("clip_value").get<double>();
  CHECK(s.states[1].at("clip_percent").get<double>() == 2.0);
  CHECK(clipped > 0.0);
  CHECK(clipped < 0.9);  // saliency: a few pixels carry the maximum
  CHECK(s.states[2].at("display").at("clip_value").get<double>() == 1.0);
}

TEST_CASE("playback that outruns results skips frames and says so, or waits for every frame") {
  test::TempDir dir("display_playback");
  const std::string clip = test::make_clip(dir, "clip.mp4", 90, 30);
  // The worker takes 150 ms more per result; headless playback advances 1/60 s per redraw.
  // Headless redraws are unpaced: on a quiet machine 150 of them took less time than two
  // results, so no skip could be seen. 10 ms per redraw makes them span >= 1.5 s (several
  // results) however fast the machine is.
  const std::string opts = "--input '" + clip + "' --debug-worker-delay-ms 150";
  setenv("CAMSCOPE_TEST_SLOW_FRAME_MS", "10", 1);
  auto skip = test::view_script(dir, "skip",
                                "wait_result 240\nloop off\nplay\nframes 150\nprint_state\n"
                                "pause\nquit\n",
                                opts);
  require_ok(skip, 1);
  const Json& a = skip.states[0].at("playback");
  CHECK_FALSE(a.at("wait").get<bool>());
  CHECK(a.at("skipped").get<int64_t>() > 0);
  CHECK(a.at("note").get<std::string>().find("skipping frames") != std::string::npos);

  auto wait = test::view_script(dir, "wait",
                                "wait_result 240\nloop off\nplayback_wait on\nplay\nframes 150\n"
                                "print_state\npause\nquit\n",
                                opts);
  require_ok(wait, 1);
  const Json& b = wait.states[0].at("playback");
  CHECK(b.at("wait").get<bool>());
  CHECK(b.at("skipped").get<int64_t>() == 0);
  // It played (a few frames, each one shown) and is holding for the next result.
  CHECK(wait.states[0].at("wanted").get<int64_t>() >= 1);
  CHECK(wait.states[0].at("wanted").get<int64_t>() < 60);
  unsetenv("CAMSCOPE_TEST_SLOW_FRAME_MS");
}

TEST_CASE("before the first result the viewport says the model is being prepared") {
  test::TempDir dir("display_first");
  auto s = test::view_script(dir, "s", "sleep 1.5\nprint_state\nwait_result 240\nprint_state\nquit\n",
                             "--debug-worker-delay-ms 4000");
  require_ok(s, 2);
  const std::string a = s.states[0].at("activity").get<std::string>();
  CHECK_MESSAGE(a.rfind("first result: preparing the model", 0) == 0, a);
  CHECK(a.find(" s)") != std::string::npos);  // with the seconds so far
  CHECK(s.states[1].at("activity").get<std::string>().empty());
}

TEST_CASE("screenshots and recordings without a name go to the captures folder, shown in full") {
  test::TempDir dir("display_captures");
  const std::string caps = dir.str("caps");
  auto s = test::view_script(dir, "s", "wait_result 240\nscreenshot\nprint_state\nquit\n",
                             "--captures '" + caps + "'");
  require_ok(s, 1);
  CHECK(s.states[0].at("captures_dir").get<std::string>() == caps);
  const std::string msg = s.states[0].at("message").get<std::string>();
  CHECK_MESSAGE(msg.rfind("screenshot written to " + caps + "/camscope_", 0) == 0, msg);
  int pngs = 0;
  for (const auto& e : std::filesystem::directory_iterator(caps))
    pngs += e.path().extension() == ".png";
  CHECK(pngs == 1);
  // A relative --captures is shown absolute.
  auto r = test::run("sh -c \"cd '" + dir.str("") + "' && '" + test::camscope_bin() +
                     "' view --headless --size 640x400 --captures rel --script '" +
                     dir.str("s.txt") + "'\"");
  REQUIRE_MESSAGE(r.status == 0, r.output);
  CHECK(r.output.find("screenshot written to " + dir.str("rel") + "/camscope_") != std::string::npos);
}

TEST_CASE("the Open dialog's browser lists by kind, opens what is clicked and closes on success") {
  test::TempDir dir("display_browser");
  std::filesystem::create_directories(dir.str("pics/sub"));
  std::filesystem::copy_file(test::source_dir() + "/assets/builtin.pt", dir.str("pics/model.pt"));
  std::ofstream(dir.str("pics/broken.pt")) << "not a model";
  std::ofstream(dir.str("pics/notes.txt")) << "x";
  test::make_clip(dir, "pics/clip.mp4", 6, 10);
  {
    Image img;
    img.width = 32;
    img.height = 24;
    img.pixels.assign(32 * 24 * 3, 200);
    write_png(dir.str("pics/gray.png"), img.pixels.data(), 32, 24, 3);
  }
  const std::string pics = dir.str("pics");
  auto s = test::view_script(dir, "s",
                             "wait_result 240\n"
                             "browse " + pics + "\nprint_state\n"
                             "browse_filter images\nprint_state\n"
                             "browse_filter all\nbrowse_open broken.pt\nsleep 3\nprint_state\n"
                             "browse_open gray.png\nwait_result 240\nprint_state\n"
                             "browse " + pics + "\nbrowse_open sub\nprint_state\nquit\n");
  require_ok(s, 5);
  const Json& all = s.states[0].at("browser");
  CHECK(all.at("dir").get<std::string>() == pics);
  std::vector<std::string> names;
  for (const Json& e : all.at("entries")) names.push_back(e.get<std::string>());
  // Folders first, then natural order; notes.txt is not something camscope opens.
  CHECK(names == std::vector<std::string>{"sub/", "broken.pt", "clip.mp4", "gray.png", "model.pt"});
  CHECK(s.states[0].at("show_open").get<bool>());
  names.clear();
  for (const Json& e : s.states[1].at("browser").at("entries")) names.push_back(e.get<std::string>());
  CHECK(names == std::vector<std::string>{"sub/", "gray.png"});
  // A model that fails to load: the dialog stays open with the reason; nothing remembered.
  CHECK(s.states[2].at("show_open").get<bool>());
  CHECK_FALSE(s.states[2].at("status").get<std::string>().empty());
  CHECK(s.states[2].at("browser").at("recent_folders").empty());
  // An image that opens: the dialog closes, the input and its folder are remembered.
  CHECK_FALSE(s.states[3].at("show_open").get<bool>());
  CHECK(s.states[3].at("input").get<std::string>() == pics + "/gray.png");
  CHECK(s.states[3].at("browser").at("recent_folders")[0].get<std::string>() == pics);
  // Clicking a folder enters it.
  CHECK(s.states[4].at("browser").at("dir").get<std::string>() == pics + "/sub");

  auto bad = test::view_script(dir, "bad", "browse " + pics + "\nbrowse_open nothing.png\nquit\n");
  CHECK(bad.run.status != 0);
  CHECK(bad.run.output.find("'nothing.png' is not listed in " + pics) != std::string::npos);
}
