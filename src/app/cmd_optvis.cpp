// `camscope optvis`: feature visualization from the command line (explain/optvis.h): the image
// that drives a channel, a neuron or a class of a model, written as a PNG (a row of images for
// --batch N), with a progress line and, with --json, the objective per step and the speed.
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <string>

#include "app/commands.h"
#include "app/pipeline.h"
#include "explain/optvis.h"
#include "model/model.h"
#include "util/args.h"
#include "util/class_target.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/image_io.h"
#include "util/json.h"
#include "util/log.h"

namespace camscope::app {
namespace {

const char* kOptvisHelp =
    "usage: camscope optvis --out X.png [--model M.pt] (--layer L --channel C [--x X --y Y]\n"
    "                       | --class K|LABEL) [options]\n"
    "  what a unit responds to: an image optimized to raise a channel's mean activation\n"
    "  (--channel), one neuron (--channel with --x/--y at the layer's resolution, default the\n"
    "  centre), or a class logit (--class). Lucent's defaults.\n"
    "  --steps N        Adam steps (default 512)        --lr X        learning rate (0.05)\n"
    "  --size S         image side (default 128; resized to the model's input)\n"
    "  --param fft|pixel  parameterization (default fft, colour-decorrelated)\n"
    "  --no-transforms  no pad/jitter/scale/rotate      --seed S      noise and transforms (0)\n"
    "  --batch N        N images side by side           --diversity X  (with --batch, e.g. 1e2)\n"
    "  --l1 X --l2 X --tv X   penalties (default 0)      --redirect N  redirected-ReLU steps (16)\n"
    "  --start IMG      accentuate: start from this image instead of noise\n"
    "  --engine fast|exact  fast (default): batch norm folded into convolutions\n"
    "  --device auto|cpu|cuda   --threads N   --json (objective per step, steps/s)   --force\n";

double parse_double(const Args& a, const char* key, double def) {
  if (!a.has(key)) return def;
  const std::string s = a.get(key);
  char* end = nullptr;
  const double v = std::strtod(s.c_str(), &end);
  if (s.empty() || *end != '\0' || !std::isfinite(v))
    throw Error(std::string("--") + key + " expects a number, got '" + s + "'");
  return v;
}

}  // namespace

int cmd_optvis(int argc, const char* const* argv) {
  Args args(argc, argv,
            {"out", "model", "model-config", "layer", "channel", "x", "y", "class", "steps", "lr",
             "size", "param", "seed", "batch", "diversity", "l1", "l2", "tv", "redirect", "start",
             "device", "threads", "engine"},
            {"help", "no-transforms", "json", "force", "verbose", "no-decorrelate"});
  if (args.flag("help")) {
    std::fputs(kOptvisHelp, stdout);
    return 0;
  }
  log::set_verbose(args.flag("verbose"));
  const std::string out = args.get("out");
  if (out.empty()) throw Error("optvis needs --out X.png");
  check_writable(out, args.flag("force"));
  if (args.has("class") == args.has("channel"))
    throw Error("optvis needs either --channel C (with --layer) or --class K");

  model::Model::Options mo;
  mo.path = args.get("model", builtin_model_path());
  mo.config_path = args.get("model-config");
  mo.device = args.get("device", "auto");
  mo.threads = args.get_int("threads", 0);
  const std::string engine = args.get("engine", "fast");
  if (engine != "fast" && engine != "exact")
    throw Error("--engine expects exact or fast, got '" + engine + "'");
  // Fast: batch norms folded into the convolutions (fewer ops per step; ~1e-6 relative).
  mo.optimization =
      engine == "fast" ? model::GraphOptimization::Fast : model::GraphOptimization::Exact;
  const auto t_load = std::chrono::steady_clock::now();
  auto model = model::Model::load(mo);

  explain::OptvisRequest req;
  if (args.has("class")) {
    req.objective = explain::OptvisRequest::Objective::Class;
    std::vector<std::string> labels;
    for (int64_t i = 0; i < model->num_classes(); ++i) labels.push_back(model->label(i));
    req.cls = resolve_target(args.get("class"), labels);
    if (req.cls < 0) throw Error("--class expects a class index or label, not top1");
  } else {
    req.layer = args.get("layer");
    req.channel = args.get_int("channel", 0);
    if (args.has("x") || args.has("y")) {
      req.objective = explain::OptvisRequest::Objective::Neuron;
      req.x = args.get_int("x", -1);
      req.y = args.get_int("y", -1);
    }
  }
  req.steps = args.get_int("steps", 512);
  req.lr = parse_double(args, "lr", 0.05);
  req.size = args.get_int("size", 128);
  const std::string param = args.get("param", "fft");
  if (param == "fft")
    req.param = explain::OptvisRequest::Param::Fft;
  else if (param == "pixel")
    req.param = explain::OptvisRequest::Param::Pixel;
  else
    throw Error("--param expects fft or pixel, got '" + param + "'");
  req.decorrelate = !args.flag("no-decorrelate");
  req.transforms = !args.flag("no-transforms");
  req.seed = static_cast<uint64_t>(args.get_int("seed", 0));
  req.batch = args.get_int("batch", 1);
  req.diversity = parse_double(args, "diversity", 0);
  req.l1 = parse_double(args, "l1", 0);
  req.l2 = parse_double(args, "l2", 0);
  req.tv = parse_double(args, "tv", 0);
  req.redirect_steps = args.get_int("redirect", 16);
  if (args.has("start")) {
    const Image im = load_image_rgb(args.get("start"));
    req.init = torch::from_blob(const_cast<uint8_t*>(im.pixels.data()), {im.height, im.width, 3},
                                torch::kUInt8)
                   .permute({2, 0, 1})
                   .to(torch::kFloat)
                   .div(255.0);
  }
  const double load_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t_load).count();

  const bool tty = isatty(2);
  const auto t0 = std::chrono::steady_clock::now();
  // Steady-state speed: from the step after the redirected-ReLU phase (its graph and the plain
  // one are built on their first steps), or from the middle for short runs.
  const int steady_from = std::min(std::max(req.redirect_steps, 0) + 2, req.steps / 2);
  auto t_steady = t0;
  auto result = explain::optimize(*model, req, [&](const explain::OptvisStep& s, const explain::OptvisImages&) {
    if (s.step == steady_from) t_steady = std::chrono::steady_clock::now();
    if (tty && (s.step % 8 == 0 || s.step == s.total)) {
      const double el = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      std::fprintf(stderr, "\roptvis: step %d/%d  objective %.4g  %.1f steps/s   ", s.step, s.total,
                   s.objective, s.step / std::max(el, 1e-9));
      if (s.step == s.total) std::fputc('\n', stderr);
    }
    return true;
  });
  const auto t_end = std::chrono::steady_clock::now();
  const double secs = std::chrono::duration<double>(t_end - t0).count();
  const double steady_s = std::chrono::duration<double>(t_end - t_steady).count();
  const double steady_rate =
      req.steps > steady_from && steady_s > 0 ? (req.steps - steady_from) / steady_s : 0.0;

  // The batch side by side, 4 px of grey between images.
  const auto& imgs = result.images;  // [B, 3, S, S]
  const int B = static_cast<int>(imgs.size(0)), S = static_cast<int>(imgs.size(2));
  const int W = B * S + (B - 1) * 4;
  std::vector<uint8_t> rgb(static_cast<size_t>(W) * S * 3, 128);
  auto u8 = (imgs * 255.0).round().clamp(0, 255).to(torch::kUInt8).permute({0, 2, 3, 1}).contiguous();
  const uint8_t* src = u8.data_ptr<uint8_t>();
  for (int b = 0; b < B; ++b)
    for (int y = 0; y < S; ++y)
      std::copy_n(src + ((static_cast<size_t>(b) * S + y) * S) * 3, static_cast<size_t>(S) * 3,
                  &rgb[(static_cast<size_t>(y) * W + b * (S + 4)) * 3]);
  write_png(out, rgb.data(), W, S, 3);
  const double first = result.objectives.empty() ? 0 : result.objectives.front();
  const double last = result.objectives.empty() ? 0 : result.objectives.back();
  if (args.flag("json")) {
    Json j{{"model", mo.path},       {"layer", result.layer},
           {"steps", req.steps},     {"seconds", secs},
           {"steps_per_s", req.steps / std::max(secs, 1e-9)},
           {"steady_steps_per_s", steady_rate},
           {"load_s", load_s},       {"objective", result.objectives},
           {"out", out}};
    std::printf("%s\n", j.dump().c_str());
  } else {
    std::printf("optvis: %s written (%d steps in %.1f s, %.1f steps/s; objective %.4g -> %.4g)\n",
                out.c_str(), req.steps, secs, req.steps / std::max(secs, 1e-9), first, last);
  }
  return 0;
}

}  // namespace camscope::app
