// `camscope bench`: drives the viewer's own pipeline (app::Pipeline: capture thread → inference
// worker) and its GL side (ui::ResultTextures in a headless EGL context) over N frames, and in
// the same run measures the bare model (forward + gradient of the target logit to the same tap,
// same device and threads), so the two rates can be compared on a machine whose load varies.
// Output keys are documented in bench/README.md.
#include <ATen/Parallel.h>
#include <unistd.h>
#include <torch/cuda.h>
#include <torch/script.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "app/commands.h"
#include "app/export_run.h"
#include "app/pipeline.h"
#include "explain/explain.h"
#include "model/model.h"
#include "render/gl.h"
#include "render/gl_context.h"
#include "ui/result_textures.h"
#include "util/args.h"
#include "util/error.h"
#include "util/json.h"
#include "util/log.h"

namespace camscope::app {
namespace {

const char* kBenchHelp =
    "usage: camscope bench [--model M] [--model-config J] [--input SRC] [--method NAME]\n"
    "                      [--layer PATH] [--target top1|INDEX] [--device auto|cpu|cuda]\n"
    "                      [--threads N] [--frames N] [--warmup K] [--grid N] [--json]\n"
    "                      [--engine fast|exact] [--idle SECONDS] [--device-maps auto|on|off]\n"
    "Runs decode -> preprocess -> forward -> backward to the tap -> explain -> channel grid ->\n"
    "texture upload -> draw (headless GL) on N frames after K warm-up frames, then reports\n"
    "per-stage p50/p95, end-to-end fps, bytes moved per frame, and the bare model rate\n"
    "(forward + gradient to the same tap) measured in the same run. --grid N shows the N most\n"
    "active channels (0 = all). --engine as for view (the bare model uses the same one).\n"
    "--device-maps as for view; bytes_per_frame.maps_device_to_host counts the maps' copies.\n"
    "Then --idle S (default 10, 0 = skip) measures the viewer at rest: `camscope view` on the\n"
    "same model and input, paused, S seconds after the first result with nobody touching it;\n"
    "process CPU time (all threads) in % of one core and redraws, headless and, when DISPLAY\n"
    "is set, in a window.\n"
    "Defaults: --frames 50 --warmup 5 --grid 64 --engine fast, all cores.\n"
    "`camscope bench --export [export options]` times the export pipeline against the model\n"
    "alone instead (camscope bench --export --help).\n";

using Clock = std::chrono::steady_clock;
double ms_between(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

struct Summary {
  double p50 = 0, p95 = 0, mean = 0;
};

// Percentiles by linear interpolation between closest ranks (numpy's default), so the Python
// baseline's numbers are computed the same way.
Summary summarize(std::vector<double> v) {
  Summary s;
  if (v.empty()) return s;
  std::sort(v.begin(), v.end());
  auto pct = [&](double q) {
    const double pos = q * static_cast<double>(v.size() - 1);
    const size_t lo = static_cast<size_t>(std::floor(pos));
    const size_t hi = std::min(lo + 1, v.size() - 1);
    return v[lo] + (v[hi] - v[lo]) * (pos - static_cast<double>(lo));
  };
  s.p50 = pct(0.5);
  s.p95 = pct(0.95);
  double sum = 0;
  for (double x : v) sum += x;
  s.mean = sum / static_cast<double>(v.size());
  return s;
}

Json to_json(const Summary& s) {
  return Json{{"p50", s.p50}, {"p95", s.p95}, {"mean", s.mean}};
}

// Stage samples in first-seen order (the pipeline's own order: decode, preprocess, forward...).
class StageTable {
 public:
  explicit StageTable(size_t reserve) : m_reserve(reserve) {}
  void add(const std::string& name, double ms) {
    auto it = m_index.find(name);
    if (it == m_index.end()) {
      it = m_index.emplace(name, m_rows.size()).first;
      m_rows.emplace_back(name, std::vector<double>());
      m_rows.back().second.reserve(m_reserve);
    }
    m_rows[it->second].second.push_back(ms);
  }
  const std::vector<std::pair<std::string, std::vector<double>>>& rows() const { return m_rows; }
  std::vector<double> find(const std::string& name) const {
    auto it = m_index.find(name);
    return it == m_index.end() ? std::vector<double>() : m_rows[it->second].second;
  }

 private:
  size_t m_reserve;
  std::map<std::string, size_t> m_index;
  std::vector<std::pair<std::string, std::vector<double>>> m_rows;
};

struct Options {
  PipelineOptions pipe;
  ViewParams view;
  int frames = 50, warmup = 5, grid = 64;
  double idle_s = 10;
  bool json = false;
};

Options parse(int argc, const char* const* argv, bool* help) {
  Args args(argc, argv,
            {"model", "model-config", "input", "method", "layer", "target", "device", "threads",
             "frames", "warmup", "grid", "engine", "idle", "device-maps"},
            {"json", "help", "verbose"});
  *help = args.flag("help");
  log::set_verbose(args.flag("verbose"));
  Options o;
  o.pipe.model = args.get("model");
  o.pipe.model_config = args.get("model-config");
  o.pipe.input = args.get("input", "synthetic");
  o.pipe.device = args.get("device", "auto");
  o.pipe.threads = args.get_int("threads", 0);
  o.pipe.engine = args.get("engine", "fast");
  model::parse_engine(o.pipe.engine);
  o.pipe.device_maps = args.get("device-maps", "auto");
  // One entry: a frame is never answered from the cache, so every frame is computed.
  o.pipe.cache_entries = 1;
  o.frames = args.get_int("frames", 50);
  o.warmup = args.get_int("warmup", 5);
  o.grid = args.get_int("grid", 64);
  o.json = args.flag("json");
  o.idle_s = args.get_double("idle", 10.0);
  if (!(o.idle_s >= 0 && o.idle_s <= 600)) throw Error("--idle expects 0..600 seconds");
  if (o.frames <= 0) throw Error("--frames must be a positive number of frames");
  if (o.warmup < 0) throw Error("--warmup must be >= 0");
  if (o.grid < 0) throw Error("--grid must be >= 0 (0 = every channel)");
  if (o.pipe.threads < 0) throw Error("--threads must be >= 0 (0 = all cores)");
  if (o.warmup == 0 && o.frames < 2)
    throw Error("--warmup 0 needs --frames >= 2 (the rate is timed between completed frames)");
  o.view.method = args.get("method", "gradcam");
  explain::parse_method(o.view.method);  // one line with suggestions before anything loads
  o.view.layer = args.get("layer");
  const std::string target = args.get("target", "top1");
  if (target != "top1") {
    o.view.target = args.get_int("target", -1);
    if (o.view.target < 0) throw Error("--target expects top1 or a class index >= 0");
  }
  o.view.grid_sort = GridSort::Activation;
  o.view.grid_top_k = o.grid;
  return o;
}

void sync_device(const torch::Device& d) {
  if (d.is_cuda()) torch::cuda::synchronize();
}

// The model's own cost for one explanation: forward with the tap, then the gradient of the
// target logit back to the tap only — what every gradient method needs at least. Same engine as
// the pipeline's model, so autograd records from the tap on here too.
class BareModel {
 public:
  explicit BareModel(const Options& o) {
    model::Model::Options mo;
    mo.path = o.pipe.model.empty() ? builtin_model_path() : o.pipe.model;
    mo.config_path = o.pipe.model_config;
    mo.device = o.pipe.device;
    mo.threads = o.pipe.threads;
    mo.optimization = model::parse_engine(o.pipe.engine);
    m_model = model::Model::load(mo);
  }
  model::Model& model() { return *m_model; }

  void prepare(const std::string& layer, const capture::Frame& f) {
    m_layer = layer;
    m_x = m_model->preprocess(f.rgb.data(), f.width, f.height);
  }

  double step_ms() {
    const auto t0 = Clock::now();
    {
      torch::AutoGradMode enable(true);
      // No layer (a pixel-space method on a model without one): the gradient goes to the input.
      std::vector<std::string> taps;
      if (!m_layer.empty()) taps.push_back(m_layer);
      auto x = taps.empty() ? m_x.detach().requires_grad_(true) : m_x;
      auto out = m_model->forward(x, taps);
      const int64_t t = out.logits[0].argmax().item<int64_t>();
      const torch::Tensor wrt = taps.empty() ? x : out.taps.at(0);
      auto g = torch::autograd::grad({out.logits[0][t]}, {wrt}, {}, false, false, true);
      sync_device(m_model->device());
    }
    return ms_between(t0, Clock::now());
  }

  // One no-grad forward of a batch of `batch` copies of the input: Score-CAM's unit of work.
  double batched_forward_ms(int batch) {
    torch::NoGradGuard no_grad;
    auto xb = m_x.expand({batch, m_x.size(1), m_x.size(2), m_x.size(3)}).contiguous();
    const auto t0 = Clock::now();
    auto out = m_model->forward(xb, {});
    sync_device(m_model->device());
    return ms_between(t0, Clock::now());
  }

 private:
  std::unique_ptr<model::Model> m_model;
  std::string m_layer;
  torch::Tensor m_x;
};

std::string env_or_empty(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

std::string shell_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

// The viewer at rest: `camscope view` (this binary) on the bench's model and input, paused, a
// still picture after the first result, `seconds` with no input. What it costs is the process
// CPU time over that span (getrusage: every thread), reported by its print_frame_stats.
Json measure_idle(const Options& o, const std::string& layer, bool window, double seconds) {
  char exe[4096];
  const ssize_t n = ::readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (n <= 0) return Json{{"skipped", "cannot find this executable"}};
  exe[n] = 0;
  char script[] = "/tmp/camscope_idle_XXXXXX";
  const int fd = ::mkstemp(script);
  if (fd < 0) return Json{{"skipped", "cannot write a script file"}};
  char secs[32];
  std::snprintf(secs, sizeof secs, "%.3f", seconds);
  const std::string text = std::string("wait_result\nframes 3\nreset_frame_stats\nsleep ") + secs +
                           "\nprint_frame_stats\nquit\n";
  const bool written = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  ::close(fd);
  std::string cmd = shell_quote(exe) + " view --no-settings --pause --size 1280x720 --input " +
                    shell_quote(o.pipe.input) + " --device " + shell_quote(o.pipe.device) +
                    " --engine " + shell_quote(o.pipe.engine) + " --method " +
                    shell_quote(o.view.method) + " --script " + shell_quote(script);
  if (!o.pipe.model.empty()) cmd += " --model " + shell_quote(o.pipe.model);
  if (!o.pipe.model_config.empty()) cmd += " --model-config " + shell_quote(o.pipe.model_config);
  if (!layer.empty()) cmd += " --layer " + shell_quote(layer);
  if (o.pipe.threads > 0) cmd += " --threads " + std::to_string(o.pipe.threads);
  if (!window) cmd += " --headless";
  cmd += " 2>&1";
  std::string output;
  int status = -1;
  if (written) {
    if (FILE* p = ::popen(cmd.c_str(), "r")) {
      char buf[4096];
      size_t k;
      while ((k = std::fread(buf, 1, sizeof buf, p)) > 0) output.append(buf, k);
      status = ::pclose(p);
    }
  }
  ::unlink(script);
  const auto at = output.find("{\"frame_stats\"");
  if (status != 0 || at == std::string::npos) {
    const std::string first = output.substr(0, output.find('\n'));
    return Json{{"skipped", "camscope view failed: " + (first.empty() ? std::string("?") : first)}};
  }
  const Json fs = Json::parse(output.substr(at, output.find('\n', at) - at)).at("frame_stats");
  return Json{{"cpu_percent", fs.at("cpu_percent")},
              {"cpu_s", fs.at("cpu_s")},
              {"wall_s", fs.at("wall_s")},
              {"redraws", fs.at("redraws")},
              {"bursts", fs.at("bursts")}};
}

}  // namespace

int cmd_bench(int argc, const char* const* argv) {
  for (int i = 0; i < argc; ++i)
    if (std::strcmp(argv[i], "--export") == 0) return bench_export(argc, argv);
  bool help = false;
  Options o = parse(argc, argv, &help);
  if (help) {
    std::fputs(kBenchHelp, stdout);
    return 0;
  }

  // GL first: without a headless context there is nothing to measure the draw stage on.
  gl::ContextOptions copt;
  copt.width = copt.height = 64;  // the passes render into their own targets
  copt.vsync = false;
  std::unique_ptr<gl::Context> ctx = gl::create_headless_context(copt);
  ui::ResultTextures textures;
  ui::DisplayOptions display;

  Pipeline pipe(o.pipe, o.view);
  // A second copy of the model for the bare rate, loaded with the same options. Everything it
  // runs runs on the pipeline's worker thread, between frames: a second OpenMP master thread
  // would slow both (util/off_thread.h).
  std::unique_ptr<BareModel> bare_ptr;
  pipe.run_on_worker([&] { bare_ptr = std::make_unique<BareModel>(o); });
  BareModel& bare = *bare_ptr;
  auto bare_step_ms = [&] {
    double ms = 0;
    pipe.run_on_worker([&] { ms = bare.step_ms(); });
    return ms;
  };
  const int threads =
      o.pipe.threads > 0 ? o.pipe.threads : static_cast<int>(std::thread::hardware_concurrency());
  at::set_num_threads(threads);  // process-wide: the worker's intra-op pool follows it
  const capture::SourceInfo src = pipe.source_info();
  if (src.frame_count == 1)
    throw Error("bench needs a moving input; '" + o.pipe.input +
                "' is a single image (use a video, a folder or synthetic)");
  const int64_t n_src = src.frame_count;  // -1: endless
  const bool seekable = src.seekable && !src.live;
  const int total = o.warmup + o.frames;
  const auto timeout = std::chrono::seconds(600);

  StageTable stages(static_cast<size_t>(o.frames));
  std::vector<double> inference_ms, bare_ms;
  std::vector<Clock::time_point> done(static_cast<size_t>(total));
  inference_ms.reserve(static_cast<size_t>(o.frames));
  bare_ms.reserve(static_cast<size_t>(o.frames));
  uint64_t bytes_h2d = 0, bytes_d2h = 0, bytes_h2gl = 0, bytes_d2gl = 0, bytes_maps_d2h = 0;
  long tex_alloc_start = 0, gl_objects_start = 0;
  double pipeline_ms = 0;  // sum of the timed frame intervals
  std::shared_ptr<const FrameResult> first;
  uint64_t last_serial = 0;

  for (int i = 0; i < total; ++i) {
    std::shared_ptr<const FrameResult> r;
    if (seekable) {
      r = pipe.wait_current(timeout);
    } else {
      // Live sources: wait for a result newer than the last one shown.
      const auto deadline = Clock::now() + timeout;
      while (Clock::now() < deadline) {
        r = pipe.latest();
        if (r && r->serial != last_serial) break;
        std::this_thread::sleep_for(std::chrono::microseconds(200));
        r.reset();
      }
    }
    if (!r) throw Error("no result from the pipeline within 600 s (" + pipe.status() + ")");
    if (!r->error.empty()) throw Error(r->error);
    last_serial = r->serial;
    if (i == 0) {
      first = r;
      pipe.run_on_worker([&] { bare.prepare(r->params.layer, *r->frame); });
      for (int k = 0; k < std::max(1, o.warmup); ++k) bare_step_ms();
    }
    // One bare-model step per timed frame, taken on the worker while it has nothing else to do:
    // the two rates are sampled under the same machine load, however it drifts (a shared
    // machine's load swings both by 2x within seconds). Its time is taken out of the interval.
    double bare_step = 0;
    if (i >= o.warmup) {
      const auto b0 = Clock::now();
      bare_ms.push_back(bare_step_ms());
      bare_step = ms_between(b0, Clock::now());
    }
    // Ask for the next frame before drawing this one: the capture thread decodes it and the
    // worker explains it while this thread uploads and draws.
    if (seekable && i + 1 < total) pipe.seek(n_src > 0 ? (i + 1) % n_src : i + 1);

    const auto t0 = Clock::now();
    textures.update(r, display);
    glFinish();  // the draw is done when the GPU (or llvmpipe) is done, not when it is queued
    done[static_cast<size_t>(i)] = Clock::now();
    if (i == std::max(0, o.warmup - 1)) {
      tex_alloc_start = textures.bridge().allocations();
      gl_objects_start = gl::object_counts().total();
    }
    if (i < o.warmup) continue;

    double infer = 0;
    for (const auto& [name, ms] : r->timings_ms) {
      stages.add(name, ms);
      if (name == "forward" || name == "backward" || name == "weights" || name == "postprocess")
        infer += ms;
    }
    inference_ms.push_back(infer);
    const double upload = textures.upload_ms();
    stages.add("upload", upload);
    stages.add("draw", ms_between(t0, done[static_cast<size_t>(i)]) - upload);
    if (i > 0) {
      const double interval =
          ms_between(done[static_cast<size_t>(i) - 1], done[static_cast<size_t>(i)]) - bare_step;
      stages.add("frame", interval);
      pipeline_ms += interval;
    }

    const gpu::TransferStats& tr = textures.bridge().last_frame();
    const uint64_t frame_rgb = r->frame ? r->frame->rgb.size() : 0;
    bytes_h2d += r->bytes_to_device + tr.host_to_device;
    bytes_d2h += r->bytes_to_host + tr.device_to_host;
    bytes_maps_d2h += r->map_bytes_to_host + tr.device_to_host;
    bytes_h2gl += frame_rgb + tr.host_to_gl;
    bytes_d2gl += tr.device_to_gl;
  }
  // End to end: completed frames per second over the timed frames (from the completion of the
  // last warm-up frame, or of frame 0 without warm-up).
  const int first_timed = std::max(1, o.warmup);
  const int intervals = total - first_timed;
  const double e2e_fps = intervals > 0 && pipeline_ms > 0 ? 1e3 * intervals / pipeline_ms : 0.0;
  const long tex_allocs = textures.bridge().allocations() - tex_alloc_start;
  const long gl_objects = gl::object_counts().total() - gl_objects_start;
  const PipelineStats pstats = pipe.stats();
  const std::string layer = first->params.layer;
  const std::vector<int64_t> act_shape = first->activation_shape;

  const Summary bare_s = summarize(bare_ms);
  const double bare_fps = bare_s.mean > 0 ? 1e3 / bare_s.mean : 0.0;

  Json scorecam;
  if (o.view.method == "scorecam" && act_shape.size() == 3) {
    const int batch = explain::Request{}.scorecam_batch;
    const int64_t K = act_shape[0];
    const int64_t passes = (K + batch - 1) / batch;
    std::vector<double> fwd;
    pipe.run_on_worker([&] {
      bare.batched_forward_ms(batch);  // warm-up
      for (int i = 0; i < 3; ++i) fwd.push_back(bare.batched_forward_ms(batch));
    });
    const Summary fs = summarize(fwd);
    const Summary is = summarize(inference_ms);
    scorecam = Json{{"channels", K},
                    {"batch", batch},
                    {"batched_forward_ms", fs.p50},
                    {"forward_passes", passes},
                    {"inference_ms_p50", is.p50},
                    {"cost_ratio", is.p50 / (static_cast<double>(passes) * fs.p50)},
                    {"cost_ratio_limit", 1.5}};
  }

  // The viewer at rest, after the live loop (so the two do not share the machine).
  Json idle;
  if (o.idle_s > 0) {
    idle = Json{{"seconds", o.idle_s},
                {"what", "camscope view, paused still picture after the first result, no input; "
                         "process CPU time (all threads) in % of one core"},
                {"target_cpu_percent", 2.0}};
    idle["headless"] = measure_idle(o, layer, false, o.idle_s);
    idle["window"] = gl::display_available() ? measure_idle(o, layer, true, o.idle_s)
                                             : Json{{"skipped", "no DISPLAY"}};
  }

  const double per = 1.0 / o.frames;
  Json out;
  out["tool"] = "camscope bench";
  out["version"] = CAMSCOPE_VERSION;
  out["model"] = o.pipe.model.empty() ? builtin_model_path() : o.pipe.model;
  out["input"] = o.pipe.input;
  out["source"] =
      Json{{"kind", src.kind}, {"size", {src.width, src.height}}, {"frame_count", src.frame_count}};
  out["method"] = o.view.method;
  out["layer"] = layer;
  out["target"] = o.view.target < 0 ? Json("top1") : Json(o.view.target);
  out["device"] = bare.model().device().str();
  out["device_name"] = bare.model().device_name();
  out["engine"] = o.pipe.engine;
  out["threads"] = threads;
  out["cores"] = std::thread::hardware_concurrency();
  out["load_average_1m"] = load_average();
  // libgomp's waiting policy decides how two OpenMP teams (the worker's and the bare model's)
  // share a busy machine: see bench/README.md.
  out["omp_wait_policy"] = env_or_empty("OMP_WAIT_POLICY");
  out["gl_renderer"] = ctx->renderer();
  out["frames"] = o.frames;
  out["warmup"] = o.warmup;
  out["grid"] =
      Json{{"channels", first->grid_channels_count()},
           {"tile", {first->grid_tile_width(), first->grid_tile_height()}},
           {"on_device", !first->device_grid.empty()}};
  Json st = Json::object();
  for (const auto& [name, v] : stages.rows()) st[name] = to_json(summarize(v));
  out["stages_ms"] = st;
  out["fps"] = e2e_fps;
  out["bare_model"] = Json{{"what", "forward + gradient of the target logit to the tap"},
                           {"ms", to_json(bare_s)},
                           {"fps", bare_fps},
                           {"interleaved", true}};
  out["ratio_to_bare"] = bare_fps > 0 ? e2e_fps / bare_fps : 0.0;
  // Medians shrug off the load spikes of a shared machine that dominate means.
  const Summary frame_s = summarize(stages.find("frame"));
  out["ratio_to_bare_p50"] = frame_s.p50 > 0 ? bare_s.p50 / frame_s.p50 : 0.0;
  out["bytes_per_frame"] = Json{{"host_to_device", static_cast<double>(bytes_h2d) * per},
                                {"device_to_host", static_cast<double>(bytes_d2h) * per},
                                {"maps_device_to_host", static_cast<double>(bytes_maps_d2h) * per},
                                {"host_to_gl", static_cast<double>(bytes_h2gl) * per},
                                {"device_to_gl", static_cast<double>(bytes_d2gl) * per}};
  out["steady_state"] = Json{{"texture_allocations", tex_allocs}, {"gl_objects_delta", gl_objects}};
  out["pipeline"] = Json{{"frames_decoded", pstats.frames_decoded},
                         {"frames_read_ahead", pstats.frames_read_ahead},
                         {"computed", pstats.computed},
                         {"cache_hits", pstats.cache_hits}};
  if (!scorecam.is_null()) out["scorecam"] = scorecam;
  if (!idle.is_null()) out["idle"] = idle;

  if (o.json) {
    std::printf("%s\n", out.dump(2).c_str());
    return 0;
  }
  std::printf(
      "camscope bench: %s, layer %s, %s on %s (%s engine, %d threads, %u cores, load %.1f)\n",
      o.view.method.c_str(), layer.c_str(), out["model"].get<std::string>().c_str(),
      bare.model().device_name().c_str(), o.pipe.engine.c_str(), threads,
      std::thread::hardware_concurrency(), out["load_average_1m"].get<double>());
  std::printf("input %s (%dx%d), %d frames after %d warm-up, grid %d channels, GL %s\n",
              o.pipe.input.c_str(), src.width, src.height, o.frames, o.warmup, first->grid_channels_count(),
              ctx->renderer().c_str());
  std::printf("  %-12s %9s %9s\n", "stage", "p50 ms", "p95 ms");
  for (const auto& [name, v] : stages.rows()) {
    const Summary s = summarize(v);
    std::printf("  %-12s %9.2f %9.2f\n", name.c_str(), s.p50, s.p95);
  }
  std::printf("  end to end %.2f fps\n", e2e_fps);
  std::printf("  %-12s %9.2f %9.2f   bare model %.2f fps (forward + gradient to the tap)\n", "bare",
              bare_s.p50, bare_s.p95, bare_fps);
  std::printf("end to end / bare model = %.3f (means), %.3f (medians)\n",
              out["ratio_to_bare"].get<double>(), out["ratio_to_bare_p50"].get<double>());
  std::printf(
      "bytes per frame: host->device %.0f, device->host %.0f, host->GL %.0f, device->GL %.0f\n",
      bytes_h2d * per, bytes_d2h * per, bytes_h2gl * per, bytes_d2gl * per);
  std::printf("steady state: %ld texture allocations, %+ld GL objects\n", tex_allocs, gl_objects);
  if (!idle.is_null()) {
    std::printf("idle viewer (paused, %.0f s after the first result, no input):", o.idle_s);
    for (const char* mode : {"headless", "window"}) {
      const Json& m = idle[mode];
      if (m.contains("skipped"))
        std::printf("  %s skipped (%s)", mode, m["skipped"].get<std::string>().c_str());
      else
        std::printf("  %s %.2f%% of one core (%llu redraws)", mode,
                    m["cpu_percent"].get<double>(),
                    static_cast<unsigned long long>(m["redraws"].get<uint64_t>()));
    }
    std::printf("\n");
  }
  if (!scorecam.is_null())
    std::printf(
        "score-cam: %.1f ms per frame = %.2f x (%lld batched forwards of %d, %.1f ms each)\n",
        scorecam["inference_ms_p50"].get<double>(), scorecam["cost_ratio"].get<double>(),
        static_cast<long long>(scorecam["forward_passes"].get<int64_t>()),
        scorecam["batch"].get<int>(), scorecam["batched_forward_ms"].get<double>());
  return 0;
}

}  // namespace camscope::app
