#pragma once
// Frame -> model input per the sidecar (DESIGN.md "Model sidecar"), computed in float: color,
// resize (bilinear, align_corners = false, antialiased when shrinking), crop, mean/std.
// CPU models get plain single-threaded C++ (no ATen ops, hence no second OpenMP team competing
// with the forward pass for the cores); CUDA models get LibTorch ops on the device.
#include <torch/script.h>

#include <cstdint>
#include <vector>

#include "model/input_geometry.h"
#include "model/model.h"

namespace camscope::model {

// Which source pixels a frame of width x height gives the model, and where (the one geometry the
// resizers and every map-on-frame consumer share).
inline InputGeometry input_geometry(int width, int height, const InputSpec& spec) {
  return plan_geometry(width, height, spec.width, spec.height,
                       spec.resize == ResizeMode::CenterCrop);
}

// hwc_u8: [H, W, 3] uint8 RGB (any device). Returns [1, C, spec.height, spec.width] float32 on
// `device`. On the CPU the tensor comes from a small per-thread pool and is overwritten by a
// later call on the same thread only once nothing else references it (no other Tensor, view,
// autograd use or gradient), so callers may keep it as long as they like.
torch::Tensor preprocess_frame(const torch::Tensor& hwc_u8, const InputSpec& spec,
                               const torch::Device& device);

// Same, written into `out`: reused when it is already a contiguous float32 [1, C, H, W] tensor
// on `device`, replaced by a fresh one otherwise. Nobody else may be reading `out` meanwhile.
void preprocess_frame(const torch::Tensor& hwc_u8, const InputSpec& spec,
                      const torch::Device& device, torch::Tensor& out);

// The LibTorch path (any device): what CUDA models run, and the CPU path's reference in tests.
torch::Tensor preprocess_frame_torch(const torch::Tensor& hwc_u8, const InputSpec& spec,
                                     const torch::Device& device);

// The CPU path on raw RGB8 pixels (rows top first, width * 3 bytes each) into
// out[spec.channels() * spec.height * spec.width] (planar). Single-threaded; the per-axis taps
// are cached per thread for the last (frame size, target size, resize mode, antialias).
void preprocess_rgb_cpu(const uint8_t* rgb, int width, int height, const InputSpec& spec,
                        float* out);

// A few reusable CPU input tensors. acquire() hands out one that nothing references any more
// (no other Tensor, view of its storage, autograd use or gradient), else allocates one in place
// of the oldest; so a tensor handed to another thread or kept anywhere is never overwritten.
// Not thread-safe: one pool per thread.
class InputPool {
 public:
  explicit InputPool(size_t slots = 4) : m_slots(slots == 0 ? 1 : slots) {}
  // [1, spec.channels(), spec.height, spec.width] float32, contiguous, on the CPU; its contents
  // are left over from an earlier use.
  torch::Tensor acquire(const InputSpec& spec);
  uint64_t allocations() const { return m_allocations; }

 private:
  std::vector<torch::Tensor> m_slots;
  size_t m_next = 0;
  uint64_t m_allocations = 0;
};

// Tensors all InputPools (the per-thread ones of preprocess_frame included) allocated since the
// start: flat once every pool holds enough tensors for what is in flight.
uint64_t preprocess_pool_allocations();

}  // namespace camscope::model
