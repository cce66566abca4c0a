// libFuzzer harness: the sidecar parser (src/model/sidecar.cpp) on arbitrary bytes. Any outcome
// but a parsed Sidecar or a camscope::Error is a bug: another exception type, a crash, a
// sanitizer report, an empty message, or a parsed sidecar that breaks the schema.
#include <unistd.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "model/sidecar.h"
#include "util/error.h"
#include "util/log.h"

namespace {
std::string temp_path() {
  static std::string p = [] {
    const char* dir = std::getenv("TMPDIR");
    return std::string(dir && *dir ? dir : "/tmp") + "/camscope_fuzz_sidecar_" +
           std::to_string(::getpid()) + ".json";
  }();
  return p;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = temp_path();
  FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) std::abort();
  std::fwrite(data, 1, size, f);
  std::fclose(f);
  try {
    camscope::model::Sidecar s = camscope::model::load_sidecar(path);
    const auto& in = s.input;
    const size_t c = static_cast<size_t>(in.channels());
    if (in.height < 1 || in.height > 8192 || in.width < 1 || in.width > 8192) std::abort();
    if (in.mean.size() != c || in.std.size() != c) std::abort();
    for (size_t i = 0; i < c; ++i)
      if (!std::isfinite(in.mean[i]) || !(in.std[i] > 0.f) || !std::isfinite(in.std[i])) std::abort();
  } catch (const camscope::Error& e) {
    // Messages may quote user text (main() prints them through printable()); never empty.
    const std::string shown = camscope::printable(e.what());
    if (shown.empty() || shown.find('\n') != std::string::npos) std::abort();
  }
  return 0;
}
