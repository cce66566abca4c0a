// A single still image: one frame, index 0.
#include <filesystem>

#include "capture/sources.h"
#include "util/error.h"
#include "util/image_io.h"

namespace camscope::capture {
namespace {

class ImageSource final : public FrameSource {
 public:
  ImageSource(const std::string& path, const DecodeOptions& decode) {
    Image img = load_image_rgb(path, decode);
    m_frame.index = 0;
    m_frame.file = std::filesystem::path(path).filename().string();
    m_frame.width = img.width;
    m_frame.height = img.height;
    m_frame.rgb = std::move(img.pixels);
    m_info.kind = "image";
    m_info.uri = path;
    m_info.width = img.width;
    m_info.height = img.height;
    m_info.frame_count = 1;
    m_info.seekable = true;
  }
  const SourceInfo& info() const override { return m_info; }
  SourceState state() const override { return m_done ? SourceState::End : SourceState::Ok; }
  bool next(Frame& out) override {
    if (m_done) return false;
    m_done = true;
    out = m_frame;
    return true;
  }
  bool seek(int64_t index, Frame& out) override {
    if (index != 0)
      throw Error(m_info.uri + ": frame " + std::to_string(index) + " out of range (1 frame)");
    out = m_frame;
    m_done = true;
    return true;
  }

 private:
  SourceInfo m_info;
  Frame m_frame;
  bool m_done = false;
};

}  // namespace

std::unique_ptr<FrameSource> make_image_source(const std::string& path, const DecodeOptions& decode) {
  return std::make_unique<ImageSource>(path, decode);
}

}  // namespace camscope::capture
