// `camscope bench --export`: the export pipeline (decode thread -> model -> writer pool, files on
// disk) against the model alone on the same frames, in the same process, on the same thread and
// with the same method, batch and engine. The model alone runs before and after the export
// (its mean is the reference, so a drifting machine load hits both sides alike); it gets
// already decoded and preprocessed frames and writes nothing. Output keys: bench/README.md.
#include <ATen/Parallel.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <cstdlib>
#include <fstream>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "app/export_run.h"
#include "capture/frame_source.h"
#include "explain/explain.h"
#include "model/model.h"
#include "model/preprocess.h"
#include "util/args.h"
#include "util/error.h"
#include "util/json.h"

namespace camscope::app {
namespace {

const char* kHelp =
    "usage: camscope bench --export [export options] [--frames N] [--warmup K] [--out DIR]\n"
    "                      [--rounds R] [--rss-every N] [--json]\n"
    "Runs `camscope export` on N frames after K warm-up frames (default 100 after 10) into DIR\n"
    "(default: a temporary folder, removed afterwards) and, in the same run, the model alone\n"
    "(preprocessed frames already in memory, same method, batch and engine, nothing written)\n"
    "on the same frames, before and after the export; prints both rates and their ratio.\n"
    "Export options passed through: --model --model-config --input --method --layer --target\n"
    "--device --engine --overlay --batch --writers --png-level --jpeg-quality --raw\n"
    "--colormap --alpha. --rounds R repeats it all (median ratio reported). --rss-every N\n"
    "samples the resident set size every N frames (last round).\n";

using Clock = std::chrono::steady_clock;

}  // namespace

double load_average() {
  std::ifstream in("/proc/loadavg");
  double v = -1;
  in >> v;
  return v;
}

int bench_export(int argc, const char* const* argv) {
  const std::set<std::string> pass_values = {"model", "model-config", "input", "method", "layer",
                                             "target", "device", "engine", "overlay", "batch",
                                             "writers", "png-level", "jpeg-quality", "colormap",
                                             "alpha"};
  std::set<std::string> values = pass_values;
  for (const char* k : {"frames", "warmup", "out", "rss-every", "rounds"}) values.insert(k);
  Args args(argc, argv, values, {"export", "json", "help", "raw"});
  if (args.flag("help")) {
    std::fputs(kHelp, stdout);
    return 0;
  }
  const int frames = args.get_int("frames", 100), warmup = args.get_int("warmup", 10);
  if (frames < 2) throw Error("--frames must be >= 2");
  if (warmup < 0) throw Error("--warmup must be >= 0");
  const int rss_every = args.get_int("rss-every", 0);
  const int total = frames + warmup;
  namespace fs = std::filesystem;
  std::string out = args.get("out");
  const bool temp_out = out.empty();
  if (temp_out) {
    char tmpl[] = "/tmp/camscope_bench_export_XXXXXX";
    if (!::mkdtemp(tmpl)) throw Error("cannot make a temporary folder");
    out = tmpl;
  }
  struct Cleanup {
    std::string dir;
    bool on;
    ~Cleanup() {
      std::error_code ec;
      if (on) fs::remove_all(dir, ec);
    }
  } cleanup{out, temp_out};

  std::vector<std::string> ex = {"export"};
  for (const auto& k : pass_values)
    if (args.has(k)) ex.push_back("--" + k), ex.push_back(args.get(k));
  if (!args.has("input")) ex.push_back("--input"), ex.push_back("synthetic");
  if (args.flag("raw")) ex.push_back("--raw");
  ex.push_back("--frames");
  ex.push_back("0:" + std::to_string(total));
  ex.push_back("--out");
  ex.push_back(out);
  ex.push_back("--force");
  std::vector<const char*> argv2;
  for (size_t i = 1; i < ex.size(); ++i) argv2.push_back(ex[i].c_str());

  // The model alone: the same frames, decoded and preprocessed beforehand (at most 32 distinct
  // ones, cycled), explained in the export's batches.
  std::vector<torch::Tensor> inputs;
  std::vector<double> model_fps, model_cpu_ms;
  auto model_alone = [&](model::Model& model, const explain::Request& req, int batch) {
    if (inputs.empty()) {
      capture::SourceOptions so;
      auto src = capture::open_source(args.get("input", "synthetic"), so);
      capture::Frame f;
      while (static_cast<int>(inputs.size()) < std::min(total, 32) && src->next(f))
        inputs.push_back(model.preprocess(f.rgb.data(), f.width, f.height).clone());
      if (inputs.empty()) throw Error("bench --export: no frames decoded");
    }
    auto run = [&](int n) {
      for (int i = 0; i < n; i += batch) {
        const int b = std::min(batch, n - i);
        std::vector<torch::Tensor> xs;
        for (int k = 0; k < b; ++k) xs.push_back(inputs[(i + k) % inputs.size()]);
        auto r = b > 1 ? explain::explain_batch(model, torch::cat(xs), req)
                       : std::vector<explain::Result>{explain::explain(model, xs[0], req)};
        for (auto& x : r) x.map.to(torch::kCPU);  // the maps the export copies out
      }
    };
    run(std::min(warmup, 2 * batch));
    const auto t0 = Clock::now();
    const double c0 = process_cpu_s();
    run(frames);
    const double s = std::chrono::duration<double>(Clock::now() - t0).count();
    model_fps.push_back(s > 0 ? frames / s : 0);
    model_cpu_ms.push_back(1e3 * (process_cpu_s() - c0) / frames);
  };
  // Rounds: export, with the model alone right before and after it; the ratio of each round is
  // taken under the load of that round, and the median of the rounds is reported.
  const int rounds = args.get_int("rounds", 1);
  if (rounds < 1) throw Error("--rounds must be >= 1");
  const double load_before = load_average();
  std::vector<double> export_rates, model_rates, ratios, export_cpu, model_cpu, cpu_ratios;
  ExportHooks hooks;
  double wall_s = 0;
  for (int round = 0; round < rounds; ++round) {
    hooks = ExportHooks();
    hooks.before = model_alone;
    hooks.after = model_alone;
    hooks.rss_every = rss_every;
    model_fps.clear();
    model_cpu_ms.clear();
    const auto t_all = Clock::now();
    const int status = run_export(static_cast<int>(argv2.size()), argv2.data(), &hooks);
    wall_s = std::chrono::duration<double>(Clock::now() - t_all).count();
    if (status != 0) return status;
    if (static_cast<int>(hooks.commit_s.size()) < total)
      throw Error("bench --export: the export wrote " + std::to_string(hooks.commit_s.size()) +
                  " of " + std::to_string(total) + " frames");
    const double t_begin = warmup > 0 ? hooks.commit_s[warmup - 1] : 0.0;
    const double t_end = hooks.commit_s[total - 1];
    const double fps = t_end > t_begin ? frames / (t_end - t_begin) : 0.0;
    double mean = 0;
    for (double v : model_fps) mean += v / model_fps.size();
    const double c_begin = warmup > 0 ? hooks.commit_cpu_s[warmup - 1] : hooks.commit_cpu_s[0];
    const double e_cpu = 1e3 * (hooks.commit_cpu_s[total - 1] - c_begin) /
                         (warmup > 0 ? frames : frames - 1);
    double m_cpu = 0;
    for (double v : model_cpu_ms) m_cpu += v / model_cpu_ms.size();
    export_cpu.push_back(e_cpu);
    model_cpu.push_back(m_cpu);
    cpu_ratios.push_back(e_cpu > 0 ? m_cpu / e_cpu : 0.0);
    export_rates.push_back(fps);
    model_rates.push_back(mean);
    ratios.push_back(mean > 0 ? fps / mean : 0.0);
  }
  auto median = [](std::vector<double> v) {
    std::sort(v.begin(), v.end());
    const size_t n = v.size();
    return n == 0 ? 0.0 : n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
  };
  const double export_fps = median(export_rates), model_mean = median(model_rates);
  const double ratio = median(ratios);

  Json j;
  j["tool"] = "camscope bench --export";
  j["export_args"] = Json::array();
  for (size_t i = 1; i < ex.size(); ++i) j["export_args"].push_back(ex[i]);
  j["frames"] = frames;
  j["warmup"] = warmup;
  j["rounds"] = rounds;
  j["threads"] = at::get_num_threads();
  j["cores"] = std::thread::hardware_concurrency();
  j["load_average_1m"] = {load_before, load_average()};
  j["export_fps"] = export_fps;
  j["model_only_fps"] = model_mean;
  j["ratio"] = ratio;
  // CPU time per frame (all threads): on a machine of its own whose cores the model keeps busy,
  // export fps / model fps tends to model CPU / export CPU, whatever else runs meanwhile.
  j["export_cpu_ms_per_frame"] = median(export_cpu);
  j["model_only_cpu_ms_per_frame"] = median(model_cpu);
  j["cpu_ratio"] = median(cpu_ratios);
  j["per_round"] = {{"export_fps", export_rates}, {"model_only_fps", model_rates}, {"ratio", ratios},
                    {"export_cpu_ms", export_cpu}, {"model_only_cpu_ms", model_cpu}};
  j["wall_s_last_round"] = wall_s;
  if (!hooks.rss_kb.empty()) {
    Json r = Json::array();
    for (const auto& [n, kb] : hooks.rss_kb) r.push_back({n, kb});
    j["rss_kb"] = r;
  }
  if (args.flag("json")) {
    std::printf("%s\n", j.dump(2).c_str());
    return 0;
  }
  std::printf(
      "camscope bench --export: %d frames after %d warm-up, %d round(s), %d threads, %u cores, "
      "load %.2f -> %.2f\n",
      frames, warmup, rounds, at::get_num_threads(), std::thread::hardware_concurrency(),
      load_before, load_average());
  for (int r = 0; r < rounds; ++r)
    std::printf("  round %d: export %.2f fps, model alone %.2f fps, ratio %.3f; CPU per frame: "
                "export %.1f ms, model alone %.1f ms, ratio %.3f\n",
                r + 1, export_rates[r], model_rates[r], ratios[r], export_cpu[r], model_cpu[r],
                cpu_ratios[r]);
  std::printf("  export      %8.2f fps (decode thread -> model -> writers, files on disk)\n",
              export_fps);
  std::printf("  model alone %8.2f fps (same frames preprocessed in memory, same batches)\n",
              model_mean);
  std::printf("  export / model alone = %.3f (median of rounds)\n", ratio);
  std::printf("  CPU per frame (all threads): export %.1f ms, model alone %.1f ms; model / export "
              "= %.3f (median of rounds)\n",
              median(export_cpu), median(model_cpu), median(cpu_ratios));
  if (!hooks.rss_kb.empty()) {
    long lo = hooks.rss_kb.front().second, hi = lo;
    for (const auto& [n, kb] : hooks.rss_kb) lo = std::min(lo, kb), hi = std::max(hi, kb);
    std::printf("  RSS %ld..%ld KiB over %zu samples (first %ld at frame %lld, last %ld)\n", lo, hi,
                hooks.rss_kb.size(), hooks.rss_kb.front().second,
                static_cast<long long>(hooks.rss_kb.front().first), hooks.rss_kb.back().second);
  }
  return 0;
}

}  // namespace camscope::app
