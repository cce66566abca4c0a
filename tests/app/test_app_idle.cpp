// Issue 21: an idle viewer costs nothing. The render loop draws only when something changed
// (an input event, a new result, a script step, playback); otherwise it sleeps. Scripted
// sessions read the loop's own counters (print_frame_stats: redraws, bursts by reason, process
// CPU time since reset_frame_stats).
#include <doctest/doctest.h>

#include <filesystem>

#include "view_session.h"

using namespace camscope;

namespace {

std::string make_still(const test::TempDir& dir) {
  const std::string out = dir.str("still.png");
  const auto r = test::run("ffmpeg -loglevel error -y -f lavfi -i testsrc2=size=320x240 "
                           "-frames:v 1 '" + out + "'");
  REQUIRE_MESSAGE(r.status == 0, r.output);
  return out;
}

// The frame_stats objects of a session's output, in order.
std::vector<Json> frame_stats(const test::Session& s) {
  std::vector<Json> v;
  for (const Json& j : s.states)
    if (j.contains("frame_stats")) v.push_back(j["frame_stats"]);
  return v;
}

uint64_t by_reason(const Json& fs, const char* why) {
  const Json& b = fs["bursts_by_reason"];
  return b.contains(why) ? b[why].get<uint64_t>() : 0;
}

// wait for the first result, 2 s of nothing, one key, 1 s, a new result (the worker is slowed
// to 1 s per result so it lands during the sleep), 5 s.
const char* kIdleScript = R"(
wait_result
frames 3
reset_frame_stats
sleep 2
print_frame_stats
reset_frame_stats
key g
sleep 1
print_frame_stats
reset_frame_stats
target 1
sleep 5
print_frame_stats
print_state
quit
)";

void check_idle_stats(const test::Session& s, int idle_redraw_limit) {
  REQUIRE_MESSAGE(s.run.status == 0, s.run.output);
  const std::vector<Json> fs = frame_stats(s);
  REQUIRE_MESSAGE(fs.size() == 3, s.run.output);
  // 2 s of no input: (next to) no redraws, and next to no CPU.
  MESSAGE("idle 2 s: " << fs[0].dump());
  CHECK(fs[0]["redraws"].get<int>() <= idle_redraw_limit);
  CHECK(fs[0]["results"] == 0);
  CHECK(fs[0]["cpu_percent"].get<double>() < 10.0);
  // One key press: one burst of a few frames (ImGui settles one frame after the input).
  MESSAGE("key g: " << fs[1].dump());
  CHECK(fs[1]["bursts"] == 1);
  CHECK(by_reason(fs[1], "script") == 1);
  CHECK(fs[1]["redraws"].get<int>() >= 1);
  CHECK(fs[1]["redraws"].get<int>() <= 4);
  // A new target: the request is drawn (one burst), then the result when it lands (one more).
  MESSAGE("target 1: " << fs[2].dump());
  CHECK(fs[2]["results"] == 1);
  CHECK(by_reason(fs[2], "script") == 1);
  CHECK(by_reason(fs[2], "result") == 1);
  CHECK(fs[2]["bursts"] == 2);
  CHECK(fs[2]["redraws"].get<int>() <= 6);
  const Json& st = s.states.back();
  REQUIRE(st.contains("result"));
  CHECK(st["result"]["target"] == 1);
  CHECK(st["result"]["current"] == true);
  CHECK(st["show_grid"] == false);
}

}  // namespace

TEST_CASE("idle (headless): no redraws without a reason; one key = one burst; a result redraws") {
  test::TempDir dir("app_idle");
  const std::string still = make_still(dir);
  auto s = test::view_script(dir, "idle", kIdleScript,
                             "--input '" + still + "' --debug-worker-delay-ms 1000");
  check_idle_stats(s, 0);
}

TEST_CASE("idle (window under Xvfb): the same, with the window's events") {
  if (!std::filesystem::exists("/usr/bin/xvfb-run")) {
    MESSAGE("SKIPPED: xvfb-run not installed");
    return;
  }
  test::TempDir dir("app_idle_window");
  const std::string still = make_still(dir);
  const std::string script = dir.str("idle.txt");
  std::ofstream(script) << kIdleScript;
  test::Session s;
  s.run = test::run("xvfb-run -a -s '-screen 0 1280x720x24' '" + test::camscope_bin() +
                        "' view --no-settings --size 1024x640 --input '" + still +
                        "' --debug-worker-delay-ms 1000 --script '" + script + "'",
                    240);
  std::istringstream lines(s.run.output);
  for (std::string line; std::getline(lines, line);)
    if (line.size() > 1 && line[0] == '{') s.states.push_back(Json::parse(line));
  // A window may see an expose or focus event of its own; a handful of redraws at most.
  check_idle_stats(s, 3);
}
