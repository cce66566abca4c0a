// PNG through libpng, rows taken raw (no libpng transformations) and converted as Pillow 9.4's
// PngImagePlugin + convert("RGB") do it (checked empirically, tests/app/test_image_decode.cpp):
//   gray 1-bit        mode "1":  0 -> 0, 1 -> 255
//   gray 2/4/8-bit    mode "L":  scaled to 0..255 (x85, x17, x1); R=G=B
//   gray 16-bit       mode "I" (I;16B): convert("RGB") clips, min(v, 255) -- not v >> 8
//   gray+alpha 8      mode "LA": alpha dropped
//   gray+alpha 16     mode "RGBA" (LA;16B): the high byte of gray, alpha dropped
//   RGB 8 / 16        mode "RGB" (RGB;16B: the high byte of each sample)
//   RGBA 8 / 16       mode "RGBA": alpha dropped (not composited), 16-bit: high bytes
//   palette 1/2/4/8   mode "P": palette lookup; tRNS ignored; indices past the PLTE entries
//                     give Pillow's default palette entry (i, i, i)
// tRNS, gAMA, sBIT, iCCP are not applied (Pillow ignores them in convert("RGB")).
// A bad CRC fails before the image data (any chunk) and is ignored in IDAT, as in Pillow.
// EXIF orientation comes from an eXIf chunk (before or after IDAT).
#ifdef CAMSCOPE_HAVE_LIBPNG
#include <png.h>

#include <algorithm>
#include <csetjmp>
#include <cstdio>
#include <cstring>
#include <vector>

#include "util/image_decode.h"

namespace camscope::decode {
namespace {

uint32_t be32(const uint8_t* p) {
  return (uint32_t(p[0]) << 24) | (uint32_t(p[1]) << 16) | (uint32_t(p[2]) << 8) | p[3];
}

struct Reader {
  const uint8_t* data;
  size_t size, pos;
  char message[256];
};

void on_read(png_structp png, png_bytep out, size_t len) {
  auto* r = static_cast<Reader*>(png_get_io_ptr(png));
  if (r->size - r->pos < len) png_error(png, "file is truncated (image data ends early)");
  std::memcpy(out, r->data + r->pos, len);
  r->pos += len;
}

void on_error(png_structp png, png_const_charp msg) {
  auto* r = static_cast<Reader*>(png_get_error_ptr(png));
  std::snprintf(r->message, sizeof r->message, "%s", msg ? msg : "libpng error");
  png_longjmp(png, 1);
}
void on_warning(png_structp, png_const_charp) {}

// One raw row (bit depth bd, colour type ct) to RGB8 as Pillow converts it.
void convert_row(const uint8_t* s, uint8_t* d, int w, int bd, int ct, const uint8_t* pal) {
  switch (ct) {
    case PNG_COLOR_TYPE_GRAY:
    case PNG_COLOR_TYPE_PALETTE: {
      const bool palette = ct == PNG_COLOR_TYPE_PALETTE;
      for (int x = 0; x < w; ++x) {
        int v;
        if (bd == 16) {
          v = std::min((s[2 * x] << 8) | s[2 * x + 1], 255);
        } else if (bd == 8) {
          v = s[x];
        } else {
          const int per = 8 / bd, shift = 8 - bd * (x % per + 1);
          v = (s[x / per] >> shift) & ((1 << bd) - 1);
          if (!palette) v = v * 255 / ((1 << bd) - 1);
        }
        if (palette) {
          std::memcpy(d + 3 * x, pal + 3 * v, 3);
        } else {
          d[3 * x] = d[3 * x + 1] = d[3 * x + 2] = static_cast<uint8_t>(v);
        }
      }
      break;
    }
    case PNG_COLOR_TYPE_GRAY_ALPHA: {
      const int step = bd == 16 ? 4 : 2;
      for (int x = 0; x < w; ++x) d[3 * x] = d[3 * x + 1] = d[3 * x + 2] = s[step * x];
      break;
    }
    case PNG_COLOR_TYPE_RGB:
    case PNG_COLOR_TYPE_RGB_ALPHA: {
      const int ch = ct == PNG_COLOR_TYPE_RGB ? 3 : 4, bytes = bd / 8;
      for (int x = 0; x < w; ++x)
        for (int c = 0; c < 3; ++c) d[3 * x + c] = s[(ch * x + c) * bytes];
      break;
    }
  }
}

struct Guard {
  png_structp png = nullptr;
  png_infop info = nullptr;
  ~Guard() { png_destroy_read_struct(&png, info ? &info : nullptr, nullptr); }
};

// libpng state between setjmp and return lives in the caller (no destructor is skipped).
bool run(const Input& in, Guard& g, Decoded& out, std::vector<uint8_t>& raw,
         std::vector<png_bytep>& rows, uint8_t* pal) {
  png_structp png = g.png;
  png_infop info = g.info;
  if (setjmp(png_jmpbuf(png))) return false;
  png_set_user_limits(png, 0x7fffffff, 0x7fffffff);  // check_budget already ran
  // Decompressed chunks (zTXt, iTXt, iCCP) are bounded by the file size, at least 8 MiB; over
  // it the chunk is skipped (a benign error). Declared lengths are checked in decode_png.
  png_set_chunk_malloc_max(png, std::max<size_t>(in.size, 8u << 20));
  png_set_benign_errors(png, 1);                      // Pillow ignores what libpng deems benign
  // CRCs as Pillow checks them: every chunk before the image data (Pillow's _open), not IDAT.
  png_set_crc_action(png, PNG_CRC_DEFAULT, PNG_CRC_ERROR_QUIT);
  png_read_info(png, info);
  png_set_crc_action(png, PNG_CRC_QUIET_USE, PNG_CRC_QUIET_USE);
  png_uint_32 w = 0, h = 0;
  int bd = 0, ct = 0, interlace = 0;
  png_get_IHDR(png, info, &w, &h, &bd, &ct, &interlace, nullptr, nullptr);
  if (ct == PNG_COLOR_TYPE_PALETTE) {
    png_colorp plte = nullptr;
    int n = 0;
    if (png_get_PLTE(png, info, &plte, &n) & PNG_INFO_PLTE)
      for (int i = 0; i < std::min(n, 256); ++i) {
        pal[3 * i] = plte[i].red;
        pal[3 * i + 1] = plte[i].green;
        pal[3 * i + 2] = plte[i].blue;
      }
  }
  const int passes = png_set_interlace_handling(png);
  png_read_update_info(png, info);
  const size_t rowbytes = png_get_rowbytes(png, info);
  out.image = make_rgb(static_cast<int>(w), static_cast<int>(h));
  uint8_t* dst = out.image.pixels.data();
  const size_t dst_row = static_cast<size_t>(w) * 3;
  if (passes == 1) {
    raw.resize(rowbytes);
    for (png_uint_32 y = 0; y < h; ++y) {
      png_read_row(png, raw.data(), nullptr);
      convert_row(raw.data(), dst + y * dst_row, static_cast<int>(w), bd, ct, pal);
    }
  } else {  // Adam7: the whole raw image (at most 8/3 of the RGB size)
    raw.resize(rowbytes * h);
    rows.resize(h);
    for (png_uint_32 y = 0; y < h; ++y) rows[y] = raw.data() + y * rowbytes;
    png_read_image(png, rows.data());
    for (png_uint_32 y = 0; y < h; ++y)
      convert_row(rows[y], dst + y * dst_row, static_cast<int>(w), bd, ct, pal);
  }
  return true;
}

// The eXIf chunk's orientation, if there is one (chunks walked without libpng).
int find_exif(const Input& in) {
  size_t pos = 8;
  while (pos + 12 <= in.size) {
    const uint32_t len = be32(in.data + pos);
    if (len > in.size - pos - 12) break;
    if (std::memcmp(in.data + pos + 4, "eXIf", 4) == 0)
      return exif_orientation(in.data + pos + 8, len);
    if (std::memcmp(in.data + pos + 4, "IEND", 4) == 0) break;
    pos += 12 + len;
  }
  return 0;
}

}  // namespace

Decoded decode_png(const Input& in) {
  // The header first: the size is checked before libpng allocates anything.
  if (in.size < 33 || std::memcmp(in.data + 12, "IHDR", 4) != 0)
    fail(in, "PNG file without a valid IHDR header");
  check_budget(in, be32(in.data + 16), be32(in.data + 20));
  // libpng 1.6.39 allocates some ancillary chunks (eXIf) at their declared length before
  // reading them, whatever the chunk allocation limit says: a 198-byte file declaring a 2 GiB
  // eXIf chunk got 2 GiB (fuzz finding). Every chunk up to the image data must fit in the file
  // (Pillow fails on such files too: "Truncated File Read"); IDAT is streamed, not allocated.
  for (size_t pos = 8; pos + 8 <= in.size;) {
    const uint32_t len = be32(in.data + pos);
    if (std::memcmp(in.data + pos + 4, "IDAT", 4) == 0) break;
    if (len > in.size - pos - 8 || in.size - pos - 8 - len < 4)
      fail(in, "PNG file is truncated (chunk '" + printable(std::string(
                   reinterpret_cast<const char*>(in.data + pos + 4), 4)) + "' declares " +
                   std::to_string(len) + " bytes, the file holds " +
                   std::to_string(in.size - pos - 8) + " after its header)");
    pos += 12 + len;
  }
  Reader reader{in.data, in.size, 8, {0}};
  Guard g;
  g.png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &reader, on_error, on_warning);
  if (!g.png) fail(in, "libpng: out of memory");
  g.info = png_create_info_struct(g.png);
  if (!g.info) fail(in, "libpng: out of memory");
  png_set_read_fn(g.png, &reader, on_read);
  png_set_sig_bytes(g.png, 8);
  Decoded out;
  std::vector<uint8_t> raw;
  std::vector<png_bytep> rows;
  uint8_t pal[768];
  for (int i = 0; i < 256; ++i) pal[3 * i] = pal[3 * i + 1] = pal[3 * i + 2] = static_cast<uint8_t>(i);
  if (!run(in, g, out, raw, rows, pal)) fail(in, std::string("PNG: ") + reader.message);
  out.exif_orientation = find_exif(in);
  return out;
}

}  // namespace camscope::decode
#endif  // CAMSCOPE_HAVE_LIBPNG
