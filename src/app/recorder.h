#pragma once
// Records the viewport to MP4 by piping raw RGBA frames into the ffmpeg command-line tool
// (H.264, yuv420p, odd sizes padded to even). One frame per new viewport image.
#include <cstdint>
#include <cstdio>
#include <string>

namespace camscope::app {

class Recorder {
 public:
  Recorder() = default;
  ~Recorder();
  Recorder(const Recorder&) = delete;
  Recorder& operator=(const Recorder&) = delete;

  // Starts ffmpeg writing `path` (which the caller has checked may be written). Throws
  // camscope::Error when ffmpeg cannot be started.
  void start(const std::string& path, int width, int height, double fps);
  // RGBA8, top row first, the size given to start(). Returns false (and stops) on a write error
  // or a size change.
  bool write(const uint8_t* rgba, int width, int height);
  // Closes the pipe and waits for ffmpeg; returns false when ffmpeg failed.
  bool stop();

  bool active() const { return m_pipe != nullptr; }
  const std::string& path() const { return m_path; }
  int64_t frames() const { return m_frames; }
  const std::string& error() const { return m_error; }  // why the last recording stopped early

 private:
  FILE* m_pipe = nullptr;
  std::string m_path, m_error;
  int m_width = 0, m_height = 0;
  int64_t m_frames = 0;
};

}  // namespace camscope::app
