// The camscope executable's contract for bad input and the headless screenshot harness.
#include <doctest/doctest.h>

#include <fstream>

#include "test_support.h"
#include "util/image_io.h"

using namespace camscope;

namespace {
void check_one_line_error(const test::RunResult& r) {
  CHECK(r.status != 0);
  CHECK(r.status < 128);  // not killed by a signal (no crash)
  CHECK(r.status != 124); // no hang
  CHECK(test::line_count(r.output) == 1);
  CHECK(r.output.find("camscope: error:") != std::string::npos);
}
}  // namespace

TEST_CASE("view with a missing, unreadable or corrupt image exits non-zero with one line") {
  test::TempDir dir("cli_bad");
  SUBCASE("missing") {
    auto r = test::camscope("view --headless --input " + dir.str("nope.png"));
    check_one_line_error(r);
    CHECK(r.output.find("no such file") != std::string::npos);
  }
  SUBCASE("zero-length") {
    std::ofstream(dir.str("empty.png")).close();
    check_one_line_error(test::camscope("view --headless --input " + dir.str("empty.png")));
  }
  SUBCASE("text renamed .jpg") {
    std::ofstream(dir.str("t.jpg")) << "this is not a jpeg\n";
    check_one_line_error(test::camscope("view --headless --input " + dir.str("t.jpg")));
  }
  SUBCASE("truncated PNG") {
    std::vector<uint8_t> px(32 * 32 * 3, 200);
    write_png(dir.str("ok.png"), px.data(), 32, 32, 3);
    std::ifstream in(dir.str("ok.png"), std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), {});
    std::ofstream(dir.str("trunc.png"), std::ios::binary) << bytes.substr(0, bytes.size() / 2);
    check_one_line_error(test::camscope("view --headless --input " + dir.str("trunc.png")));
  }
  SUBCASE("unreadable (a directory named like an image)") {
    std::filesystem::create_directories(dir.str("dir.png"));
    check_one_line_error(test::camscope("view --headless --input " + dir.str("dir.png")));
  }
  SUBCASE("unknown option suggests the right one") {
    auto r = test::camscope("view --headles");
    check_one_line_error(r);
    CHECK(r.output.find("--headless") != std::string::npos);
  }
  SUBCASE("unknown engine names the option") {
    auto r = test::camscope("view --headless --engine turbo");
    check_one_line_error(r);
    CHECK(r.output.find("--engine") != std::string::npos);
  }
  SUBCASE("unknown command") {
    auto r = test::camscope("frobnicate");
    CHECK(r.status == 2);
    CHECK(test::line_count(r.output) == 1);
  }
}

TEST_CASE("headless view renders the image into a correctly oriented screenshot") {
  test::TempDir dir("cli_shot");
  // Input: top half white, bottom half black, so orientation is visible in the screenshot.
  const int w = 64, h = 64;
  std::vector<uint8_t> px(w * h * 3, 0);
  for (int y = 0; y < h / 2; ++y)
    for (int x = 0; x < w * 3; ++x) px[y * w * 3 + x] = 255;
  write_png(dir.str("in.png"), px.data(), w, h, 3);
  auto r = test::camscope("view --headless --frames 2 --size 640x480 --alpha 0 --input " +
                          dir.str("in.png") + " --screenshot " + dir.str("shot.png"));
  REQUIRE_MESSAGE(r.status == 0, r.output);
  Image shot = load_image_rgb(dir.str("shot.png"));
  REQUIRE(shot.width == 640);
  REQUIRE(shot.height == 480);
  // Find a column through the viewport with a run of the image's white rows followed by its
  // black rows (the panels around it are neither pure white nor pure black over 8 rows).
  auto is = [&](int x, int y, uint8_t v) {
    const uint8_t* p = &shot.pixels[(static_cast<size_t>(y) * shot.width + x) * 3];
    return p[0] == v && p[1] == v && p[2] == v;
  };
  bool upright = false, upside_down = false;
  for (int x = 0; x < shot.width; ++x) {
    int white_run = 0, black_run = 0, first_white = -1, first_black = -1;
    for (int y = 0; y < shot.height; ++y) {
      white_run = is(x, y, 255) ? white_run + 1 : 0;
      black_run = is(x, y, 0) ? black_run + 1 : 0;
      if (white_run == 8 && first_white < 0) first_white = y;
      if (black_run == 8 && first_black < 0) first_black = y;
    }
    if (first_white >= 0 && first_black > first_white) upright = true;
    if (first_black >= 0 && first_white > first_black) upside_down = true;
  }
  CHECK(upright);  // white above black: not upside down
  CHECK_FALSE(upside_down);

  // Refuses to overwrite the screenshot without --force.
  auto again = test::camscope("view --headless --frames 1 --input " + dir.str("in.png") +
                              " --screenshot " + dir.str("shot.png"));
  CHECK(again.status != 0);
  CHECK(again.output.find("--force") != std::string::npos);
}
