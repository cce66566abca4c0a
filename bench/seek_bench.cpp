// Seek latency and decode throughput of the video FrameSource.
//
//   seek_bench CLIP [--seeks N] [--seed S] [--threads T]
//
// Prints decode fps (sequential next(), RGB conversion included) and seek latency p50/p95 for
// random frame indices with a cold cache (cache off: every seek is a keyframe seek + decode),
// with a warm cache (the same indices revisited), and for single steps back and forth around
// a just-visited frame (the scrubbing case). Make a 1080p GOP-250 clip with
//   ffmpeg -f lavfi -i testsrc2=size=1920x1080:rate=30 -frames:v 500 -c:v libx264
//     -preset veryfast -bf 3 -g 250 -keyint_min 250 -sc_threshold 0 -pix_fmt yuv420p clip.mp4
// Built as build/seek_bench by scripts/build.sh.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "capture/frame_source.h"
#include "util/error.h"

using namespace camscope;
using Clock = std::chrono::steady_clock;

namespace {

double ms_since(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

void report(const char* what, std::vector<double> ms) {
  std::sort(ms.begin(), ms.end());
  auto pct = [&](double p) { return ms[static_cast<size_t>(p * (ms.size() - 1) + 0.5)]; };
  std::printf("%-34s n=%3zu  p50 %8.2f ms  p95 %8.2f ms  max %8.2f ms\n", what, ms.size(), pct(0.5),
              pct(0.95), ms.back());
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: seek_bench CLIP [--seeks N] [--seed S] [--threads T]\n");
    return 2;
  }
  const std::string clip = argv[1];
  int seeks = 20, threads = 0;
  unsigned seed = 1;
  for (int i = 2; i + 1 < argc; i += 2) {
    std::string a = argv[i];
    if (a == "--seeks")
      seeks = std::atoi(argv[i + 1]);
    else if (a == "--seed")
      seed = static_cast<unsigned>(std::atoi(argv[i + 1]));
    else if (a == "--threads")
      threads = std::atoi(argv[i + 1]);
  }
  try {
    capture::SourceOptions cold;
    cold.cache_mb = 0;
    cold.decoder_threads = threads;
    capture::Frame f;

    auto t_open = Clock::now();
    auto src = capture::open_source(clip, cold);
    const double open_ms = ms_since(t_open);
    const auto& info = src->info();
    std::printf("%s: %dx%d, %lld frames, %.3f fps, %.2f s (open + index pass %.1f ms)\n",
                clip.c_str(), info.width, info.height, static_cast<long long>(info.frame_count),
                info.fps, info.duration, open_ms);

    auto t0 = Clock::now();
    int64_t n = 0;
    while (src->next(f)) ++n;
    const double seq_ms = ms_since(t0);
    std::printf("sequential decode + RGB: %lld frames in %.0f ms = %.1f fps\n",
                static_cast<long long>(n), seq_ms, n * 1000.0 / seq_ms);

    std::mt19937 rng(seed);
    std::uniform_int_distribution<int64_t> pick(0, info.frame_count - 1);
    std::vector<int64_t> targets;
    for (int i = 0; i < seeks; ++i) targets.push_back(pick(rng));

    std::vector<double> cold_ms;
    for (int64_t t : targets) {
      auto s0 = Clock::now();
      src->seek(t, f);
      cold_ms.push_back(ms_since(s0));
    }
    report("random seek, cold (cache off)", cold_ms);

    capture::SourceOptions warm = cold;
    warm.cache_mb = 4096;
    warm.prefetch = 8;
    auto cached = capture::open_source(clip, warm);
    std::vector<double> first_ms, warm_ms, step_ms;
    for (int64_t t : targets) {
      auto s0 = Clock::now();
      cached->seek(t, f);
      first_ms.push_back(ms_since(s0));
      // Scrubbing around the frame just shown: one back, one forward (prefetched), back again.
      for (int64_t d : {-1, +1, +2, 0}) {
        const int64_t u = std::clamp<int64_t>(t + d, 0, info.frame_count - 1);
        auto s1 = Clock::now();
        cached->seek(u, f);
        step_ms.push_back(ms_since(s1));
      }
    }
    for (int64_t t : targets) {
      auto s0 = Clock::now();
      cached->seek(t, f);
      warm_ms.push_back(ms_since(s0));
    }
    report("random seek, first visit (cache on)", first_ms);
    report("step -1/+1/+2/0 after a seek", step_ms);
    report("random seek, revisit (warm cache)", warm_ms);
  } catch (const Error& e) {
    std::fprintf(stderr, "seek_bench: %s\n", e.what());
    return 1;
  }
  return 0;
}
