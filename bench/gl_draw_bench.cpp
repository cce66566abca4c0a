// GL cost of showing one result: ui::ResultTextures::update + glFinish, the same call the
// viewer makes and `camscope bench` times, in a headless EGL context, on synthetic results of
// the bench's shapes (640x360 frame, 224x224 map, 64 channels of 7x7).
//
//   gl_draw_bench [--frames N] [--warmup K] [--size WxH] [--map WxH] [--grid N] [--tile T]
//                 [--vary result|options|none] [--alpha A] [--load T] [--hash] [--dump FILE]
//
// Per frame it reports wall time (upload and draw as `camscope bench` splits them) and the
// CPU time the process spent on it (llvmpipe's rasterizer threads included, the load
// threads' time taken out), which is what the GL thread takes from the inference worker on a small
// machine.
// --load T runs T busy threads (a stand-in for the worker's OpenMP team) and reports how much
// work they got done per second. --hash prints a hash of every overlay and grid pixel drawn,
// to check that a change leaves the displayed pixels identical; --dump writes the first 8
// overlays (RGBA8, top row first) to FILE for a pixel-by-pixel comparison.
// Built as build/gl_draw_bench by scripts/build.sh.
#include <pthread.h>
#include <time.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "render/gl.h"
#include "render/gl_context.h"
#include "ui/result_textures.h"
#include "util/error.h"

using namespace camscope;
using Clock = std::chrono::steady_clock;

namespace {

double ms_since(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

double cpu_ms(clockid_t clock) {
  timespec ts{};
  clock_gettime(clock, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec * 1e-6;
}

void report(const char* what, std::vector<double> ms) {
  std::sort(ms.begin(), ms.end());
  auto pct = [&](double p) { return ms[static_cast<size_t>(p * (ms.size() - 1) + 0.5)]; };
  double sum = 0;
  for (double v : ms) sum += v;
  std::printf("  %-22s p50 %7.3f  p95 %7.3f  mean %7.3f ms\n", what, pct(0.5), pct(0.95),
              sum / ms.size());
}

void parse_size(const char* s, int* w, int* h) {
  if (std::sscanf(s, "%dx%d", w, h) != 2 || *w <= 0 || *h <= 0)
    throw Error(std::string("bad size '") + s + "' (expected WxH)");
}

// Deterministic, smooth-ish content so bilinear sampling and the colormap see varied values.
std::shared_ptr<app::FrameResult> make_result(int k, int fw, int fh, int mw, int mh, int grid,
                                              int tile) {
  auto r = std::make_shared<app::FrameResult>();
  r->serial = static_cast<uint64_t>(k + 1);
  auto f = std::make_shared<capture::Frame>();
  f->index = k;
  f->width = fw;
  f->height = fh;
  f->rgb.resize(static_cast<size_t>(fw) * fh * 3);
  for (int y = 0; y < fh; ++y)
    for (int x = 0; x < fw; ++x)
      for (int c = 0; c < 3; ++c)
        f->rgb[(static_cast<size_t>(y) * fw + x) * 3 + c] =
            static_cast<uint8_t>((x * (c + 1) + y * (3 - c) + k * 7) & 255);
  r->frame = f;
  r->map.channels = 1;
  r->map.width = mw;
  r->map.height = mh;
  r->map.values.resize(static_cast<size_t>(mw) * mh);
  for (int y = 0; y < mh; ++y)
    for (int x = 0; x < mw; ++x)
      r->map.values[static_cast<size_t>(y) * mw + x] =
          0.5f + 0.5f * std::sin(0.05f * x + 0.07f * y + 0.3f * k);
  if (grid > 0) {
    r->grid.channels = grid;
    r->grid.width = r->grid.height = tile;
    r->grid.values.resize(static_cast<size_t>(grid) * tile * tile);
    for (size_t i = 0; i < r->grid.values.size(); ++i)
      r->grid.values[i] = static_cast<float>((i * 37 + static_cast<size_t>(k) * 11) % 101) / 100.f;
  }
  return r;
}

uint64_t fnv(uint64_t h, const std::vector<uint8_t>& px) {
  for (uint8_t b : px) h = (h ^ b) * 1099511628211ull;
  return h;
}

}  // namespace

int main(int argc, char** argv) try {
  int frames = 200, warmup = 10, fw = 640, fh = 360, mw = 224, mh = 224, grid = 64, tile = 7;
  int load = 0;
  float alpha = 0.5f;
  std::string vary = "result";
  bool hash = false;
  std::string dump;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> const char* {
      if (i + 1 >= argc) throw Error(a + " needs a value");
      return argv[++i];
    };
    if (a == "--frames")
      frames = std::atoi(next());
    else if (a == "--warmup")
      warmup = std::atoi(next());
    else if (a == "--size")
      parse_size(next(), &fw, &fh);
    else if (a == "--map")
      parse_size(next(), &mw, &mh);
    else if (a == "--grid")
      grid = std::atoi(next());
    else if (a == "--tile")
      tile = std::atoi(next());
    else if (a == "--vary")
      vary = next();
    else if (a == "--load")
      load = std::atoi(next());
    else if (a == "--alpha")
      alpha = static_cast<float>(std::atof(next()));
    else if (a == "--hash")
      hash = true;
    else if (a == "--dump")
      dump = next();
    else
      throw Error("unknown option " + a);
  }
  if (frames <= 0 || warmup < 0 || grid < 0 || tile <= 0 || load < 0)
    throw Error("bad numeric option");
  if (vary != "result" && vary != "options" && vary != "none")
    throw Error("--vary expects result, options or none");

  gl::ContextOptions copt;
  copt.width = copt.height = 64;
  copt.vsync = false;
  auto ctx = gl::create_headless_context(copt);
  ui::ResultTextures textures;

  std::vector<std::shared_ptr<app::FrameResult>> results;
  for (int k = 0; k < 8; ++k) results.push_back(make_result(k, fw, fh, mw, mh, grid, tile));

  std::atomic<bool> stop{false};
  std::atomic<uint64_t> work{0};
  std::vector<std::thread> loaders;
  for (int t = 0; t < load; ++t)
    loaders.emplace_back([&] {
      volatile float x = 1.f;
      while (!stop.load(std::memory_order_relaxed)) {
        for (int i = 0; i < 100000; ++i) x = x * 1.0000001f + 1e-7f;
        work.fetch_add(1, std::memory_order_relaxed);
      }
    });

  std::vector<clockid_t> loader_clocks;
  for (auto& t : loaders) {
    clockid_t c{};
    if (pthread_getcpuclockid(t.native_handle(), &c) != 0) throw Error("no thread CPU clock");
    loader_clocks.push_back(c);
  }
  // The process's CPU time without the load threads': this thread plus llvmpipe's.
  auto gl_cpu_ms = [&] {
    double ms = cpu_ms(CLOCK_PROCESS_CPUTIME_ID);
    for (clockid_t c : loader_clocks) ms -= cpu_ms(c);
    return ms;
  };
  std::vector<double> draw, upload, total, cpu;
  std::vector<uint8_t> px, grid_px;
  uint64_t h = 1469598103934665603ull;
  auto run_t0 = Clock::now();
  uint64_t work0 = 0;
  ui::DisplayOptions opt;
  opt.alpha = alpha;
  for (int i = 0; i < warmup + frames; ++i) {
    if (i == warmup) {
      work0 = work.load();
      run_t0 = Clock::now();
    }
    std::shared_ptr<const app::FrameResult> r = results[0];
    if (vary == "result") r = results[static_cast<size_t>(i) % results.size()];
    if (vary == "options") opt.alpha = (i % 2) ? alpha : alpha + 0.1f;
    const double c0 = gl_cpu_ms();
    const auto t0 = Clock::now();
    textures.update(r, opt);
    glFinish();
    const double wall = ms_since(t0);
    const double c1 = gl_cpu_ms();
    if (!dump.empty() && i < 8) {
      textures.read_overlay(px);
      std::FILE* f = std::fopen(dump.c_str(), i == 0 ? "wb" : "ab");
      if (!f || std::fwrite(px.data(), 1, px.size(), f) != px.size())
        throw Error("cannot write " + dump);
      std::fclose(f);
    }
    if (hash) {
      textures.read_overlay(px);
      h = fnv(h, px);
      const ui::TextureView g = textures.grid();
      if (g) {
        grid_px.resize(static_cast<size_t>(g.width) * g.height * 4);
        glBindTexture(GL_TEXTURE_2D, g.id);
        glPixelStorei(GL_PACK_ALIGNMENT, 1);
        glGetTexImage(GL_TEXTURE_2D, 0, GL_RGBA, GL_UNSIGNED_BYTE, grid_px.data());
        h = fnv(h, grid_px);
      }
    }
    if (i < warmup) continue;
    const double up = vary == "result" ? textures.upload_ms() : 0.0;
    total.push_back(wall);
    upload.push_back(up);
    draw.push_back(wall - up);
    cpu.push_back(c1 - c0);
  }
  const double run_s = ms_since(run_t0) / 1e3;
  stop = true;
  for (auto& t : loaders) t.join();

  const char* lp = std::getenv("LP_NUM_THREADS");
  std::printf(
      "gl_draw_bench: %s, LP_NUM_THREADS=%s, frame %dx%d, map %dx%d, grid %d x %d^2, "
      "vary %s, %d frames, %d load threads\n",
      ctx->renderer().c_str(), lp ? lp : "(unset)", fw, fh, mw, mh, grid, tile, vary.c_str(),
      frames, load);
  report("upload (wall)", upload);
  report("draw (wall)", draw);
  report("update+finish (wall)", total);
  report("CPU (GL side)", cpu);
  if (load > 0)
    std::printf("  load work: %.1f units/s per thread\n",
                static_cast<double>(work.load() - work0) / run_s / load);
  if (hash) std::printf("  pixel hash: %016llx\n", static_cast<unsigned long long>(h));
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "gl_draw_bench: %s\n", e.what());
  return 1;
}
