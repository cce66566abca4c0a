#pragma once
// Fast still-image encoders for export, into memory, and atomic file writes. No LibTorch.
//   PNG   libpng at a fast zlib level with one fixed row filter (stb_image_write when libpng is
//         missing: level and filter are then ignored)
//   JPEG  libjpeg-turbo (baseline, 4:2:0, accurate integer DCT); not available without it
// All functions are thread-safe (no shared state): export's writer pool calls them in parallel.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace camscope {

struct PngOptions {
  int level = 1;  // zlib level 0..9: 1 is ~8x faster than the default 6 on photos, ~10% larger
  enum class Filter { None, Sub, Up, Paeth, Adaptive } filter = Filter::Sub;
  bool rle = false;  // zlib's Z_RLE strategy: faster than level 1, larger files
};

// 1-, 3- or 4-channel 8-bit pixels (rows top first) -> PNG bytes in `out` (replaced).
// Throws camscope::Error on failure.
void encode_png(const uint8_t* pixels, int width, int height, int channels, const PngOptions& opt,
                std::vector<uint8_t>& out);
// 3-channel RGB8 -> baseline JPEG bytes (quality 1..100). Throws camscope::Error on failure or
// when built without libjpeg.
void encode_jpeg(const uint8_t* rgb, int width, int height, int quality, std::vector<uint8_t>& out);
bool have_jpeg_encoder();

// The temporary name writes to `path` go through: a hidden file in the same directory
// (".NAME.partial"), so the rename that publishes it is atomic.
std::string partial_path(const std::string& path);
// Writes `size` bytes to partial_path(path), then renames it over `path`: a reader (or an
// interrupted export) only ever sees no file or the whole file. Throws camscope::Error.
void write_file_atomic(const std::string& path, const void* data, size_t size);

}  // namespace camscope
