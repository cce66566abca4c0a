// Issue 14, items 1 and 3, on a real window: an Xvfb server of the test's own, camscope's GLFW
// window in it, and xdotool typing and clicking through the X server (XTEST), as a user would.
//  1. Escape closes an open combo / dialog and never quits; Ctrl+Q quits and finishes a
//     recording in progress.
//  3. Key taps are never lost, however slow a UI frame is (CAMSCOPE_TEST_SLOW_FRAME_MS).
// The session's script prints its state (print_state) and waits for files the test writes
// (wait_file), so the test knows when the window is ready and reads back what happened.
#include <doctest/doctest.h>
#include <signal.h>
#include <sys/stat.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "view_session.h"

using namespace camscope;

namespace {

bool have(const char* tool) {
  return test::run(std::string("which ") + tool + " >/dev/null", 10).status == 0;
}

std::string read_file(const std::string& p) {
  std::ifstream f(p);
  return std::string(std::istreambuf_iterator<char>(f), {});
}

// Starts a shell command line in the background (test::run would wait for it).
void spawn(const std::string& cmdline) {
  const int st = std::system(("( " + cmdline + " ) >/dev/null 2>&1 &").c_str());
  (void)st;
}

// An Xvfb server on a free display, stopped at scope exit.
struct XServer {
  int display = -1;
  int pid = -1;
  explicit XServer(const test::TempDir& dir) {
    for (int n = 150 + ::getpid() % 50; n < 260 && display < 0; ++n) {
      if (std::filesystem::exists("/tmp/.X" + std::to_string(n) + "-lock")) continue;
      const std::string pidfile = dir.str("xvfb.pid");
      std::filesystem::remove(pidfile);
      spawn("Xvfb :" + std::to_string(n) + " -screen 0 1280x720x24 -nolisten tcp & echo $! > '" +
            pidfile + "'");
      int p = 0;
      for (int i = 0; i < 100; ++i) {
        if (p <= 0) p = std::atoi(read_file(pidfile).c_str());
        if (std::filesystem::exists("/tmp/.X11-unix/X" + std::to_string(n))) break;
        if (p > 0 && ::kill(p, 0) != 0) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
      if (p > 0 && ::kill(p, 0) == 0 &&
          std::filesystem::exists("/tmp/.X11-unix/X" + std::to_string(n))) {
        display = n;
        pid = p;
      }
    }
  }
  ~XServer() {
    if (pid > 0) ::kill(pid, SIGTERM);
  }
  std::string env() const { return "env DISPLAY=:" + std::to_string(display) + " "; }
  // Runs an X client (xdotool, import) on this display.
  test::RunResult x(const std::string& cmd) const { return test::run(env() + cmd, 30); }
};

// camscope in the background on the X server; output in a file, exit status in another.
struct Viewer {
  std::string out, rc, pid;
  Viewer(const XServer& xs, const test::TempDir& dir, const std::string& env,
         const std::string& args)
      : out(dir.str("viewer.out")), rc(dir.str("viewer.rc")), pid(dir.str("viewer.pid")) {
    spawn(xs.env() + env + " '" + test::camscope_bin() + "' view --no-settings " + args + " > '" +
          out + "' 2>&1 & echo $! > '" + pid + "'; wait $!; echo $? > '" + rc + "'");
  }
  ~Viewer() {
    const int p = std::atoi(read_file(pid).c_str());
    if (p > 0 && !finished()) ::kill(p, SIGKILL);
  }
  std::vector<Json> states() const {
    std::vector<Json> v;
    std::istringstream lines(read_file(out));
    for (std::string line; std::getline(lines, line);)
      if (line.size() > 1 && line[0] == '{') try {
          v.push_back(Json::parse(line));
        } catch (const std::exception&) {
        }
    return v;
  }
  bool finished() const { return std::filesystem::exists(rc); }
  // Waits for the n-th printed state (false when the viewer ended or time ran out).
  bool wait_states(size_t n, int timeout_s = 180) const {
    const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s);
    while (std::chrono::steady_clock::now() < end) {
      if (states().size() >= n) return true;
      if (finished()) return states().size() >= n;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return false;
  }
  // Exit status, or -1 if it did not end within timeout_s.
  int wait_exit(int timeout_s = 60) const {
    const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s);
    while (std::chrono::steady_clock::now() < end) {
      if (finished()) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        return std::atoi(read_file(rc).c_str());
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return -1;
  }
  std::string log() const { return read_file(out); }
};

void touch(const std::string& p) { std::ofstream(p) << "go\n"; }

// CAMSCOPE_TEST_KEEP=DIR keeps the screenshots (the app's and the X server's) for a look.
void keep_pictures(const test::TempDir& dir) {
  const std::string to = test::env_or("CAMSCOPE_TEST_KEEP", "");
  if (to.empty()) return;
  std::filesystem::create_directories(to);
  for (const auto& e : std::filesystem::directory_iterator(dir.path))
    if (e.path().extension() == ".png")
      std::filesystem::copy_file(e.path(), std::filesystem::path(to) / e.path().filename(),
                                 std::filesystem::copy_options::overwrite_existing);
}

// The camscope window's top-left corner on the screen.
std::pair<int, int> window_origin(const XServer& xs) {
  const auto r = xs.x("xdotool search --sync --onlyvisible --name '^camscope$' "
                      "getwindowgeometry --shell");
  int x = 0, y = 0;
  std::istringstream in(r.output);
  for (std::string l; std::getline(in, l);) {
    if (l.rfind("X=", 0) == 0) x = std::atoi(l.c_str() + 2);
    if (l.rfind("Y=", 0) == 0) y = std::atoi(l.c_str() + 2);
  }
  return {x, y};
}

bool skip_without_x() {
  for (const char* tool : {"Xvfb", "xdotool"})
    if (!have(tool)) {
      MESSAGE("SKIPPED: " << tool << " not installed (apt-get install xvfb xdotool)");
      return true;
    }
  return false;
}

// Mean absolute difference over a rectangle of two RGB images (clipped to both).
double region_diff(const Image& a, const Image& b, int x0, int y0, int w, int h) {
  test::Rect r{std::max(0, x0), std::max(0, y0), w, h};
  r.w = std::min(r.w, std::min(a.width, b.width) - r.x);
  r.h = std::min(r.h, std::min(a.height, b.height) - r.y);
  return r.w > 0 && r.h > 0 ? test::mean_abs_diff(a, b, r) : 0.0;
}

}  // namespace

TEST_CASE("window: Escape closes a combo and the help, never quits; Ctrl+Q quits and finishes "
          "the recording") {
  if (skip_without_x()) return;
  test::TempDir dir("app_win_escape");
  XServer xs(dir);
  REQUIRE_MESSAGE(xs.display >= 0, "could not start Xvfb");
  const std::string clip = test::make_clip(dir, "clip.mp4", 30, 30, "320x240");
  const std::string rec = dir.str("rec.mp4");
  std::ofstream(dir.str("s.txt")) << "wait_result\nrecord_start " << rec << "\nframes 3\n"
                                  << "print_state\n"                                     // 1
                                  << "wait_file " << dir.str("go1") << " 120\n"
                                  << "screenshot " << dir.str("open.png") << "\nprint_state\n"  // 2
                                  << "wait_file " << dir.str("go2") << " 120\n"
                                  << "screenshot " << dir.str("closed.png") << "\nprint_state\n"  // 3
                                  << "wait_file " << dir.str("go3") << " 120\nprint_state\n"  // 4
                                  << "wait_file " << dir.str("go4") << " 120\nprint_state\n"  // 5
                                  << "wait_file " << dir.str("go5") << " 120\nprint_state\n";  // 6
  Viewer v(xs, dir, "",
           "--size 1024x640 --pause --input '" + clip + "' --script '" + dir.str("s.txt") + "'");
  REQUIRE_MESSAGE(v.wait_states(1), v.log());
  const Json s1 = v.states()[0];
  CHECK(s1["popup_open"] == false);
  CHECK(s1["recording"] == true);
  const auto [wx, wy] = window_origin(xs);
  const int cx = wx + static_cast<int>(s1["colormap_combo"][0].get<double>());
  const int cy = wy + static_cast<int>(s1["colormap_combo"][1].get<double>());
  MESSAGE("window at " << wx << "," << wy << ", colormap combo at " << cx << "," << cy);

  // Open the colormap combo with the mouse.
  auto r = xs.x("xdotool mousemove " + std::to_string(cx) + " " + std::to_string(cy) +
                " sleep 0.3 click 1 sleep 1");
  REQUIRE_MESSAGE(r.status == 0, r.output);
  xs.x("import -window root '" + dir.str("x_open.png") + "'");
  touch(dir.str("go1"));
  REQUIRE_MESSAGE(v.wait_states(2), v.log());
  CHECK(v.states()[1]["popup_open"] == true);

  // Escape closes it; the app keeps running.
  r = xs.x("xdotool key Escape sleep 1");
  REQUIRE_MESSAGE(r.status == 0, r.output);
  xs.x("import -window root '" + dir.str("x_closed.png") + "'");
  touch(dir.str("go2"));
  REQUIRE_MESSAGE(v.wait_states(3), v.log());
  CHECK(v.states()[2]["popup_open"] == false);
  CHECK_FALSE(v.finished());
  // The list under the combo is gone from the picture.
  const Image open = load_image_rgb(dir.str("open.png"));
  const Image closed = load_image_rgb(dir.str("closed.png"));
  const int lx = static_cast<int>(s1["colormap_combo"][0].get<double>()) - 40;
  const int ly = static_cast<int>(s1["colormap_combo"][1].get<double>()) + 12;
  keep_pictures(dir);
  const double d = region_diff(open, closed, lx, ly, 80, 70);
  MESSAGE("list region differs by " << d << " per channel value");
  CHECK(d > 10.0);

  // F1 opens the help; Escape closes it; Escape with nothing open does nothing.
  xs.x("xdotool key F1 sleep 1");
  touch(dir.str("go3"));
  REQUIRE_MESSAGE(v.wait_states(4), v.log());
  CHECK(v.states()[3]["show_help"] == true);
  xs.x("xdotool key Escape sleep 1");
  touch(dir.str("go4"));
  REQUIRE_MESSAGE(v.wait_states(5), v.log());
  CHECK(v.states()[4]["show_help"] == false);
  xs.x("xdotool key Escape sleep 1 key Escape sleep 1");
  touch(dir.str("go5"));
  REQUIRE_MESSAGE(v.wait_states(6), v.log());
  CHECK_FALSE(v.finished());
  CHECK(v.states()[5]["recording"] == true);

  // Ctrl+Q quits, with the recording finished: a valid MP4.
  xs.x("xdotool key ctrl+q");
  const int rc = v.wait_exit(60);
  CHECK_MESSAGE(rc == 0, v.log());
  REQUIRE(std::filesystem::exists(rec));
  const auto probe = test::run("ffprobe -v error -count_frames -select_streams v:0 -show_entries "
                               "stream=nb_read_frames -of csv=p=0 '" + rec + "'");
  CHECK_MESSAGE(probe.status == 0, probe.output);
  CHECK(std::atoi(probe.output.c_str()) >= 1);
  CHECK(v.log().find("recorded") != std::string::npos);
}

TEST_CASE("window: 10 quick taps of Right during slow frames step exactly 10 frames") {
  if (skip_without_x()) return;
  test::TempDir dir("app_win_taps");
  XServer xs(dir);
  REQUIRE_MESSAGE(xs.display >= 0, "could not start Xvfb");
  const std::string clip = test::make_clip(dir, "clip.mp4", 90, 30, "320x240");
  std::ofstream(dir.str("s.txt")) << "wait_result\nframes 2\nprint_state\nreset_frame_stats\n"
                                  << "wait_file " << dir.str("go") << " 120\n"
                                  << "print_frame_stats\nwait_result 120\nprint_state\nquit\n";
  Viewer v(xs, dir, "CAMSCOPE_TEST_SLOW_FRAME_MS=300",
           "--size 1024x640 --pause --input '" + clip + "' --script '" + dir.str("s.txt") + "'");
  REQUIRE_MESSAGE(v.wait_states(1), v.log());
  CHECK(v.states()[0]["wanted"] == 0);
  const auto [wx, wy] = window_origin(xs);
  // The pointer over the window (no window manager: focus follows the pointer), then the taps:
  // ten presses and releases 15 ms apart, all within one or two 300 ms frames.
  auto r = xs.x("xdotool mousemove " + std::to_string(wx + 500) + " " + std::to_string(wy + 300) +
                " sleep 1 key --delay 15 Right Right Right Right Right Right Right Right Right "
                "Right sleep 2.5");
  REQUIRE_MESSAGE(r.status == 0, r.output);
  touch(dir.str("go"));
  REQUIRE_MESSAGE(v.wait_exit(180) == 0, v.log());
  const std::vector<Json> st = v.states();
  REQUIRE_MESSAGE(st.size() == 3, v.log());
  MESSAGE("frames drawn while tapping: " << st[1]["frame_stats"].dump());
  CHECK(st[2]["wanted"] == 10);
  CHECK(st[2]["playing"] == false);
  CHECK(st[2]["result"]["frame_index"] == 10);
}
