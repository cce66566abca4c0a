#pragma once
// Ownership and error text for the FFmpeg objects the video and webcam sources hold, and the
// one place decoded pictures become RGB24.
extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libswscale/swscale.h>
}

#include <memory>
#include <string>

#include "capture/frame_source.h"

namespace camscope::capture::av {

struct FormatClose {
  void operator()(AVFormatContext* c) const { avformat_close_input(&c); }
};
struct CodecFree {
  void operator()(AVCodecContext* c) const { avcodec_free_context(&c); }
};
struct PacketFree {
  void operator()(AVPacket* p) const { av_packet_free(&p); }
};
struct FrameFree {
  void operator()(AVFrame* f) const { av_frame_free(&f); }
};
struct SwsFree {
  void operator()(SwsContext* s) const { sws_freeContext(s); }
};
using FormatPtr = std::unique_ptr<AVFormatContext, FormatClose>;
using CodecPtr = std::unique_ptr<AVCodecContext, CodecFree>;
using PacketPtr = std::unique_ptr<AVPacket, PacketFree>;
using FramePtr = std::unique_ptr<AVFrame, FrameFree>;

// "Invalid data found when processing input" for an AVERROR code.
std::string error_text(int err);
// FFmpeg writes its own warnings to stderr, which would break the CLI's one-line error
// contract on damaged files: keep it quiet unless camscope runs verbose.
void quiet_logging();
// Opens a decoder for stream `st` (threads: 0 = automatic). Throws camscope::Error.
CodecPtr open_decoder(const AVStream* st, int threads, const std::string& what);

// Converts decoded pictures of any pixel format to RGB24 at a fixed output size, honouring
// the picture's colour matrix and range (BT.601/709, limited/full).
class RgbConverter {
 public:
  RgbConverter() = default;
  RgbConverter(const RgbConverter&) = delete;
  RgbConverter& operator=(const RgbConverter&) = delete;
  // Returns false when the picture cannot be converted (unknown format, zero size).
  bool convert(const AVFrame* src, int out_w, int out_h, Frame& out);

 private:
  std::unique_ptr<SwsContext, SwsFree> m_sws;
  int m_w = 0, m_h = 0, m_fmt = -1, m_ow = 0, m_oh = 0, m_cs = -1, m_range = -1;
};

}  // namespace camscope::capture::av
