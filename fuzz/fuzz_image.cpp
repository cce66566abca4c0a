// libFuzzer harness: still-image decoding (src/util/image_io.cpp and image_decode_*.cpp, EXIF
// included) through decode_image_rgb, the entry point load_image_rgb and the app use, with a
// small decoded-size budget (--max-image-mb 8) so hostile headers are refused before they
// allocate. Any outcome but an RGB image of the stated size or a camscope::Error with a
// one-line message is a bug. The first byte picks the options (EXIF orientation on or off).
#include <cstdint>
#include <cstdlib>
#include <string>

#include "util/error.h"
#include "util/image_io.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  camscope::DecodeOptions opt;
  opt.apply_exif_orientation = (data[0] & 1) != 0;
  opt.max_decoded_mb = 8;
  static const std::string name = "fuzz.img";
  try {
    const camscope::Image img = camscope::decode_image_rgb(data + 1, size - 1, name, opt);
    if (img.channels != 3 || img.width < 1 || img.height < 1) std::abort();
    if (img.pixels.size() != static_cast<size_t>(img.width) * img.height * 3) std::abort();
    if (static_cast<uint64_t>(img.width) * img.height * 3 > (uint64_t{8} << 20)) std::abort();
  } catch (const camscope::Error& e) {
    const std::string msg = e.what();
    if (msg.empty() || msg.find('\n') != std::string::npos) std::abort();
  }
  return 0;
}
