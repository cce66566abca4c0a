// Model-engine timings (built as build/model_timing): load, plain forward, forward with taps, and
// forward + gradients to one tap, for the Exact and the Fast engine (model.h GraphOptimization),
// plus the old way of getting a tap's gradient (the input requiring grad: autograd records the
// whole forward). Run (after scripts/build.sh):
//   THREADS=2 build/model_timing MODEL.pt [ITERS] [tap ...]
#include <chrono>
#include <cstdio>
#include <cstdlib>

#include <ATen/Parallel.h>
#include <torch/csrc/autograd/autograd.h>

#include "model/model.h"

using namespace camscope;
using Clock = std::chrono::steady_clock;

static double ms_since(Clock::time_point t) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t).count();
}

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: model_timing MODEL.pt [ITERS] [tap ...]\n");
    return 2;
  }
  const int iters = argc > 2 ? std::atoi(argv[2]) : 20;
  std::vector<std::string> taps;
  for (int i = 3; i < argc; ++i) taps.push_back(argv[i]);
  try {
    const char* th = std::getenv("THREADS");
    auto time = [&](const char* what, auto&& fn) {
      fn();  // warm-up (builds the rewritten graph)
      fn();
      auto t = Clock::now();
      for (int i = 0; i < iters; ++i) fn();
      std::printf("%-40s %8.2f ms\n", what, ms_since(t) / iters);
    };
    for (auto opt : {model::GraphOptimization::Exact, model::GraphOptimization::Fast}) {
      const bool fast = opt == model::GraphOptimization::Fast;
      auto t0 = Clock::now();
      model::Model::Options mo{argv[1], "", "cpu", th ? std::atoi(th) : 0};
      mo.optimization = opt;
      auto m = model::Model::load(mo);
      std::printf("[%s] load (incl. layer-table probe): %.1f ms, %zu layers, threads %d\n",
                  fast ? "fast" : "exact", ms_since(t0), m->layers().size(),
                  at::get_num_threads());
      if (taps.empty()) taps = {m->default_layer()};
      const auto& in = m->sidecar().input;
      torch::Tensor x = torch::randn({1, in.channels(), in.height, in.width});
      if (!fast)
        time("module.forward (stock executor)", [&] {
          torch::NoGradGuard g;
          m->module().forward({x});
        });
      time("forward, no taps", [&] {
        torch::NoGradGuard g;
        m->forward(x, {});
      });
      time("forward, taps (no grad)", [&] {
        torch::NoGradGuard g;
        m->forward(x, taps);
      });
      time("forward + grad to first tap", [&] {
        auto r = m->forward(x, {taps[0]});
        auto cls = r.logits.argmax(1).item<int64_t>();
        torch::autograd::grad({r.logits[0][cls]}, {r.taps[0]});
      });
      if (!fast)
        time("same, input requiring grad (records all)", [&] {
          auto r = m->forward(x.detach().requires_grad_(true), {taps[0]});
          auto cls = r.logits.argmax(1).item<int64_t>();
          torch::autograd::grad({r.logits[0][cls]}, {r.taps[0]});
        });
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
}
