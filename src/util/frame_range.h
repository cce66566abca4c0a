#pragma once
// --frames A:B — a half-open range of source frame indices, like a Python slice:
// "10:20" is frames 10..19, "10:" from 10 to the end, ":5" the first five, "7" frame 7 alone.
#include <cstdint>
#include <string>

namespace camscope {

struct FrameRange {
  int64_t begin = 0;
  int64_t end = -1;  // exclusive; -1 = to the end of the source
  bool contains(int64_t i) const { return i >= begin && (end < 0 || i < end); }
  // Number of frames in the range for a source of `count` frames (count < 0: unknown).
  int64_t size(int64_t count) const;
};

// Throws camscope::Error on malformed input ("--frames expects A:B ...").
FrameRange parse_frame_range(const std::string& s);

}  // namespace camscope
