#pragma once
// Records the viewport to MP4 by piping raw RGBA frames into the ffmpeg command-line tool
// (H.264, yuv420p, odd sizes padded to even) at a constant frame rate. Each new viewport image
// comes with the time (seconds from the start of the recording) at which it appears in the
// clip; the previous image is repeated until then, so the clip's timing follows the caller's
// clock (source timestamps for video, wall clock for live input) and not the rate at which
// images happened to be computed.
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

namespace camscope::app {

class Recorder {
 public:
  Recorder() = default;
  ~Recorder();
  Recorder(const Recorder&) = delete;
  Recorder& operator=(const Recorder&) = delete;

  // Starts ffmpeg writing `path` (which the caller has checked may be written) at `fps` frames
  // per second. Throws camscope::Error when ffmpeg cannot be started.
  void start(const std::string& path, int width, int height, double fps);
  // RGBA8, top row first, the size given to start(), shown from `t` seconds on (the first
  // image starts the clip whatever t). Returns false (and stops) on a write error or a size
  // change.
  bool write(const uint8_t* rgba, int width, int height, double t);
  // Holds the last image until `t_end` (when later than its own frame), closes the pipe and
  // waits for ffmpeg; returns false when ffmpeg failed.
  bool stop(double t_end = -1);

  bool active() const { return m_pipe != nullptr; }
  const std::string& path() const { return m_path; }
  int64_t frames() const { return m_frames; }      // frames written (repeats included)
  int64_t images() const { return m_images; }      // distinct images given to write()
  double fps() const { return m_fps; }
  double duration() const { return m_fps > 0 ? m_frames / m_fps : 0; }
  const std::string& error() const { return m_error; }  // why the last recording stopped early

 private:
  FILE* m_pipe = nullptr;
  std::string m_path, m_error;
  bool put(const uint8_t* rgba);
  int m_width = 0, m_height = 0;
  int64_t m_frames = 0, m_images = 0;
  double m_fps = 30;
  std::vector<uint8_t> m_last;  // the image repeated until the next one
};

}  // namespace camscope::app
