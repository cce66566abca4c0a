#pragma once
// `--target`: which class to explain, as a person types it: top1, a class index, or the class's
// label (the sidecar's name, e.g. "star").
#include <cstdint>
#include <string>
#include <vector>

namespace camscope {

// "top1" or "" -> -1 (the top-1 class of each frame); "3" -> 3; "star" -> its index (exact
// label first, then ignoring case). Throws camscope::Error with one line: an index out of
// range gives the range, an unknown name the closest labels.
int64_t resolve_target(const std::string& spec, const std::vector<std::string>& labels);

}  // namespace camscope
