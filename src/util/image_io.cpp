#include "util/image_io.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "util/error.h"
#include "util/image_decode.h"

#ifdef CAMSCOPE_HAVE_STB
#include <stb_image.h>
#include <stb_image_write.h>
#endif

namespace camscope {
namespace decode {

std::string printable(const std::string& s, size_t max_len) {
  std::string out;
  for (unsigned char c : s) {
    if (out.size() >= max_len) {
      out += "...";
      break;
    }
    out += (c >= 0x20 && c < 0x7f) ? static_cast<char>(c) : '?';
  }
  return out;
}

void fail(const Input& in, const std::string& reason) {
  throw Error(printable(*in.name, 400) + ": " + printable(reason));
}

namespace {
constexpr uint64_t kMiB = 1024 * 1024;
}

void check_budget(const Input& in, uint64_t width, uint64_t height) {
  if (width == 0 || height == 0)
    fail(in, "image has no pixels (" + std::to_string(width) + "x" + std::to_string(height) + ")");
  const uint64_t limit_mb = static_cast<uint64_t>(std::max<int64_t>(in.options->max_decoded_mb, 0));
  // Sides below 2^31 keep the product below 2^62: no overflow.
  const bool too_big = width > 0x7fffffffULL || height > 0x7fffffffULL ||
                       width * height > (limit_mb * kMiB) / 3;
  if (too_big) {
    const long double need = static_cast<long double>(width) * height * 3 / kMiB;
    throw Error(printable(*in.name, 400) + ": image " + std::to_string(width) + "x" +
                std::to_string(height) + " would need " +
                std::to_string(static_cast<unsigned long long>(need + 0.5L)) +
                " MiB decoded, over the " + std::to_string(limit_mb) +
                " MiB limit (--max-image-mb)");
  }
}

Image make_rgb(int width, int height) {
  Image img;
  img.width = width;
  img.height = height;
  img.channels = 3;
  img.pixels.resize(static_cast<size_t>(width) * height * 3);
  return img;
}

}  // namespace decode

namespace {

using decode::Input;

// Reads a regular file whole, refusing devices, pipes and files larger than `cap` bytes.
std::vector<uint8_t> read_bounded(const std::string& path, uint64_t cap) {
  const std::string name = decode::printable(path, 400);
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    if (errno == ENOENT || errno == ENOTDIR) throw Error(name + ": no such file");
    throw Error(name + ": cannot open (" + std::strerror(errno) + ")");
  }
  if (S_ISDIR(st.st_mode)) throw Error(name + ": is a folder, not an image file");
  if (!S_ISREG(st.st_mode))
    throw Error(name + ": not a regular file (a device, pipe or socket cannot be an image)");
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (fd < 0) throw Error(name + ": cannot open (" + std::strerror(errno) + ")");
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
    throw Error(name + ": not a regular file (a device, pipe or socket cannot be an image)");
  auto too_large = [&] {
    return Error(name + ": file is over " + std::to_string(cap / (1024 * 1024)) +
                 " MiB, more than an image within the decoded-size limit can take "
                 "(--max-image-mb)");
  };
  if (static_cast<uint64_t>(st.st_size) > cap) throw too_large();
  std::vector<uint8_t> data;
  // st_size is 0 for /proc files: read in chunks up to the cap whatever it says.
  size_t want = st.st_size > 0 ? static_cast<size_t>(st.st_size) + 1 : 64 * 1024;
  data.resize(want);
  size_t got = 0;
  while (true) {
    if (got == data.size()) {
      if (data.size() > cap) throw too_large();
      data.resize(std::min<uint64_t>(cap + 1, data.size() * 2));
    }
    const ssize_t n = ::read(fd, data.data() + got, data.size() - got);
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      throw Error(name + ": cannot read (" + std::strerror(errno) + ")");
    }
    if (n == 0) break;
    got += static_cast<size_t>(n);
  }
  if (got > cap) throw too_large();
  if (got == 0) throw Error(name + ": empty file, not an image");
  data.resize(got);
  return data;
}

bool starts_with(const uint8_t* d, size_t n, const char* magic, size_t m) {
  return n >= m && std::memcmp(d, magic, m) == 0;
}

decode::Decoded decode_with_stb(const Input& in) {
  decode::Decoded out;
#ifdef CAMSCOPE_HAVE_STB
  if (in.size > 0x7fffffffULL) decode::fail(in, "file too large for stb_image");
  const int len = static_cast<int>(in.size);
  int w = 0, h = 0, n = 0;
  if (!stbi_info_from_memory(in.data, len, &w, &h, &n))
    decode::fail(in, "not an image camscope can read (PNG, JPEG, BMP, GIF, TGA, PNM, PSD, HDR): " +
                         std::string(stbi_failure_reason()));
  decode::check_budget(in, static_cast<uint64_t>(std::max(w, 0)), static_cast<uint64_t>(std::max(h, 0)));
  unsigned char* px = stbi_load_from_memory(in.data, len, &w, &h, &n, 3);
  if (!px) decode::fail(in, "cannot decode image (" + std::string(stbi_failure_reason()) + ")");
  out.image = decode::make_rgb(w, h);
  std::memcpy(out.image.pixels.data(), px, out.image.pixels.size());
  stbi_image_free(px);
#else
  decode::fail(in, "not a JPEG, PNG, BMP or GIF file (other formats need stb_image)");
#endif
  return out;
}

}  // namespace

Image decode_image_rgb(const uint8_t* data, size_t size, const std::string& name,
                       const DecodeOptions& options) {
  Input in{data, size, &name, &options};
  decode::Decoded d;
  if (size == 0) decode::fail(in, "empty file, not an image");
  if (starts_with(data, size, "\xff\xd8\xff", 3)) {
#ifdef CAMSCOPE_HAVE_LIBJPEG
    d = decode::decode_jpeg(in);
#else
    d = decode_with_stb(in);
#endif
  } else if (starts_with(data, size, "\x89PNG\r\n\x1a\n", 8)) {
#ifdef CAMSCOPE_HAVE_LIBPNG
    d = decode::decode_png(in);
#else
    d = decode_with_stb(in);
#endif
  } else if (starts_with(data, size, "BM", 2)) {
    d = decode::decode_bmp(in);
  } else if (starts_with(data, size, "GIF87a", 6) || starts_with(data, size, "GIF89a", 6)) {
    d = decode::decode_gif(in);
  } else {
    d = decode_with_stb(in);
  }
  if (options.apply_exif_orientation) decode::apply_exif_orientation(d.image, d.exif_orientation);
  return std::move(d.image);
}

Image load_image_rgb(const std::string& path, const DecodeOptions& options) {
  // No image within the budget has a file much larger than its decoded RGB (16-bit RGBA PNG
  // stored uncompressed: 8/3 of it), plus room for metadata.
  const uint64_t budget = static_cast<uint64_t>(std::max<int64_t>(options.max_decoded_mb, 0)) << 20;
  const std::vector<uint8_t> data = read_bounded(path, 3 * budget + (64u << 20));
  return decode_image_rgb(data.data(), data.size(), path, options);
}

void write_png(const std::string& path, const uint8_t* pixels, int width, int height, int channels) {
#ifdef CAMSCOPE_HAVE_STB
  if (!stbi_write_png(path.c_str(), width, height, channels, pixels, width * channels))
    throw Error("cannot write " + path);
#else
  throw Error("PNG writing is not built in (stb missing): " + path);
#endif
}

void flip_rows(uint8_t* pixels, int width, int height, int channels) {
  const size_t row = static_cast<size_t>(width) * channels;
  std::vector<uint8_t> tmp(row);
  for (int y = 0; y < height / 2; ++y) {
    uint8_t* a = pixels + row * y;
    uint8_t* b = pixels + row * (height - 1 - y);
    std::memcpy(tmp.data(), a, row);
    std::memcpy(a, b, row);
    std::memcpy(b, tmp.data(), row);
  }
}

}  // namespace camscope
