// Live sources: a missing webcam fails cleanly at open, and the watchdog/reconnect machinery
// behind webcams recovers when its input stops (a libavdevice lavfi generator that ends after
// half a second stands in for an unplugged camera; reopening it plays the reconnected one).
#include <doctest/doctest.h>

#include <chrono>
#include <set>
#include <thread>

#include "capture/frame_source.h"
#include "capture/sources.h"
#include "test_support.h"
#include "util/error.h"

using namespace camscope;
using capture::Frame;
using capture::SourceState;

TEST_CASE("a missing webcam is a one-line error at open") {
  for (const std::string spec : {"webcam:97", "/dev/video97", "webcam:97:640x480:mjpeg"}) {
    CAPTURE(spec);
    try {
      capture::open_source(spec);
      FAIL_CHECK("opened " << spec);
    } catch (const Error& e) {
      const std::string msg = e.what();
      CHECK(msg.find('\n') == std::string::npos);
      CHECK(msg.find("no camera at /dev/video97") != std::string::npos);
    }
  }
}

TEST_CASE("a live input that stops is reported Lost, reconnects and resumes") {
  capture::SourceOptions opt;
  opt.watchdog_s = 0.5;
  auto src = capture::make_live_source(
      "live:test", "lavfi", "testsrc2=size=64x36:rate=20:duration=0.5,realtime", {}, opt);
  CHECK(src->info().live);
  CHECK_FALSE(src->info().seekable);
  CHECK(src->info().width == 64);
  Frame f;
  CHECK_THROWS_AS(src->seek(0, f), Error);

  std::set<SourceState> states;
  std::vector<int64_t> indices;
  bool frame_after_loss = false;
  const auto t0 = std::chrono::steady_clock::now();
  while (std::chrono::steady_clock::now() - t0 < std::chrono::seconds(8)) {
    const SourceState s = src->state();
    states.insert(s);
    if (src->next(f)) {
      CHECK(f.width == 64);
      CHECK(f.rgb.size() == 64u * 36 * 3);
      if (!indices.empty()) CHECK(f.index > indices.back());
      indices.push_back(f.index);
      if (states.count(SourceState::Reconnecting) && s == SourceState::Ok) frame_after_loss = true;
    }
    if (frame_after_loss && indices.back() >= 15) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  CHECK(states.count(SourceState::Reconnecting) == 1);
  CHECK(frame_after_loss);
  REQUIRE(!indices.empty());
  CHECK(indices.back() >= 10);  // the first run holds 10 frames: these came after reconnecting
  // next() on a source with no new frame returns false without throwing.
  while (src->next(f)) {
  }
  CHECK_FALSE(src->next(f));
}
