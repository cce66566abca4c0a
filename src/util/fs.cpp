#include "util/fs.h"

#include <cctype>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "util/error.h"

namespace camscope {
namespace stdfs = std::filesystem;

bool natural_less(const std::string& a, const std::string& b) {
  size_t i = 0, j = 0;
  while (i < a.size() && j < b.size()) {
    if (std::isdigit(static_cast<unsigned char>(a[i])) && std::isdigit(static_cast<unsigned char>(b[j]))) {
      size_t i0 = i, j0 = j;
      while (i0 < a.size() && a[i0] == '0') ++i0;
      while (j0 < b.size() && b[j0] == '0') ++j0;
      size_t i1 = i0, j1 = j0;
      while (i1 < a.size() && std::isdigit(static_cast<unsigned char>(a[i1]))) ++i1;
      while (j1 < b.size() && std::isdigit(static_cast<unsigned char>(b[j1]))) ++j1;
      size_t la = i1 - i0, lb = j1 - j0;
      if (la != lb) return la < lb;
      int c = a.compare(i0, la, b, j0, lb);
      if (c != 0) return c < 0;
      if ((i1 - i) != (j1 - j)) return (i1 - i) < (j1 - j);  // fewer leading zeros first
      i = i1;
      j = j1;
    } else {
      int ca = std::tolower(static_cast<unsigned char>(a[i]));
      int cb = std::tolower(static_cast<unsigned char>(b[j]));
      if (ca != cb) return ca < cb;
      ++i;
      ++j;
    }
  }
  if ((a.size() - i) != (b.size() - j)) return (a.size() - i) < (b.size() - j);
  return a < b;
}

void ensure_directory(const std::string& dir) {
  std::error_code ec;
  if (stdfs::exists(dir, ec) && !stdfs::is_directory(dir, ec))
    throw Error(dir + " exists and is not a directory");
  stdfs::create_directories(dir, ec);
  if (ec) throw Error("cannot create directory " + dir + ": " + ec.message());
}

void check_writable(const std::string& path, bool force) {
  if (!force && stdfs::exists(path)) throw Error(path + " exists; pass --force to overwrite");
}

bool file_exists(const std::string& path) {
  std::error_code ec;
  return stdfs::is_regular_file(path, ec);
}

std::string read_text_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw Error(path + ": cannot open");
  std::ostringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

std::string format_index(const char* pattern, long long index) {
  char buf[512];
  std::snprintf(buf, sizeof buf, pattern, index);
  return buf;
}

}  // namespace camscope
