// EXIF orientation: reading the tag and ImageOps.exif_transpose's transpositions.
#include <cstring>
#include <vector>

#include "util/image_decode.h"

namespace camscope::decode {

int exif_orientation(const uint8_t* d, size_t n) {
  if (n >= 6 && std::memcmp(d, "Exif\0\0", 6) == 0) {
    d += 6;
    n -= 6;
  }
  if (n < 8) return 0;
  bool le;
  if (d[0] == 'I' && d[1] == 'I' && d[2] == 42 && d[3] == 0)
    le = true;
  else if (d[0] == 'M' && d[1] == 'M' && d[2] == 0 && d[3] == 42)
    le = false;
  else
    return 0;
  auto u16 = [&](size_t o) -> uint32_t {
    return le ? d[o] | (d[o + 1] << 8) : (d[o] << 8) | d[o + 1];
  };
  auto u32 = [&](size_t o) -> uint32_t {
    return le ? u16(o) | (u16(o + 2) << 16) : (u16(o) << 16) | u16(o + 2);
  };
  const uint32_t ifd = u32(4);
  if (ifd > n - 2) return 0;
  const uint32_t count = u16(ifd);
  for (uint32_t i = 0; i < count; ++i) {
    const size_t e = ifd + 2 + 12 * static_cast<size_t>(i);
    if (e + 12 > n) return 0;
    if (u16(e) != 0x0112) continue;
    const uint32_t type = u16(e + 2);
    uint32_t v;
    if (type == 3)  // SHORT
      v = u16(e + 8);
    else if (type == 4)  // LONG
      v = u32(e + 8);
    else
      return 0;
    return v >= 1 && v <= 8 ? static_cast<int>(v) : 0;
  }
  return 0;
}

void apply_exif_orientation(Image& img, int orientation) {
  if (orientation < 2 || orientation > 8) return;
  const int w = img.width, h = img.height, ch = img.channels;
  const bool swap = orientation >= 5;  // TRANSPOSE, ROTATE_270, TRANSVERSE, ROTATE_90
  const int ow = swap ? h : w, oh = swap ? w : h;
  std::vector<uint8_t> out(img.pixels.size());
  for (int y = 0; y < oh; ++y) {
    for (int x = 0; x < ow; ++x) {
      int sx = 0, sy = 0;  // source pixel of output (x, y)
      switch (orientation) {
        case 2: sx = w - 1 - x; sy = y; break;          // FLIP_LEFT_RIGHT
        case 3: sx = w - 1 - x; sy = h - 1 - y; break;  // ROTATE_180
        case 4: sx = x; sy = h - 1 - y; break;          // FLIP_TOP_BOTTOM
        case 5: sx = y; sy = x; break;                  // TRANSPOSE
        case 6: sx = y; sy = h - 1 - x; break;          // ROTATE_270 (90 degrees clockwise)
        case 7: sx = w - 1 - y; sy = h - 1 - x; break;  // TRANSVERSE
        case 8: sx = w - 1 - y; sy = x; break;          // ROTATE_90 (counter-clockwise)
      }
      std::memcpy(&out[(static_cast<size_t>(y) * ow + x) * ch],
                  &img.pixels[(static_cast<size_t>(sy) * w + sx) * ch], ch);
    }
  }
  img.pixels = std::move(out);
  img.width = ow;
  img.height = oh;
}

}  // namespace camscope::decode
