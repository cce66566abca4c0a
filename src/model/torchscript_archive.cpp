// The zip container check before LibTorch reads a model (see torchscript_archive.h).
#include "model/torchscript_archive.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <vector>

#include "util/error.h"

namespace camscope::model {
namespace {

constexpr uint32_t kEndSig = 0x06054b50, kEnd64Sig = 0x06064b50, kLocator64Sig = 0x07064b50;
constexpr uint32_t kCentralSig = 0x02014b50, kLocalSig = 0x04034b50;
constexpr size_t kEndSize = 22, kLocatorSize = 20, kEnd64Size = 56, kCentralSize = 46,
                 kLocalSize = 30;
constexpr uint64_t kMaxEntries = 1u << 20;
constexpr uint64_t kMaxDirectoryBytes = 256u << 20;  // read whole: 1M entries of 256 bytes
constexpr uint64_t kDeflateMaxRatio = 1032;

uint32_t le16(const uint8_t* p) { return p[0] | (uint32_t(p[1]) << 8); }
uint32_t le32(const uint8_t* p) { return le16(p) | (le16(p + 2) << 16); }
uint64_t le64(const uint8_t* p) { return le32(p) | (uint64_t(le32(p + 4)) << 32); }

std::string mib(uint64_t bytes) {
  if (bytes < 10 * 1024) return std::to_string(bytes) + " bytes";
  return std::to_string(bytes >> 20) + " MiB";
}

std::string shown(const std::string& name) {
  std::string out;
  for (unsigned char c : name) {
    if (out.size() >= 80) return out + "...";
    out += (c >= 0x20 && c < 0x7f) ? static_cast<char>(c) : '?';
  }
  return out;
}

[[noreturn]] void bad(const std::string& why) { throw Error(why); }

}  // namespace

ArchiveSummary check_torchscript_archive(uint64_t size, const ReadAt& read, uint64_t max_declared) {
  auto read_exact = [&](uint64_t off, size_t n, uint8_t* out) {
    if (off > size || size - off < n || !read(off, n, out))
      bad("cannot read " + std::to_string(n) + " bytes at offset " + std::to_string(off));
  };
  uint8_t head[8] = {0};
  read_exact(0, static_cast<size_t>(std::min<uint64_t>(size, sizeof head)), head);
  if (size >= 2 && head[0] == 0x80 && head[1] >= 2 && head[1] <= 5)
    bad("a Python pickle (torch.save with the legacy format?), not a TorchScript archive; save "
        "torch.jit.script(model) instead");
  if (size < kEndSize || le32(head) != kLocalSig)
    bad("not a zip archive, as torch.jit.save writes TorchScript files");

  // End of central directory: the last 22 + 65535 bytes hold it (its comment is at most 64 KiB).
  const size_t tail_len = static_cast<size_t>(std::min<uint64_t>(size, kEndSize + 0xffff));
  std::vector<uint8_t> tail(tail_len);
  read_exact(size - tail_len, tail_len, tail.data());
  size_t end_at = SIZE_MAX;  // offset in tail
  for (size_t i = tail_len - kEndSize + 1; i-- > 0;) {
    if (le32(&tail[i]) == kEndSig && i + kEndSize + le16(&tail[i + 20]) <= tail_len) {
      end_at = i;
      break;
    }
  }
  if (end_at == SIZE_MAX) bad("no zip end record (the file is truncated or not a zip archive)");
  const uint8_t* e = &tail[end_at];
  const uint64_t end_pos = size - tail_len + end_at;
  uint64_t entries = le16(e + 10), cd_size = le32(e + 12), cd_offset = le32(e + 16);
  if (le16(e + 4) != 0 || le16(e + 6) != 0 || le16(e + 8) != le16(e + 10))
    bad("a multi-part zip archive");
  uint64_t cd_limit = end_pos;  // the directory ends where the next record starts
  if (entries == 0xffff || cd_size == 0xffffffff || cd_offset == 0xffffffff) {
    if (end_pos < kLocatorSize) bad("zip64 archive without its locator");
    uint8_t loc[kLocatorSize];
    read_exact(end_pos - kLocatorSize, kLocatorSize, loc);
    if (le32(loc) != kLocator64Sig) bad("zip64 archive without its locator");
    const uint64_t end64_pos = le64(loc + 8);
    if (end64_pos > end_pos - kLocatorSize || end_pos - kLocatorSize - end64_pos < kEnd64Size)
      bad("zip64 end record outside the file");
    uint8_t e64[kEnd64Size];
    read_exact(end64_pos, kEnd64Size, e64);
    if (le32(e64) != kEnd64Sig) bad("zip64 end record missing");
    if (le64(e64 + 24) != le64(e64 + 32)) bad("a multi-part zip archive");
    entries = le64(e64 + 32);
    cd_size = le64(e64 + 40);
    cd_offset = le64(e64 + 48);
    cd_limit = end64_pos;
  }
  if (entries == 0) bad("empty zip archive");
  if (cd_offset > cd_limit || cd_limit - cd_offset < cd_size)
    bad("zip directory (" + mib(cd_size) + " at offset " + std::to_string(cd_offset) +
        ") lies outside the file");
  if (cd_size > kMaxDirectoryBytes)
    bad("zip directory of " + mib(cd_size) + " (a TorchScript file's takes kilobytes)");
  if (entries > kMaxEntries || entries > cd_size / kCentralSize)
    bad("zip directory of " + mib(cd_size) + " cannot hold the " + std::to_string(entries) +
        " entries it declares");
  std::vector<uint8_t> cd(static_cast<size_t>(cd_size));
  read_exact(cd_offset, cd.size(), cd.data());

  ArchiveSummary out;
  out.entries = entries;
  bool data_pkl = false, code = false;
  size_t p = 0;
  for (uint64_t i = 0; i < entries; ++i) {
    if (cd.size() - p < kCentralSize || le32(&cd[p]) != kCentralSig)
      bad("zip directory entry " + std::to_string(i) + " is damaged");
    const uint8_t* c = &cd[p];
    const uint32_t flags = le16(c + 8), method = le16(c + 10);
    uint64_t comp = le32(c + 20), uncomp = le32(c + 24), local = le32(c + 42);
    const size_t name_len = le16(c + 28), extra_len = le16(c + 30), comment_len = le16(c + 32);
    if (cd.size() - p - kCentralSize < name_len + extra_len + comment_len)
      bad("zip directory entry " + std::to_string(i) + " runs past the directory");
    const std::string name(reinterpret_cast<const char*>(c + kCentralSize), name_len);
    const uint8_t* extra = c + kCentralSize + name_len;
    // Zip64 sizes and offset, in this order, for the fields that are saturated.
    for (size_t x = 0; x + 4 <= extra_len;) {
      const uint32_t id = le16(extra + x), len = le16(extra + x + 2);
      if (len > extra_len - x - 4) bad(shown(name) + ": damaged zip extra field");
      if (id == 1) {
        size_t f = x + 4;
        const size_t f_end = x + 4 + len;
        for (uint64_t* v : {&uncomp, &comp, &local}) {
          if (*v != 0xffffffff) continue;
          if (f_end - f < 8) bad(shown(name) + ": damaged zip64 extra field");
          *v = le64(extra + f);
          f += 8;
        }
      }
      x += 4 + len;
    }
    p += kCentralSize + name_len + extra_len + comment_len;
    if (name.empty() || name.find('\0') != std::string::npos)
      bad("zip entry " + std::to_string(i) + " has no valid name");
    if (flags & 1) bad(shown(name) + ": encrypted zip entry");
    if (method != 0 && method != 8)
      bad(shown(name) + ": zip compression method " + std::to_string(method) +
          " (TorchScript files are stored or deflated)");
    if (method == 0 && comp != uncomp)
      bad(shown(name) + ": stored zip entry with different sizes (" + std::to_string(comp) +
          " and " + std::to_string(uncomp) + " bytes)");
    if (method == 8 && uncomp / kDeflateMaxRatio > comp)
      bad(shown(name) + ": declares " + mib(uncomp) + " uncompressed from " + mib(comp) +
          " (more than deflate can expand)");
    if (uncomp > max_declared - std::min(max_declared, out.declared_bytes))
      bad("entries declare more than the " + mib(max_declared) +
          " model limit uncompressed (--max-file-mb)");
    out.declared_bytes += uncomp;
    // The local header and the data lie before the directory.
    uint8_t lh[kLocalSize];
    if (local > cd_offset || cd_offset - local < kLocalSize)
      bad(shown(name) + ": zip entry offset " + std::to_string(local) + " outside the data");
    read_exact(local, kLocalSize, lh);
    if (le32(lh) != kLocalSig) bad(shown(name) + ": zip local header missing");
    const uint64_t data_at = local + kLocalSize + le16(lh + 26) + le16(lh + 28);
    if (data_at > cd_offset || cd_offset - data_at < comp)
      bad(shown(name) + ": zip entry of " + mib(comp) + " runs past the data");
    if (i == 0) {
      const size_t slash = name.find('/');
      if (slash == std::string::npos || slash == 0)
        bad("the archive's first entry (" + shown(name) + ") is not in a folder");
      out.prefix = name.substr(0, slash + 1);
    }
    if (name.compare(0, out.prefix.size(), out.prefix) == 0) {
      const std::string rest = name.substr(out.prefix.size());
      data_pkl = data_pkl || rest == "data.pkl";
      code = code || rest == "constants.pkl" || rest.rfind("code/", 0) == 0;
    }
  }
  if (!data_pkl) bad("a zip archive without " + shown(out.prefix) + "data.pkl (not written by torch.jit.save)");
  if (!code)
    bad("a torch.save() file (data.pkl without TorchScript code); save torch.jit.script(model) "
        "instead");
  return out;
}

ArchiveSummary check_torchscript_archive(const uint8_t* data, size_t size, uint64_t max_declared) {
  return check_torchscript_archive(
      size,
      [&](uint64_t off, size_t n, uint8_t* out) {
        if (off > size || size - off < n) return false;
        if (n) std::memcpy(out, data + off, n);
        return true;
      },
      max_declared);
}

ArchiveSummary check_torchscript_file(const std::string& path, uint64_t max_declared) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (fd < 0) throw Error(path + ": cannot open (" + std::strerror(errno) + ")");
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) throw Error(path + ": not a regular file");
  try {
    return check_torchscript_archive(
        static_cast<uint64_t>(st.st_size),
        [&](uint64_t off, size_t n, uint8_t* out) {
          while (n > 0) {
            const ssize_t r = ::pread(fd, out, n, static_cast<off_t>(off));
            if (r < 0 && errno == EINTR) continue;
            if (r <= 0) return false;
            out += r;
            off += static_cast<uint64_t>(r);
            n -= static_cast<size_t>(r);
          }
          return true;
        },
        max_declared);
  } catch (const Error& e) {
    throw Error(path + ": not a loadable TorchScript model (" + e.what() + ")");
  }
}

}  // namespace camscope::model
