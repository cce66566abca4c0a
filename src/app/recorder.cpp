#include "app/recorder.h"

#include <cmath>
#include <csignal>

#include "util/error.h"
#include "util/log.h"

namespace camscope::app {
namespace {
std::string shell_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}
}  // namespace

Recorder::~Recorder() {
  stop();
}

void Recorder::start(const std::string& path, int width, int height, double fps) {
  stop();
  if (width <= 0 || height <= 0) throw Error("nothing to record yet");
  // A dying ffmpeg must not kill the viewer through SIGPIPE; writes then fail instead.
  std::signal(SIGPIPE, SIG_IGN);
  m_fps = fps > 0 ? fps : 30.0;
  char rate[32];
  std::snprintf(rate, sizeof rate, "%.6g", m_fps);
  const std::string cmd = "ffmpeg -loglevel error -nostdin -y -f rawvideo -pix_fmt rgba -s " +
                          std::to_string(width) + "x" + std::to_string(height) + " -r " + rate +
                          " -i - -vf 'pad=ceil(iw/2)*2:ceil(ih/2)*2' -c:v libx264 -preset veryfast"
                          " -pix_fmt yuv420p -movflags +faststart " +
                          shell_quote(path);
  m_pipe = ::popen(cmd.c_str(), "w");
  if (!m_pipe) throw Error("cannot start ffmpeg for recording");
  m_path = path;
  m_error.clear();
  m_width = width;
  m_height = height;
  m_frames = 0;
  m_images = 0;
  m_last.clear();
}

bool Recorder::put(const uint8_t* rgba) {
  const size_t n = static_cast<size_t>(m_width) * m_height * 4;
  if (std::fwrite(rgba, 1, n, m_pipe) != n) {
    m_error = "recording stopped: ffmpeg is not accepting frames";
    log::warn(m_error);
    stop();
    return false;
  }
  ++m_frames;
  return true;
}

bool Recorder::write(const uint8_t* rgba, int width, int height, double t) {
  if (!m_pipe) return false;
  if (width != m_width || height != m_height) {
    m_error = "recording stopped: the viewport size changed";
    log::warn(m_error);
    stop();
    return false;
  }
  // The previous image lasts until this one's frame slot; an image arriving within a slot
  // already written takes the next one (later images catch up: slots are absolute).
  const int64_t slot = m_images == 0 ? 0 : static_cast<int64_t>(std::llround(t * m_fps));
  while (!m_last.empty() && m_frames < slot)
    if (!put(m_last.data())) return false;
  if (!put(rgba)) return false;
  m_last.assign(rgba, rgba + static_cast<size_t>(width) * height * 4);
  ++m_images;
  return true;
}

bool Recorder::stop(double t_end) {
  if (!m_pipe) return true;
  if (t_end > 0 && !m_last.empty()) {
    const int64_t end = static_cast<int64_t>(std::llround(t_end * m_fps));
    while (m_pipe && m_frames < end)
      if (!put(m_last.data())) break;
    if (!m_pipe) return false;
  }
  const int st = ::pclose(m_pipe);
  m_pipe = nullptr;
  return st == 0;
}

}  // namespace camscope::app
