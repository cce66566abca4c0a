// Video files through FFmpeg with frame-exact random access.
//
// Frame i is the i-th presentation timestamp of the video stream, collected by a demux-only
// pass at open (no decoding) and sorted, so B-frames, long GOPs and variable frame rate all
// index the same way a sequential decode does. seek(i) positions the demuxer on the keyframe
// at or before frame i (AVSEEK_FLAG_BACKWARD), flushes the decoder and decodes forward to i;
// when the demuxer lands too late (demuxers differ in whether they compare pts or dts) it
// backs off to earlier keyframes and finally to the start of the file.
//
// All FFmpeg state belongs to one decode thread. The caller's thread reads the LRU cache and
// otherwise posts a request and waits; between requests the decode thread decodes a few
// frames ahead so playback and single steps are cache hits.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <set>
#include <thread>

#include "capture/ffmpeg_util.h"
#include "capture/frame_cache.h"
#include "capture/indexed_source.h"
#include "capture/sources.h"
#include "util/error.h"
#include "util/log.h"

namespace camscope::capture {
namespace {

constexpr int kMaxPacketsWithoutFrame = 4096;  // bounds every decode loop on damaged input
constexpr int kKeepBehind = 8;                 // frames before a seek target kept for stepping back

class VideoSource final : public IndexedSource {
 public:
  VideoSource(const std::string& path, const SourceOptions& opt)
      : m_path(path), m_opt(opt), m_cache(std::max<int64_t>(0, opt.cache_mb) << 20) {
    av::quiet_logging();
    open_demuxer();
    build_index();
    m_dec = av::open_decoder(m_fmt->streams[m_stream], opt.decoder_threads, m_path);
    m_packet.reset(av_packet_alloc());
    m_picture.reset(av_frame_alloc());
    if (!m_packet || !m_picture) throw Error(m_path + ": out of memory");
    const int64_t frame_bytes = static_cast<int64_t>(m_info.width) * m_info.height * 3;
    m_keep_behind = static_cast<int>(
        std::min<int64_t>(kKeepBehind, m_cache.budget() / std::max<int64_t>(1, 4 * frame_bytes)));
    m_prefetch_depth = static_cast<int>(std::min<int64_t>(
        std::max(0, opt.prefetch), m_cache.budget() / std::max<int64_t>(1, 4 * frame_bytes)));
    m_worker = std::thread([this] { worker_main(); });
  }

  ~VideoSource() override {
    {
      std::lock_guard<std::mutex> lock(m_mutex);
      m_stop = true;
    }
    m_abort = true;
    m_work_cv.notify_all();
    if (m_worker.joinable()) m_worker.join();
  }

  int64_t skipped() const override {
    std::lock_guard<std::mutex> lock(m_missing_mutex);
    return static_cast<int64_t>(m_missing.size()) + m_not_in_file;
  }

  bool read_frame(int64_t index, Frame& out) override { return fetch(index, out); }

  DecoderStats decoder_stats() const override { return {m_seeks.load(), m_opens.load()}; }

  int64_t index_at_time(double seconds) const override {
    const double t = seconds / av_q2d(m_time_base) + 1e-6;
    if (!(t > 0)) return 0;
    // Past the last frame: the last one (also keeps the sum below within int64).
    const double last = static_cast<double>(m_pts.back() - m_pts.front());
    if (t >= last) return static_cast<int64_t>(m_pts.size()) - 1;
    const int64_t ts = m_pts.front() + static_cast<int64_t>(t);
    auto it = std::upper_bound(m_pts.begin(), m_pts.end(), ts);
    return std::max<int64_t>(0, (it - m_pts.begin()) - 1);
  }
  double pts_of(int64_t index) const override {
    if (index < 0 || index >= static_cast<int64_t>(m_pts.size())) return -1.0;
    return (m_pts[index] - m_pts.front()) * av_q2d(m_time_base);
  }

 private:
  // [SECTION] Open and index (constructor thread, before the decode thread starts)

  void open_demuxer() {
    AVFormatContext* raw = nullptr;
    ++m_opens;
    int r = avformat_open_input(&raw, m_path.c_str(), nullptr, nullptr);
    if (r < 0) throw Error(m_path + ": not a readable video (" + av::error_text(r) + ")");
    av::FormatPtr fmt(raw);
    r = avformat_find_stream_info(fmt.get(), nullptr);
    if (r < 0) throw Error(m_path + ": cannot read stream info (" + av::error_text(r) + ")");
    int stream = m_stream;
    if (stream < 0) stream = av_find_best_stream(fmt.get(), AVMEDIA_TYPE_VIDEO, -1, -1, nullptr, 0);
    if (stream < 0 || stream >= static_cast<int>(fmt->nb_streams) ||
        fmt->streams[stream]->codecpar->codec_type != AVMEDIA_TYPE_VIDEO)
      throw Error(m_path + ": no video stream");
    for (unsigned s = 0; s < fmt->nb_streams; ++s)
      fmt->streams[s]->discard = static_cast<int>(s) == stream ? AVDISCARD_DEFAULT : AVDISCARD_ALL;
    m_fmt = std::move(fmt);
    m_stream = stream;
  }

  void build_index() {
    AVStream* st = m_fmt->streams[m_stream];
    m_time_base = st->time_base;
    if (m_time_base.num <= 0 || m_time_base.den <= 0) throw Error(m_path + ": invalid time base");
    av::PacketPtr pkt(av_packet_alloc());
    struct Entry {
      int64_t pts, dts;
      bool key;
    };
    std::vector<Entry> entries;
    while (av_read_frame(m_fmt.get(), pkt.get()) >= 0) {
      if (pkt->stream_index == m_stream && !(pkt->flags & AV_PKT_FLAG_DISCARD)) {
        m_count_mode = m_count_mode || pkt->pts == AV_NOPTS_VALUE;
        entries.push_back({pkt->pts, pkt->dts != AV_NOPTS_VALUE ? pkt->dts : pkt->pts,
                           (pkt->flags & AV_PKT_FLAG_KEY) != 0});
      }
      av_packet_unref(pkt.get());
    }
    if (entries.empty()) throw Error(m_path + ": no decodable video frames");
    AVRational rate = st->avg_frame_rate.num > 0 && st->avg_frame_rate.den > 0 ? st->avg_frame_rate
                                                                               : st->r_frame_rate;
    if (m_count_mode) {
      // Raw streams (and AVI with B-frames) lack presentation timestamps: frame i is then the
      // i-th picture the decoder outputs from the start, timed at the nominal rate, and every
      // seek decodes from the beginning of the file.
      if (rate.num <= 0 || rate.den <= 0) rate = AVRational{25, 1};
      for (size_t i = 0; i < entries.size(); ++i) {
        int64_t ts = av_rescale_q(static_cast<int64_t>(i), av_inv_q(rate), m_time_base);
        m_pts.push_back(m_pts.empty() ? ts : std::max(ts, m_pts.back() + 1));
      }
      m_keys.push_back({0, m_pts.front(), m_pts.front()});
    } else {
      m_pts.reserve(entries.size());
      for (const Entry& e : entries) m_pts.push_back(e.pts);
      std::sort(m_pts.begin(), m_pts.end());
      m_pts.erase(std::unique(m_pts.begin(), m_pts.end()), m_pts.end());
      for (const Entry& e : entries) {
        if (!e.key) continue;
        m_keys.push_back({index_of(e.pts), e.pts, e.dts});
      }
      std::sort(m_keys.begin(), m_keys.end(),
                [](const Key& a, const Key& b) { return a.index < b.index; });
    }

    const int64_t n = static_cast<int64_t>(m_pts.size());
    // Every pts difference below (pts_of, spans, time -> index) must fit in int64.
    int64_t range = 0;
    if (__builtin_sub_overflow(m_pts.back(), m_pts.front(), &range) || range > (INT64_MAX >> 2))
      throw Error(m_path + ": implausible timestamps (from " + std::to_string(m_pts.front()) +
                  " to " + std::to_string(m_pts.back()) + ")");
    if (st->nb_frames > n) {
      m_not_in_file = st->nb_frames - n;
      log::warn(m_path + ": truncated file, " + std::to_string(n) + " of " +
                std::to_string(st->nb_frames) + " frames present");
    }
    m_info.kind = "video";
    m_info.uri = m_path;
    m_info.width = st->codecpar->width;
    m_info.height = st->codecpar->height;
    if (m_info.width <= 0 || m_info.height <= 0 || m_info.width > 16384 || m_info.height > 16384)
      throw Error(m_path + ": implausible video size " + std::to_string(m_info.width) + "x" +
                  std::to_string(m_info.height));
    m_info.frame_count = n;
    const double span = (m_pts.back() - m_pts.front()) * av_q2d(m_time_base);
    if (rate.num > 0 && rate.den > 0)
      m_info.fps = av_q2d(rate);
    else if (n > 1 && span > 0)
      m_info.fps = (n - 1) / span;
    m_info.duration = span + (m_info.fps > 0 ? 1.0 / m_info.fps : 0.0);
    m_info.seekable = true;
    m_need_seek = true;
  }

  int64_t index_of(int64_t pts) const {
    auto it = std::lower_bound(m_pts.begin(), m_pts.end(), pts);
    if (it == m_pts.end() || *it != pts) return -1;
    return it - m_pts.begin();
  }

  // [SECTION] Caller side

  bool is_missing(int64_t i) const {
    std::lock_guard<std::mutex> lock(m_missing_mutex);
    return m_missing.count(i) != 0;
  }
  void mark_missing(int64_t from, int64_t to) {
    std::lock_guard<std::mutex> lock(m_missing_mutex);
    for (int64_t i = std::max<int64_t>(0, from); i < std::min(to, m_info.frame_count); ++i)
      m_missing.insert(i);
  }

  bool fetch(int64_t index, Frame& out) {
    if (m_cache.get(index, out)) {
      std::lock_guard<std::mutex> lock(m_mutex);
      extend_prefetch(index);
      return true;
    }
    if (is_missing(index)) return false;
    std::unique_lock<std::mutex> lock(m_mutex);
    m_request = index;
    const uint64_t ticket = ++m_request_seq;
    m_abort = true;  // stop prefetching: the caller is waiting
    m_work_cv.notify_one();
    m_done_cv.wait(lock, [&] { return m_done_seq == ticket; });
    if (!m_error.empty()) throw Error(m_error);
    std::shared_ptr<const Frame> f = std::move(m_result);
    if (!f) return false;
    out.index = f->index;
    out.file.clear();
    out.pts = f->pts;
    out.width = f->width;
    out.height = f->height;
    out.rgb.assign(f->rgb.begin(), f->rgb.end());
    return true;
  }

  void extend_prefetch(int64_t served) {  // m_mutex held
    if (m_prefetch_depth <= 0) return;
    if (served + 1 < m_prefetch_next || served + 1 > m_prefetch_end) m_prefetch_next = served + 1;
    m_prefetch_end = served + 1 + m_prefetch_depth;
    m_work_cv.notify_one();
  }

  // [SECTION] Decode thread

  void worker_main() {
    std::unique_lock<std::mutex> lock(m_mutex);
    while (true) {
      m_work_cv.wait(lock, [&] {
        return m_stop || m_request >= 0 ||
               (m_prefetch_next < m_prefetch_end && m_prefetch_next < m_info.frame_count);
      });
      if (m_stop) return;
      if (m_request >= 0) {
        const int64_t target = m_request;
        m_request = -1;
        m_abort = false;
        lock.unlock();
        std::shared_ptr<const Frame> result;
        std::string error;
        try {
          // A prefetch may have produced it after the caller looked...
          result = m_cache.find(target);
          // ... or written it off as damaged (no seek back to try it again).
          if (!result && !is_missing(target)) result = decode_to(target, false);
        } catch (const std::exception& e) {
          error = e.what();
          m_need_seek = true;
        }
        lock.lock();
        m_result = std::move(result);
        m_error = error;
        m_done_seq = m_request_seq;
        if (m_request < 0) extend_prefetch(target);
        m_done_cv.notify_all();
        continue;
      }
      const int64_t p = m_prefetch_next++;
      lock.unlock();
      bool keep_going = true;
      if (!m_cache.contains(p) && !is_missing(p)) {
        // Prefetch only continues a running decode; it never seeks.
        if (!m_need_seek && m_dec_next <= p && p - m_dec_next <= 4) {
          try {
            decode_to(p, true);
          } catch (const std::exception&) {
            m_need_seek = true;
          }
        } else {
          keep_going = false;
        }
      }
      lock.lock();
      if (!keep_going && m_request < 0) m_prefetch_end = m_prefetch_next;
    }
  }

  // Decodes forward until frame `target` is produced; caches it and up to m_keep_behind frames
  // before it. Returns the frame, or null when it is damaged/absent (or, when abortable, a
  // request arrived first).
  std::shared_ptr<const Frame> decode_to(int64_t target, bool abortable) {
    SkipGuard skip(*this, target - m_keep_behind > 0 ? m_pts[target - m_keep_behind] : INT64_MIN);
    bool pending = false;
    if (m_need_seek || m_dec_next > target || key_index_for(target) > m_dec_next + 4) {
      pending = reposition(target);
      if (!pending) {
        mark_missing(target, target + 1);
        return nullptr;
      }
    }
    while (true) {
      if (!pending && !receive()) {
        // At the true end nothing after m_dec_next will come; a decoder starved by damage may
        // recover at a later keyframe, so only what was asked for is written off then.
        mark_missing(m_dec_next, m_starved ? target + 1 : m_info.frame_count);
        m_dec_next = m_info.frame_count;
        m_need_seek = true;
        return nullptr;
      }
      pending = false;
      const int64_t idx = m_picture_index;
      if (idx < m_valid_from) continue;    // leading pictures that reference before the seek point
      if (idx < m_dec_next - 1) continue;  // out-of-order leftovers of damaged streams
      // Pictures between the last one and this one did not decode (damage). Write them off
      // now: otherwise a request for one of them, after a read-ahead went past it, finds the
      // decoder beyond it and seeks back (and fails again) — a seek and a re-decode from the
      // keyframe, or from the start of the file, per damaged frame. Pictures below the skip
      // threshold may have been left undecoded on purpose (AVDISCARD_NONREF) and are not.
      if (idx > m_dec_next) mark_missing(std::max(m_dec_next, target - m_keep_behind), idx);
      m_dec_next = idx + 1;
      if (idx >= target - m_keep_behind) {
        auto frame = convert(idx);
        if (frame) m_cache.put(frame);
        if (idx == target) return frame;
        if (idx > target) {
          mark_missing(target, idx);
          return nullptr;
        }
      }
      if (abortable && m_abort) return nullptr;
    }
  }

  std::shared_ptr<Frame> convert(int64_t idx) {
    std::shared_ptr<Frame> frame = m_cache.take_spare();
    if (!m_rgb.convert(m_picture.get(), m_info.width, m_info.height, *frame)) return nullptr;
    frame->index = idx;
    frame->pts = (m_pts[idx] - m_pts.front()) * av_q2d(m_time_base);
    return frame;
  }

  int64_t key_index_for(int64_t target) const {
    auto it = std::upper_bound(m_keys.begin(), m_keys.end(), target,
                               [](int64_t t, const Key& k) { return t < k.index; });
    return it == m_keys.begin() ? 0 : std::prev(it)->index;
  }

  // Positions the decoder so that its first picture (left in m_picture) is at or before
  // `target`. Tries the keyframe's pts, then its dts, then earlier keyframes, then the start.
  bool reposition(int64_t target) {
    auto it = std::upper_bound(m_keys.begin(), m_keys.end(), target,
                               [](int64_t t, const Key& k) { return t < k.index; });
    int64_t k = (it - m_keys.begin()) - 1;
    std::vector<std::pair<int64_t, int64_t>> attempts;  // (keyframe index, seek timestamp)
    for (int back = 0; back < 3 && k - back >= 0 && !m_count_mode; ++back) {
      const Key& key = m_keys[k - back];
      if (key.index < 0) continue;
      attempts.emplace_back(key.index, key.pts);
      if (back == 0 && key.dts != key.pts) attempts.emplace_back(key.index, key.dts);
    }
    for (size_t a = 0; a < attempts.size(); ++a) {
      ++m_seeks;
      if (av_seek_frame(m_fmt.get(), m_stream, attempts[a].second, AVSEEK_FLAG_BACKWARD) < 0)
        continue;
      m_valid_from = attempts[a].first;
      if (first_picture_at_or_before(target)) return true;
    }
    rewind();
    m_valid_from = 0;
    return first_picture_at_or_before(target);
  }

  bool first_picture_at_or_before(int64_t target) {
    avcodec_flush_buffers(m_dec.get());
    m_demux_eof = false;
    m_need_seek = false;
    m_dec_next = 0;
    m_output_count = 0;
    if (!receive()) {
      m_need_seek = true;
      return false;
    }
    // Skip leading pictures before the keyframe (open GOPs) without judging the seek by them.
    int guard = 0;
    while (m_picture_index < m_valid_from && ++guard < kMaxPacketsWithoutFrame) {
      if (!receive()) {
        m_need_seek = true;
        return false;
      }
    }
    if (m_picture_index > target || m_picture_index < m_valid_from) {
      m_need_seek = true;
      return false;
    }
    m_dec_next = m_picture_index;
    return true;
  }

  // Back to the first packet: a plain seek where the demuxer allows it, else reopen the file.
  void rewind() {
    ++m_seeks;
    if (!m_count_mode && avformat_seek_file(m_fmt.get(), m_stream, INT64_MIN, m_pts.front(),
                                            m_pts.front(), AVSEEK_FLAG_BACKWARD) >= 0)
      return;
    open_demuxer();  // replaces m_fmt only once the new context is open
    // Counting pictures needs the decoder exactly as fresh as at open (a flushed MPEG-4 Part 2
    // decoder with packed B-frames outputs a different number of pictures).
    if (m_count_mode)
      m_dec = av::open_decoder(m_fmt->streams[m_stream], m_opt.decoder_threads, m_path);
  }

  // Next decoded picture with a known index into m_picture/m_picture_index; false at the end
  // of the stream or when the decoder stops producing pictures.
  bool receive() {
    m_starved = false;
    int starved = 0;
    while (starved < kMaxPacketsWithoutFrame) {
      int r = avcodec_receive_frame(m_dec.get(), m_picture.get());
      if (r == 0) {
        int64_t pts =
            m_picture->pts != AV_NOPTS_VALUE ? m_picture->pts : m_picture->best_effort_timestamp;
        m_picture_index = m_count_mode ? m_output_count++ : index_of(pts);
        if (m_picture_index >= 0) return true;
        ++starved;
        continue;
      }
      if (r == AVERROR_EOF) return false;
      if (r != AVERROR(EAGAIN)) {
        // A picture that failed to decode (damage): the decoder stays usable and the next
        // packet decodes as usual, so keep reading forward. Treating it as the end of the
        // stream cost a seek and a re-decode from the keyframe per damaged picture.
        ++starved;
        continue;
      }
      if (m_demux_eof) return false;  // drained already
      ++starved;
      r = av_read_frame(m_fmt.get(), m_packet.get());
      if (r < 0) {
        m_demux_eof = true;
        avcodec_send_packet(m_dec.get(), nullptr);
        continue;
      }
      if (m_packet->stream_index == m_stream) {
        // Pictures no other picture references and that are not wanted need not be decoded;
        // skipping them (about half of all frames with B-pyramids) speeds up seeks and
        // cannot change any other picture.
        // (Not when pictures are counted: every one must come out.)
        const bool unwanted =
            !m_count_mode && m_packet->pts != AV_NOPTS_VALUE && m_packet->pts < m_skip_below;
        m_dec->skip_frame = unwanted ? AVDISCARD_NONREF : AVDISCARD_DEFAULT;
        avcodec_send_packet(m_dec.get(), m_packet.get());
      }
      av_packet_unref(m_packet.get());
    }
    m_starved = true;
    return false;
  }

  struct Key {
    int64_t index, pts, dts;
  };
  // Sets the pts below which decode_to does not need pictures, for the length of one call.
  struct SkipGuard {
    VideoSource& v;
    SkipGuard(VideoSource& src, int64_t below) : v(src) { v.m_skip_below = below; }
    ~SkipGuard() { v.m_skip_below = INT64_MIN; }
  };

  // Fixed after construction.
  std::string m_path;
  SourceOptions m_opt;
  AVRational m_time_base{1, 1};
  std::vector<int64_t> m_pts;  // sorted: frame i's pts in stream time base
  std::vector<Key> m_keys;     // keyframes by frame index
  bool m_count_mode = false;   // no pts: frame i = i-th decoded picture since the start
  int64_t m_not_in_file = 0;   // frames the header announces but a truncated file lacks
  int m_keep_behind = 0, m_prefetch_depth = 0;

  FrameCache m_cache;
  mutable std::mutex m_missing_mutex;
  std::set<int64_t> m_missing;

  // Caller's thread only.

  // Decode thread only (after construction).
  av::FormatPtr m_fmt;
  int m_stream = -1;
  av::CodecPtr m_dec;
  av::PacketPtr m_packet;
  av::FramePtr m_picture;
  int64_t m_picture_index = -1;
  int64_t m_output_count = 0;  // pictures decoded since the last rewind (count mode)
  int64_t m_valid_from = 0;    // pictures before the keyframe sought to are not trusted
  int64_t m_skip_below = INT64_MIN;
  av::RgbConverter m_rgb;
  bool m_need_seek = true, m_demux_eof = false, m_starved = false;
  int64_t m_dec_next = 0;  // index of the next picture a forward decode produces

  // Hand-over between the threads.
  std::mutex m_mutex;
  std::condition_variable m_work_cv, m_done_cv;
  bool m_stop = false;
  std::atomic<bool> m_abort{false};
  int64_t m_request = -1;
  uint64_t m_request_seq = 0, m_done_seq = 0;
  std::shared_ptr<const Frame> m_result;
  std::string m_error;
  int64_t m_prefetch_next = 0, m_prefetch_end = 0;
  std::thread m_worker;
  std::atomic<int64_t> m_seeks{0}, m_opens{0};
};

}  // namespace

std::unique_ptr<FrameSource> make_video_source(const std::string& path, const SourceOptions& opt) {
  std::error_code ec;
  if (std::filesystem::file_size(path, ec) == 0 && !ec) throw Error(path + ": empty file");
  return std::make_unique<VideoSource>(path, opt);
}

}  // namespace camscope::capture
