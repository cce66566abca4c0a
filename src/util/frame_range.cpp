#include "util/frame_range.h"

#include <cstdlib>

#include "util/error.h"

namespace camscope {
namespace {
bool parse_index(const std::string& s, int64_t& out) {
  if (s.empty()) return false;
  char* end = nullptr;
  long long v = std::strtoll(s.c_str(), &end, 10);
  if (*end != '\0' || v < 0) return false;
  out = v;
  return true;
}
}  // namespace

int64_t FrameRange::size(int64_t count) const {
  int64_t e = end;
  if (count >= 0 && (e < 0 || e > count)) e = count;
  if (e < 0) return -1;
  return e > begin ? e - begin : 0;
}

FrameRange parse_frame_range(const std::string& s) {
  const std::string bad = "--frames expects A:B (half-open, e.g. 0:100, 10:, :5) or N, got '" + s + "'";
  FrameRange r;
  auto colon = s.find(':');
  if (colon == std::string::npos) {
    if (!parse_index(s, r.begin)) throw Error(bad);
    r.end = r.begin + 1;
    return r;
  }
  std::string a = s.substr(0, colon), b = s.substr(colon + 1);
  if (!a.empty() && !parse_index(a, r.begin)) throw Error(bad);
  if (!b.empty() && !parse_index(b, r.end)) throw Error(bad);
  if (r.end >= 0 && r.end <= r.begin) throw Error("--frames range '" + s + "' is empty");
  return r;
}

}  // namespace camscope
