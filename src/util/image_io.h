#pragma once
// Still images: decoding (stb_image: PNG, JPEG, BMP, GIF, TGA, PNM...) and PNG writing.
#include <cstdint>
#include <string>
#include <vector>

namespace camscope {

struct Image {
  int width = 0, height = 0, channels = 0;  // channels: 1, 3 or 4
  std::vector<uint8_t> pixels;              // row-major, top row first, interleaved
};

// Decodes an image file to RGB8. Throws camscope::Error with a one-line reason.
Image load_image_rgb(const std::string& path);
// Writes 1-, 3- or 4-channel 8-bit pixels as PNG (top row first). Throws on failure.
void write_png(const std::string& path, const uint8_t* pixels, int width, int height, int channels);
// Reverses row order in place (GL readback is bottom-up).
void flip_rows(uint8_t* pixels, int width, int height, int channels);

}  // namespace camscope
