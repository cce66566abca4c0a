#include "capture/ffmpeg_util.h"

extern "C" {
#include <libavutil/pixdesc.h>
}

#include <mutex>

#include "util/error.h"
#include "util/log.h"

namespace camscope::capture::av {

std::string error_text(int err) {
  char buf[AV_ERROR_MAX_STRING_SIZE] = {0};
  av_strerror(err, buf, sizeof buf);
  return buf;
}

void quiet_logging() {
  static std::once_flag once;
  std::call_once(once, [] { av_log_set_level(log::verbose() ? AV_LOG_WARNING : AV_LOG_QUIET); });
}

CodecPtr open_decoder(const AVStream* st, int threads, const std::string& what) {
  const AVCodec* codec = avcodec_find_decoder(st->codecpar->codec_id);
  if (!codec)
    throw Error(what + ": no decoder for codec '" + avcodec_get_name(st->codecpar->codec_id) + "'");
  CodecPtr dec(avcodec_alloc_context3(codec));
  if (!dec) throw Error(what + ": out of memory");
  int r = avcodec_parameters_to_context(dec.get(), st->codecpar);
  if (r < 0) throw Error(what + ": bad codec parameters (" + error_text(r) + ")");
  dec->pkt_timebase = st->time_base;
  dec->thread_count = threads;
  dec->thread_type = FF_THREAD_FRAME | FF_THREAD_SLICE;
  r = avcodec_open2(dec.get(), codec, nullptr);
  if (r < 0)
    throw Error(what + ": cannot open " + codec->name + " decoder (" + error_text(r) + ")");
  return dec;
}

namespace {
bool is_jpeg_range_format(int fmt) {
  return fmt == AV_PIX_FMT_YUVJ420P || fmt == AV_PIX_FMT_YUVJ422P || fmt == AV_PIX_FMT_YUVJ444P ||
         fmt == AV_PIX_FMT_YUVJ440P || fmt == AV_PIX_FMT_YUVJ411P;
}
int sws_colorspace(AVColorSpace cs, int height) {
  switch (cs) {
    case AVCOL_SPC_BT709:
      return SWS_CS_ITU709;
    case AVCOL_SPC_FCC:
      return SWS_CS_FCC;
    case AVCOL_SPC_SMPTE240M:
      return SWS_CS_SMPTE240M;
    case AVCOL_SPC_BT2020_NCL:
    case AVCOL_SPC_BT2020_CL:
      return SWS_CS_BT2020;
    case AVCOL_SPC_BT470BG:
    case AVCOL_SPC_SMPTE170M:
      return SWS_CS_ITU601;
    default:
      return height >= 720 ? SWS_CS_ITU709 : SWS_CS_ITU601;  // the usual guess for untagged video
  }
}
}  // namespace

// SWS_BILINEAR without SWS_ACCURATE_RND keeps same-size YUV->RGB on swscale's table-driven
// fast path (several times faster at 1080p than the generic scaler).
bool RgbConverter::convert(const AVFrame* src, int out_w, int out_h, Frame& out) {
  if (src->width <= 0 || src->height <= 0 || src->format < 0 || out_w <= 0 || out_h <= 0)
    return false;
  const AVPixFmtDescriptor* desc = av_pix_fmt_desc_get(static_cast<AVPixelFormat>(src->format));
  if (!desc) return false;
  const bool yuv = !(desc->flags & AV_PIX_FMT_FLAG_RGB) && desc->nb_components >= 3;
  const int cs = yuv ? sws_colorspace(src->colorspace, src->height) : -1;
  const int range =
      (src->color_range == AVCOL_RANGE_JPEG || is_jpeg_range_format(src->format)) ? 1 : 0;
  if (!m_sws || src->width != m_w || src->height != m_h || src->format != m_fmt || out_w != m_ow ||
      out_h != m_oh || cs != m_cs || range != m_range) {
    m_sws.reset(sws_getContext(src->width, src->height, static_cast<AVPixelFormat>(src->format),
                               out_w, out_h, AV_PIX_FMT_RGB24, SWS_BILINEAR, nullptr, nullptr,
                               nullptr));
    if (!m_sws) return false;
    if (yuv) {
      sws_setColorspaceDetails(m_sws.get(), sws_getCoefficients(cs), range,
                               sws_getCoefficients(SWS_CS_DEFAULT), 1, 0, 1 << 16, 1 << 16);
    }
    m_w = src->width;
    m_h = src->height;
    m_fmt = src->format;
    m_ow = out_w;
    m_oh = out_h;
    m_cs = cs;
    m_range = range;
  }
  out.width = out_w;
  out.height = out_h;
  out.rgb.resize(static_cast<size_t>(out_w) * out_h * 3);
  uint8_t* dst[4] = {out.rgb.data(), nullptr, nullptr, nullptr};
  int dst_stride[4] = {out_w * 3, 0, 0, 0};
  int h = sws_scale(m_sws.get(), src->data, src->linesize, 0, src->height, dst, dst_stride);
  return h == out_h;
}

}  // namespace camscope::capture::av
