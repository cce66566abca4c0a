#include "util/npy.h"

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

#include "util/error.h"
#include "util/fs.h"

namespace camscope {

void encode_npy(const float* data, const std::vector<int64_t>& shape, std::vector<uint8_t>& out) {
  std::ostringstream dict;
  dict << "{'descr': '<f4', 'fortran_order': False, 'shape': (";
  int64_t count = 1;
  for (size_t i = 0; i < shape.size(); ++i) {
    dict << shape[i] << (shape.size() == 1 ? "," : (i + 1 < shape.size() ? ", " : ""));
    count *= shape[i];
  }
  dict << "), }";
  std::string header = dict.str();
  // Magic(6) + version(2) + len(2) + header + '\n' padded to a multiple of 64.
  size_t total = 10 + header.size() + 1;
  header.append((64 - total % 64) % 64, ' ');
  header.push_back('\n');
  const char magic[] = "\x93NUMPY\x01\x00";
  const uint16_t len = static_cast<uint16_t>(header.size());
  const size_t bytes = static_cast<size_t>(count) * sizeof(float);
  out.resize(10 + header.size() + bytes);
  std::memcpy(out.data(), magic, 8);
  std::memcpy(out.data() + 8, &len, 2);
  std::memcpy(out.data() + 10, header.data(), header.size());
  if (bytes) std::memcpy(out.data() + 10 + header.size(), data, bytes);
}

void write_npy(const std::string& path, const float* data, const std::vector<int64_t>& shape) {
  std::vector<uint8_t> bytes;
  encode_npy(data, shape, bytes);
  std::ofstream f(path, std::ios::binary);
  if (!f) throw Error("cannot write " + path);
  f.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  if (!f) throw Error("cannot write " + path);
}

NpyArray read_npy(const std::string& path) {
  // Bounded like every file read outside image decoding; the shape is checked against the
  // size below, so a lying header cannot allocate more than the file holds.
  const int64_t file_size = check_input_file(path, FileKind::Model);
  std::ifstream f(path, std::ios::binary);
  if (!f) throw Error("cannot open " + path);
  char magic[8];
  f.read(magic, 8);
  if (!f || std::memcmp(magic, "\x93NUMPY", 6) != 0) throw Error(path + ": not a .npy file");
  uint32_t len = 0;
  if (magic[6] == 1) {
    uint16_t l16 = 0;
    f.read(reinterpret_cast<char*>(&l16), 2);
    len = l16;
  } else {
    f.read(reinterpret_cast<char*>(&len), 4);
  }
  std::string header(len, '\0');
  f.read(header.data(), len);
  if (!f) throw Error(path + ": truncated .npy header");
  if (header.find("'<f4'") == std::string::npos) throw Error(path + ": .npy is not float32");
  if (header.find("'fortran_order': False") == std::string::npos)
    throw Error(path + ": .npy is Fortran-ordered");
  NpyArray arr;
  auto open = header.find('(');
  auto close = header.find(')', open);
  std::string dims = header.substr(open + 1, close - open - 1);
  std::stringstream ss(dims);
  std::string tok;
  int64_t count = 1;
  while (std::getline(ss, tok, ',')) {
    if (tok.find_first_not_of(' ') == std::string::npos) continue;
    char* end = nullptr;
    const long long d = std::strtoll(tok.c_str(), &end, 10);
    if (end == tok.c_str() || d < 0 || d > file_size) throw Error(path + ": bad .npy shape");
    arr.shape.push_back(d);
    count *= d;
    if (count > file_size / 4) throw Error(path + ": .npy shape larger than the file");
  }
  arr.data.resize(static_cast<size_t>(count));
  f.read(reinterpret_cast<char*>(arr.data.data()), static_cast<std::streamsize>(count * 4));
  if (!f) throw Error(path + ": truncated .npy data");
  return arr;
}

}  // namespace camscope
