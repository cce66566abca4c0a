#include "util/fs.h"

#include <sys/stat.h>
#include <sys/statfs.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <cstring>
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

namespace {
std::atomic<int64_t> g_max_file_mb{0};  // 0: per-kind defaults

// Filesystems whose "regular" files are kernel views (/proc/self/mem reads as empty or fails,
// /proc/kcore claims 128 TB), not data.
bool on_pseudo_filesystem(const std::string& path) {
  struct statfs fs;
  if (::statfs(path.c_str(), &fs) != 0) return false;
  switch (static_cast<unsigned long>(fs.f_type)) {
    case 0x9fa0UL:      // PROC_SUPER_MAGIC
    case 0x62656572UL:  // SYSFS_MAGIC
    case 0x64626720UL:  // DEBUGFS_MAGIC
    case 0x74726163UL:  // TRACEFS_MAGIC
    case 0x27e0ebUL:    // CGROUP_SUPER_MAGIC
    case 0x63677270UL:  // CGROUP2_SUPER_MAGIC
    case 0x73636673UL:  // SECURITYFS_MAGIC
      return true;
    default:
      return false;
  }
}

std::string mb_text(int64_t bytes) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.1f MB", static_cast<double>(bytes) / (1 << 20));
  return buf;
}

[[noreturn]] void throw_too_large(const std::string& path, int64_t size, FileKind kind) {
  const bool over_known = size >= 0;
  throw Error(path + ": " + (over_known ? mb_text(size) : std::string("file")) +
              " is over the " + std::to_string(max_file_bytes(kind) >> 20) + " MB limit for " +
              (kind == FileKind::Model ? "model" : "sidecar/labels/text") +
              " files (--max-file-mb N raises it)");
}
}  // namespace

void set_max_file_mb(int64_t mb) { g_max_file_mb = mb > 0 ? mb : 0; }

int64_t max_file_bytes(FileKind kind) {
  const int64_t mb = g_max_file_mb.load();
  const int64_t v = mb > 0 ? mb : (kind == FileKind::Model ? kDefaultMaxModelMb : kDefaultMaxTextMb);
  return std::min<int64_t>(v, int64_t{1} << 42) << 20;  // clamp: no overflow
}

std::string not_regular_reason(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    if (errno == ENOENT || errno == ENOTDIR) return "no such file";
    return std::string("cannot access (") + std::strerror(errno) + ")";
  }
  if (S_ISDIR(st.st_mode)) return "is a directory";
  if (S_ISCHR(st.st_mode)) return "not a regular file (a character device)";
  if (S_ISBLK(st.st_mode)) return "not a regular file (a block device)";
  if (S_ISFIFO(st.st_mode)) return "not a regular file (a pipe)";
  if (S_ISSOCK(st.st_mode)) return "not a regular file (a socket)";
  if (!S_ISREG(st.st_mode)) return "not a regular file";
  if (on_pseudo_filesystem(path)) return "not a regular file (a /proc or /sys pseudo-file)";
  return "";
}

int64_t check_input_file(const std::string& path, FileKind kind) {
  const std::string why = not_regular_reason(path);
  if (!why.empty()) throw Error(path + ": " + why);
  std::error_code ec;
  const auto size = stdfs::file_size(path, ec);
  if (ec) throw Error(path + ": cannot read its size (" + ec.message() + ")");
  if (size == 0) throw Error(path + ": empty file");
  if (static_cast<int64_t>(size) > max_file_bytes(kind))
    throw_too_large(path, static_cast<int64_t>(size), kind);
  return static_cast<int64_t>(size);
}

std::string read_text_file(const std::string& path, FileKind kind) {
  const std::string why = not_regular_reason(path);
  if (!why.empty()) throw Error(path + ": " + why);
  const int64_t limit = max_file_bytes(kind);
  std::error_code ec;
  const auto size = stdfs::file_size(path, ec);
  if (!ec && static_cast<int64_t>(size) > limit) throw_too_large(path, static_cast<int64_t>(size), kind);
  std::ifstream f(path, std::ios::binary);
  if (!f) throw Error(path + ": cannot open");
  std::string text;
  char buf[1 << 16];
  while (f) {
    f.read(buf, sizeof buf);
    text.append(buf, static_cast<size_t>(f.gcount()));
    if (static_cast<int64_t>(text.size()) > limit) throw_too_large(path, -1, kind);  // it grew
  }
  if (f.bad()) throw Error(path + ": read error");
  return text;
}

std::string format_index(const char* pattern, long long index) {
  char buf[512];
  std::snprintf(buf, sizeof buf, pattern, index);
  return buf;
}

}  // namespace camscope
