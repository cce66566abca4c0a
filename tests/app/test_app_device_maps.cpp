// The viewer on the device path (--device-maps on): maps and channel grids stay where the model
// computed them and reach GL through the TextureBridge; the host keeps no copy. On the CPU this
// is the same code up to the CUDA boundary, so every picture must equal the host path's
// (--device-maps off) bit for bit: the map overlay, a channel laid over the frame (copied tile
// from the grid atlas), a pixel-space map clipped at its top 2 % (levels computed next to the
// map), and the values read back for the hover readout.
#include <doctest/doctest.h>

#include <string>

#include "util/image_io.h"
#include "view_session.h"

using namespace camscope;

namespace {

std::string script_for(const test::TempDir& dir, const std::string& tag) {
  const auto f = [&](const char* n) { return dir.str(tag + "_" + n + ".png"); };
  return "wait_result 240\nalpha 1\nprint_state\n"
         "save_overlay " + f("map") + "\n"
         "channel_on_frame 3\nwait_result 60\n"
         "save_overlay " + f("ch3") + "\n"
         "channel_on_frame off\n"
         "method saliency\nwait_result 240\nprint_state\n"
         "save_overlay " + f("saliency") + "\nquit\n";
}

}  // namespace

TEST_CASE("device path on the CPU: the same pictures and values as the host path, no host map") {
  test::TempDir dir("device_maps");
  const std::string image = dir.str("in.png");
  const auto mk = test::run("ffmpeg -loglevel error -y -f lavfi -i testsrc2=size=320x200 "
                            "-frames:v 1 '" + image + "'");
  REQUIRE_MESSAGE(mk.status == 0, mk.output);
  auto on = test::view_script(dir, "on", script_for(dir, "on"),
                              "--input '" + image + "' --device-maps on");
  auto off = test::view_script(dir, "off", script_for(dir, "off"),
                               "--input '" + image + "' --device-maps off");
  REQUIRE_MESSAGE(on.run.status == 0, on.run.output);
  REQUIRE_MESSAGE(off.run.status == 0, off.run.output);
  REQUIRE(on.states.size() == 2);
  REQUIRE(off.states.size() == 2);
  for (int i = 0; i < 2; ++i) {
    const Json& a = on.states[i].at("result");
    const Json& b = off.states[i].at("result");
    INFO("state " << i << " method " << a.at("method"));
    CHECK(a.at("device_map").get<bool>());
    CHECK(a.at("device_grid").get<bool>());
    CHECK_FALSE(b.at("device_map").get<bool>());
    CHECK(a.at("map_bytes_to_host").get<uint64_t>() == 0);
    CHECK(a.at("map_size") == b.at("map_size"));
    // Read back from the texture vs summed on the host: the same floats.
    CHECK(a.at("map_sum").get<double>() == b.at("map_sum").get<double>());
    CHECK(a.at("map_sum").get<double>() > 0.0);
    CHECK(a.at("map_center").get<double>() == b.at("map_center").get<double>());
    CHECK(a.at("grid_channels") == b.at("grid_channels"));
    CHECK(on.states[i].at("display").at("clip_value") == off.states[i].at("display").at("clip_value"));
  }
  CHECK(on.states[1].at("display").at("clip_value").get<double>() < 0.9);  // saliency clipped
  for (const char* n : {"map", "ch3", "saliency"}) {
    INFO(n);
    const Image a = load_image_rgb(dir.str(std::string("on_") + n + ".png"));
    const Image b = load_image_rgb(dir.str(std::string("off_") + n + ".png"));
    CHECK(a.width == b.width);
    CHECK(a.pixels == b.pixels);
  }
  const Image m = load_image_rgb(dir.str("on_map.png")), c = load_image_rgb(dir.str("on_ch3.png"));
  CHECK(m.pixels != c.pixels);  // the channel view is another picture
}

TEST_CASE("--device-maps takes auto, on or off") {
  const auto r = test::camscope("view --headless --device-maps sometimes --frames 1", 120);
  CHECK(r.status != 0);
  CHECK(r.output.find("--device-maps must be auto, on or off") != std::string::npos);
  CHECK(test::line_count(r.output) == 1);
}
