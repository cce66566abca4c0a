#pragma once
// Frame sources (DESIGN.md capture/): image file, image folder, video file, webcam, synthetic.
// No LibTorch and no GL here: frames are plain RGB8 buffers.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace camscope::capture {

struct Frame {
  int64_t index = -1;      // source frame index (position in natural order for folders)
  double pts = 0.0;        // presentation time in seconds
  int width = 0, height = 0;
  std::vector<uint8_t> rgb;  // width*height*3, row-major, top row first
  bool valid() const { return index >= 0 && !rgb.empty(); }
};

struct SourceInfo {
  std::string kind;          // "image", "folder", "video", "webcam", "synthetic"
  std::string uri;           // what the user passed
  int width = 0, height = 0;
  int64_t frame_count = -1;  // -1 when unknown or endless (webcam, synthetic)
  double duration = -1.0;    // seconds, -1 when unknown
  double fps = 0.0;          // nominal rate, 0 when unknown
  bool seekable = false;
  bool live = false;         // webcam: drop stale frames rather than queue them
};

enum class SourceState { Ok, End, Lost, Reconnecting };

class FrameSource {
 public:
  virtual ~FrameSource() = default;
  virtual const SourceInfo& info() const = 0;
  // Next frame in order. Returns false at the end (or when a live source has no frame yet;
  // see state()). Throws camscope::Error on unrecoverable errors.
  virtual bool next(Frame& out) = 0;
  // Frame-exact random access (seekable sources). Throws camscope::Error when out of range.
  virtual bool seek(int64_t index, Frame& out) = 0;
  virtual SourceState state() const { return SourceState::Ok; }
  // Frames skipped because they could not be decoded (damaged video, unreadable images).
  virtual int64_t skipped() const { return 0; }
};

// Opens SRC as DESIGN.md's --input defines it: image file, folder, video file, webcam:N or
// /dev/videoN, synthetic[:seed]. Throws camscope::Error with a one-line reason.
std::unique_ptr<FrameSource> open_source(const std::string& spec);

// The procedural moving-shapes source behind `synthetic[:seed]` (capture/synthetic_source.cpp,
// over the synthetic world generator shared with `camscope synth`).
std::unique_ptr<FrameSource> make_synthetic_source(uint64_t seed, int width = 640, int height = 360);

}  // namespace camscope::capture
