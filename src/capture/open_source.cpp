// --input SRC dispatch (DESIGN.md): synthetic[:seed], webcam:N / /dev/videoN, folder, image
// file (by extension), anything else is tried as a video file.
#include <algorithm>
#include <cctype>
#include <filesystem>
#include <set>

#include "capture/sources.h"
#include "util/error.h"
#include "util/fs.h"

namespace camscope::capture {
namespace {

bool all_digits(const std::string& s) {
  return !s.empty() &&
         std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isdigit(c); });
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (true) {
    size_t p = s.find(sep, start);
    parts.push_back(s.substr(start, p == std::string::npos ? std::string::npos : p - start));
    if (p == std::string::npos) return parts;
    start = p + 1;
  }
}

bool is_size(const std::string& s) {
  auto x = s.find('x');
  return x != std::string::npos && all_digits(s.substr(0, x)) && all_digits(s.substr(x + 1));
}

// webcam:N[:WxH][:FORMAT] or /dev/videoN[:WxH][:FORMAT]
std::unique_ptr<FrameSource> open_webcam(const std::string& spec, const SourceOptions& opt) {
  const std::string usage =
      "webcam input expects webcam:N or /dev/videoN, optionally :WxH and :FORMAT (e.g. "
      "webcam:0:1280x720:mjpeg), got '" +
      spec + "'";
  std::vector<std::string> parts = split(spec, ':');
  std::string device;
  size_t rest = 1;
  if (parts[0] == "webcam") {
    if (parts.size() < 2 || !all_digits(parts[1])) throw Error(usage);
    device = "/dev/video" + parts[1];
    rest = 2;
  } else {
    device = parts[0];
  }
  std::string size, format;
  if (opt.width > 0 && opt.height > 0)
    size = std::to_string(opt.width) + "x" + std::to_string(opt.height);
  for (size_t i = rest; i < parts.size(); ++i) {
    if (is_size(parts[i]))
      size = parts[i];
    else if (!parts[i].empty() && format.empty())
      format = parts[i];
    else
      throw Error(usage);
  }
  return make_webcam_source(spec, device, size, format, opt);
}

// GIFs are left to FFmpeg, which plays animated ones (stb would give the first frame only).
bool has_image_extension(const std::string& path) {
  static const std::set<std::string> exts = {".png", ".jpg", ".jpeg", ".bmp", ".tga", ".ppm",
                                             ".pgm", ".pnm", ".psd",  ".hdr", ".pic"};
  std::string e = std::filesystem::path(path).extension().string();
  std::transform(e.begin(), e.end(), e.begin(), [](unsigned char c) { return std::tolower(c); });
  return exts.count(e) != 0;
}

}  // namespace

std::unique_ptr<FrameSource> open_source(const std::string& spec) {
  return open_source(spec, SourceOptions{});
}

std::unique_ptr<FrameSource> open_source(const std::string& spec, const SourceOptions& opt) {
  if (spec.empty()) throw Error("no input given");
  if (spec == "synthetic" || spec.rfind("synthetic:", 0) == 0) {
    uint64_t seed = 0;
    if (spec.size() > 10) {
      const std::string s = spec.substr(10);
      if (!all_digits(s) || s.size() > 19)
        throw Error(
            "synthetic input expects synthetic or synthetic:SEED (a non-negative integer), got '" +
            spec + "'");
      seed = std::stoull(s);
    }
    return make_synthetic_source(seed, opt.width > 0 ? opt.width : 640,
                                 opt.height > 0 ? opt.height : 360);
  }
  if (spec.rfind("webcam:", 0) == 0 || spec.rfind("/dev/video", 0) == 0)
    return open_webcam(spec, opt);
  std::error_code ec;
  const auto status = std::filesystem::status(spec, ec);
  if (!std::filesystem::exists(status)) throw Error(spec + ": no such file or directory");
  if (std::filesystem::is_directory(status)) return make_folder_source(spec, opt.decode);
  // Devices, pipes and /proc or /sys pseudo-files (/proc/self/mem) are not inputs.
  if (const std::string why = not_regular_reason(spec); !why.empty()) throw Error(spec + ": " + why);
  if (has_image_extension(spec)) return make_image_source(spec, opt.decode);
  return make_video_source(spec, opt);
}

}  // namespace camscope::capture
