#include "util/image_encode.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <csetjmp>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "util/error.h"

#ifdef CAMSCOPE_HAVE_LIBPNG
#include <png.h>
#endif
#ifdef CAMSCOPE_HAVE_LIBJPEG
#include <jpeglib.h>
#endif
#if defined(CAMSCOPE_HAVE_STB) && !defined(CAMSCOPE_HAVE_LIBPNG)
#include <stb_image_write.h>
#endif

namespace camscope {

#ifdef CAMSCOPE_HAVE_LIBPNG
namespace {

struct PngSink {
  std::vector<uint8_t>* out;
  char message[256];
};

void png_on_write(png_structp png, png_bytep data, size_t len) {
  auto* s = static_cast<PngSink*>(png_get_io_ptr(png));
  s->out->insert(s->out->end(), data, data + len);
}
void png_on_flush(png_structp) {}
void png_on_error(png_structp png, png_const_charp msg) {
  auto* s = static_cast<PngSink*>(png_get_error_ptr(png));
  std::snprintf(s->message, sizeof s->message, "%s", msg ? msg : "libpng error");
  png_longjmp(png, 1);
}
void png_on_warning(png_structp, png_const_charp) {}

int png_filter_flag(PngOptions::Filter f) {
  switch (f) {
    case PngOptions::Filter::None: return PNG_FILTER_NONE;
    case PngOptions::Filter::Sub: return PNG_FILTER_SUB;
    case PngOptions::Filter::Up: return PNG_FILTER_UP;
    case PngOptions::Filter::Paeth: return PNG_FILTER_PAETH;
    case PngOptions::Filter::Adaptive: return PNG_ALL_FILTERS;
  }
  return PNG_FILTER_SUB;
}

// Everything that may be skipped by longjmp is plain data declared by the caller.
bool png_encode_raw(const uint8_t* pixels, int width, int height, int channels,
                    const PngOptions& opt, PngSink& sink) {
  png_structp png =
      png_create_write_struct(PNG_LIBPNG_VER_STRING, &sink, png_on_error, png_on_warning);
  if (!png) {
    std::snprintf(sink.message, sizeof sink.message, "out of memory");
    return false;
  }
  png_infop info = png_create_info_struct(png);
  if (!info) {
    png_destroy_write_struct(&png, nullptr);
    std::snprintf(sink.message, sizeof sink.message, "out of memory");
    return false;
  }
  if (setjmp(png_jmpbuf(png))) {
    png_destroy_write_struct(&png, &info);
    return false;
  }
  png_set_write_fn(png, &sink, png_on_write, png_on_flush);
  const int color = channels == 1   ? PNG_COLOR_TYPE_GRAY
                    : channels == 3 ? PNG_COLOR_TYPE_RGB
                                    : PNG_COLOR_TYPE_RGB_ALPHA;
  png_set_IHDR(png, info, static_cast<png_uint_32>(width), static_cast<png_uint_32>(height), 8,
               color, PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  png_set_compression_level(png, opt.level);
  if (opt.rle) png_set_compression_strategy(png, 3 /* Z_RLE */);
  png_set_filter(png, PNG_FILTER_TYPE_BASE, png_filter_flag(opt.filter));
  png_write_info(png, info);
  const size_t stride = static_cast<size_t>(width) * channels;
  for (int y = 0; y < height; ++y)
    png_write_row(png, const_cast<png_bytep>(pixels + stride * static_cast<size_t>(y)));
  png_write_end(png, nullptr);
  png_destroy_write_struct(&png, &info);
  return true;
}

}  // namespace
#endif

void encode_png(const uint8_t* pixels, int width, int height, int channels, const PngOptions& opt,
                std::vector<uint8_t>& out) {
  if (width <= 0 || height <= 0 || !(channels == 1 || channels == 3 || channels == 4))
    throw Error("encode_png: bad image shape");
  out.clear();
#ifdef CAMSCOPE_HAVE_LIBPNG
  out.reserve(static_cast<size_t>(width) * height * channels / 2 + 1024);
  PngSink sink{&out, {0}};
  if (!png_encode_raw(pixels, width, height, channels, opt, sink))
    throw Error(std::string("PNG encoding failed: ") + sink.message);
#elif defined(CAMSCOPE_HAVE_STB)
  int len = 0;
  unsigned char* data =
      stbi_write_png_to_mem(pixels, width * channels, width, height, channels, &len);
  if (!data) throw Error("PNG encoding failed");
  out.assign(data, data + len);
  std::free(data);
#else
  (void)opt;
  throw Error("PNG writing is not built in (libpng and stb missing)");
#endif
}

#ifdef CAMSCOPE_HAVE_LIBJPEG
namespace {
struct JpegErr {
  jpeg_error_mgr pub;
  std::jmp_buf jump;
  char message[JMSG_LENGTH_MAX + 1];
};
void jpeg_on_error(j_common_ptr c) {
  auto* e = reinterpret_cast<JpegErr*>(c->err);
  (*c->err->format_message)(c, e->message);
  std::longjmp(e->jump, 1);
}
void jpeg_on_message(j_common_ptr, int) {}

bool jpeg_encode_raw(const uint8_t* rgb, int width, int height, int quality, JpegErr& err,
                     unsigned char** buf, unsigned long* len) {
  jpeg_compress_struct c;
  c.err = jpeg_std_error(&err.pub);
  err.pub.error_exit = jpeg_on_error;
  err.pub.emit_message = jpeg_on_message;
  if (setjmp(err.jump)) {
    jpeg_destroy_compress(&c);
    return false;
  }
  jpeg_create_compress(&c);
  jpeg_mem_dest(&c, buf, len);
  c.image_width = static_cast<JDIMENSION>(width);
  c.image_height = static_cast<JDIMENSION>(height);
  c.input_components = 3;
  c.in_color_space = JCS_RGB;
  jpeg_set_defaults(&c);
  jpeg_set_quality(&c, quality, TRUE);
  c.dct_method = JDCT_ISLOW;
  jpeg_start_compress(&c, TRUE);
  const size_t stride = static_cast<size_t>(width) * 3;
  while (c.next_scanline < c.image_height) {
    JSAMPROW row = const_cast<JSAMPROW>(rgb + stride * c.next_scanline);
    jpeg_write_scanlines(&c, &row, 1);
  }
  jpeg_finish_compress(&c);
  jpeg_destroy_compress(&c);
  return true;
}
}  // namespace
#endif

bool have_jpeg_encoder() {
#ifdef CAMSCOPE_HAVE_LIBJPEG
  return true;
#else
  return false;
#endif
}

void encode_jpeg(const uint8_t* rgb, int width, int height, int quality, std::vector<uint8_t>& out) {
  if (width <= 0 || height <= 0) throw Error("encode_jpeg: bad image shape");
  if (quality < 1 || quality > 100) throw Error("JPEG quality must be in 1..100");
#ifdef CAMSCOPE_HAVE_LIBJPEG
  JpegErr err;
  err.message[0] = 0;
  unsigned char* buf = nullptr;
  unsigned long len = 0;
  const bool ok = jpeg_encode_raw(rgb, width, height, quality, err, &buf, &len);
  if (ok) out.assign(buf, buf + len);
  std::free(buf);
  if (!ok) throw Error(std::string("JPEG encoding failed: ") + err.message);
#else
  (void)rgb;
  (void)out;
  throw Error("JPEG writing is not built in (libjpeg missing)");
#endif
}

std::string partial_path(const std::string& path) {
  const std::filesystem::path p(path);
  return (p.parent_path() / ("." + p.filename().string() + ".partial")).string();
}

void write_file_atomic(const std::string& path, const void* data, size_t size) {
  const std::string tmp = partial_path(path);
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) throw Error("cannot write " + path + " (" + std::strerror(errno) + ")");
  const auto* p = static_cast<const uint8_t*>(data);
  size_t left = size;
  while (left > 0) {
    const ssize_t n = ::write(fd, p, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      const int e = errno;
      ::close(fd);
      ::unlink(tmp.c_str());
      throw Error("cannot write " + path + " (" + std::strerror(e) + ")");
    }
    p += n;
    left -= static_cast<size_t>(n);
  }
  if (::close(fd) != 0 || std::rename(tmp.c_str(), path.c_str()) != 0) {
    const int e = errno;
    ::unlink(tmp.c_str());
    throw Error("cannot write " + path + " (" + std::strerror(e) + ")");
  }
}

}  // namespace camscope
