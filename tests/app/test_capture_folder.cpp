// Image folders: natural sort order (a2 < a10), index = position in that order, unreadable
// files skipped with a count; single images.
#include <doctest/doctest.h>

#include <fstream>

#include "capture/frame_source.h"
#include "test_support.h"
#include "util/error.h"
#include "util/image_io.h"

using namespace camscope;
using capture::Frame;

namespace {
void write_solid(const std::string& path, int w, int h, uint8_t value) {
  std::vector<uint8_t> px(static_cast<size_t>(w) * h * 3, value);
  write_png(path, px.data(), w, h, 3);
}
}  // namespace

TEST_CASE("folder frames follow natural order and skip unreadable images") {
  test::TempDir dir("cap_folder");
  // Written out of order; the value of each image encodes its expected position.
  write_solid(dir.str("a10.png"), 8, 6, 30);
  write_solid(dir.str("a2.png"), 8, 6, 10);
  write_solid(dir.str("B.png"), 4, 4, 40);  // case-insensitive: b after a*
  write_solid(dir.str("a1.png"), 8, 6, 0);
  std::ofstream(dir.str("a5.png")) << "not a png";  // position 2, unreadable
  std::ofstream(dir.str("labels.json")) << "{}";    // not an image: not a frame
  auto src = capture::open_source(dir.str());
  CHECK(src->info().kind == "folder");
  CHECK(src->info().frame_count == 5);
  CHECK(src->info().width == 8);
  CHECK(src->info().height == 6);

  std::vector<int64_t> indices;
  std::vector<uint8_t> values;
  Frame f;
  while (src->next(f)) {
    indices.push_back(f.index);
    values.push_back(f.rgb[0]);
  }
  CHECK(indices == std::vector<int64_t>{0, 1, 3, 4});
  CHECK(values == std::vector<uint8_t>{0, 10, 30, 40});
  CHECK(src->skipped() == 1);
  CHECK(src->state() == capture::SourceState::End);

  CHECK_FALSE(src->seek(2, f));  // the unreadable one
  CHECK(src->skipped() == 1);    // counted once
  REQUIRE(src->seek(3, f));
  CHECK(f.rgb[0] == 30);
  REQUIRE(src->next(f));  // continues after the seek
  CHECK(f.index == 4);
  CHECK(f.width == 4);
  CHECK_THROWS_AS(src->seek(5, f), Error);

  std::vector<int64_t> walked;
  capture::for_each_frame(*src, parse_frame_range("1:4"), [&](const Frame& fr) {
    walked.push_back(fr.index);
    return true;
  });
  CHECK(walked == std::vector<int64_t>{1, 3});
}

TEST_CASE("empty and all-unreadable folders fail with one line") {
  test::TempDir dir("cap_folder_bad");
  std::filesystem::create_directories(dir.path / "empty");
  std::filesystem::create_directories(dir.path / "bad");
  std::ofstream(dir.str("bad/x.png")) << "junk";
  for (const char* sub : {"empty", "bad"}) {
    CAPTURE(sub);
    try {
      capture::open_source(dir.str(sub));
      FAIL_CHECK("no error");
    } catch (const Error& e) {
      CHECK(std::string(e.what()).find('\n') == std::string::npos);
    }
  }
}

TEST_CASE("a single image is one seekable frame") {
  test::TempDir dir("cap_image");
  std::vector<uint8_t> px(5 * 3 * 3);
  for (size_t i = 0; i < px.size(); ++i) px[i] = static_cast<uint8_t>(i * 7);
  write_png(dir.str("one.png"), px.data(), 5, 3, 3);
  auto src = capture::open_source(dir.str("one.png"));
  CHECK(src->info().kind == "image");
  CHECK(src->info().frame_count == 1);
  Frame f;
  REQUIRE(src->next(f));
  CHECK(f.index == 0);
  CHECK(f.rgb == px);
  CHECK_FALSE(src->next(f));
  REQUIRE(src->seek(0, f));
  CHECK(f.rgb == px);
  CHECK_THROWS_AS(src->seek(1, f), Error);
}
