// Feature visualization as a person reaches it: `camscope optvis` on the command line (image,
// JSON, errors, no overwrite) and the window's Visualize tab driven by a script (refined on the
// worker, cached, cancelled within a step, saved as PNG). The maths is tested in
// tests/core/test_optvis.cpp.
#include <doctest/doctest.h>

#include <filesystem>

#include "util/image_io.h"
#include "util/json.h"
#include "view_session.h"

using namespace camscope;

TEST_CASE("camscope optvis writes the images, reports the objective and refuses bad requests") {
  test::TempDir dir("optvis_cli");
  const std::string out = dir.str("c3.png");
  auto r = test::camscope("optvis --layer features.block3 --channel 3 --steps 24 --size 64 "
                          "--batch 2 --diversity 10 --threads 1 --json --out '" + out + "'");
  REQUIRE_MESSAGE(r.status == 0, r.output);
  const Json j = Json::parse(r.output.substr(r.output.find('{')));
  CHECK(j.at("objective").size() == 24);
  CHECK(j.at("layer").get<std::string>() == "features.block3");
  CHECK(j.at("steps_per_s").get<double>() > 0);
  const Image img = load_image_rgb(out);
  CHECK(img.width == 2 * 64 + 4);  // two images, 4 px apart
  CHECK(img.height == 64);
  // The same seed again: the same picture, bit for bit.
  const std::string again = dir.str("again.png");
  r = test::camscope("optvis --layer features.block3 --channel 3 --steps 24 --size 64 --batch 2 "
                     "--diversity 10 --threads 1 --out '" + again + "'");
  REQUIRE_MESSAGE(r.status == 0, r.output);
  CHECK(load_image_rgb(again).pixels == img.pixels);

  r = test::camscope("optvis --layer features.block3 --channel 3 --steps 2 --out '" + out + "'");
  CHECK(r.status != 0);
  CHECK(r.output.find("--force") != std::string::npos);
  r = test::camscope("optvis --layer features.block3 --channel 99 --steps 2 --out '" +
                     dir.str("x.png") + "'");
  CHECK(r.status != 0);
  CHECK(r.output.find("channel 99 out of range: layer 'features.block3' has 64 channels") !=
        std::string::npos);
  CHECK(test::line_count(r.output) == 1);
  r = test::camscope("optvis --class nosuchclass --steps 2 --out '" + dir.str("y.png") + "'");
  CHECK(r.status != 0);
  r = test::camscope("optvis --class ring --steps 4 --threads 1 --out '" + dir.str("ring.png") + "'");
  CHECK_MESSAGE(r.status == 0, r.output);
}

TEST_CASE("the Visualize tab refines on the worker, caches, cancels within a step and saves") {
  test::TempDir dir("optvis_view");
  const std::string png = dir.str("saved.png");
  auto s = test::view_script(dir, "s",
                             "wait_result 240\n"
                             "optvis channel 3 40\nwait_optvis 300\nprint_state\n"
                             "save_optvis " + png + "\n"
                             "optvis channel 3 40\nwait_optvis 30\nprint_state\n"
                             "optvis channel 5 100000\nwait_progress 120\ncancel\n"
                             "wait_optvis 60\nprint_state\n"
                             "optvis class 2 20\nwait_optvis 300\nwait_result 120\nprint_state\nquit\n",
                             "--threads 1");
  REQUIRE_MESSAGE(s.run.status == 0, s.run.output);
  REQUIRE(s.states.size() == 4);
  const Json& a = s.states[0].at("optvis");
  CHECK(a.at("step").get<int>() == 40);
  CHECK(a.at("total").get<int>() == 40);
  CHECK_FALSE(a.at("from_cache").get<bool>());
  CHECK(a.at("what").get<std::string>() == "features.block3 channel 3");
  CHECK(a.at("size").get<int>() == 128);
  const Image img = load_image_rgb(png);
  CHECK(img.width == 128);
  CHECK(img.height == 128);
  // The same request again comes from the cache.
  const Json& b = s.states[1].at("optvis");
  CHECK(b.at("from_cache").get<bool>());
  CHECK(b.at("objective").get<double>() == a.at("objective").get<double>());
  // Cancelled: it stopped after a few steps of 100000.
  const Json& c = s.states[2].at("optvis");
  CHECK(c.at("cancelled").get<bool>());
  CHECK_FALSE(c.at("running").get<bool>());
  CHECK(c.at("step").get<int>() < 1000);
  // A class objective names the class.
  const Json& d = s.states[3].at("optvis");
  CHECK(d.at("what").get<std::string>().rfind("class 2", 0) == 0);
  CHECK(d.at("step").get<int>() == 20);
  // And the maps go on afterwards: the viewer still answers.
  CHECK(s.states[3].at("result").at("current").get<bool>());
}
