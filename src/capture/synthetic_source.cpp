// `synthetic[:seed]`: the moving world as an endless, seekable frame source. Frames are a pure
// function of (seed, index), so seeking is as cheap as reading the next frame.
#include <memory>

#include "capture/frame_source.h"
#include "capture/synthetic_world.h"
#include "util/error.h"

namespace camscope::capture {
namespace {

constexpr double kFps = 30.0;

class SyntheticSource final : public FrameSource {
 public:
  SyntheticSource(uint64_t seed, int width, int height) : m_world(seed, width, height) {
    m_info.kind = "synthetic";
    m_info.uri = "synthetic:" + std::to_string(seed);
    m_info.width = width;
    m_info.height = height;
    m_info.frame_count = -1;
    m_info.fps = kFps;
    m_info.seekable = true;
  }
  const SourceInfo& info() const override { return m_info; }
  bool next(Frame& out) override {
    render(m_next, out);
    ++m_next;
    return true;
  }
  bool seek(int64_t index, Frame& out) override {
    if (index < 0)
      throw Error(m_info.uri + ": frame " + std::to_string(index) + " out of range (0 and up)");
    render(index, out);
    m_next = index + 1;
    return true;
  }

 private:
  void render(int64_t index, Frame& out) const {
    // Reuses out.rgb's storage: a live loop that passes the same Frame never reallocates.
    m_world.render(static_cast<uint64_t>(index), out.rgb, nullptr);
    out.index = index;
    out.file.clear();
    out.pts = static_cast<double>(index) / kFps;
    out.width = m_world.width();
    out.height = m_world.height();
  }

  MovingWorld m_world;
  SourceInfo m_info;
  int64_t m_next = 0;
};

}  // namespace

std::unique_ptr<FrameSource> make_synthetic_source(uint64_t seed, int width, int height) {
  return std::make_unique<SyntheticSource>(seed, width, height);
}

}  // namespace camscope::capture
