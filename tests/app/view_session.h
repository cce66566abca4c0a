#pragma once
// Helpers for the viewer's scripted headless sessions: write a script, run `camscope view
// --headless --script`, collect the JSON lines it prints (print_state, print_frame_stats), read
// screenshots and compare regions of them.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "test_support.h"
#include "util/image_io.h"
#include "util/json.h"

namespace camscope::test {

struct Session {
  RunResult run;
  std::vector<Json> states;  // every JSON line printed, in order
};

// Runs a headless scripted session. `extra` are further command-line options.
inline Session view_script(const TempDir& dir, const std::string& name, const std::string& script,
                           const std::string& extra = "", int timeout_s = 240) {
  const std::string path = dir.str(name + ".txt");
  std::ofstream(path) << script;
  Session s;
  s.run = camscope("view --headless --size 960x600 --script '" + path + "' " + extra, timeout_s);
  std::istringstream lines(s.run.output);
  for (std::string line; std::getline(lines, line);) {
    if (line.size() < 2 || line[0] != '{') continue;
    try {
      s.states.push_back(Json::parse(line));
    } catch (const std::exception&) {
    }
  }
  return s;
}

// A small H.264 clip from FFmpeg's test source (frame counter, moving pattern).
inline std::string make_clip(const TempDir& dir, const std::string& name, int frames, int fps,
                             const std::string& size = "160x120") {
  const std::string out = dir.str(name);
  const auto r = run("ffmpeg -loglevel error -y -f lavfi -i testsrc2=size=" + size +
                     ":rate=" + std::to_string(fps) + " -frames:v " + std::to_string(frames) +
                     " -c:v libx264 -g 12 -pix_fmt yuv420p '" + out + "'");
  REQUIRE_MESSAGE(r.status == 0, r.output);
  return out;
}

// The viewport rectangle a state reports, shrunk by `inset` pixels on each side.
struct Rect {
  int x = 0, y = 0, w = 0, h = 0;
};
inline Rect viewport_of(const Json& state, int inset = 2) {
  const auto& v = state.at("viewport");
  Rect r{static_cast<int>(std::ceil(v[0].get<double>())) + inset,
         static_cast<int>(std::ceil(v[1].get<double>())) + inset,
         static_cast<int>(v[2].get<double>()) - 2 * inset,
         static_cast<int>(v[3].get<double>()) - 2 * inset};
  return r;
}

// Mean absolute difference per channel value between two images over a region.
inline double mean_abs_diff(const Image& a, const Image& b, const Rect& r) {
  REQUIRE(a.width == b.width);
  REQUIRE(a.height == b.height);
  double sum = 0;
  long n = 0;
  for (int y = r.y; y < r.y + r.h; ++y)
    for (int x = r.x; x < r.x + r.w; ++x)
      for (int c = 0; c < 3; ++c) {
        const size_t i = (static_cast<size_t>(y) * a.width + x) * 3 + c;
        sum += std::abs(static_cast<int>(a.pixels[i]) - static_cast<int>(b.pixels[i]));
        ++n;
      }
  return n ? sum / n : 0.0;
}

// Standard deviation of the pixel values over a region (0 for a flat region).
inline double region_std(const Image& a, const Rect& r) {
  double s = 0, s2 = 0;
  long n = 0;
  for (int y = r.y; y < r.y + r.h; ++y)
    for (int x = r.x; x < r.x + r.w; ++x)
      for (int c = 0; c < 3; ++c) {
        const double v = a.pixels[(static_cast<size_t>(y) * a.width + x) * 3 + c];
        s += v;
        s2 += v * v;
        ++n;
      }
  if (!n) return 0;
  const double m = s / n;
  return std::sqrt(std::max(0.0, s2 / n - m * m));
}

}  // namespace camscope::test
