#pragma once
// Small filesystem helpers shared by every stage.
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
std::string read_text_file(const std::string& path);
// printf-style "%06d" naming: format_index("cam_%06d.npy", 7) == "cam_000007.npy".
std::string format_index(const char* pattern, long long index);

}  // namespace camscope
