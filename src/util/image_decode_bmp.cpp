// BMP as Pillow 9.4's BmpImagePlugin reads it, then convert("RGB"):
//   headers of 12 (OS/2 v1), 40, 64, 108 and 124 bytes; negative height = top-down rows;
//   1/4/8-bit palette (BGR or BGRX entries, `colors` of them or 2^bits), raw, RLE8 or RLE4
//   (Pillow's Python RLE decoder, quirks included: word alignment by file position, RLE4
//   absolute runs of odd length drop their last pixel, a delta escape skips two bytes and
//   takes its offsets from the next two); indices past the palette give Pillow's
//   default entry (i, i, i);
//   16-bit "BGR;15" (or BGR;16 with 5-6-5 bit fields), channel * 255 / 31 (or / 63);
//   24-bit BGR; 32-bit BGRX or the bit-field layouts Pillow accepts (alpha dropped).
// The declared size is checked against the decoded-size limit, then raw pixel data against the
// file size, before pixel memory is allocated. Short RLE data fails as in Pillow ("not enough
// image data"). Not replicated: Pillow's grey-palette shortcut read as "L"/"1" for 4-bit
// data or 8-bit data with a 2-colour black/white palette (it misreads those rows).
#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "util/image_decode.h"

namespace camscope::decode {
namespace {

uint32_t le16(const uint8_t* p) { return p[0] | (p[1] << 8); }
uint32_t le32(const uint8_t* p) { return le16(p) | (le16(p + 2) << 16); }

enum class Raw { P1, P4, P8, BGR15, BGR16, BGR, BGRX, XBGR, ABGR, RGBA, BGRA };

std::string mib(uint64_t bytes) {
  if (bytes < 10 * 1024) return std::to_string(bytes) + " bytes";
  if (bytes < 10ull * 1024 * 1024) return std::to_string(bytes / 1024) + " KiB";
  return std::to_string(bytes >> 20) + " MiB";
}

}  // namespace

Decoded decode_bmp(const Input& in) {
  const uint8_t* d = in.data;
  const size_t n = in.size;
  if (n < 18) fail(in, "BMP file is truncated (no header)");
  uint32_t offset = le32(d + 10);
  const uint32_t header_size = le32(d + 14);
  if (header_size != 12 && header_size != 40 && header_size != 64 && header_size != 108 &&
      header_size != 124)
    fail(in, "unsupported BMP header type (" + std::to_string(header_size) + ")");
  if (n < 14 + header_size) fail(in, "BMP file is truncated (header)");
  const uint8_t* h = d + 18;  // the header after its size field
  size_t pos = 14 + header_size;  // Pillow's file position after the header
  uint64_t width, height;
  uint32_t bits, compression = 0, colors = 0, padding;
  bool top_down = false;
  uint32_t masks[4] = {0, 0, 0, 0};
  if (header_size == 12) {
    width = le16(h);
    height = le16(h + 2);
    bits = le16(h + 6);
    padding = 3;
  } else {
    top_down = h[7] == 0xff;
    width = le32(h);
    height = top_down ? (uint64_t{1} << 32) - le32(h + 4) : le32(h + 4);
    bits = le16(h + 10);
    compression = le32(h + 12);
    colors = le32(h + 28);
    padding = 4;
    if (compression == 3) {
      if (header_size - 4 >= 52) {
        for (int i = 0; i < 4; ++i) masks[i] = le32(h + 36 + 4 * i);
      } else {
        if (n < pos + 12) fail(in, "BMP file is truncated (bit fields)");
        for (int i = 0; i < 3; ++i) masks[i] = le32(d + pos + 4 * i);
        pos += 12;
      }
    }
  }
  if (colors == 0 && bits < 32) colors = 1u << bits;
  if (offset == 14 + header_size && bits <= 8) offset += 4 * colors;

  Raw raw;
  switch (bits) {
    case 1: raw = Raw::P1; break;
    case 4: raw = Raw::P4; break;
    case 8: raw = Raw::P8; break;
    case 16: raw = Raw::BGR15; break;
    case 24: raw = Raw::BGR; break;
    case 32: raw = Raw::BGRX; break;
    default: fail(in, "unsupported BMP pixel depth (" + std::to_string(bits) + ")");
  }
  bool rle = false;
  if (compression == 3) {
    auto is = [&](uint32_t r, uint32_t g, uint32_t b, uint32_t a) {
      return masks[0] == r && masks[1] == g && masks[2] == b && masks[3] == a;
    };
    auto is3 = [&](uint32_t r, uint32_t g, uint32_t b) {
      return masks[0] == r && masks[1] == g && masks[2] == b;
    };
    if (bits == 32 && is(0xff0000, 0xff00, 0xff, 0)) raw = Raw::BGRX;
    else if (bits == 32 && is(0xff000000, 0xff0000, 0xff00, 0)) raw = Raw::XBGR;
    else if (bits == 32 && is(0xff000000, 0xff0000, 0xff00, 0xff)) raw = Raw::ABGR;
    else if (bits == 32 && is(0xff, 0xff00, 0xff0000, 0xff000000)) raw = Raw::RGBA;
    else if (bits == 32 && is(0xff0000, 0xff00, 0xff, 0xff000000)) raw = Raw::BGRA;
    else if (bits == 32 && is(0, 0, 0, 0)) raw = Raw::BGRA;
    else if (bits == 24 && is3(0xff0000, 0xff00, 0xff)) raw = Raw::BGR;
    else if (bits == 16 && is3(0xf800, 0x7e0, 0x1f)) raw = Raw::BGR16;
    else if (bits == 16 && is3(0x7c00, 0x3e0, 0x1f)) raw = Raw::BGR15;
    else fail(in, "unsupported BMP bit fields layout");
  } else if (compression == 1 || compression == 2) {
    rle = true;
  } else if (compression != 0) {
    fail(in, "unsupported BMP compression (" + std::to_string(compression) + ")");
  }

  check_budget(in, width, height);
  const int w = static_cast<int>(width), hgt = static_cast<int>(height);

  // Palette: Pillow's default entries (i, i, i), then what the file holds.
  uint8_t pal[768];
  for (int i = 0; i < 256; ++i) pal[3 * i] = pal[3 * i + 1] = pal[3 * i + 2] = static_cast<uint8_t>(i);
  if (bits <= 8) {
    if (colors == 0 || colors > 65536)
      fail(in, "unsupported BMP palette size (" + std::to_string(colors) + ")");
    const size_t avail = pos < n ? (n - pos) / padding : 0;
    const size_t count = std::min<size_t>({colors, 256, avail});
    for (size_t i = 0; i < count; ++i) {
      const uint8_t* e = d + pos + padding * i;
      pal[3 * i] = e[2];
      pal[3 * i + 1] = e[1];
      pal[3 * i + 2] = e[0];
    }
  }

  Decoded out;
  auto row_of = [&](int file_row) {  // destination row of the file_row-th row in the data
    const int y = top_down ? file_row : hgt - 1 - file_row;
    return out.image.pixels.data() + static_cast<size_t>(y) * w * 3;
  };

  if (rle) {
    // Indices in file order, as Pillow's BmpRleDecoder builds them.
    const bool rle4 = compression == 2;
    const uint64_t total = width * height;
    if (offset > n) fail(in, "BMP file is truncated (no pixel data)");
    // Each pair of bytes yields at most 255 pixels, a delta at most 255 * (width + 1).
    std::vector<uint8_t> data;
    size_t p = offset;
    uint64_t x = 0;
    while (data.size() < total) {
      if (p + 2 > n) break;
      const uint32_t count = d[p], byte = d[p + 1];
      p += 2;
      if (count) {
        uint64_t m = count;
        if (x + m > width) m = x < width ? width - x : 0;
        for (uint64_t i = 0; i < m; ++i)
          data.push_back(rle4 ? static_cast<uint8_t>(i % 2 == 0 ? byte >> 4 : byte & 15)
                              : static_cast<uint8_t>(byte));
        x += m;
      } else if (byte == 0) {  // end of line
        while (data.size() % width) data.push_back(0);
        x = 0;
      } else if (byte == 1) {  // end of bitmap
        break;
      } else if (byte == 2) {  // delta: Pillow reads two bytes, drops them, reads two more
        if (p + 2 > n) break;
        p += 2;
        if (p + 2 > n) fail(in, "BMP RLE data is truncated (delta)");
        const uint64_t right = d[p], up = d[p + 1];
        p += 2;
        // Up to 255 * (width + 1) pixels from 4 bytes: only what the image still needs is
        // stored (the rest would be dropped anyway), so a row of 2^27 pixels cannot make one
        // delta ask for 34 GB.
        const uint64_t skip = right + up * width;
        x = (data.size() + skip) % width;
        data.insert(data.end(), std::min<uint64_t>(skip, total - data.size()), 0);
      } else {  // absolute run
        const size_t want = rle4 ? byte / 2 : byte;
        const size_t got = std::min(want, n - p);
        for (size_t i = 0; i < got; ++i) {
          if (rle4) {
            data.push_back(d[p + i] >> 4);
            data.push_back(d[p + i] & 15);
          } else {
            data.push_back(d[p + i]);
          }
        }
        p += got;
        if (got < want) break;
        x += byte;
        if (p % 2) ++p;  // word alignment, by position in the file
      }
    }
    if (data.size() < total) fail(in, "BMP RLE data is truncated (not enough image data)");
    out.image = make_rgb(w, hgt);
    for (int r = 0; r < hgt; ++r) {
      uint8_t* dst = row_of(r);
      const uint8_t* s = data.data() + static_cast<size_t>(r) * w;
      for (int x2 = 0; x2 < w; ++x2) std::memcpy(dst + 3 * x2, pal + 3 * s[x2], 3);
    }
    return out;
  }

  const uint64_t stride = ((width * bits + 31) >> 3) & ~uint64_t{3};
  const uint64_t row_bytes = (width * bits + 7) / 8;
  const uint64_t need = stride * (height - 1) + row_bytes;
  if (offset > n || n - offset < need)
    fail(in, "BMP header declares " + std::to_string(width) + "x" + std::to_string(height) + " at " +
                 std::to_string(bits) + " bits (" + mib(need) + " of pixel data) but the file holds " +
                 mib(offset > n ? 0 : n - offset));
  out.image = make_rgb(w, hgt);
  for (int r = 0; r < hgt; ++r) {
    const uint8_t* s = d + offset + stride * r;
    uint8_t* o = row_of(r);
    for (int x = 0; x < w; ++x, o += 3) {
      switch (raw) {
        case Raw::P1: std::memcpy(o, pal + 3 * ((s[x >> 3] >> (7 - (x & 7))) & 1), 3); break;
        case Raw::P4: std::memcpy(o, pal + 3 * ((s[x >> 1] >> (x & 1 ? 0 : 4)) & 15), 3); break;
        case Raw::P8: std::memcpy(o, pal + 3 * s[x], 3); break;
        case Raw::BGR15:
        case Raw::BGR16: {
          const uint32_t px = s[2 * x] | (s[2 * x + 1] << 8);
          o[2] = static_cast<uint8_t>((px & 31) * 255 / 31);
          if (raw == Raw::BGR15) {
            o[1] = static_cast<uint8_t>(((px >> 5) & 31) * 255 / 31);
            o[0] = static_cast<uint8_t>(((px >> 10) & 31) * 255 / 31);
          } else {
            o[1] = static_cast<uint8_t>(((px >> 5) & 63) * 255 / 63);
            o[0] = static_cast<uint8_t>(((px >> 11) & 31) * 255 / 31);
          }
          break;
        }
        case Raw::BGR: o[0] = s[3 * x + 2]; o[1] = s[3 * x + 1]; o[2] = s[3 * x]; break;
        case Raw::BGRX:
        case Raw::BGRA: o[0] = s[4 * x + 2]; o[1] = s[4 * x + 1]; o[2] = s[4 * x]; break;
        case Raw::XBGR:
        case Raw::ABGR: o[0] = s[4 * x + 3]; o[1] = s[4 * x + 2]; o[2] = s[4 * x + 1]; break;
        case Raw::RGBA: o[0] = s[4 * x]; o[1] = s[4 * x + 1]; o[2] = s[4 * x + 2]; break;
      }
    }
  }
  return out;
}

}  // namespace camscope::decode
