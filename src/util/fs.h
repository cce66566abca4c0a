#pragma once
// Small filesystem helpers shared by every stage.
#include <cstdint>
#include <string>
#include <vector>

namespace camscope {

// "frame2.png" < "frame10.png": digit runs compare by value, the rest case-insensitively.
bool natural_less(const std::string& a, const std::string& b);
// Creates DIR (and parents). Throws camscope::Error when it exists as a file or cannot be made.
void ensure_directory(const std::string& dir);
// Throws camscope::Error("... exists; pass --force to overwrite") when path exists and !force.
void check_writable(const std::string& path, bool force);
bool file_exists(const std::string& path);

// Files read whole outside image/video decoding are bounded (hostile input: a sidecar whose
// labels_file is /dev/zero must not read forever). Two kinds with their own default limits;
// --max-file-mb N (set_max_file_mb) sets one limit for both.
enum class FileKind { Text, Model };  // Text: sidecar, labels, settings, scripts; Model: .pt
constexpr int64_t kDefaultMaxTextMb = 64;
constexpr int64_t kDefaultMaxModelMb = 4096;
void set_max_file_mb(int64_t mb);  // <= 0: back to the defaults
int64_t max_file_bytes(FileKind kind);
// "" when path is a regular file, else why not: "no such file", "is a directory", "not a
// regular file (a character device)", "not a regular file (a /proc or /sys pseudo-file)"...
std::string not_regular_reason(const std::string& path);
// Checks that path (described as `what`, e.g. "sidecar") is a regular, non-empty file within
// the limit of its kind and returns its size; else throws camscope::Error with one line that
// names the path and, for size, the limit and the option that raises it.
int64_t check_input_file(const std::string& path, FileKind kind);
// Reads a whole text file, bounded as check_input_file checks it (also when the file grows
// while it is read). Empty files are allowed here.
std::string read_text_file(const std::string& path, FileKind kind = FileKind::Text);
// printf-style "%06d" naming: format_index("cam_%06d.npy", 7) == "cam_000007.npy".
std::string format_index(const char* pattern, long long index);

}  // namespace camscope
