// libFuzzer harness: the error-text helpers main() prints through (src/util/error.cpp).
// printable() must give valid UTF-8 without control characters; error_summary() one line.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "util/error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  const std::string p = camscope::printable(text, 256);
  if (!camscope::is_valid_utf8(p)) std::abort();
  for (unsigned char c : p)
    if (c < 0x20 || c == 0x7f) std::abort();
  if (p.size() > 256 + 3 + 8) std::abort();  // cut at the limit (one escape may straddle it)
  const std::string s = camscope::error_summary(text);
  const std::string ps = camscope::printable(s);
  if (ps.find('\n') != std::string::npos) std::abort();
  return 0;
}
