#pragma once
// Internals of util/image_io.cpp: one decoder per format, each equal to Pillow's
// Image.open(p).convert("RGB"). Not part of the public API.
#include <cstddef>
#include <cstdint>
#include <string>

#include "util/image_io.h"

namespace camscope::decode {

// Input of a decoder: the whole file in memory plus what error messages and limits need.
struct Input {
  const uint8_t* data = nullptr;
  size_t size = 0;
  const std::string* name = nullptr;  // starts every error message
  const DecodeOptions* options = nullptr;
};

// Output besides the pixels: the EXIF orientation tag (1..8; 0 when absent).
struct Decoded {
  Image image;
  int exif_orientation = 0;
};

// Throws Error("NAME: REASON"), the reason made printable (one line, ASCII).
[[noreturn]] void fail(const Input& in, const std::string& reason);
// Throws when width*height*3 bytes would exceed options->max_decoded_mb, or a side is < 1.
void check_budget(const Input& in, uint64_t width, uint64_t height);
// Allocates a width x height RGB8 image (after check_budget).
Image make_rgb(int width, int height);
// Replaces anything that is not printable ASCII by '?', newlines included; caps the length.
std::string printable(const std::string& s, size_t max_len = 200);

Decoded decode_jpeg(const Input& in);
Decoded decode_png(const Input& in);
Decoded decode_bmp(const Input& in);
Decoded decode_gif(const Input& in);

// Orientation tag (0x0112) of IFD0 in a TIFF-structured EXIF block ("II*\0"/"MM\0*" first;
// a leading "Exif\0\0" is skipped). 0 when absent or malformed.
int exif_orientation(const uint8_t* data, size_t size);
// Transposes `img` as ImageOps.exif_transpose does for orientation 2..8 (others: no change).
void apply_exif_orientation(Image& img, int orientation);

}  // namespace camscope::decode
