#include "util/image_io.h"

#include <cstring>

#include "util/error.h"
#include "util/fs.h"

#ifdef CAMSCOPE_HAVE_STB
#include <stb_image.h>
#include <stb_image_write.h>
#endif

namespace camscope {

Image load_image_rgb(const std::string& path) {
#ifdef CAMSCOPE_HAVE_STB
  if (!file_exists(path)) throw Error(path + ": no such file");
  int w = 0, h = 0, n = 0;
  if (!stbi_info(path.c_str(), &w, &h, &n))
    throw Error(path + ": not a readable image (" + std::string(stbi_failure_reason()) + ")");
  if (w <= 0 || h <= 0 || static_cast<long long>(w) * h > (1LL << 28))
    throw Error(path + ": implausible image size " + std::to_string(w) + "x" + std::to_string(h));
  unsigned char* px = stbi_load(path.c_str(), &w, &h, &n, 3);
  if (!px) throw Error(path + ": cannot decode image (" + std::string(stbi_failure_reason()) + ")");
  Image img;
  img.width = w;
  img.height = h;
  img.channels = 3;
  img.pixels.assign(px, px + static_cast<size_t>(w) * h * 3);
  stbi_image_free(px);
  return img;
#else
  throw Error("image decoding is not built in (stb missing): " + path);
#endif
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
