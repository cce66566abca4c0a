#pragma once
// Folder listings for the Open dialog's file browser: entries of one folder, folders first,
// in natural order, filtered by what camscope can open. Plain data: the UI draws it, tests
// check it without a window.
#include <cstdint>
#include <string>
#include <vector>

namespace camscope {

enum class BrowseKind { Folder, Model, Image, Video, Other };
enum class BrowseFilter { All, Models, Images, Videos };

struct BrowseEntry {
  std::string name;  // file or folder name (no path)
  BrowseKind kind = BrowseKind::Other;
  uintmax_t size = 0;  // bytes (files)
};

struct BrowseListing {
  std::string dir;    // absolute, normalized
  std::string error;  // "" or why the folder could not be read (one line)
  std::vector<BrowseEntry> entries;
  size_t hidden = 0;  // entries the filter (or a leading dot) left out
};

// By extension: .pt/.pth/.ptl/.zip/.torchscript are models; camscope's image and video
// extensions are inputs; everything else is Other.
BrowseKind browse_kind(const std::string& name);
const char* browse_filter_name(BrowseFilter f);  // "all", "models", "images", "videos"
// Throws camscope::Error on an unknown name.
BrowseFilter parse_browse_filter(const std::string& name);
// Lists `dir` ("" = the current directory). Folders always show; files when the filter takes
// their kind (All: every file camscope can open, Other excluded). Never throws: an unreadable
// folder gives an empty listing with `error` set.
BrowseListing list_folder(const std::string& dir, BrowseFilter filter);
// The parent of an absolute folder ("/" stays "/").
std::string parent_folder(const std::string& dir);

}  // namespace camscope
