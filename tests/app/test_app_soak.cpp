// The viewer over time: the render loop never waits for a slow model, and a long looping
// session does not grow GL objects or memory.
#include <doctest/doctest.h>

#include "view_session.h"

using namespace camscope;

TEST_CASE("the UI keeps drawing while the worker takes 300 ms per result") {
  test::TempDir dir("app_slow");
  auto s = test::view_script(dir, "s", R"(
wait_result
play
reset_frame_stats
frames 90
print_frame_stats
print_state
)",
                             "--size 640x400 --debug-worker-delay-ms 300");
  REQUIRE_MESSAGE(s.run.status == 0, s.run.output);
  REQUIRE(s.states.size() == 2);
  const Json& f = s.states[0]["frame_stats"];
  MESSAGE("UI frame CPU time with a 300 ms worker: " << f.dump());
  CHECK(f["count"] == 90);
  // 90 frames while results trickle in at most every 300 ms: had the loop waited for the
  // worker, each frame would have taken >= 300 ms.
  // (The median, not the maximum: a shared CI machine can preempt any single frame.)
  // Far below the 300 ms a waiting loop would take, with room for a loaded machine.
  CHECK(f["p50_ms"].get<double>() < 150.0);
  // Playing moved the wanted frame far past what the worker could compute: stale frames were
  // dropped, not queued.
  const Json& st = s.states[1];
  CHECK(st["wanted"].get<int64_t>() > 30);
  CHECK(st["stats"]["computed"].get<int64_t>() < 30);
}

TEST_CASE("2000 frames of a looping clip: no growth of GL objects or memory") {
  test::TempDir dir("app_soak");
  const std::string clip = test::make_clip(dir, "loop.mp4", 12, 12, "96x64");
  auto s = test::view_script(dir, "s", R"(
wait_result
loop on
speed 4
play
frames 300
print_state
frames 2000
print_state
)",
                             "--size 480x320 --input '" + clip + "'", 600);
  REQUIRE_MESSAGE(s.run.status == 0, s.run.output);
  REQUIRE(s.states.size() == 2);
  const Json& a = s.states[0];
  const Json& b = s.states[1];
  MESSAGE("after warm-up: " << a["gl_objects"].dump() << " rss " << a["rss_kib"]
                            << " KiB; after 2000 more frames: " << b["gl_objects"].dump() << " rss "
                            << b["rss_kib"] << " KiB");
  CHECK(b["gl_objects"] == a["gl_objects"]);
  // The clip looped many times (12 frames at 4x): every frame came back from the cache.
  CHECK(b["stats"]["cache_hits"].get<int64_t>() > a["stats"]["cache_hits"].get<int64_t>() + 50);
  CHECK(b["stats"]["cache_size"].get<int64_t>() <= 12);
  const long grow = b["rss_kib"].get<long>() - a["rss_kib"].get<long>();
  CHECK(grow < 16 * 1024);  // KiB; allocator noise only
}
