// libFuzzer harness: command-line parsing (src/util/args.cpp, frame_range.cpp). The input is
// split at NUL bytes into argv; parsing must end in values or a camscope::Error.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "util/args.h"
#include "util/error.h"
#include "util/frame_range.h"
#include "util/fs.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::vector<std::string> words(1);
  for (size_t i = 0; i < size; ++i) {
    if (data[i] == 0)
      words.emplace_back();
    else
      words.back() += static_cast<char>(data[i]);
  }
  std::vector<const char*> argv;
  for (const auto& w : words) argv.push_back(w.c_str());
  try {
    std::vector<const char*> rest =
        camscope::take_global_options(static_cast<int>(argv.size()), argv.data());
    camscope::Args args(static_cast<int>(rest.size()), rest.data(),
                        {"model", "input", "frames", "method", "target", "alpha", "out", "seed"},
                        {"raw", "force", "help"});
    args.get_int("seed", 0);
    args.get_double("alpha", 0.5);
    if (args.has("frames")) {
      camscope::FrameRange r = camscope::parse_frame_range(args.get("frames"));
      if (r.end >= 0 && r.end < r.begin) std::abort();
      r.size(100);
      r.size(-1);
    }
  } catch (const camscope::Error& e) {
    // Messages may quote user text (main() prints them through printable()); never empty.
    const std::string shown = camscope::printable(e.what());
    if (shown.empty() || shown.find('\n') != std::string::npos) std::abort();
  }
  camscope::set_max_file_mb(0);
  return 0;
}
