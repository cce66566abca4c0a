// Image-decoding options shared by `view` and `export`.
#include <cerrno>
#include <cstdlib>

#include "app/commands.h"
#include "util/args.h"
#include "util/error.h"

namespace camscope::app {

const std::set<std::string> kDecodeValueOpts = {"exif-orientation", "max-image-mb"};

const char* const kDecodeHelp =
    "  --exif-orientation apply|ignore  images: turn them as their EXIF orientation says\n"
    "                        (apply, like ImageOps.exif_transpose) or not (ignore, the default,\n"
    "                        like PIL.Image.open)\n"
    "  --max-image-mb N      images: refuse those whose decoded RGB would exceed N MiB\n"
    "                        (default 384, i.e. 2^27 pixels)\n";

DecodeOptions parse_decode_options(const Args& args) {
  DecodeOptions d;
  const std::string exif = args.get("exif-orientation", "ignore");
  if (exif == "apply")
    d.apply_exif_orientation = true;
  else if (exif != "ignore")
    throw Error("--exif-orientation expects apply or ignore, got '" + exif + "'");
  if (args.has("max-image-mb")) {
    const std::string s = args.get("max-image-mb");
    char* end = nullptr;
    errno = 0;
    const long long v = std::strtoll(s.c_str(), &end, 10);
    if (s.empty() || *end || errno || v < 1 || v > (1LL << 20))
      throw Error("--max-image-mb expects a whole number of MiB in 1..1048576, got '" + s + "'");
    d.max_decoded_mb = v;
  }
  return d;
}

}  // namespace camscope::app
