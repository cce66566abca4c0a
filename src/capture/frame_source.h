#pragma once
// Frame sources (DESIGN.md capture/): image file, image folder, video file, webcam, synthetic.
// No LibTorch and no GL here: frames are plain RGB8 buffers.
//
// Threading: a FrameSource is driven from one thread (the app's capture thread); video and
// webcam sources run their own decode/grab thread behind this interface.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "util/frame_range.h"
#include "util/image_io.h"

namespace camscope::capture {

struct Frame {
  int64_t index = -1;  // source frame index (position in natural order for folders)
  double pts = 0.0;    // presentation time in seconds (video: relative to the first frame)
  int width = 0, height = 0;
  std::vector<uint8_t> rgb;  // width*height*3, row-major, top row first
  // The image file the frame came from: for folders its path relative to the folder, for a
  // single image its file name; "" for video, webcam and synthetic frames.
  std::string file;
  bool valid() const { return index >= 0 && !rgb.empty(); }
};

struct SourceInfo {
  std::string kind;  // "image", "folder", "video", "webcam", "synthetic"
  std::string uri;   // what the user passed
  int width = 0, height = 0;
  int64_t frame_count = -1;  // -1 when unknown or endless (webcam, synthetic)
  double duration = -1.0;    // seconds, -1 when unknown
  double fps = 0.0;          // nominal rate, 0 when unknown (video: frame_count / duration)
  bool seekable = false;
  bool live = false;  // webcam: drop stale frames rather than queue them
};

enum class SourceState { Ok, End, Lost, Reconnecting };

// How often a source repositioned its decoder: reading in order should cost one seek (or none)
// however damaged the input, not one per frame. For tests and diagnostics (summary.json).
struct DecoderStats {
  int64_t seeks = 0;  // demuxer seeks (including rewinds to the start)
  int64_t opens = 0;  // demuxer/decoder (re)opens, the first one included
};

class FrameSource {
 public:
  virtual ~FrameSource() = default;
  virtual const SourceInfo& info() const = 0;
  // Next frame in order: after seek(i), the frame after i. Returns false at the end (state()
  // End), when a live source has no new frame yet (state() Ok) or has lost its device
  // (Lost/Reconnecting). Frames that cannot be decoded are stepped over (see skipped()).
  // Throws camscope::Error on unrecoverable errors.
  virtual bool next(Frame& out) = 0;
  // Frame-exact random access (seekable sources). Throws camscope::Error when out of range or
  // not seekable; returns false when frame `index` exists but cannot be decoded (damaged).
  virtual bool seek(int64_t index, Frame& out) = 0;
  virtual SourceState state() const { return SourceState::Ok; }
  // Frames skipped because they could not be decoded (damaged video, unreadable images,
  // frames a truncated file announces but does not hold).
  virtual int64_t skipped() const { return 0; }
  virtual DecoderStats decoder_stats() const { return {}; }
  // Time <-> index for scrubbing by time. index_at_time: the frame shown at `seconds` (the last
  // frame whose pts <= seconds), clamped to [0, frame_count). pts_of: frame `index`'s pts.
  virtual int64_t index_at_time(double seconds) const;
  virtual double pts_of(int64_t index) const;
};

// Knobs for open_source; the defaults suit the interactive app.
struct SourceOptions {
  int64_t cache_mb = 512;     // video: LRU cache of decoded RGB frames (0 disables it)
  int prefetch = 8;           // video: frames decoded ahead of the last one asked for
  int decoder_threads = 0;    // video: libavcodec threads, 0 = automatic
  double watchdog_s = 2.0;    // webcam: no frame for this long -> Lost, then reconnect
  int width = 0, height = 0;  // synthetic/webcam: requested size (0 = default / the device's)
  DecodeOptions decode;       // image / folder: EXIF orientation, decoded-size limit
};

// Opens SRC as DESIGN.md's --input defines it: image file, folder, video file, webcam:N or
// /dev/videoN (optionally followed by ":WxH" and ":FORMAT", e.g. webcam:0:1280x720:mjpeg),
// synthetic[:seed]. Throws camscope::Error with a one-line reason.
std::unique_ptr<FrameSource> open_source(const std::string& spec);
std::unique_ptr<FrameSource> open_source(const std::string& spec, const SourceOptions& options);

// --frames A:B for every consumer (export, bench, view): seeks to A when the source is
// seekable (else reads up to A), then reads sequentially until B or the end, calling fn for
// each frame; fn returns false to stop early. Damaged frames are skipped (source.skipped()).
// Live sources are polled until B frames have arrived or the source ends. Throws
// camscope::Error when A lies past the end. Returns the number of frames handed to fn.
int64_t for_each_frame(FrameSource& source, const FrameRange& range,
                       const std::function<bool(const Frame&)>& fn);

// The procedural moving-shapes source behind `synthetic[:seed]` (capture/synthetic_source.cpp,
// over the synthetic world generator shared with `camscope synth`).
std::unique_ptr<FrameSource> make_synthetic_source(uint64_t seed, int width = 640,
                                                   int height = 360);

}  // namespace camscope::capture
