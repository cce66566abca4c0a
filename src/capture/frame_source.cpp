// FrameSource defaults and the --frames A:B walk shared by export, bench and view.
#include <chrono>
#include <cmath>
#include <thread>

#include "capture/frame_source.h"
#include "util/error.h"

namespace camscope::capture {
namespace {
constexpr int kLiveGiveUpS = 15;
}  // namespace

int64_t FrameSource::index_at_time(double seconds) const {
  const SourceInfo& i = info();
  if (i.fps <= 0 || !(seconds > 0)) return 0;
  int64_t idx = static_cast<int64_t>(std::floor(seconds * i.fps + 1e-9));
  return i.frame_count > 0 ? std::min(idx, i.frame_count - 1) : idx;
}

double FrameSource::pts_of(int64_t index) const {
  const SourceInfo& i = info();
  return i.fps > 0 ? index / i.fps : 0.0;
}

int64_t for_each_frame(FrameSource& source, const FrameRange& range,
                       const std::function<bool(const Frame&)>& fn) {
  const SourceInfo& info = source.info();
  if (info.frame_count >= 0 && range.begin >= info.frame_count)
    throw Error("--frames starts at " + std::to_string(range.begin) + " but " + info.uri + " has " +
                std::to_string(info.frame_count) + " frame" + (info.frame_count == 1 ? "" : "s"));
  Frame frame;
  int64_t handed = 0;
  auto deliver = [&](const Frame& f) {
    ++handed;
    return fn(f);
  };
  if (info.seekable) {
    if (source.seek(range.begin, frame) && !deliver(frame)) return handed;
  }
  // Live sources have no frame numbering of their own: count the frames that arrive.
  int64_t live_count = 0;
  auto last_arrival = std::chrono::steady_clock::now();
  while (true) {
    if (!source.next(frame)) {
      if (info.live && source.state() != SourceState::End) {
        // A camera that reconnects resumes the walk; one gone for good must not hang export.
        if (std::chrono::steady_clock::now() - last_arrival > std::chrono::seconds(kLiveGiveUpS))
          throw Error(info.uri + ": no frames for " + std::to_string(kLiveGiveUpS) + " s");
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
        continue;
      }
      return handed;
    }
    last_arrival = std::chrono::steady_clock::now();
    const int64_t index = info.live ? live_count++ : frame.index;
    if (index < range.begin) continue;
    if (range.end >= 0 && index >= range.end) return handed;
    if (info.live) frame.index = index;
    if (!deliver(frame)) return handed;
  }
}

}  // namespace camscope::capture
