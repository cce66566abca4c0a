// A folder of images in natural sort order ("a2.png" before "a10.png"). Frame i is the i-th
// image file in that order, whether or not it decodes, so exported names match positions;
// files that fail to decode are skipped with a warning and counted.
#include <algorithm>
#include <filesystem>
#include <set>

#include "capture/indexed_source.h"
#include "capture/sources.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/image_io.h"
#include "util/log.h"

namespace camscope::capture {
namespace {

bool is_image_name(const std::filesystem::path& p) {
  static const std::set<std::string> exts = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tga",
                                             ".ppm", ".pgm", ".pnm",  ".psd", ".hdr", ".pic"};
  std::string e = p.extension().string();
  std::transform(e.begin(), e.end(), e.begin(), [](unsigned char c) { return std::tolower(c); });
  return exts.count(e) != 0;
}

class FolderSource final : public IndexedSource {
 public:
  FolderSource(const std::string& dir, const DecodeOptions& decode) : m_decode(decode) {
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
      if (entry.is_regular_file(ec) && is_image_name(entry.path()))
        m_files.push_back(entry.path().filename().string());
    }
    if (ec) throw Error(dir + ": cannot list folder (" + ec.message() + ")");
    if (m_files.empty()) throw Error(dir + ": folder holds no images (png, jpg, bmp, ...)");
    std::sort(m_files.begin(), m_files.end(), natural_less);
    m_dir = dir;
    m_info.kind = "folder";
    m_info.uri = dir;
    m_info.frame_count = static_cast<int64_t>(m_files.size());
    m_info.seekable = true;
    // The first readable image sets the nominal size; an all-unreadable folder is an error.
    Frame probe;
    for (int64_t i = 0; i < m_info.frame_count && !probe.valid(); ++i) load(i, probe);
    if (!probe.valid())
      throw Error(dir + ": none of its " + std::to_string(m_files.size()) + " images is readable");
    m_info.width = probe.width;
    m_info.height = probe.height;
  }

  int64_t skipped() const override { return static_cast<int64_t>(m_bad.size()); }

  bool read_frame(int64_t index, Frame& out) override { return load(index, out); }
  const char* unit() const override { return "images"; }

 private:
  bool load(int64_t index, Frame& out) {
    if (m_bad.count(index)) return false;
    const std::string path = (std::filesystem::path(m_dir) / m_files[index]).string();
    try {
      Image img = load_image_rgb(path, m_decode);
      out.index = index;
      out.pts = 0.0;
      out.file = m_files[index];
      out.width = img.width;
      out.height = img.height;
      out.rgb = std::move(img.pixels);
      return true;
    } catch (const Error& e) {
      m_bad.insert(index);
      log::warn("skipping " + std::string(e.what()));
      return false;
    }
  }

  DecodeOptions m_decode;
  std::string m_dir;
  std::vector<std::string> m_files;
  std::set<int64_t> m_bad;
};

}  // namespace

std::unique_ptr<FrameSource> make_folder_source(const std::string& dir, const DecodeOptions& decode) {
  return std::make_unique<FolderSource>(dir, decode);
}

}  // namespace camscope::capture
