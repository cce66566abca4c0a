#include "util/browse.h"

#include <algorithm>
#include <cctype>
#include <filesystem>

#include "util/error.h"
#include "util/fs.h"

namespace camscope {
namespace fs = std::filesystem;

namespace {
std::string lower_extension(const std::string& name) {
  std::string e = fs::path(name).extension().string();
  std::transform(e.begin(), e.end(), e.begin(), [](unsigned char c) { return std::tolower(c); });
  return e;
}

bool one_of(const std::string& e, std::initializer_list<const char*> list) {
  return std::any_of(list.begin(), list.end(), [&](const char* x) { return e == x; });
}
}  // namespace

BrowseKind browse_kind(const std::string& name) {
  const std::string e = lower_extension(name);
  if (one_of(e, {".pt", ".pth", ".ptl", ".torchscript", ".zip"})) return BrowseKind::Model;
  if (one_of(e, {".png", ".jpg", ".jpeg", ".bmp", ".tga", ".ppm", ".pgm", ".pnm", ".psd", ".hdr",
                 ".pic", ".webp"}))
    return BrowseKind::Image;
  if (one_of(e, {".mp4", ".mkv", ".avi", ".mov", ".webm", ".m4v", ".mpg", ".mpeg", ".wmv", ".flv",
                 ".gif", ".ts", ".y4m"}))
    return BrowseKind::Video;
  return BrowseKind::Other;
}

const char* browse_filter_name(BrowseFilter f) {
  switch (f) {
    case BrowseFilter::All:
      return "all";
    case BrowseFilter::Models:
      return "models";
    case BrowseFilter::Images:
      return "images";
    case BrowseFilter::Videos:
      return "videos";
  }
  return "all";
}

BrowseFilter parse_browse_filter(const std::string& n) {
  for (BrowseFilter f :
       {BrowseFilter::All, BrowseFilter::Models, BrowseFilter::Images, BrowseFilter::Videos})
    if (n == browse_filter_name(f)) return f;
  throw Error("unknown file filter '" + n + "' (all, models, images, videos)");
}

std::string parent_folder(const std::string& dir) {
  const fs::path p = fs::path(dir).lexically_normal();
  const fs::path parent = p.has_relative_path() && p.filename().empty()
                              ? p.parent_path().parent_path()
                              : p.parent_path();
  return parent.empty() ? dir : parent.string();
}

BrowseListing list_folder(const std::string& dir_in, BrowseFilter filter) {
  BrowseListing out;
  std::error_code ec;
  fs::path dir = dir_in.empty() ? fs::current_path(ec) : fs::path(dir_in);
  dir = fs::absolute(dir, ec).lexically_normal();
  if (dir.has_relative_path() && dir.filename().empty()) dir = dir.parent_path();
  out.dir = dir.string();
  fs::directory_iterator it(dir, fs::directory_options::skip_permission_denied, ec);
  if (ec) {
    out.error = out.dir + ": " + ec.message();
    return out;
  }
  for (const fs::directory_iterator end; it != end; it.increment(ec)) {
    if (ec) {
      out.error = out.dir + ": " + ec.message();
      break;
    }
    const std::string name = it->path().filename().string();
    if (name.empty() || name[0] == '.') {
      ++out.hidden;
      continue;
    }
    std::error_code e2;
    BrowseEntry entry;
    entry.name = name;
    if (it->is_directory(e2)) {
      entry.kind = BrowseKind::Folder;
    } else {
      entry.kind = browse_kind(name);
      const bool keep = filter == BrowseFilter::All       ? entry.kind != BrowseKind::Other
                        : filter == BrowseFilter::Models ? entry.kind == BrowseKind::Model
                        : filter == BrowseFilter::Images ? entry.kind == BrowseKind::Image
                                                         : entry.kind == BrowseKind::Video;
      if (!keep) {
        ++out.hidden;
        continue;
      }
      entry.size = it->file_size(e2);
      if (e2) entry.size = 0;
    }
    out.entries.push_back(std::move(entry));
  }
  std::sort(out.entries.begin(), out.entries.end(), [](const BrowseEntry& a, const BrowseEntry& b) {
    const bool fa = a.kind == BrowseKind::Folder, fb = b.kind == BrowseKind::Folder;
    if (fa != fb) return fa;
    return natural_less(a.name, b.name);
  });
  return out;
}

}  // namespace camscope
