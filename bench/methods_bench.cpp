// CAM methods side by side on the built-in model (built as build/methods_bench):
//  1. cost: N gradient-based CAM methods from one pass (explain_many) against one method, and
//     every method on its own;
//  2. faithfulness over synthetic single-object scenes with ground-truth boxes: pointing game
//     (the map's maximum inside the object's box), Average Drop, Increase in Confidence,
//     deletion and insertion AUC (explain/metrics.h), explaining the true class.
// Run (after scripts/build.sh):
//   THREADS=2 build/methods_bench [MODEL.pt] [SCENES] [ITERS]
// SCENES = 0 skips the table, ITERS = 0 the cost (the table's values do not depend on timing).
#include <ATen/Parallel.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "capture/synthetic_world.h"
#include "explain/explain.h"
#include "explain/metrics.h"
#include "model/model.h"
#include "model/preprocess.h"

using namespace camscope;
using Clock = std::chrono::steady_clock;

static double ms_since(Clock::time_point t) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t).count();
}

int main(int argc, char** argv) {
  const std::string path = argc > 1 ? argv[1] : std::string(CAMSCOPE_ASSET_DIR) + "/builtin.pt";
  const int scenes = argc > 2 ? std::atoi(argv[2]) : 50;
  const int iters = argc > 3 ? std::atoi(argv[3]) : 20;
  try {
    model::Model::Options opt;
    opt.path = path;
    opt.device = "cpu";
    if (const char* t = std::getenv("THREADS")) opt.threads = std::atoi(t);
    auto model = model::Model::load(opt);
    const auto& spec = model->sidecar().input;
    using explain::Method;

    // --- 1. cost -------------------------------------------------------------------------------
    if (iters > 0) {
      capture::Scene probe = capture::make_scene(capture::SceneMode::Single, 1, 0, 160, 120);
      auto x = model->preprocess(probe.rgb.data(), probe.width, probe.height);
      const std::vector<Method> four = {Method::GradCam, Method::GradCamPP, Method::HiResCam,
                                        Method::LayerCam};
      explain::Request req;
      auto time_ms = [&](auto fn) {
        auto t0 = Clock::now();
        fn();
        return ms_since(t0);
      };
      auto median = [](std::vector<double> v) {
        std::sort(v.begin(), v.end());
        return v[v.size() / 2];
      };
      // Interleaved rounds (one, four from one pass, four separately), and the medians of the
      // per-round ratios: on a shared machine the load drifts between rounds, not within one.
      std::vector<double> t_one, t_many, t_sep, r_many, r_sep;
      for (int i = -3; i < iters; ++i) {  // 3 warm-up rounds: graph rewrites, allocator
        req.method = Method::GradCam;
        const double one = time_ms([&] { explain::explain(*model, x, req); });
        const double many = time_ms([&] { explain::explain_many(*model, x, four, req); });
        double sep = 0;
        for (Method m : four) {
          req.method = m;
          sep += time_ms([&] { explain::explain(*model, x, req); });
        }
        if (i < 0) continue;
        t_one.push_back(one);
        t_many.push_back(many);
        t_sep.push_back(sep);
        r_many.push_back(many / one);
        r_sep.push_back(sep / one);
      }
      const double one = median(t_one), many = median(t_many), separate = median(t_sep);
      std::printf("cost (median of %d, %d threads, %s, layer %s, %dx%d input)\n", iters,
                  at::get_num_threads(), path.c_str(), model->default_layer().c_str(), spec.width,
                  spec.height);
      std::printf("  gradcam alone                          %8.2f ms\n", one);
      std::printf("  gradcam+gradcampp+hirescam+layercam, one pass %8.2f ms (%.2fx one)\n", many,
                  median(r_many));
      std::printf("  the same four, separately              %8.2f ms (%.2fx one)\n\n", separate,
                  median(r_sep));
    }
    if (scenes <= 0) return 0;

    // --- 2. faithfulness ----------------------------------------------------------------------
    std::vector<Method> methods;
    for (const auto& n : explain::method_names()) methods.push_back(explain::parse_method(n));
    struct Row {
      double hits = 0, drop = 0, inc = 0, del = 0, ins = 0, ms = 0;
    };
    std::vector<Row> rows(methods.size());
    int correct = 0;
    for (int s = 0; s < scenes; ++s) {
      capture::Scene sc = capture::make_scene(capture::SceneMode::Single, 1000 + s, 0, 160, 120);
      const capture::SceneObject& obj = sc.objects.at(0);
      auto xs = model->preprocess(sc.rgb.data(), sc.width, sc.height);
      const auto geo = model::input_geometry(sc.width, sc.height, spec);
      explain::Request r;
      r.target = static_cast<int64_t>(obj.shape);
      for (size_t i = 0; i < methods.size(); ++i) {
        r.method = methods[i];
        auto t0 = Clock::now();
        explain::Result res = explain::explain(*model, xs, r);
        rows[i].ms += ms_since(t0);
        if (i == 0) correct += res.logits.argmax().item<int64_t>() == r.target;
        const int64_t flat = res.map.flatten().argmax().item<int64_t>();
        const double sx = geo.to_source_x((flat % spec.width) + 0.5);
        const double sy = geo.to_source_y((flat / spec.width) + 0.5);
        rows[i].hits += obj.contains(static_cast<int>(sx), static_cast<int>(sy));
        explain::Faithfulness f = explain::faithfulness(*model, xs, res.map, r.target);
        rows[i].drop += f.drop;
        rows[i].inc += f.increase;
        rows[i].del += f.deletion;
        rows[i].ins += f.insertion;
      }
    }
    std::printf(
        "faithfulness over %d synthetic scenes (seeds 1000..%d, 160x120, true class; "
        "model top-1 correct on %d)\n",
        scenes, 1000 + scenes - 1, correct);
    std::printf(
        "| method | pointing | drop | increase | deletion AUC | insertion AUC | ms/frame |\n");
    std::printf("|---|---|---|---|---|---|---|\n");
    for (size_t i = 0; i < methods.size(); ++i) {
      const Row& w = rows[i];
      std::printf("| %s | %.2f | %.3f | %.2f | %.3f | %.3f | %.1f |\n",
                  explain::method_name(methods[i]), w.hits / scenes, w.drop / scenes,
                  w.inc / scenes, w.del / scenes, w.ins / scenes, w.ms / scenes);
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "methods_bench: %s\n", e.what());
    return 1;
  }
  return 0;
}
