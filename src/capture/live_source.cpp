// Live inputs through libavdevice: webcams (V4L2), or any other device input. A grab thread
// keeps only the newest picture (live input drops stale frames). Its watchdog declares the device
// Lost when no picture arrives for watchdog_s seconds (unplugged, driver stall), then reopens it
// every half second (Reconnecting) until pictures flow again. next() never blocks and never throws
// for that.
#include <sys/stat.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <thread>

extern "C" {
#include <libavdevice/avdevice.h>
#include <libavutil/dict.h>
}

#include "capture/ffmpeg_util.h"
#include "capture/sources.h"
#include "util/error.h"
#include "util/log.h"

namespace camscope::capture {
namespace {

using Clock = std::chrono::steady_clock;

void register_devices() {
  static std::once_flag once;
  std::call_once(once, [] { avdevice_register_all(); });
}

class LiveSource final : public FrameSource {
 public:
  LiveSource(const std::string& uri, const std::string& input_format, const std::string& device,
             const std::map<std::string, std::string>& options, const SourceOptions& opt)
      : m_input_format(input_format),
        m_device(device),
        m_options(options),
        m_watchdog(opt.watchdog_s) {
    av::quiet_logging();
    register_devices();
    open_device(uri);  // errors at open are reported to the user, not retried
    m_info.kind = input_format == "video4linux2" ? "webcam" : "live";
    m_info.uri = uri;
    AVStream* s = m_fmt->streams[m_stream];
    m_info.width = s->codecpar->width;
    m_info.height = s->codecpar->height;
    if (s->avg_frame_rate.num > 0 && s->avg_frame_rate.den > 0)
      m_info.fps = av_q2d(s->avg_frame_rate);
    m_info.live = true;
    m_info.seekable = false;
    m_start = Clock::now();
    m_thread = std::thread([this] { grab_main(); });
  }

  ~LiveSource() override {
    m_stop = true;
    if (m_thread.joinable()) m_thread.join();
  }

  const SourceInfo& info() const override { return m_info; }
  SourceState state() const override { return m_state.load(); }

  bool next(Frame& out) override {
    std::lock_guard<std::mutex> lock(m_mutex);
    if (m_latest_seq == m_taken_seq || !m_latest.valid()) return false;
    m_taken_seq = m_latest_seq;
    out.index = m_latest.index;
    out.file.clear();
    out.pts = m_latest.pts;
    out.width = m_latest.width;
    out.height = m_latest.height;
    out.rgb.assign(m_latest.rgb.begin(), m_latest.rgb.end());
    return true;
  }
  bool seek(int64_t, Frame&) override { throw Error(m_info.uri + ": a live webcam cannot seek"); }

 private:
  void open_device(const std::string& what) {
    const AVInputFormat* input = av_find_input_format(m_input_format.c_str());
    if (!input) throw Error(what + ": this FFmpeg has no " + m_input_format + " input");
    AVDictionary* opts = nullptr;
    for (const auto& [key, value] : m_options) av_dict_set(&opts, key.c_str(), value.c_str(), 0);
    AVFormatContext* raw = avformat_alloc_context();
    // Non-blocking reads keep the grab thread responsive to the watchdog and to shutdown.
    raw->flags |= AVFMT_FLAG_NONBLOCK;
    int r = avformat_open_input(&raw, m_device.c_str(), input, &opts);
    av_dict_free(&opts);
    if (r < 0) throw Error(what + ": cannot open " + m_device + " (" + av::error_text(r) + ")");
    av::FormatPtr fmt(raw);
    int stream = av_find_best_stream(fmt.get(), AVMEDIA_TYPE_VIDEO, -1, -1, nullptr, 0);
    if (stream < 0) throw Error(what + ": " + m_device + " delivers no video");
    m_dec = av::open_decoder(fmt->streams[stream], 1, what);
    m_fmt = std::move(fmt);
    m_stream = stream;
  }

  void grab_main() {
    av::PacketPtr pkt(av_packet_alloc());
    av::FramePtr pic(av_frame_alloc());
    av::RgbConverter rgb;
    Frame staging;
    auto last_picture = Clock::now();
    while (!m_stop) {
      if (!m_fmt) {
        reconnect();
        last_picture = Clock::now();
        continue;
      }
      int r = av_read_frame(m_fmt.get(), pkt.get());
      if (r == AVERROR(EAGAIN)) {
        if (std::chrono::duration<double>(Clock::now() - last_picture).count() > m_watchdog)
          lose("no frames");
        else
          std::this_thread::sleep_for(std::chrono::milliseconds(2));
        continue;
      }
      if (r < 0) {
        lose(av::error_text(r));
        continue;
      }
      if (pkt->stream_index == m_stream && avcodec_send_packet(m_dec.get(), pkt.get()) >= 0) {
        while (avcodec_receive_frame(m_dec.get(), pic.get()) == 0) {
          if (!rgb.convert(pic.get(), pic->width, pic->height, staging)) continue;
          last_picture = Clock::now();
          staging.pts = std::chrono::duration<double>(last_picture - m_start).count();
          staging.index = m_grabbed++;
          std::lock_guard<std::mutex> lock(m_mutex);
          std::swap(staging, m_latest);  // the caller copies out; no allocation once warm
          ++m_latest_seq;
        }
      }
      av_packet_unref(pkt.get());
    }
  }

  void lose(const std::string& why) {
    log::warn(m_info.uri + ": camera lost (" + why + "), reconnecting");
    m_state = SourceState::Lost;
    m_dec.reset();
    m_fmt.reset();
  }

  void reconnect() {
    m_state = SourceState::Reconnecting;
    for (int i = 0; i < 5 && !m_stop; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    if (m_stop) return;
    try {
      open_device(m_info.uri);
      m_state = SourceState::Ok;
      log::note(m_info.uri + ": camera reconnected");
    } catch (const Error&) {
      // still gone: try again after the next pause
    }
  }

  std::string m_input_format, m_device;
  std::map<std::string, std::string> m_options;
  double m_watchdog;
  SourceInfo m_info;
  Clock::time_point m_start;

  // Grab thread only (after construction).
  av::FormatPtr m_fmt;
  av::CodecPtr m_dec;
  int m_stream = -1;
  int64_t m_grabbed = 0;

  std::atomic<bool> m_stop{false};
  std::atomic<SourceState> m_state{SourceState::Ok};
  std::mutex m_mutex;
  Frame m_latest;
  uint64_t m_latest_seq = 0, m_taken_seq = 0;
  std::thread m_thread;
};

}  // namespace

std::unique_ptr<FrameSource> make_webcam_source(const std::string& uri, const std::string& device,
                                                const std::string& size, const std::string& format,
                                                const SourceOptions& opt) {
  struct stat st {};
  if (::stat(device.c_str(), &st) != 0)
    throw Error(uri + ": no camera at " + device + " (is a webcam connected?)");
  if (!S_ISCHR(st.st_mode)) throw Error(uri + ": " + device + " is not a video device");
  std::map<std::string, std::string> options;
  if (!size.empty()) options["video_size"] = size;
  if (!format.empty()) options["input_format"] = format;
  auto src = std::make_unique<LiveSource>(uri, "video4linux2", device, options, opt);
  return src;
}

std::unique_ptr<FrameSource> make_live_source(const std::string& uri,
                                              const std::string& input_format,
                                              const std::string& url,
                                              const std::map<std::string, std::string>& options,
                                              const SourceOptions& opt) {
  return std::make_unique<LiveSource>(uri, input_format, url, options, opt);
}

}  // namespace camscope::capture
