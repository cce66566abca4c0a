#pragma once
// The device path's maps: an explanation's map and channel grid kept as tensors where the model
// computed them (a CUDA device, or the CPU) and handed to gpu/ as DeviceBuffers, so no map is
// copied to the host on the way to GL. The app's worker and the GPU check both build their
// textures through these functions.
#include <torch/script.h>

#include <vector>

#include "util/device_buffer.h"

namespace camscope::explain {

// A map [H, W] or [1, H, W] as a float [1, H, W] contiguous tensor on its device (no copy when
// it is one already). Undefined or other shapes give an undefined tensor.
torch::Tensor map_stack(const torch::Tensor& map);
// The grid's channels [K, h, w] in display order: rows `order` of `channels` (one gather on
// the device; `channels` itself when order is 0..K-1).
torch::Tensor grid_stack(const torch::Tensor& channels, const std::vector<int>& order);
// A [C, H, W] float contiguous tensor as a DeviceBuffer; the buffer's owner keeps it alive.
// An undefined tensor gives an empty buffer. Throws camscope::Error for other layouts.
DeviceBuffer keep(const torch::Tensor& stack, void* ready_event = nullptr);
// The tensor a buffer made by keep() holds (undefined for other buffers).
torch::Tensor kept_tensor(const DeviceBuffer& b);

// The map's values at the top p % for each p of clip_level_percents() (util/clip_levels.h),
// by the same nearest-rank rule as the host path: one sort on the map's device and one small
// copy of the levels (not the map) to the host.
std::vector<float> clip_levels(const torch::Tensor& map);

}  // namespace camscope::explain
