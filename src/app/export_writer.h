#pragma once
// The writing side of `camscope export`: a small pool of threads that encodes and writes each
// computed frame (cam/raw .npy, overlay PNG or JPEG, or the frame for the MP4) and commits the
// frames in source order (summary entry, progress, MP4 frame). No LibTorch and no ATen ops:
// the model's thread stays the process's only OpenMP master (bench/README.md).
//
// Files appear atomically (written to ".NAME.partial" in the same folder, then renamed); a frame
// is committed — listed in summary.json — only once all its files are on disk, and frames are
// committed in the order they were submitted. Memory is bounded: submit() blocks while
// `capacity` frames are in flight.
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "model/input_geometry.h"
#include "util/image_encode.h"
#include "util/json.h"

namespace camscope::app {

enum class OverlayKind { Png, Jpg, Mp4, None };

struct ExportJob {
  int64_t index = -1;
  bool skipped = false;  // an undecodable frame: only its summary entry
  Json entry;            // summary.json entry; "timings_ms" gets "write" added
  std::vector<float> map;  // [map_h, map_w] in [0, 1]
  int map_w = 0, map_h = 0;
  std::vector<float> raw;  // empty: no raw file
  std::vector<int64_t> raw_shape;
  std::vector<uint8_t> rgb;  // the frame, width x height x 3 (overlays only)
  int width = 0, height = 0;
  model::InputGeometry geometry;
};

struct ExportWriterOptions {
  std::string out_dir;
  OverlayKind overlay = OverlayKind::Png;
  const uint8_t* lut_rgba = nullptr;  // 256 RGBA entries, kept alive by the caller
  double alpha = 0.5;
  PngOptions png;
  int jpeg_quality = 90;
  double mp4_fps = 25;
  int threads = 2;
  int capacity = 8;  // frames in flight (queued, being written, or waiting for their turn)
  // Called once per frame, in submission order, from one writer thread at a time, after the
  // frame's files are on disk (the MP4 frame is handed to ffmpeg just before).
  std::function<void(ExportJob&)> on_commit;
};

class ExportWriter {
 public:
  explicit ExportWriter(ExportWriterOptions opt);
  ~ExportWriter();  // stops the threads; pending frames are dropped (call finish() to keep them)
  ExportWriter(const ExportWriter&) = delete;
  ExportWriter& operator=(const ExportWriter&) = delete;

  // Hands a frame over; blocks while the pool is full. Rethrows a writer's error.
  void submit(ExportJob job);
  // Writes and commits everything submitted, closes the MP4 (ffmpeg finishes it), stops the
  // threads. Rethrows the first writer error.
  void finish();
  int64_t committed() const;

  struct Impl;

 private:
  std::unique_ptr<Impl> m;
};

}  // namespace camscope::app
