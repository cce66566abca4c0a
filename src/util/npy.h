#pragma once
// NumPy .npy (format 1.0) reading and writing for float32 C-order arrays.
#include <cstdint>
#include <string>
#include <vector>

namespace camscope {

struct NpyArray {
  std::vector<int64_t> shape;
  std::vector<float> data;
};

// The bytes write_npy writes, into `out` (replaced).
void encode_npy(const float* data, const std::vector<int64_t>& shape, std::vector<uint8_t>& out);
void write_npy(const std::string& path, const float* data, const std::vector<int64_t>& shape);
NpyArray read_npy(const std::string& path);  // float32 ('<f4'), C order only

}  // namespace camscope
