// `camscope export`: headless batch export (DESIGN.md "Command line"): per frame the normalized
// map as .npy, optionally the raw attribution and an overlay (PNG per frame or one MP4), plus a
// summary.json. Frames are processed in order; nothing is overwritten without --force.
#include <signal.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <set>
#include <string>

#include "app/commands.h"
#include "app/export_methods.h"
#include "capture/frame_source.h"
#include "explain/explain.h"
#include "explain/overlay.h"
#include "explain/sanity.h"
#include "model/model.h"
#include "model/preprocess.h"
#include "render/colormap.h"
#include "util/args.h"
#include "util/class_target.h"
#include "util/error.h"
#include "util/frame_range.h"
#include "util/fs.h"
#include "util/image_io.h"
#include "util/json.h"
#include "util/log.h"
#include "util/npy.h"

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
    "  --raw                 also write raw_%06d.npy (before normalization)\n"
    "  --overlay png|mp4|none  overlay output (default png)\n"
    "  --colormap NAME       jet turbo viridis inferno gray (default jet)\n"
    "  --alpha X             overlay opacity in [0, 1] (default 0.5)\n"
    "  --seed S              SmoothGrad noise / randomization seed (default 0)\n"
    "  --sanity              also run the parameter-randomization sanity check (Adebayo et\n"
    "                        al. 2018) on the first frame: sanity.json + a table on stdout\n"
    "  --force               overwrite existing files in DIR\n";

enum class OverlayKind { Png, Mp4, None };

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

std::string default_model_path() {
#ifdef CAMSCOPE_ASSET_DIR
  return std::string(CAMSCOPE_ASSET_DIR) + "/builtin.pt";
#else
  return "assets/builtin.pt";
#endif
}

// 'text' for /bin/sh, with embedded single quotes closed, escaped and reopened.
std::string shell_quote(const std::string& text) {
  std::string q = "'";
  for (char c : text) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

// Writes raw RGB frames into the ffmpeg CLI, which encodes H.264.
class Mp4Writer {
 public:
  Mp4Writer(const std::string& path, int width, int height, double fps)
      : m_path(path), m_width(width), m_height(height) {
    // yuv420p needs even sizes: pad by one pixel when odd rather than resizing the frames.
    std::string cmd = "ffmpeg -hide_banner -loglevel error -y -f rawvideo -pix_fmt rgb24 -s " +
                      std::to_string(width) + "x" + std::to_string(height) + " -r " +
                      std::to_string(fps > 0 ? fps : 25.0) +
                      " -i - -vf 'pad=ceil(iw/2)*2:ceil(ih/2)*2' -c:v libx264 -pix_fmt yuv420p " +
                      shell_quote(path);
    // A dead ffmpeg must turn into an error message, not a SIGPIPE that kills us.
    m_old_sigpipe = ::signal(SIGPIPE, SIG_IGN);
    m_pipe = ::popen(cmd.c_str(), "w");
    if (!m_pipe) throw Error("cannot start ffmpeg to write " + path);
  }
  ~Mp4Writer() {
    if (m_pipe) ::pclose(m_pipe);
    ::signal(SIGPIPE, m_old_sigpipe);
  }
  Mp4Writer(const Mp4Writer&) = delete;
  Mp4Writer& operator=(const Mp4Writer&) = delete;

  void write(const torch::Tensor& hwc_u8) {
    auto t = hwc_u8;
    if (t.size(0) != m_height || t.size(1) != m_width) {
      // Mixed frame sizes (a folder): fit each frame to the video's size.
      t = at::upsample_bilinear2d(t.permute({2, 0, 1}).unsqueeze(0).to(torch::kFloat),
                                  {m_height, m_width}, false, c10::nullopt, c10::nullopt)[0]
              .permute({1, 2, 0})
              .round()
              .clamp(0, 255)
              .to(torch::kUInt8);
    }
    t = t.contiguous();
    size_t n = static_cast<size_t>(t.numel());
    if (std::fwrite(t.data_ptr<uint8_t>(), 1, n, m_pipe) != n)
      throw Error("ffmpeg stopped accepting frames for " + m_path + " (is ffmpeg installed?)");
  }
  void close() {
    int st = ::pclose(m_pipe);
    m_pipe = nullptr;
    if (st != 0)
      throw Error("ffmpeg failed to write " + m_path + " (exit status " + std::to_string(st) + ")");
  }

 private:
  std::string m_path;
  int m_width, m_height;
  FILE* m_pipe = nullptr;
  void (*m_old_sigpipe)(int) = SIG_DFL;
};

class Progress {
 public:
  explicit Progress(int64_t total) : m_total(total), m_t0(Clock::now()) {}
  // An error or a short source ends the bar early: finish its line so the next message (the
  // one-line error) starts on its own.
  ~Progress() { interrupt(); }
  // Ends the bar's line so a message (a warning) starts on its own; the next update redraws it.
  void interrupt() {
    if (m_open) std::fputc('\n', stderr);
    m_open = false;
  }
  void update(int64_t done) {
    if (m_total <= 1) return;
    m_open = done < m_total;
    const int width = 30;
    int fill = static_cast<int>(width * done / m_total);
    double s = ms_since(m_t0) / 1000.0;
    std::fprintf(stderr, "\r[%.*s%*s] %lld/%lld frames, %.1f fps", fill,
                 "##############################", width - fill, "", static_cast<long long>(done),
                 static_cast<long long>(m_total), s > 0 ? done / s : 0.0);
    if (done == m_total) std::fputc('\n', stderr);
    std::fflush(stderr);
  }

 private:
  int64_t m_total;
  Clock::time_point m_t0;
  bool m_open = false;
};

void write_map_npy(const std::string& path, const torch::Tensor& t) {
  auto c = t.detach().to(torch::kCPU, torch::kFloat).contiguous();
  write_npy(path, c.data_ptr<float>(), c.sizes().vec());
}

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
  write_json_file(path, j);
}

}  // namespace

int cmd_export(int argc, const char* const* argv) {
  std::set<std::string> value_opts = {"model",   "model-config", "input", "frames", "layer",
                                      "method",  "target",       "device", "overlay", "colormap",
                                      "alpha",   "out",          "seed",   "engine"};
  value_opts.insert(kDecodeValueOpts.begin(), kDecodeValueOpts.end());
  Args args(argc, argv, value_opts, {"raw", "force", "help", "sanity", "metrics"});
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
  else if (ov == "mp4")
    overlay_kind = OverlayKind::Mp4;
  else if (ov == "none")
    overlay_kind = OverlayKind::None;
  else
    throw Error("--overlay expects png, mp4 or none, got '" + ov + "'");
  FrameRange range;
  if (args.has("frames")) range = parse_frame_range(args.get("frames"));
  const bool force = args.flag("force"), raw = args.flag("raw"), sanity = args.flag("sanity");
  capture::SourceOptions source_opt;
  source_opt.decode = parse_decode_options(args);

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

  // Refuse to overwrite before writing anything.
  ensure_directory(out);
  methods.make_dirs(out);
  namespace stdfs = std::filesystem;
  auto in_out = [&](const std::string& name) { return (stdfs::path(out) / name).string(); };
  const std::string summary_path = in_out("summary.json");
  const std::string sanity_path = in_out("sanity.json");
  check_writable(summary_path, force);
  if (sanity) check_writable(sanity_path, force);
  for (auto m : methods.methods()) {
    auto in_m = [&](const std::string& name) { return methods.path(out, m, name); };
    if (overlay_kind == OverlayKind::Mp4) check_writable(in_m("overlay.mp4"), force);
    for (int64_t i = range.begin; total > 0 && i < range.begin + total; ++i) {
      check_writable(in_m(format_index("cam_%06d.npy", i)), force);
      if (raw) check_writable(in_m(format_index("raw_%06d.npy", i)), force);
      if (overlay_kind == OverlayKind::Png)
        check_writable(in_m(format_index("overlay_%06d.png", i)), force);
    }
  }

  Json summary;
  summary["model"] = model->path();
  summary["layer"] = req.layer;
  methods.describe(summary);
  summary["device"] = model->device_name();
  summary["engine"] = model::engine_name(mopt.optimization);
  // The per-frame entries go to disk as they come: held in memory they grew the process by
  // ~3-4 KB per frame, without bound on long runs.
  JsonArrayWriter frames(summary_path, "frames");

  std::vector<std::unique_ptr<Mp4Writer>> mp4s(methods.methods().size());
  Progress progress(total);
  capture::Frame frame;
  int64_t done = 0, skipped = 0;
  // Frames of the range the source could not decode are not dropped silently: a warning line
  // each and an entry {"index", "skipped": true, "warnings"} in summary.json (DESIGN.md).
  int64_t expected = range.begin;  // the next index a clean source would hand out
  auto report_skipped = [&](int64_t upto) {  // frames [expected, upto) did not come
    if (info.frame_count < 0 || info.live) return;  // no numbering to miss frames of
    for (; expected < upto; ++expected) {
      if (!range.contains(expected)) continue;
      const std::string why = "frame " + std::to_string(expected) + " could not be decoded; skipped";
      progress.interrupt();
      log::warn(input + ": " + why);
      Json fj;
      fj["index"] = expected;
      fj["skipped"] = true;
      fj["warnings"] = Json::array({why});
      frames.add(fj);
      ++skipped;
    }
  };
  auto t_decode = Clock::now();
  bool have = false;
  if (range.begin > 0 && info.seekable) {
    // A damaged first frame is skipped like any other, not the end of the export.
    have = source->seek(range.begin, frame) || source->next(frame);
  } else {
    while ((have = source->next(frame)) && frame.index < range.begin) {
    }
  }
  while (have && range.contains(frame.index)) {
    report_skipped(frame.index);
    expected = frame.index + 1;
    std::map<std::string, double> timings;
    std::vector<std::string> order;
    auto add = [&](const std::string& k, double v) {
      if (!timings.count(k)) order.push_back(k);
      timings[k] += v;
    };
    add("decode", ms_since(t_decode));

    auto t0 = Clock::now();
    torch::Tensor x = model->preprocess(frame.rgb.data(), frame.width, frame.height);
    add("preprocess", ms_since(t0));
    const std::vector<explain::Result> results = methods.run(*model, x, req);
    const explain::Result& r = results[0];  // the first method's pass and target
    for (const auto& [k, v] : r.timings_ms) add(k, v);

    t0 = Clock::now();
    const int64_t idx = frame.index;
    const model::InputGeometry geometry =
        model::input_geometry(frame.width, frame.height, model->sidecar().input);
    for (size_t mi = 0; mi < results.size(); ++mi) {
      const explain::Result& rm = results[mi];
      auto in_m = [&](const std::string& name) {
        return methods.path(out, methods.methods()[mi], name);
      };
      if (!force) check_writable(in_m(format_index("cam_%06d.npy", idx)), force);
      write_map_npy(in_m(format_index("cam_%06d.npy", idx)), rm.map);
      if (raw) write_map_npy(in_m(format_index("raw_%06d.npy", idx)), rm.raw);
      if (overlay_kind != OverlayKind::None) {
        auto img =
            torch::from_blob(frame.rgb.data(), {frame.height, frame.width, 3}, torch::kUInt8);
        auto blended = explain::overlay(img, rm.map, lut.data(), alpha, geometry).contiguous();
        if (overlay_kind == OverlayKind::Png) {
          write_png(in_m(format_index("overlay_%06d.png", idx)), blended.data_ptr<uint8_t>(),
                    frame.width, frame.height, 3);
        } else {
          auto& mp4 = mp4s[mi];
          if (!mp4)
            mp4 = std::make_unique<Mp4Writer>(in_m("overlay.mp4"), frame.width, frame.height,
                                              info.fps);
          mp4->write(blended);
        }
      }
    }
    add("write", ms_since(t0));

    Json fj;
    fj["index"] = idx;
    fj["pts"] = frame.pts;
    if (!frame.file.empty()) fj["file"] = frame.file;  // folders: path relative to the folder
    fj["source_size"] = {frame.width, frame.height};
    // The source pixels the map covers (cam_*.npy is at model input size): place it yourself
    // by mapping its [0, W_in] x [0, H_in] onto this box.
    fj["crop_box"] = {geometry.x0, geometry.y0, geometry.x1, geometry.y1};
    Json top = Json::array();
    for (const auto& [cls, p] : explain::top_classes(r.logits, 5))
      top.push_back({{"class", cls}, {"label", model->label(cls)}, {"score", p}});
    fj["top"] = top;
    fj["target"] = r.target;
    Json tj = Json::object();
    for (const auto& k : order) tj[k] = timings[k];
    fj["timings_ms"] = tj;
    methods.annotate(fj, results);
    frames.add(fj);
    if (sanity && done == 0) write_sanity(sanity_path, *model, x, req, r.target);

    progress.update(++done + skipped);
    if (total > 0 && done + skipped >= total) break;
    t_decode = Clock::now();
    have = source->next(frame);
  }
  if (!have || !range.contains(frame.index))  // the source ended (or jumped) before the range did
    report_skipped(range.end >= 0 ? std::min(range.end, info.frame_count) : info.frame_count);
  for (auto& mp4 : mp4s)
    if (mp4) mp4->close();
  if (done == 0) throw Error("no frames decoded from '" + input + "' in the requested range");
  const capture::DecoderStats ds = source->decoder_stats();
  Json tail = methods.tail();
  tail["source_stats"] = {{"skipped", skipped}, {"decoder_seeks", ds.seeks},
                          {"decoder_opens", ds.opens}};
  frames.finish(summary, tail);
  return 0;
}

}  // namespace camscope::app
