// `camscope view` (and bare `camscope`): the interactive window, or its headless twin for
// tests, scripted sessions and screenshots.
#include <cstdio>
#include <cstdlib>
#include <set>
#include <string>

#include "app/commands.h"
#include "app/settings.h"
#include "app/view_app.h"
#include "render/gl_context.h"
#include "util/args.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/log.h"

namespace camscope::app {
namespace {

const char* kViewHelp =
    "usage: camscope view [--model M.pt] [--input SRC] [--layer PATH] [--method NAME]\n"
    "                     [--target top1|INDEX|LABEL] [--device auto|cpu|cuda] [--colormap NAME]\n"
    "                     [--alpha X] [--threshold X] [--size WxH] [--play|--pause]\n"
    "                     [--headless [--frames N] [--screenshot OUT.png]] [--script FILE]\n"
    "                     [--settings FILE] [--no-settings] [--force] [--engine fast|exact]\n"
    "                     [--device-maps auto|on|off]\n"
    "  --input        image, folder, video, webcam:N or /dev/videoN, synthetic[:seed]\n"
    "                 (default: synthetic)\n"
    "  --headless     no window: render off-screen (also when no display is found);\n"
    "                 renders N frames (default 3) once the first result is on screen\n"
    "  --script FILE  UI commands, one per line (see src/app/script.h); headless runs end\n"
    "                 with the script\n"
    "  --settings     settings file (default $XDG_CONFIG_HOME/camscope/settings.json for\n"
    "                 windows; headless runs keep none unless given)\n"
    "  --captures DIR where screenshots (S) and recordings (R) go (default $CAMSCOPE_CAPTURES,\n"
    "                 else ~/Pictures/camscope); the status line shows each file's full path\n"
    "  --engine       fast (default): weights frozen and folded, oneDNN on the CPU before the\n"
    "                 tap; exact: the model's own ops (maps equal to eager PyTorch's)\n"
    "  --device-maps  auto (default): on a CUDA model, maps and channel grids stay on the GPU\n"
    "                 and reach GL through CUDA-GL interop (no device-to-host copy); on: the\n"
    "                 same path on any device; off: maps are copied to the host\n"
    "  --debug-worker-delay-ms N   slow the inference worker (tests of UI responsiveness;\n"
    "                 also env CAMSCOPE_TEST_WORKER_DELAY_MS); env CAMSCOPE_TEST_SLOW_FRAME_MS=N\n"
    "                 sleeps N ms in every drawn frame (tests: no key press is lost)\n"
    "  --debug-batch-delay-ms N    slow every batch of a long method (tests of Cancel)\n"
    "keys: F1 in the window lists them; Escape closes menus, lists and dialogs; Ctrl+Q quits.\n"
    "The window redraws only when something changed, and sleeps otherwise.\n";

void parse_size(const std::string& s, int& w, int& h) {
  if (std::sscanf(s.c_str(), "%dx%d", &w, &h) != 2 || w < 64 || h < 64 || w > 16384 || h > 16384)
    throw Error("--size expects WxH (64..16384), got '" + s + "'");
}

float parse_unit(const Args& args, const char* key) {
  const double v = args.get_double(key, -1.0);
  if (!(v >= 0.0 && v <= 1.0)) throw Error(std::string("--") + key + " expects a value in [0, 1]");
  return static_cast<float>(v);
}

}  // namespace

int cmd_view(int argc, const char* const* argv) {
  std::set<std::string> value_opts = {
      "input",     "frames", "screenshot", "size",     "model",   "model-config",
      "layer",     "method", "target",     "device",   "colormap", "alpha",
      "threshold", "script", "settings",   "threads", "captures",  "engine",  "device-maps", "debug-worker-delay-ms", "debug-batch-delay-ms"};
  value_opts.insert(kDecodeValueOpts.begin(), kDecodeValueOpts.end());
  Args args(argc, argv, value_opts,
            {"headless", "force", "help", "verbose", "play", "pause", "no-settings"});
  if (args.flag("help")) {
    std::fputs(kViewHelp, stdout);
    std::fputs(kDecodeHelp, stdout);
    return 0;
  }
  log::set_verbose(args.flag("verbose"));
  ViewOptions opt;
  if (args.has("size")) {
    parse_size(args.get("size"), opt.window.width, opt.window.height);
    opt.size_given = true;
  }
  opt.force = args.flag("force");
  opt.screenshot = args.get("screenshot");
  if (!opt.screenshot.empty()) check_writable(opt.screenshot, opt.force);
  opt.captures = captures_dir(args.get("captures"));
  opt.script = args.get("script");
  if (!opt.script.empty() && !file_exists(opt.script))
    throw Error(opt.script + ": no such script file");

  opt.pipeline.model = args.get("model");
  opt.pipeline.model_config = args.get("model-config");
  opt.pipeline.device = args.get("device", "auto");
  opt.pipeline.input = args.get("input", "synthetic");
  opt.pipeline.decode = parse_decode_options(args);
  opt.pipeline.threads = args.get_int("threads", 0);
  opt.pipeline.engine = args.get("engine", "fast");
  opt.pipeline.device_maps = args.get("device-maps", "auto");
  if (opt.pipeline.engine != "fast" && opt.pipeline.engine != "exact")
    throw Error("--engine expects exact or fast, got '" + opt.pipeline.engine + "'");
  int delay = 0;
  if (const char* env = std::getenv("CAMSCOPE_TEST_WORKER_DELAY_MS")) delay = std::atoi(env);
  opt.pipeline.worker_delay_ms = args.get_int("debug-worker-delay-ms", delay);
  if (opt.pipeline.worker_delay_ms < 0 || opt.pipeline.worker_delay_ms > 60000)
    throw Error("--debug-worker-delay-ms expects 0..60000");
  opt.pipeline.batch_delay_ms = args.get_int("debug-batch-delay-ms", 0);
  if (opt.pipeline.batch_delay_ms < 0 || opt.pipeline.batch_delay_ms > 60000)
    throw Error("--debug-batch-delay-ms expects 0..60000");

  opt.params.layer = args.get("layer");
  opt.params.method = args.get("method");  // "" = the settings' method (default gradcam)
  // top1, an index or a class label: resolved against the model's labels once it is loaded.
  opt.pipeline.target_spec = args.get("target", "top1");
  opt.colormap = args.get("colormap");
  if (args.has("alpha")) opt.alpha = parse_unit(args, "alpha");
  if (args.has("threshold")) opt.threshold = parse_unit(args, "threshold");
  if (args.flag("play") && args.flag("pause")) throw Error("--play and --pause exclude each other");
  if (args.flag("play")) opt.play = 1;
  if (args.flag("pause")) opt.play = 0;

  opt.headless = args.flag("headless");
  if (!opt.headless && !gl::display_available()) {
    log::note("no display found; running headless (use 'camscope export' for batch output)");
    opt.headless = true;
  }
  opt.frames = args.get_int("frames", opt.headless && opt.script.empty() ? 3 : -1);
  if (opt.headless && opt.script.empty() && opt.frames <= 0)
    throw Error("--frames must be positive");
  if (!args.flag("no-settings"))
    opt.settings_file = args.has("settings") ? args.get("settings")
                                             : (opt.headless ? std::string() : settings_path());
  return run_view(opt);
}

}  // namespace camscope::app
