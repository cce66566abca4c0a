#pragma once
// The container check Model::load runs before LibTorch sees a model file (no LibTorch here).
//
// torch.jit.save writes a zip archive: NAME/data.pkl, NAME/constants.pkl, NAME/code/..., the
// tensors as NAME/data/N, stored (not compressed). LibTorch trusts the archive's directory:
// an entry that declares gigabytes is allocated before its CRC is checked, an offset past the
// end is read. This check walks the end record and the central directory (and each entry's
// local header) with every size and offset bounded by the file, so that a hostile or damaged
// file ends in one line naming what is wrong, before LibTorch allocates anything:
//   - the end-of-central-directory record (zip64 too) lies in the file, the directory fits
//     before it, and holds as many entries as it says;
//   - each entry: compression stored or deflate, not encrypted, a name (no NUL) within the
//     directory, its local header and data inside the file and before the directory, stored
//     sizes equal, deflated at most 1032:1 (deflate's own limit); the sum of declared sizes
//     within the model file limit (--max-file-mb);
//   - one top folder holds data.pkl and TorchScript code (code/ or constants.pkl): a
//     torch.save() checkpoint (data.pkl only) or a plain pickle is named as such.
#include <cstdint>
#include <functional>
#include <string>

namespace camscope::model {

struct ArchiveSummary {
  std::string prefix;          // the top folder, e.g. "good/"
  uint64_t entries = 0;
  uint64_t declared_bytes = 0;  // sum of uncompressed sizes
};

// Reads `size` bytes at `offset` into `out`; false when they cannot be read.
using ReadAt = std::function<bool(uint64_t offset, size_t size, uint8_t* out)>;

// Checks an archive of `file_size` bytes read through `read`; `max_declared` bounds the sum of
// uncompressed sizes. Throws camscope::Error("REASON") (the caller names the file) on failure.
ArchiveSummary check_torchscript_archive(uint64_t file_size, const ReadAt& read,
                                         uint64_t max_declared);
// The same on bytes in memory.
ArchiveSummary check_torchscript_archive(const uint8_t* data, size_t size, uint64_t max_declared);
// The same on a file (read with pread; only the directory and local headers are read). Throws
// camscope::Error("PATH: not a loadable TorchScript model (REASON)").
ArchiveSummary check_torchscript_file(const std::string& path, uint64_t max_declared);

}  // namespace camscope::model
