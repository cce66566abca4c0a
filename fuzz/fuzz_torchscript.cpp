// libFuzzer harness: the TorchScript container check Model::load runs before LibTorch reads a
// model (src/model/torchscript_archive.cpp): zip end record (zip64 too), central directory,
// local headers, declared sizes. Any outcome but a summary consistent with the bytes or a
// camscope::Error with a one-line message is a bug.
//
// LibTorch's own loader (torch::jit::load and the unpickler) is not fuzzed here: LibTorch is not
// instrumented, so libFuzzer would get no coverage from the code that parses the bytes, and
// the CRC check on every record stops nearly all mutations before the unpickler; its failures
// would be LibTorch's to fix. This check is what camscope controls: what passes it has a
// directory LibTorch can walk within the file.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "model/torchscript_archive.h"
#include "util/error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  constexpr uint64_t kLimit = 64u << 20;
  try {
    const auto s = camscope::model::check_torchscript_archive(data, size, kLimit);
    if (s.entries < 2 || s.prefix.empty() || s.prefix.back() != '/') std::abort();
    if (s.declared_bytes > kLimit) std::abort();
  } catch (const camscope::Error& e) {
    const std::string msg = e.what();
    if (msg.empty() || msg.find('\n') != std::string::npos) std::abort();
  }
  return 0;
}
