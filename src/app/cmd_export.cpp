// `camscope export`: headless batch export (DESIGN.md "Command line"): per frame the normalized
// map as .npy, optionally the raw attribution and an overlay (PNG or JPEG per frame, or one MP4),
// plus a summary.json. Nothing is overwritten without --force.
//
// Pipelined: a decode thread reads (and, for CPU models, preprocesses) frames ahead into a
// bounded queue; the calling thread runs the model (the only thread that runs ATen ops, so the
// only OpenMP master); a small pool writes the files (app/export_writer.h) and commits frames in
// source order. Memory is bounded by the two queues however long the input.
// SIGINT/SIGTERM stop it cleanly: frames computed are written, summary.json lists exactly the
// frames on disk (every file is whole: written under a temporary name, then renamed), and
// --resume continues from there.
#include <signal.h>
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include "app/bounded_queue.h"
#include "app/commands.h"
#include "app/export_methods.h"
#include "app/export_run.h"
#include "app/export_writer.h"
#include "capture/frame_source.h"
#include "explain/explain.h"
#include "explain/sanity.h"
#include "model/model.h"
#include "model/preprocess.h"
#include "render/colormap.h"
#include "util/args.h"
#include "util/class_target.h"
#include "util/error.h"
#include "util/frame_range.h"
#include "util/fs.h"
#include "util/json.h"
#include "util/log.h"

namespace camscope::app {
namespace {

const char* kExportHelp =
    "usage: camscope export --input SRC --out DIR [options]\n"
    "  --model PATH          TorchScript model (default: the built-in model)\n"
    "  --model-config PATH   sidecar JSON (default: M.json beside M.pt)\n"
    "  --input SRC           image, folder, video, webcam:N, synthetic[:seed]\n"
    "  --frames A:B          half-open range of source frame indices\n"
    "  --layer PATH          module path (default: the model's default layer)\n"
    "  --method NAME[,NAME]  activation cam gradcam gradcampp xgradcam layercam scorecam\n"
    "                        eigencam saliency gradxinput smoothgrad intgrad guidedbp\n"
    "                        guidedgradcam hirescam gradcamelementwise eigengradcam\n"
    "                        ablationcam fem kpcacam shapleycam finercam randomcam\n"
    "                        smoothgradcampp (default gradcam); several, comma-separated:\n"
    "                        one pass where they share it, files in DIR/<method>/\n"
    "  --metrics             faithfulness per frame in summary.json (drop, increase,\n"
    "                        deletion, insertion AUC, stability) and their means\n"
    "  --target top1|INDEX|LABEL   class to explain (default top1)\n"
    "  --device auto|cpu|cuda\n"
    "  --engine exact|fast   exact (default): the model's own ops; fast: weights frozen and\n"
    "                        folded, oneDNN on the CPU where no gradient passes (~1e-6 rel.)\n"
    "  --batch N|auto        frames per forward/backward (default auto: 4 for activation,\n"
    "                        gradcam, gradcampp, xgradcam, layercam; 1 otherwise). Methods\n"
    "                        that do not batch (the others) run one frame at a time whatever\n"
    "                        N says. Maps equal the unbatched ones to float rounding.\n"
    "  --raw                 also write raw_%06d.npy (before normalization)\n"
    "  --overlay png|jpg|mp4|none  overlay output (default png)\n"
    "  --png-level N         PNG zlib level 0..9 (default 1: fast, lossless all the same)\n"
    "  --jpeg-quality Q      JPEG overlays' quality 1..100 (default 90)\n"
    "  --colormap NAME       jet turbo viridis inferno gray (default jet)\n"
    "  --alpha X             overlay opacity in [0, 1] (default 0.5)\n"
    "  --seed S              SmoothGrad noise / randomization seed (default 0)\n"
    "  --writers N           threads that encode and write files (default: 2, more on\n"
    "                        machines with more than 4 cores)\n"
    "  --sanity              also run the parameter-randomization sanity check (Adebayo et\n"
    "                        al. 2018) on the first frame: sanity.json + a table on stdout\n"
    "  --force               overwrite existing files in DIR\n"
    "  --resume              continue an interrupted export into DIR: frames its summary.json\n"
    "                        lists (with their files present) are kept, the rest computed;\n"
    "                        the options must be the ones it was started with\n"
    "SIGINT/SIGTERM stop cleanly: every file in DIR is whole, summary.json lists exactly the\n"
    "frames written; exit status 130 (SIGINT) or 143 (SIGTERM).\n";

using Clock = std::chrono::steady_clock;
double ms_since(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

double parse_alpha(const std::string& s) {
  char* end = nullptr;
  double v = std::strtod(s.c_str(), &end);
  if (s.empty() || *end != '\0' || !(v >= 0.0 && v <= 1.0))
    throw Error("--alpha expects a number in [0, 1], got '" + s + "'");
  return v;
}

int parse_int_in(const Args& args, const std::string& key, int def, int lo, int hi) {
  if (!args.has(key)) return def;
  const std::string s = args.get(key);
  char* end = nullptr;
  const long v = std::strtol(s.c_str(), &end, 10);
  if (s.empty() || *end != '\0' || v < lo || v > hi)
    throw Error("--" + key + " expects a whole number in " + std::to_string(lo) + ".." +
                std::to_string(hi) + ", got '" + s + "'");
  return static_cast<int>(v);
}

std::string default_model_path() {
#ifdef CAMSCOPE_ASSET_DIR
  return std::string(CAMSCOPE_ASSET_DIR) + "/builtin.pt";
#else
  return "assets/builtin.pt";
#endif
}

// SIGINT / SIGTERM: remembered here, acted on by the export loop. The first signal restores
// the default action, so a second one ends the process at once.
std::atomic<int> g_stop_signal{0};
extern "C" void on_stop_signal(int sig) {
  g_stop_signal.store(sig);
  ::signal(sig, SIG_DFL);
}
class StopSignals {
 public:
  StopSignals() {
    g_stop_signal.store(0);
    struct sigaction sa {};
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    ::sigaction(SIGINT, &sa, &m_old_int);
    ::sigaction(SIGTERM, &sa, &m_old_term);
  }
  ~StopSignals() {
    ::sigaction(SIGINT, &m_old_int, nullptr);
    ::sigaction(SIGTERM, &m_old_term, nullptr);
  }
  static int raised() { return g_stop_signal.load(); }

 private:
  struct sigaction m_old_int {}, m_old_term {};
};

// Frames, rate and time left on stderr; called from the committing writer thread and (for
// warnings) the model's thread.
class Progress {
 public:
  Progress(int64_t total, int64_t already) : m_total(total), m_already(already), m_t0(Clock::now()) {}
  ~Progress() { interrupt(); }
  // Ends the bar's line so a message (a warning, the final error) starts on its own.
  void interrupt() {
    std::lock_guard<std::mutex> lock(m_mutex);
    if (m_open) std::fputc('\n', stderr);
    m_open = false;
  }
  void update(int64_t done) {
    std::lock_guard<std::mutex> lock(m_mutex);
    if (m_total <= 1) return;
    const auto now = Clock::now();
    if (done < m_total && m_drawn && now - m_last < std::chrono::milliseconds(100)) return;
    m_last = now;
    m_drawn = true;
    m_open = done < m_total;
    const int width = 30;
    const int fill = static_cast<int>(width * std::min(done, m_total) / m_total);
    const double s = std::chrono::duration<double>(now - m_t0).count();
    const double fps = s > 0 ? static_cast<double>(done - m_already) / s : 0.0;
    char eta[32] = "--:--";
    if (fps > 0) {
      const long left = static_cast<long>((m_total - done) / fps + 0.5);
      std::snprintf(eta, sizeof eta, "%ld:%02ld:%02ld", left / 3600, left / 60 % 60, left % 60);
    }
    std::fprintf(stderr, "\r[%.*s%*s] %lld/%lld frames, %.1f fps, ETA %s ", fill,
                 "##############################", width - fill, "", static_cast<long long>(done),
                 static_cast<long long>(m_total), fps, eta);
    if (done >= m_total) std::fputc('\n', stderr);
    std::fflush(stderr);
  }

 private:
  std::mutex m_mutex;
  int64_t m_total, m_already;
  Clock::time_point m_t0, m_last;
  bool m_open = false, m_drawn = false;
};

// Cascading randomization on one frame: a table on stdout and sanity.json.
void write_sanity(const std::string& path, model::Model& model, const torch::Tensor& x,
                  explain::Request req, int64_t target) {
  req.target = target;
  explain::SanityReport rep = explain::sanity_check(model, x, req, req.seed);
  Json j;
  j["method"] = rep.method;
  j["layer"] = rep.layer;
  j["target"] = rep.target;
  j["seed"] = req.seed;
  j["steps"] = Json::array();
  std::printf("sanity check (cascading randomization), method %s, layer %s, target %lld\n",
              rep.method.c_str(), rep.layer.c_str(), static_cast<long long>(rep.target));
  std::printf("%-28s %10s %14s\n", "randomized down to", "spearman", "spearman_abs");
  for (const auto& s : rep.steps) {
    j["steps"].push_back(
        {{"block", s.block}, {"spearman", s.spearman}, {"spearman_abs", s.spearman_abs}});
    std::printf("%-28s %10.4f %14.4f\n", s.block.c_str(), s.spearman, s.spearman_abs);
  }
  std::fflush(stdout);
  write_json_file(path, j);
}

// What the decode thread hands the model's thread.
struct Decoded {
  enum class Kind { Frame, Skipped, End, Failed } kind = Kind::End;
  capture::Frame frame;
  std::vector<float> input;  // preprocessed [C, H, W] (CPU models), else empty
  double decode_ms = 0, preprocess_ms = 0;
  int64_t index = -1;  // Skipped
  std::exception_ptr error;
};

struct DecodePlan {
  FrameRange range;
  int64_t total = 0;              // frames in the range
  const std::set<int64_t>* done;  // indices already exported (--resume): not handed over
  bool preprocess = false;        // CPU model: preprocess here
  model::InputSpec spec;
};

// The decode thread's body: frames of the range, in order, with the frames the source could not
// decode reported as Skipped (DESIGN.md: never dropped silently).
void decode_frames(capture::FrameSource& source, const DecodePlan& plan,
                   BoundedQueue<Decoded>& queue) {
  const capture::SourceInfo& info = source.info();
  const FrameRange& range = plan.range;
  int64_t start = range.begin;
  while (plan.done->count(start) && range.contains(start)) ++start;
  int64_t expected = start;  // the next index a clean source would hand out
  int64_t handled = start - range.begin;
  bool open = true;
  auto report_skipped = [&](int64_t upto) {  // frames [expected, upto) did not come
    if (info.frame_count < 0 || info.live) return;  // no numbering to miss frames of
    for (; open && expected < upto; ++expected) {
      if (!range.contains(expected) || plan.done->count(expected)) continue;
      Decoded d;
      d.kind = Decoded::Kind::Skipped;
      d.index = expected;
      open = queue.push(std::move(d));
      ++handled;
    }
  };
  capture::Frame frame;
  auto t0 = Clock::now();
  bool have = false;
  if (!range.contains(start) || (plan.total > 0 && start >= range.begin + plan.total)) {
    // --resume of a finished export: nothing left to read.
  } else if (start > 0 && info.seekable) {
    // A damaged first frame is skipped like any other, not the end of the export.
    have = source.seek(start, frame) || source.next(frame);
  } else {
    while ((have = source.next(frame)) && frame.index < start) {
    }
  }
  while (open && have && range.contains(frame.index) && !StopSignals::raised()) {
    report_skipped(frame.index);
    expected = frame.index + 1;
    if (!plan.done->count(frame.index)) {
      Decoded d;
      d.kind = Decoded::Kind::Frame;
      d.decode_ms = ms_since(t0);
      if (plan.preprocess) {
        const auto t1 = Clock::now();
        d.input.resize(static_cast<size_t>(plan.spec.channels()) * plan.spec.height *
                       plan.spec.width);
        model::preprocess_rgb_cpu(frame.rgb.data(), frame.width, frame.height, plan.spec,
                                  d.input.data());
        d.preprocess_ms = ms_since(t1);
      }
      d.frame = std::move(frame);
      frame = capture::Frame();
      if (!open || !(open = queue.push(std::move(d)))) break;
    }
    if (plan.total > 0 && ++handled >= plan.total) break;
    t0 = Clock::now();
    have = source.next(frame);
  }
  if (open && !StopSignals::raised() && (!have || !range.contains(frame.index)))
    // The source ended (or jumped) before the range did.
    report_skipped(range.end >= 0 ? std::min(range.end, info.frame_count) : info.frame_count);
  Decoded end;
  end.kind = Decoded::Kind::End;
  queue.push(std::move(end));
}

std::vector<float> to_host_floats(const torch::Tensor& t) {
  auto c = t.detach().to(torch::kCPU, torch::kFloat).contiguous();
  return std::vector<float>(c.data_ptr<float>(), c.data_ptr<float>() + c.numel());
}

// The options that decide the files' contents: stored in summary.json so --resume can refuse
// to mix two different exports in one folder.
Json resume_key(const Args& args, const std::string& input, const FrameRange& range,
                const std::string& model_path, const std::string& layer,
                const explain::Request& req, const std::string& overlay, bool raw,
                const DecodeOptions& decode) {
  Json j;
  j["input"] = input;
  j["frames"] = {range.begin, range.end};
  j["model"] = model_path;
  j["model_config"] = args.get("model-config");
  j["layer"] = layer;
  j["method"] = explain::method_name(req.method);
  j["target"] = args.get("target", "top1");
  j["device"] = args.get("device", "auto");
  j["engine"] = args.get("engine", "exact");
  j["seed"] = req.seed;
  j["raw"] = raw;
  j["overlay"] = overlay;
  j["colormap"] = args.get("colormap", "jet");
  j["alpha"] = args.get("alpha", "0.5");
  if (overlay == "jpg") j["jpeg_quality"] = args.get("jpeg-quality", "90");
  j["exif_orientation"] = decode.apply_exif_orientation ? "apply" : "ignore";
  return j;
}

}  // namespace

long resident_kb() {
  std::FILE* f = std::fopen("/proc/self/status", "r");
  if (!f) return -1;
  char line[256];
  long kb = -1;
  while (std::fgets(line, sizeof line, f))
    if (std::sscanf(line, "VmRSS: %ld kB", &kb) == 1) break;
  std::fclose(f);
  return kb;
}

double process_cpu_s() {
  struct rusage ru {};
  ::getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         1e-6 * static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
}

int cmd_export(int argc, const char* const* argv) { return run_export(argc, argv, nullptr); }

int run_export(int argc, const char* const* argv, ExportHooks* hooks) {
  std::set<std::string> value_opts = {
      "model", "model-config", "input", "frames", "layer", "method", "target", "device",
      "overlay", "colormap", "alpha", "out", "seed", "engine", "batch", "jpeg-quality",
      "png-level", "writers"};
  value_opts.insert(kDecodeValueOpts.begin(), kDecodeValueOpts.end());
  Args args(argc, argv, value_opts, {"raw", "force", "help", "sanity", "resume", "metrics"});
  if (args.flag("help")) {
    std::fputs(kExportHelp, stdout);
    std::fputs(kDecodeHelp, stdout);
    return 0;
  }
  if (!args.positional().empty())
    throw Error("export: unexpected argument '" + args.positional()[0] + "'");

  // Everything that can be checked without the model or the input, first.
  const std::string out = args.get("out");
  if (out.empty()) throw Error("export needs --out DIR");
  const std::string input = args.get("input");
  if (input.empty())
    throw Error("export needs --input SRC (image, folder, video, webcam:N, synthetic[:seed])");
  explain::Request req;
  ExportMethods methods(parse_method_list(args.get("method", "gradcam")), args.flag("metrics"));
  req.method = methods.methods()[0];
  // Several methods (one shared pass per frame) or metrics (per frame, in order): no batching.
  const bool per_frame = methods.several() || args.flag("metrics");
  req.layer = args.get("layer");
  const std::string target_spec = args.get("target", "top1");  // resolved once labels are known
  if (args.has("seed")) {
    const std::string s = args.get("seed");
    char* end = nullptr;
    unsigned long long v = std::strtoull(s.c_str(), &end, 10);
    if (s.empty() || *end != '\0' || s[0] == '-')
      throw Error("--seed expects an integer >= 0, got '" + s + "'");
    req.seed = v;
  }
  const render::Lut lut = render::colormap_lut(render::parse_colormap(args.get("colormap", "jet")));
  const double alpha = parse_alpha(args.get("alpha", "0.5"));
  OverlayKind overlay_kind;
  const std::string ov = args.get("overlay", "png");
  if (ov == "png")
    overlay_kind = OverlayKind::Png;
  else if (ov == "jpg" || ov == "jpeg")
    overlay_kind = OverlayKind::Jpg;
  else if (ov == "mp4")
    overlay_kind = OverlayKind::Mp4;
  else if (ov == "none")
    overlay_kind = OverlayKind::None;
  else
    throw Error("--overlay expects png, jpg, mp4 or none, got '" + ov + "'");
  if (overlay_kind == OverlayKind::Jpg && !have_jpeg_encoder())
    throw Error("--overlay jpg: this build has no JPEG encoder (libjpeg missing)");
  const std::string ov_name = overlay_kind == OverlayKind::Jpg ? "jpg" : ov;
  const int jpeg_quality = parse_int_in(args, "jpeg-quality", 90, 1, 100);
  const int png_level = parse_int_in(args, "png-level", 1, 0, 9);
  const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  const int writers =
      parse_int_in(args, "writers", static_cast<int>(std::clamp(cores / 2, 2u, 8u)), 1, 64);
  int batch = 0;  // 0 = auto
  if (args.has("batch") && args.get("batch") != "auto")
    batch = parse_int_in(args, "batch", 1, 1, 256);
  FrameRange range;
  if (args.has("frames")) range = parse_frame_range(args.get("frames"));
  const bool force = args.flag("force"), raw = args.flag("raw"), sanity = args.flag("sanity");
  const bool resume = args.flag("resume");
  if (resume && force) throw Error("--resume and --force do not go together");
  if (resume && methods.several())
    throw Error("--resume continues a one-method export; run each method on its own to resume");
  if (resume && overlay_kind == OverlayKind::Mp4)
    throw Error("--resume cannot append to overlay.mp4; use --overlay png, jpg or none");
  capture::SourceOptions source_opt;
  source_opt.decode = parse_decode_options(args);
  // Frames are read once, in order: the viewer's 512 MiB scrubbing cache would only hold memory
  // (it fills over the first ~700 frames of a 640x360 video). Enough for the read-ahead.
  source_opt.cache_mb = 96;

  model::Model::Options mopt;
  mopt.path = args.get("model");
  if (mopt.path.empty()) {
    mopt.path = default_model_path();
    if (!std::filesystem::exists(mopt.path))
      throw Error("built-in model " + mopt.path + " not found; pass --model PATH");
  }
  mopt.config_path = args.get("model-config");
  mopt.device = args.get("device", "auto");
  mopt.optimization = model::parse_engine(args.get("engine", "exact"));

  auto source = capture::open_source(input, source_opt);
  const capture::SourceInfo& info = source->info();
  if (info.frame_count < 0 && range.end < 0)
    throw Error("input '" + input + "' has no end; pass --frames A:B");
  const int64_t total = range.size(info.frame_count);
  if (total == 0)
    throw Error("--frames selects no frames of '" + input + "' (" +
                std::to_string(info.frame_count) + " frames)");

  auto model = model::Model::load(mopt);
  {
    std::vector<std::string> labels;
    for (int64_t c = 0; c < model->num_classes(); ++c) labels.push_back(model->label(c));
    req.target = resolve_target(target_spec, labels);
  }
  if (req.target >= model->num_classes())
    throw Error("target class " + std::to_string(req.target) + " out of range: the model has " +
                std::to_string(model->num_classes()) + " classes (0.." +
                std::to_string(model->num_classes() - 1) + ")");
  if (req.layer.empty()) req.layer = model->default_layer();
  model->layer(req.layer);  // nonexistent layer: fail before any frame is decoded
  if (batch == 0) batch = explain::batchable(req.method) ? 4 : 1;
  if (!explain::batchable(req.method) || per_frame) batch = 1;

  namespace stdfs = std::filesystem;
  auto in_out = [&](const std::string& name) { return (stdfs::path(out) / name).string(); };
  const std::string summary_path = in_out("summary.json"), mp4_path = in_out("overlay.mp4");
  const std::string sanity_path = in_out("sanity.json");
  const char* overlay_pattern = overlay_kind == OverlayKind::Png   ? "overlay_%06d.png"
                                : overlay_kind == OverlayKind::Jpg ? "overlay_%06d.jpg"
                                                                   : nullptr;
  const Json key = resume_key(args, input, range, model->path(), req.layer, req, ov_name, raw,
                              source_opt.decode);

  // --resume: the frames the earlier run finished (listed, files present) are kept as they are.
  std::set<int64_t> done_indices;
  std::vector<Json> kept;  // their summary entries, in index order
  if (resume) {
    if (!file_exists(summary_path))
      throw Error("--resume: " + summary_path + " not found (nothing to resume; drop --resume)");
    const Json old = read_json_file(summary_path);
    if (!old.is_object() || !old.contains("export_options") || !old.contains("frames") ||
        !old["frames"].is_array())
      throw Error("--resume: " + summary_path + " was not written by a resumable export");
    const Json& was = old["export_options"];
    for (const auto& item : key.items()) {
      const Json there = was.contains(item.key()) ? was[item.key()] : Json();
      if (there != item.value())
        throw Error("--resume: option '" + item.key() + "' differs from " + summary_path + " (" +
                    there.dump() + " there, " + item.value().dump() + " now); use --force to " +
                    "start over");
    }
    for (const Json& f : old["frames"]) {
      if (!f.is_object() || !f.contains("index") || !f["index"].is_number_integer()) continue;
      const int64_t i = f["index"].get<int64_t>();
      if (!range.contains(i) || done_indices.count(i)) continue;
      bool present = f.value("skipped", false);
      if (!present) {
        present = file_exists(in_out(format_index("cam_%06d.npy", i))) &&
                  (!raw || file_exists(in_out(format_index("raw_%06d.npy", i)))) &&
                  (!overlay_pattern || file_exists(in_out(format_index(overlay_pattern, i))));
      }
      if (!present) continue;
      done_indices.insert(i);
      kept.push_back(f);
    }
    // Whole batches only: a batch with a frame missing is computed again, all of it.
    std::set<int64_t> partial_blocks;
    for (int64_t i = range.begin; i < range.begin + total; ++i)
      if (!done_indices.count(i)) partial_blocks.insert((i - range.begin) / batch);
    std::vector<Json> whole;
    for (auto& f : kept) {
      const int64_t i = f["index"].get<int64_t>();
      if (partial_blocks.count((i - range.begin) / batch))
        done_indices.erase(i);
      else
        whole.push_back(std::move(f));
    }
    kept = std::move(whole);
    std::sort(kept.begin(), kept.end(), [](const Json& a, const Json& b) {
      return a["index"].get<int64_t>() < b["index"].get<int64_t>();
    });
  } else {
    // Refuse to overwrite before writing anything.
    ensure_directory(out);
    methods.make_dirs(out);
    check_writable(summary_path, force);
    if (sanity) check_writable(sanity_path, force);
    for (const explain::Method m : methods.methods()) {
      auto in_m = [&](const std::string& name) { return methods.path(out, m, name); };
      if (overlay_kind == OverlayKind::Mp4) check_writable(in_m("overlay.mp4"), force);
      for (int64_t i = range.begin; total > 0 && i < range.begin + total; ++i) {
        check_writable(in_m(format_index("cam_%06d.npy", i)), force);
        if (raw) check_writable(in_m(format_index("raw_%06d.npy", i)), force);
        if (overlay_pattern) check_writable(in_m(format_index(overlay_pattern, i)), force);
      }
    }
  }

  Json summary;
  summary["model"] = model->path();
  summary["layer"] = req.layer;
  methods.describe(summary);
  summary["device"] = model->device_name();
  summary["engine"] = model::engine_name(mopt.optimization);
  summary["export_options"] = key;
  // The per-frame entries go to disk as they come: held in memory they grew the process by
  // ~3-4 KB per frame, without bound on long runs.
  JsonArrayWriter frames(summary_path, "frames");

  if (hooks && hooks->before) hooks->before(*model, req, batch);
  // Long methods (scorecam, smoothgrad, intgrad) stop at their next batch on SIGINT/SIGTERM.
  req.progress = [](int64_t, int64_t, const char*) { return StopSignals::raised() == 0; };
  StopSignals stop_signals;
  Progress progress(total, static_cast<int64_t>(kept.size()));
  int64_t committed = static_cast<int64_t>(kept.size()), computed = 0, skipped = 0;
  for (const Json& f : kept) skipped += f.value("skipped", false) ? 1 : 0;
  const int64_t kept_skipped = skipped;
  size_t next_kept = 0;
  auto flush_kept = [&](int64_t below) {  // the earlier run's entries, merged in index order
    for (; next_kept < kept.size() && kept[next_kept]["index"].get<int64_t>() < below; ++next_kept)
      frames.add(kept[next_kept]);
  };

  ExportWriterOptions wopt;
  wopt.out_dir = out;
  wopt.overlay = overlay_kind;
  wopt.lut_rgba = lut.data();
  wopt.alpha = alpha;
  wopt.png.level = png_level;
  wopt.jpeg_quality = jpeg_quality;
  wopt.mp4_fps = info.fps;
  wopt.threads = writers;
  wopt.capacity = std::max(2 * writers + 2, 2 * batch);
  const auto t_start = Clock::now();
  wopt.on_commit = [&](ExportJob& j) {
    flush_kept(j.index);
    frames.add(j.entry);
    ++committed;
    progress.update(committed);
    if (hooks) {
      hooks->commit_s.push_back(ms_since(t_start) / 1000.0);
      hooks->commit_cpu_s.push_back(process_cpu_s());
      if (hooks->rss_every > 0 && committed % hooks->rss_every == 0)
        hooks->rss_kb.emplace_back(committed, resident_kb());
    }
  };

  DecodePlan plan;
  plan.range = range;
  plan.total = total;
  plan.done = &done_indices;
  plan.preprocess = model->device().is_cpu();
  plan.spec = model->sidecar().input;
  BoundedQueue<Decoded> queue(static_cast<size_t>(std::max(4, 2 * batch)));
  std::thread decoder;
  // Stops the decode thread on every way out (error, signal, end).
  struct DecoderGuard {
    BoundedQueue<Decoded>& q;
    std::thread& t;
    ~DecoderGuard() {
      q.close();
      if (t.joinable()) t.join();
    }
  } decoder_guard{queue, decoder};
  // Several methods: the first method's files go to its folder too (DIR/<method>/).
  wopt.out_dir = stdfs::path(methods.path(out, methods.methods()[0], "x")).parent_path().string();
  auto writer = std::make_unique<ExportWriter>(wopt);
  // Several methods: one writer pool per method folder; only the first commits summary entries.
  std::vector<std::unique_ptr<ExportWriter>> more_writers;
  for (size_t mi = 1; mi < methods.methods().size(); ++mi) {
    ExportWriterOptions o = wopt;
    o.out_dir = stdfs::path(methods.path(out, methods.methods()[mi], "x")).parent_path().string();
    o.on_commit = nullptr;
    o.threads = 1;
    more_writers.push_back(std::make_unique<ExportWriter>(o));
  }
  decoder = std::thread([&] {
    try {
      decode_frames(*source, plan, queue);
    } catch (...) {
      Decoded d;
      d.kind = Decoded::Kind::Failed;
      d.error = std::current_exception();
      queue.push(std::move(d));
    }
  });

  const model::InputSpec& spec = model->sidecar().input;
  bool sanity_done = resume && file_exists(sanity_path);
  // A frame's map (and raw attribution) and where it lies, for the writers.
  auto fill_files = [&](ExportJob& job, const explain::Result& r,
                        const model::InputGeometry& geometry, const capture::Frame& frame) {
    job.map = to_host_floats(r.map);
    job.map_h = static_cast<int>(r.map.size(0));
    job.map_w = static_cast<int>(r.map.size(1));
    if (raw) {
      job.raw = to_host_floats(r.raw);
      job.raw_shape = r.raw.sizes().vec();
    }
    job.geometry = geometry;
    job.width = frame.width;
    job.height = frame.height;
  };
  // Explains a batch of frames (one forward/backward when the method batches) and hands each
  // frame to the writers.
  auto compute = [&](std::vector<Decoded>& items) {
    if (items.empty()) return;
    std::vector<torch::Tensor> xs;
    std::vector<double> pre_ms;
    for (auto& d : items) {
      const auto t0 = Clock::now();
      if (!d.input.empty()) {
        xs.push_back(torch::from_blob(d.input.data(), {1, spec.channels(), spec.height, spec.width},
                                      torch::kFloat));
        pre_ms.push_back(d.preprocess_ms);
      } else {
        xs.push_back(model->preprocess(d.frame.rgb.data(), d.frame.width, d.frame.height));
        pre_ms.push_back(ms_since(t0));
      }
    }
    std::vector<explain::Result> results;
    std::vector<std::vector<explain::Result>> per_method;  // per_frame: every method's results
    try {
      if (per_frame) {
        for (const auto& x : xs) {
          per_method.push_back(methods.run(*model, x, req));
          results.push_back(per_method.back()[0]);
        }
      } else if (xs.size() > 1) {
        results = explain::explain_batch(*model, torch::cat(xs), req);
      } else {
        results.push_back(explain::explain(*model, xs[0], req));
      }
    } catch (const explain::Cancelled&) {  // a signal stopped a long method (scorecam, ...)
      items.clear();
      return;
    }
    for (size_t k = 0; k < items.size(); ++k) {
      Decoded& d = items[k];
      explain::Result& r = results[k];
      ExportJob job;
      job.index = d.frame.index;
      const model::InputGeometry geometry =
          model::input_geometry(d.frame.width, d.frame.height, spec);
      Json fj;
      fj["index"] = d.frame.index;
      fj["pts"] = d.frame.pts;
      if (!d.frame.file.empty()) fj["file"] = d.frame.file;  // folders: relative to the folder
      fj["source_size"] = {d.frame.width, d.frame.height};
      // The source pixels the map covers (cam_*.npy is at model input size): place it yourself
      // by mapping its [0, W_in] x [0, H_in] onto this box.
      fj["crop_box"] = {geometry.x0, geometry.y0, geometry.x1, geometry.y1};
      Json top = Json::array();
      for (const auto& [cls, p] : explain::top_classes(r.logits, 5))
        top.push_back({{"class", cls}, {"label", model->label(cls)}, {"score", p}});
      fj["top"] = top;
      fj["target"] = r.target;
      Json tj = Json::object();
      tj["decode"] = d.decode_ms;
      tj["preprocess"] = pre_ms[k];
      for (const auto& [name, ms] : r.timings_ms) {
        // A batch's stages are shared by its frames: each gets its share.
        const double share = ms / static_cast<double>(items.size());
        tj[name] = tj.contains(name) ? tj[name].get<double>() + share : share;
      }
      fj["timings_ms"] = tj;
      if (per_frame) methods.annotate(fj, per_method[k]);
      job.entry = std::move(fj);
      fill_files(job, r, geometry, d.frame);
      // The other methods' files, each through its own folder's writers.
      for (size_t mi = 1; per_frame && mi < per_method[k].size(); ++mi) {
        const explain::Result& rm = per_method[k][mi];
        ExportJob more;
        more.index = d.frame.index;
        fill_files(more, rm, geometry, d.frame);
        if (overlay_kind != OverlayKind::None) more.rgb = d.frame.rgb;
        more_writers[mi - 1]->submit(std::move(more));
      }
      if (overlay_kind != OverlayKind::None) job.rgb = std::move(d.frame.rgb);
      if (sanity && !sanity_done) {
        write_sanity(sanity_path, *model, xs[k], req, r.target);
        sanity_done = true;
      }
      ++computed;
      writer->submit(std::move(job));
    }
    items.clear();
  };

  // Batches are aligned to the range (frames begin + k*batch ...), never cut by timing, so a
  // run's maps do not depend on how fast frames arrived, and --resume recomputes whole batches:
  // its maps are byte for byte those of an uninterrupted run.
  auto block_of = [&](int64_t index) { return (index - range.begin) / batch; };
  std::vector<Decoded> pending;
  bool ended = false;
  while (!ended && !StopSignals::raised()) {
    Decoded d;
    if (!queue.pop(d, std::chrono::milliseconds(50))) continue;
    switch (d.kind) {
      case Decoded::Kind::Frame:
        if (!pending.empty() && block_of(pending.front().frame.index) != block_of(d.frame.index))
          compute(pending);
        pending.push_back(std::move(d));
        if (static_cast<int>(pending.size()) >= batch) compute(pending);
        break;
      case Decoded::Kind::Skipped: {
        compute(pending);
        const std::string why =
            "frame " + std::to_string(d.index) + " could not be decoded; skipped";
        progress.interrupt();
        log::warn(input + ": " + why);
        ExportJob job;
        job.index = d.index;
        job.skipped = true;
        job.entry["index"] = d.index;
        job.entry["skipped"] = true;
        job.entry["warnings"] = Json::array({why});
        ++skipped;
        for (auto& w : more_writers) {
          ExportJob none;
          none.index = d.index;
          none.skipped = true;
          w->submit(std::move(none));
        }
        writer->submit(std::move(job));
        break;
      }
      case Decoded::Kind::End:
        compute(pending);
        ended = true;
        break;
      case Decoded::Kind::Failed:
        std::rethrow_exception(d.error);
    }
  }
  const int sig = StopSignals::raised();
  // Stop reading ahead, then write what was computed.
  queue.close();
  if (decoder.joinable()) decoder.join();
  writer->finish();
  writer.reset();
  for (auto& w : more_writers) w->finish();
  more_writers.clear();
  // The earlier run's frames after the last new one (all of them when nothing was left to do,
  // or when interrupted: they are on disk all the same).
  flush_kept(std::numeric_limits<int64_t>::max());
  const int64_t kept_frames = static_cast<int64_t>(kept.size()) - kept_skipped;
  if (!sig && computed == 0 && kept_frames == 0)
    throw Error("no frames decoded from '" + input + "' in the requested range");
  const capture::DecoderStats ds = source->decoder_stats();
  Json tail = methods.tail();
  tail["source_stats"] = {{"skipped", skipped}, {"decoder_seeks", ds.seeks},
                          {"decoder_opens", ds.opens}};
  if (sig) tail["interrupted"] = true;
  frames.finish(summary, tail);
  if (!sig && hooks && hooks->after) hooks->after(*model, req, batch);
  if (sig) {
    progress.interrupt();
    std::fprintf(stderr,
                 "camscope: interrupted by %s: %lld of %lld frames written to %s (summary.json "
                 "lists them); add --resume to continue\n",
                 sig == SIGINT ? "SIGINT" : "SIGTERM", static_cast<long long>(frames.size()),
                 static_cast<long long>(total), out.c_str());
    return 128 + sig;
  }
  return 0;
}

}  // namespace camscope::app
