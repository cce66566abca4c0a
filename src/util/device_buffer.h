#pragma once
// Float data left where its producer computed it — CUDA device memory on the GPU path, host
// memory of a CPU tensor otherwise — kept alive by `owner` (the producer's tensor). This is how
// maps travel from explain/ to gpu/ on the device path without a device-to-host copy. Torch-
// and GL-free so app/, ui/ and gpu/ can all hold one.
#include <cstddef>
#include <memory>

namespace camscope {

struct DeviceBuffer {
  std::shared_ptr<const void> owner;  // whatever keeps `data` valid (a torch::Tensor)
  const float* data = nullptr;        // [channels, height, width], packed rows
  bool cuda = false;                  // device memory (else host memory)
  int channels = 0, height = 0, width = 0;
  // CUDA: a cudaEvent_t recorded on the producer's stream after `data` was written (may be
  // null: then the data was complete when it was published).
  void* ready_event = nullptr;

  bool empty() const { return data == nullptr; }
  size_t bytes() const {
    return static_cast<size_t>(channels) * static_cast<size_t>(height) *
           static_cast<size_t>(width) * sizeof(float);
  }
};

}  // namespace camscope
