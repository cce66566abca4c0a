#pragma once
// Shared behaviour of sources with a known frame count and random access (video files, image
// folders): next() walks a cursor past frames that cannot be read, seek(i) checks the range
// and moves the cursor after i. Subclasses fill m_info and implement read_frame().
#include <string>

#include "capture/frame_source.h"
#include "util/error.h"

namespace camscope::capture {

class IndexedSource : public FrameSource {
 public:
  const SourceInfo& info() const override { return m_info; }
  SourceState state() const override { return m_state; }

  bool next(Frame& out) override {
    while (m_cursor < m_info.frame_count) {
      if (read_frame(m_cursor++, out)) {
        m_state = SourceState::Ok;
        return true;
      }
    }
    m_state = SourceState::End;
    return false;
  }

  bool seek(int64_t index, Frame& out) override {
    if (index < 0 || index >= m_info.frame_count)
      throw Error(m_info.uri + ": frame " + std::to_string(index) + " out of range (" +
                  std::to_string(m_info.frame_count) + " " + unit() + ")");
    m_cursor = index + 1;
    m_state = SourceState::Ok;
    return read_frame(index, out);
  }

 protected:
  // Reads frame `index` (in range); false when it exists but cannot be decoded.
  virtual bool read_frame(int64_t index, Frame& out) = 0;
  // What the frames are called in messages ("frames", "images").
  virtual const char* unit() const { return "frames"; }

  SourceInfo m_info;

 private:
  int64_t m_cursor = 0;
  SourceState m_state = SourceState::Ok;
};

}  // namespace camscope::capture
