// JPEG through libjpeg-turbo's libjpeg API, set up as Pillow 9.4's JpegDecode.c does it:
// output colour space from the component count (1: gray, 3: RGB, 4: CMYK), accurate integer
// IDCT (JDCT_ISLOW) and fancy upsampling (libjpeg's defaults, set explicitly). Then
// convert("RGB"): gray -> R=G=B; CMYK is taken with Adobe polarity ("CMYK;I": every channel
// inverted, whatever the markers say) and turned into RGB with Pillow's cmyk2rgb.
// A file that ends before its last scan fails ("truncated"), as Pillow fails by default.
#ifdef CAMSCOPE_HAVE_LIBJPEG
#include <algorithm>
#include <csetjmp>
#include <cstdio>
#include <cstring>
#include <vector>

#include <jpeglib.h>
#include <jerror.h>

#include "util/image_decode.h"

namespace camscope::decode {
namespace {

constexpr int kMaxScans = 1000;  // progressive files with more scans are hostile (CPU bomb)

struct ErrorMgr {
  jpeg_error_mgr pub;
  std::jmp_buf jump;
  char message[JMSG_LENGTH_MAX + 64];
  bool truncated;
};

void on_error(j_common_ptr c) {
  auto* e = reinterpret_cast<ErrorMgr*>(c->err);
  (*c->err->format_message)(c, e->message);
  std::longjmp(e->jump, 1);
}

// Warnings (corrupt data that libjpeg conceals) are ignored as Pillow ignores them; running out
// of data is remembered.
void on_message(j_common_ptr c, int level) {
  auto* e = reinterpret_cast<ErrorMgr*>(c->err);
  if (level < 0 && c->err->msg_code == JWRN_JPEG_EOF) e->truncated = true;
}

void on_progress(j_common_ptr c) {
  auto* d = reinterpret_cast<j_decompress_ptr>(c);
  if (d->input_scan_number > kMaxScans) {
    auto* e = reinterpret_cast<ErrorMgr*>(c->err);
    std::snprintf(e->message, sizeof e->message, "more than %d progressive scans", kMaxScans);
    std::longjmp(e->jump, 1);
  }
}

// Pillow's MULDIV255 and cmyk2rgb (libImaging/Convert.c).
inline int muldiv255(int a, int b) {
  const int t = a * b + 128;
  return ((t >> 8) + t) >> 8;
}
inline uint8_t clip8(int v) { return static_cast<uint8_t>(v < 0 ? 0 : v > 255 ? 255 : v); }

struct Guard {
  jpeg_decompress_struct* cinfo;
  ~Guard() { jpeg_destroy_decompress(cinfo); }
};

// Everything between setjmp and the end lives in the caller's frame or is plain data, so a
// longjmp skips no destructor. Returns false with err.message set when libjpeg failed.
bool run(const Input& in, jpeg_decompress_struct& cinfo, ErrorMgr& err,
         jpeg_progress_mgr& progress, Decoded& out, std::vector<uint8_t>& row) {
  if (setjmp(err.jump)) return false;
  jpeg_create_decompress(&cinfo);
  cinfo.progress = &progress;
  jpeg_mem_src(&cinfo, in.data, static_cast<unsigned long>(in.size));
  jpeg_save_markers(&cinfo, JPEG_APP0 + 1, 0xffff);
  jpeg_read_header(&cinfo, TRUE);
  check_budget(in, cinfo.image_width, cinfo.image_height);  // throws (cinfo freed by Guard)
  for (jpeg_saved_marker_ptr m = cinfo.marker_list; m; m = m->next) {
    if (m->marker == JPEG_APP0 + 1 && m->data_length >= 6 && std::memcmp(m->data, "Exif\0\0", 6) == 0) {
      out.exif_orientation = exif_orientation(m->data, m->data_length);
      break;  // Pillow keeps the first Exif block
    }
  }
  const int comps = cinfo.num_components;
  if (comps == 1)
    cinfo.out_color_space = JCS_GRAYSCALE;
  else if (comps == 3)
    cinfo.out_color_space = JCS_RGB;
  else if (comps == 4)
    cinfo.out_color_space = JCS_CMYK;
  else
    fail(in, "JPEG with " + std::to_string(comps) + " components (Pillow reads 1, 3 or 4)");
  cinfo.dct_method = JDCT_ISLOW;
  cinfo.do_fancy_upsampling = TRUE;
  cinfo.do_block_smoothing = TRUE;  // libjpeg's default (progressive files), as Pillow leaves it
  // Coefficient buffers of progressive files take up to 2x the RGB size (4:4:4).
  cinfo.mem->max_memory_to_use =
      static_cast<long>(std::min<int64_t>(in.options->max_decoded_mb, 1 << 20) * 3 * 1024 * 1024 +
                        (64 << 20));
  jpeg_start_decompress(&cinfo);
  const int w = static_cast<int>(cinfo.output_width), h = static_cast<int>(cinfo.output_height);
  const int n = cinfo.output_components;
  out.image = make_rgb(w, h);
  row.resize(static_cast<size_t>(w) * n);
  uint8_t* const dst0 = out.image.pixels.data();
  while (cinfo.output_scanline < cinfo.output_height) {
    const size_t y = cinfo.output_scanline;
    uint8_t* dst = dst0 + y * static_cast<size_t>(w) * 3;
    JSAMPROW rp = (n == 3) ? dst : row.data();
    if (jpeg_read_scanlines(&cinfo, &rp, 1) != 1) break;
    if (err.truncated) break;
    if (n == 1) {
      for (int x = 0; x < w; ++x) dst[3 * x] = dst[3 * x + 1] = dst[3 * x + 2] = row[x];
    } else if (n == 4) {
      for (int x = 0; x < w; ++x) {
        const uint8_t* s = &row[4 * static_cast<size_t>(x)];
        const int k = s[3];  // 255 - (255 - s[3]): Adobe polarity inverted back, then nk
        for (int c = 0; c < 3; ++c) dst[3 * x + c] = clip8(k - muldiv255(255 - s[c], k));
      }
    }
  }
  if (!err.truncated) jpeg_finish_decompress(&cinfo);
  return true;
}

}  // namespace

Decoded decode_jpeg(const Input& in) {
  jpeg_decompress_struct cinfo;
  std::memset(&cinfo, 0, sizeof cinfo);
  ErrorMgr err;
  std::memset(&err, 0, sizeof err);
  cinfo.err = jpeg_std_error(&err.pub);
  err.pub.error_exit = on_error;
  err.pub.emit_message = on_message;
  jpeg_progress_mgr progress;
  std::memset(&progress, 0, sizeof progress);
  progress.progress_monitor = on_progress;
  Decoded out;
  std::vector<uint8_t> row;
  {
    Guard guard{&cinfo};
    if (!run(in, cinfo, err, progress, out, row)) fail(in, std::string("JPEG: ") + err.message);
  }
  if (err.truncated) fail(in, "JPEG file is truncated (image data ends early)");
  return out;
}

}  // namespace camscope::decode
#endif  // CAMSCOPE_HAVE_LIBJPEG
