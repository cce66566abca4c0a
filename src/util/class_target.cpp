#include "util/class_target.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>

#include "util/args.h"
#include "util/error.h"

namespace camscope {
namespace {
std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}
}  // namespace

int64_t resolve_target(const std::string& spec, const std::vector<std::string>& labels) {
  if (spec.empty() || spec == "top1") return -1;
  const int64_t n = static_cast<int64_t>(labels.size());
  if (std::all_of(spec.begin(), spec.end(), [](unsigned char c) { return std::isdigit(c); })) {
    const long long v = std::strtoll(spec.c_str(), nullptr, 10);
    if (v >= n)
      throw Error("--target " + spec + " is out of range: the model has " + std::to_string(n) +
                  " classes (0.." + std::to_string(n - 1) + ")");
    return v;
  }
  for (int64_t i = 0; i < n; ++i)
    if (labels[static_cast<size_t>(i)] == spec) return i;
  const std::string l = lower(spec);
  for (int64_t i = 0; i < n; ++i)
    if (lower(labels[static_cast<size_t>(i)]) == l) return i;
  std::string msg = "--target '" + spec + "' is not a class of the model";
  const auto near = closest(spec, labels, 3);
  if (!near.empty()) {
    msg += "; closest:";
    for (size_t i = 0; i < near.size(); ++i) msg += (i ? ", " : " ") + near[i];
  }
  msg += " (top1, a class index 0.." + std::to_string(n - 1) + " or a label)";
  throw Error(msg);
}

}  // namespace camscope
