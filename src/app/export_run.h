#pragma once
// `camscope export` as a function with hooks, for `camscope bench --export` (which runs the
// export pipeline and, in the same process and thread, the model alone on the same frames).
// No LibTorch in this header.
#include <cstdint>
#include <functional>
#include <utility>
#include <vector>

namespace camscope::model {
class Model;
}
namespace camscope::explain {
struct Request;
}

namespace camscope::app {

struct ExportHooks {
  // Called on the model's thread once the model is loaded (before) and after the last frame was
  // written (after), with the export's model, request (layer and target resolved) and batch.
  std::function<void(model::Model&, const explain::Request&, int batch)> before, after;
  // Filled by the export: seconds since the pipeline started at each frame's commit, in order.
  std::vector<double> commit_s;
  // Process CPU time (user + system, all threads) in seconds at each commit.
  std::vector<double> commit_cpu_s;
  // Resident set size (KiB) every `rss_every` committed frames (0: never): (frames, KiB).
  int rss_every = 0;
  std::vector<std::pair<int64_t, long>> rss_kb;
};

int run_export(int argc, const char* const* argv, ExportHooks* hooks);
long resident_kb();     // this process's VmRSS
double process_cpu_s();  // this process's CPU time so far (user + system, all threads)
double load_average();   // the 1-minute load average (/proc/loadavg), -1 when unknown

}  // namespace camscope::app

namespace camscope::app {
// `camscope bench --export ...` (app/bench_export.cpp).
int bench_export(int argc, const char* const* argv);
}  // namespace camscope::app
