// camscope's program: a thin layer over camscope_core, built as libcamscope_app.so and started
// by the launcher (app/launcher.cpp). Dispatches subcommands and turns every error
// into a single line on stderr with a non-zero exit status.
#include <cstdio>
#include <cstring>
#include <exception>
#include <string>
#include <vector>

#include "app/commands.h"
#include "util/args.h"
#include "util/error.h"

namespace {

void print_usage() {
  std::printf(
      "camscope %s - see what a convolutional network sees\n"
      "\n"
      "usage:\n"
      "  camscope                          interactive window; built-in model, synthetic input\n"
      "  camscope view   [options]         interactive window (--headless for no display)\n"
      "  camscope export [options] --out DIR   headless batch export\n"
      "  camscope info   --model M [--json]    layer table\n"
      "  camscope bench  [options] [--frames N] [--json]   per-stage timings\n"
      "  camscope synth  --out DIR --count N [--seed S] [--size WxH]   synthetic scenes\n"
      "  camscope optvis --out X.png (--layer L --channel C | --class K)   feature visualization\n"
      "\n"
      "common options: --model PATH --input SRC --layer PATH --method NAME --target top1|INDEX\n"
      "  --device auto|cpu|cuda --frames A:B --colormap NAME --alpha X --force\n"
      "  --max-file-mb N   largest sidecar/labels/text file (default 64) and model file\n"
      "                    (default 4096) read; N sets both\n"
      "run 'camscope COMMAND --help' for a command's options.\n",
      CAMSCOPE_VERSION);
}

}  // namespace

// Called by the launcher (app/launcher.cpp), which loads this library RTLD_LOCAL.
extern "C" __attribute__((visibility("default"))) int camscope_main(int argc, char** argv) {
  using namespace camscope::app;
  std::string cmd = argc > 1 ? argv[1] : "";
  int (*fn)(int, const char* const*) = nullptr;
  int skip = 2;
  if (cmd == "view") fn = cmd_view;
  else if (cmd == "export") fn = cmd_export;
  else if (cmd == "info") fn = cmd_info;
  else if (cmd == "bench") fn = cmd_bench;
  else if (cmd == "synth") fn = cmd_synth;
  else if (cmd == "optvis") fn = cmd_optvis;
  else if (cmd == "-h" || cmd == "--help" || cmd == "help") {
    print_usage();
    return 0;
  } else if (cmd == "--version") {
    std::printf("camscope %s\n", CAMSCOPE_VERSION);
    return 0;
  } else if (cmd.empty() || cmd.rfind("--", 0) == 0) {
    fn = cmd_view;  // bare `camscope [--options]` opens the window
    skip = 1;
  } else {
    std::fprintf(stderr, "camscope: unknown command '%s' (try: view, export, info, bench, synth, optvis)\n",
                 camscope::printable(cmd).c_str());
    return 2;
  }
  // Every error is one printable line: file names, decoder and model messages may carry
  // control characters or bytes that are not UTF-8.
  auto fail = [](const std::string& msg) {
    std::fprintf(stderr, "camscope: error: %s\n", camscope::printable(msg).c_str());
    return 1;
  };
  try {
    std::vector<const char*> rest = camscope::take_global_options(argc - skip, argv + skip);
    return fn(static_cast<int>(rest.size()), rest.data());
  } catch (const camscope::Error& e) {
    return fail(e.what());
  } catch (const std::exception& e) {
    // LibTorch messages span many lines (tracebacks, C++ stack traces): keep the cause.
    return fail(camscope::error_summary(e.what()));
  }
}
