// Damaged and hostile inputs: every case ends in a one-line camscope::Error or a partial decode
// with a count of what was lost — never a crash or a hang (each case runs under a deadline).
#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <future>
#include <random>

#include "capture/frame_source.h"
#include "test_support.h"
#include "util/error.h"
#include "util/image_io.h"

using namespace camscope;
using capture::Frame;

namespace {

std::string make_h264(const test::TempDir& dir, const std::string& name, const std::string& extra) {
  const std::string out = dir.str(name);
  auto r = test::run(
      "ffmpeg -hide_banner -loglevel error -y -f lavfi -i testsrc2=size=160x90:rate=30 "
      "-frames:v 150 -c:v libx264 -preset ultrafast -bf 2 -g 30 -pix_fmt yuv420p " +
          extra + " '" + out + "'",
      120);
  REQUIRE_MESSAGE(r.status == 0, r.output);
  return out;
}

std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), {});
}
void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
}

struct Outcome {
  bool opened = false;
  std::string error;  // the Error's message when opening or decoding failed
  int64_t frame_count = -1, decoded = 0, skipped = 0;
  bool increasing = true;  // next() handed out strictly increasing indices
};

// Opens and decodes everything, then seeks around; gives up on the process if that takes more
// than a minute (a hang is a failure, not a stuck CI job).
Outcome open_and_decode(const std::string& path) {
  auto job = std::async(std::launch::async, [path] {
    Outcome o;
    try {
      auto src = capture::open_source(path);
      o.opened = true;
      o.frame_count = src->info().frame_count;
      Frame f;
      int64_t last = -1;
      while (src->next(f)) {
        o.increasing = o.increasing && f.index > last;
        last = f.index;
        CHECK(f.rgb.size() == static_cast<size_t>(f.width) * f.height * 3);
        ++o.decoded;
      }
      o.skipped = src->skipped();
      if (src->info().seekable) {
        std::mt19937 rng(7);
        for (int i = 0; i < 10 && o.frame_count > 0; ++i) src->seek(rng() % o.frame_count, f);
      }
    } catch (const Error& e) {
      o.error = e.what();
    }
    return o;
  });
  if (job.wait_for(std::chrono::seconds(60)) != std::future_status::ready) {
    FAIL_CHECK("decoding " << path << " did not finish within 60 s");
    std::_Exit(1);
  }
  return job.get();
}

void check_one_line_error(const Outcome& o) {
  CHECK(!o.error.empty());
  CHECK(o.error.find('\n') == std::string::npos);
}

}  // namespace

TEST_CASE("MP4 truncated before its index (moov at the end) fails with one line") {
  test::TempDir dir("cap_trunc");
  auto clip = make_h264(dir, "c.mp4", "");
  std::string bytes = read_bytes(clip);
  write_bytes(dir.str("cut.mp4"), bytes.substr(0, bytes.size() * 6 / 10));
  Outcome o = open_and_decode(dir.str("cut.mp4"));
  CHECK(!o.opened);
  check_one_line_error(o);
  CHECK(o.error.find("cut.mp4") != std::string::npos);
}

TEST_CASE("faststart MP4 truncated mid-data decodes partially and counts the loss") {
  test::TempDir dir("cap_trunc_fs");
  auto clip = make_h264(dir, "c.mp4", "-movflags +faststart");
  std::string bytes = read_bytes(clip);
  write_bytes(dir.str("cut.mp4"), bytes.substr(0, bytes.size() * 6 / 10));
  Outcome o = open_and_decode(dir.str("cut.mp4"));
  REQUIRE_MESSAGE(o.opened, o.error);
  CHECK(o.decoded > 20);
  CHECK(o.decoded < 150);
  CHECK(o.increasing);
  CHECK(o.decoded + o.skipped == 150);  // every announced frame is either decoded or counted
}

TEST_CASE("random byte damage is concealed or skipped, never fatal") {
  test::TempDir dir("cap_damage");
  auto clip = make_h264(dir, "c.mp4", "-movflags +faststart");
  const std::string clean = read_bytes(clip);
  for (unsigned seed = 1; seed <= 4; ++seed) {
    std::string bytes = clean;
    std::mt19937 rng(seed);
    // Damage the media data and, for odd seeds, the header too.
    const size_t from = seed % 2 ? 0 : bytes.size() / 5;
    for (int i = 0; i < 40; ++i)
      bytes[from + rng() % (bytes.size() - from)] = static_cast<char>(rng());
    const std::string path = dir.str("damaged" + std::to_string(seed) + ".mp4");
    write_bytes(path, bytes);
    Outcome o = open_and_decode(path);
    if (o.opened) {
      CHECK(o.increasing);
      CHECK(o.decoded + o.skipped >= o.frame_count);
      MESSAGE("seed " << seed << ": " << o.decoded << " decoded, " << o.skipped << " skipped");
    } else {
      check_one_line_error(o);
    }
  }
}

TEST_CASE("zero-length and text-renamed videos fail with one line") {
  test::TempDir dir("cap_junk");
  std::ofstream(dir.str("empty.mp4")).close();
  Outcome o = open_and_decode(dir.str("empty.mp4"));
  check_one_line_error(o);
  CHECK(o.error.find("empty") != std::string::npos);

  std::ofstream(dir.str("notes.mp4")) << "this is a text file, not a video\nsecond line\n";
  o = open_and_decode(dir.str("notes.mp4"));
  check_one_line_error(o);
  CHECK(o.error.find("notes.mp4") != std::string::npos);
}

TEST_CASE("PNG whose header lies about its size fails with one line") {
  test::TempDir dir("cap_png");
  std::vector<uint8_t> px(32 * 32 * 3, 90);
  write_png(dir.str("ok.png"), px.data(), 32, 32, 3);
  const std::string clean = read_bytes(dir.str("ok.png"));
  REQUIRE(clean.substr(12, 4) == "IHDR");
  auto with_size = [&](uint32_t w, uint32_t h) {
    std::string b = clean;
    for (int i = 0; i < 4; ++i) {
      b[16 + i] = static_cast<char>(w >> (24 - 8 * i));
      b[20 + i] = static_cast<char>(h >> (24 - 8 * i));
    }
    return b;
  };
  write_bytes(dir.str("huge.png"), with_size(60000, 60000));  // 3.6 gigapixels claimed
  write_bytes(dir.str("bigger.png"), with_size(64, 64));      // more pixels than the data holds
  for (const char* name : {"huge.png", "bigger.png"}) {
    Outcome o = open_and_decode(dir.str(name));
    CAPTURE(name);
    check_one_line_error(o);
  }
  Outcome ok = open_and_decode(dir.str("ok.png"));
  CHECK(ok.decoded == 1);
}

TEST_CASE("missing inputs and a missing webcam fail with one line") {
  auto expect_error = [](const std::string& spec, const std::string& needle) {
    CAPTURE(spec);
    try {
      capture::open_source(spec);
      FAIL_CHECK("no error for " << spec);
    } catch (const Error& e) {
      const std::string msg = e.what();
      CHECK(msg.find('\n') == std::string::npos);
      CHECK_MESSAGE(msg.find(needle) != std::string::npos, msg);
    }
  };
  // This machine has no camera; a camera-equipped one is unlikely to have 97 of them.
  expect_error("webcam:97", "no camera");
  expect_error("/dev/video97", "no camera");
  expect_error("webcam:abc", "webcam:N");
  expect_error("webcam:0:640x480:mjpeg:extra", "webcam:N");
  expect_error("/definitely/not/here.mp4", "no such file");
  expect_error("", "no input");
  expect_error("synthetic:-3", "synthetic:SEED");
}
