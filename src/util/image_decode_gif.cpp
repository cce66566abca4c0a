// GIF, first frame, as Pillow 9.4's GifImagePlugin (LOADING_STRATEGY RGB_AFTER_FIRST) reads it,
// then convert("RGB"):
//   the canvas is the logical screen, grown to the frame's extent when the frame pokes out;
//   it starts as the frame's transparent index when there is one, else index 0;
//   the frame's pixels are all written (transparency is not applied to the first frame);
//   palette: the local table, else the global one (entries past the table: (i, i, i)); no
//   table at all: grey, value = index; the transparent index keeps its palette colour.
// Data that ends with an end code or block terminator before the frame is full leaves the
// canvas as it was (Pillow does not complain); a file cut short fails ("truncated").
#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "util/image_decode.h"

namespace camscope::decode {
namespace {

uint32_t le16(const uint8_t* p) { return p[0] | (p[1] << 8); }

}  // namespace

Decoded decode_gif(const Input& in) {
  const uint8_t* d = in.data;
  const size_t n = in.size;
  if (n < 13) fail(in, "GIF file is truncated (no header)");
  uint64_t width = le16(d + 6), height = le16(d + 8);
  const uint8_t flags = d[10];
  size_t p = 13;
  uint8_t pal[768];
  for (int i = 0; i < 256; ++i) pal[3 * i] = pal[3 * i + 1] = pal[3 * i + 2] = static_cast<uint8_t>(i);
  uint8_t global[768];
  std::memcpy(global, pal, sizeof global);
  size_t global_entries = 0;
  if (flags & 0x80) {
    global_entries = size_t{1} << ((flags & 7) + 1);
    if (p + 3 * global_entries > n) fail(in, "GIF file is truncated (colour table)");
    std::memcpy(global, d + p, 3 * global_entries);
    p += 3 * global_entries;
  }
  auto truncated = [&] { fail(in, "GIF file is truncated (image data ends early)"); };
  // Blocks up to the first image descriptor.
  int transparency = -1;
  uint32_t x0 = 0, y0 = 0, fw = 0, fh = 0;
  bool interlace = false, local = false;
  while (true) {
    if (p >= n) truncated();
    const uint8_t c = d[p++];
    if (c == ';') fail(in, "GIF file holds no image");
    if (c == '!') {
      if (p >= n) truncated();
      const uint8_t label = d[p++];
      bool first = true;
      while (true) {  // data sub-blocks
        if (p >= n) truncated();
        const size_t len = d[p++];
        if (len == 0) break;
        if (p + len > n) truncated();
        if (label == 0xf9 && first && len >= 4 && (d[p] & 1)) transparency = d[p + 3];
        first = false;
        p += len;
      }
    } else if (c == ',') {
      if (p + 9 > n) truncated();
      x0 = le16(d + p);
      y0 = le16(d + p + 2);
      fw = le16(d + p + 4);
      fh = le16(d + p + 6);
      const uint8_t f = d[p + 8];
      p += 9;
      interlace = (f & 0x40) != 0;
      if (f & 0x80) {
        const size_t entries = size_t{1} << ((f & 7) + 1);
        if (p + 3 * entries > n) truncated();
        std::memcpy(pal, d + p, 3 * entries);
        p += 3 * entries;
        local = true;
      }
      break;
    }
    // anything else is skipped, one byte at a time (as Pillow does)
  }
  if (!local) std::memcpy(pal, global, sizeof pal);
  width = std::max<uint64_t>(width, x0 + fw);
  height = std::max<uint64_t>(height, y0 + fh);
  check_budget(in, width, height);
  const int w = static_cast<int>(width), h = static_cast<int>(height);

  // Canvas of indices.
  std::vector<uint8_t> idx(static_cast<size_t>(w) * h,
                           static_cast<uint8_t>(transparency >= 0 ? transparency : 0));
  if (p >= n) truncated();
  const int bits = d[p++];
  if (bits < 1 || bits > 11) fail(in, "GIF: broken image data (code size " + std::to_string(bits) + ")");

  // LZW over the sub-blocks, pixels placed in (interlaced) row order.
  const int clear = 1 << bits, end = clear + 1;
  std::vector<uint16_t> prefix(4096);
  std::vector<uint8_t> suffix(4096), stack(4097);
  int code_size = bits + 1, next = clear + 2, prev = -1;
  uint8_t first_char = 0;
  uint32_t acc = 0;
  int acc_bits = 0;
  size_t block_left = 0;
  uint64_t pixel = 0;
  const uint64_t frame_pixels = uint64_t{fw} * fh;
  static const int kStart[4] = {0, 4, 2, 1}, kStep[4] = {8, 8, 4, 2};
  int pass = 0;
  uint32_t row = 0, col = 0;
  auto put = [&](uint8_t v) {
    if (pixel >= frame_pixels) return;
    ++pixel;
    idx[static_cast<size_t>(y0 + row) * w + x0 + col] = v;
    if (++col == fw) {
      col = 0;
      if (!interlace) {
        ++row;
      } else {
        row += kStep[pass];
        while (row >= fh && pass < 3) row = kStart[++pass];
      }
    }
  };
  bool done = false;
  while (!done && pixel < frame_pixels) {
    while (acc_bits < code_size) {  // refill
      if (block_left == 0) {
        if (p >= n) truncated();
        block_left = d[p++];
        if (block_left == 0) {
          done = true;
          break;
        }
      }
      if (p >= n) truncated();
      acc |= static_cast<uint32_t>(d[p++]) << acc_bits;
      acc_bits += 8;
      --block_left;
    }
    if (done) break;
    const int code = static_cast<int>(acc & ((1u << code_size) - 1));
    acc >>= code_size;
    acc_bits -= code_size;
    if (code == clear) {
      code_size = bits + 1;
      next = clear + 2;
      prev = -1;
      continue;
    }
    if (code == end) break;
    if (prev < 0) {
      if (code > clear) fail(in, "GIF: broken image data");
      first_char = static_cast<uint8_t>(code);
      put(first_char);
      prev = code;
      continue;
    }
    int sp = 0, cur = code;
    if (code > next || (code == next && next >= 4096)) fail(in, "GIF: broken image data");
    if (code == next) {
      stack[sp++] = first_char;
      cur = prev;
    }
    while (cur > clear) {
      stack[sp++] = suffix[cur];
      cur = prefix[cur];
    }
    first_char = static_cast<uint8_t>(cur);
    stack[sp++] = first_char;
    while (sp > 0) put(stack[--sp]);
    if (next < 4096) {
      prefix[next] = static_cast<uint16_t>(prev);
      suffix[next] = first_char;
      ++next;
      if (next == (1 << code_size) && code_size < 12) ++code_size;
    }
    prev = code;
  }

  Decoded out;
  out.image = make_rgb(w, h);
  uint8_t* o = out.image.pixels.data();
  for (size_t i = 0; i < idx.size(); ++i) std::memcpy(o + 3 * i, pal + 3 * idx[i], 3);
  return out;
}

}  // namespace camscope::decode
