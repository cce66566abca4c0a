#pragma once
// Still images: decoding and PNG writing.
//
// Decoding matches the Python ecosystem byte for byte (DESIGN.md): the RGB8 pixels equal
// `PIL.Image.open(p).convert("RGB")` (Pillow 9.4 on Debian 12) for
//   JPEG  libjpeg-turbo, accurate integer IDCT, fancy upsampling; gray -> R=G=B; CMYK/YCCK as
//         Pillow (Adobe-inverted CMYK, then Pillow's cmyk2rgb)
//   PNG   libpng, every colour type and bit depth, interlaced or not (Pillow's conversions,
//         see image_decode_png.cpp: alpha dropped, 16-bit RGB(A) -> high byte, 16-bit gray
//         clipped to 255)
//   BMP   1/4/8-bit palette (raw, RLE4, RLE8), 16/24/32-bit, bit fields (own decoder)
//   GIF   the first frame (own decoder)
// Other formats stb_image knows (TGA, PNM, PSD, HDR, PIC) go through stb_image.
// EXIF orientation is ignored by default (as PIL), applied with DecodeOptions (as
// ImageOps.exif_transpose). Built without libjpeg/libpng (the GPU machine), JPEG/PNG fall back
// to stb_image, which differs from PIL by a few grey levels on photos.
//
// Hostile files: the file must be regular and is read with a bound; header dimensions are
// checked against max_decoded_mb before any pixel memory is allocated; uncompressed BMPs that
// are too small for their declared size are refused; errors are one printable line.
#include <cstdint>
#include <string>
#include <vector>

namespace camscope {

struct Image {
  int width = 0, height = 0, channels = 0;  // channels: 1, 3 or 4
  std::vector<uint8_t> pixels;              // row-major, top row first, interleaved
};

struct DecodeOptions {
  bool apply_exif_orientation = false;  // --exif-orientation apply|ignore (default ignore)
  int64_t max_decoded_mb = 384;         // --max-image-mb: width*height*3 bytes, in MiB (2^27 px)
};

// Decodes an image file to RGB8 (channels = 3). Throws camscope::Error with a one-line reason.
Image load_image_rgb(const std::string& path, const DecodeOptions& options = {});
// The same from bytes in memory; `name` starts error messages.
Image decode_image_rgb(const uint8_t* data, size_t size, const std::string& name,
                       const DecodeOptions& options = {});
// Writes 1-, 3- or 4-channel 8-bit pixels as PNG (top row first). Throws on failure.
void write_png(const std::string& path, const uint8_t* pixels, int width, int height, int channels);
// Reverses row order in place (GL readback is bottom-up).
void flip_rows(uint8_t* pixels, int width, int height, int channels);

}  // namespace camscope
