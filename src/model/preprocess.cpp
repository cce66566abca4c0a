#include "model/preprocess.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <cmath>
#include <string>
#include <vector>

#include "util/error.h"

namespace camscope::model {
namespace {

std::atomic<uint64_t> g_pool_allocations{0};

void check_frame(const torch::Tensor& hwc_u8) {
  if (hwc_u8.dim() != 3 || hwc_u8.size(2) != 3 || hwc_u8.scalar_type() != torch::kUInt8)
    throw Error("preprocess expects an [H, W, 3] uint8 RGB frame");
  if (hwc_u8.size(0) < 1 || hwc_u8.size(1) < 1) throw Error("preprocess: empty frame");
}

// Bilinear on float values, align_corners = false; the antialiased kernel (as torch's
// interpolate(antialias=True) and PIL) only when a side shrinks — for enlarging it is the plain
// bilinear kernel anyway.
torch::Tensor resize(const torch::Tensor& x, int64_t h, int64_t w, bool antialias) {
  if (x.size(2) == h && x.size(3) == w) return x;
  const bool shrinking = h < x.size(2) || w < x.size(3);
  const std::array<int64_t, 2> size{h, w};
  if (antialias && shrinking) return at::_upsample_bilinear2d_aa(x, size, /*align_corners=*/false);
  return at::upsample_bilinear2d(x, size, /*align_corners=*/false);
}

bool fits(const torch::Tensor& t, const InputSpec& spec, const torch::Device& device) {
  return t.defined() && t.device() == device && t.scalar_type() == torch::kFloat32 &&
         t.dim() == 4 && t.size(0) == 1 && t.size(1) == spec.channels() &&
         t.size(2) == spec.height && t.size(3) == spec.width && t.is_contiguous();
}

// Only the pool references it: no other Tensor, no view of its storage, no autograd use.
bool unshared(const torch::Tensor& t) {
  return t.use_count() == 1 && t.weak_use_count() == 1 && t.storage().use_count() == 1 &&
         !t.requires_grad() && !t.grad().defined();
}

// A CPU uint8 [H, W, 3] frame with packed rows: the input itself when it is one already.
torch::Tensor host_packed(const torch::Tensor& hwc_u8) {
  if (hwc_u8.device().is_cpu() && hwc_u8.is_contiguous()) return hwc_u8;
  return hwc_u8.to(torch::kCPU).contiguous();
}

void fill_cpu(const torch::Tensor& hwc_u8, const InputSpec& spec, torch::Tensor& out) {
  torch::Tensor hwc = host_packed(hwc_u8);
  preprocess_rgb_cpu(hwc.data_ptr<uint8_t>(), static_cast<int>(hwc.size(1)),
                     static_cast<int>(hwc.size(0)), spec, out.data_ptr<float>());
}

// The frame on the model's device. On CUDA it goes host to device once, from page-locked memory:
// LibTorch's caching host allocator hands back the same blocks frame after frame and keeps a
// block from reuse until the asynchronous copy that reads it has run on its stream.
torch::Tensor to_device(const torch::Tensor& hwc_u8, const torch::Device& device) {
  if (!device.is_cuda() || !hwc_u8.device().is_cpu()) return hwc_u8.to(device);
  torch::Tensor staging =
      torch::empty(hwc_u8.sizes(), torch::TensorOptions().dtype(torch::kUInt8).pinned_memory(true));
  staging.copy_(hwc_u8);
  return staging.to(device, torch::kUInt8, /*non_blocking=*/true);
}

// The sidecar's mean and std as [1, C, 1, 1] tensors on the device, made once per thread and
// spec instead of two small uploads per frame.
struct NormCache {
  torch::Device device{torch::kCPU};
  std::vector<float> mean, std;
  torch::Tensor mean_t, std_t;
};
const NormCache& norm_tensors(const InputSpec& spec, const torch::Device& device) {
  thread_local NormCache c;
  if (!c.mean_t.defined() || c.device != device || c.mean != spec.mean || c.std != spec.std) {
    const auto opts = torch::TensorOptions().dtype(torch::kFloat32);
    const int64_t n = static_cast<int64_t>(spec.mean.size());
    c.device = device;
    c.mean = spec.mean;
    c.std = spec.std;
    c.mean_t = torch::tensor(spec.mean, opts).to(device).view({1, n, 1, 1});
    c.std_t = torch::tensor(spec.std, opts).to(device).view({1, n, 1, 1});
  }
  return c;
}

}  // namespace

torch::Tensor InputPool::acquire(const InputSpec& spec) {
  const bool inference = c10::InferenceMode::is_enabled();
  auto usable = [&](const torch::Tensor& t) {
    return fits(t, spec, torch::kCPU) && t.is_inference() == inference;
  };
  for (const torch::Tensor& t : m_slots)
    if (usable(t) && unshared(t)) return t;
  // Replace an empty slot, else one of another shape or mode, else the next in turn (its
  // holders keep it alive; the pool just forgets it).
  auto slot = std::find_if(m_slots.begin(), m_slots.end(),
                           [](const torch::Tensor& t) { return !t.defined(); });
  if (slot == m_slots.end())
    slot = std::find_if(m_slots.begin(), m_slots.end(),
                        [&](const torch::Tensor& t) { return !usable(t); });
  if (slot == m_slots.end())
    slot = m_slots.begin() + static_cast<ptrdiff_t>(m_next++ % m_slots.size());
  *slot = torch::empty({1, spec.channels(), spec.height, spec.width}, torch::kFloat32);
  ++m_allocations;
  g_pool_allocations.fetch_add(1, std::memory_order_relaxed);
  return *slot;
}

torch::Tensor preprocess_frame_torch(const torch::Tensor& hwc_u8, const InputSpec& spec,
                                     const torch::Device& device) {
  check_frame(hwc_u8);
  torch::NoGradGuard no_grad;
  // [1, 3, H, W] float in [0, 1], on the model's device before any arithmetic.
  torch::Tensor x =
      to_device(hwc_u8, device).permute({2, 0, 1}).unsqueeze(0).to(torch::kFloat32) / 255.f;
  switch (spec.color) {
    case ColorMode::RGB:
      break;
    case ColorMode::BGR:
      x = x.flip({1});
      break;
    case ColorMode::Gray:  // ITU-R 601 luma, in float
      x = 0.299f * x.select(1, 0) + 0.587f * x.select(1, 1) + 0.114f * x.select(1, 2);
      x = x.unsqueeze(1);
      break;
  }
  const int64_t in_h = x.size(2), in_w = x.size(3);
  if (spec.resize == ResizeMode::Stretch) {
    x = resize(x, spec.height, spec.width, spec.antialias);
  } else {
    const InputGeometry g =
        input_geometry(static_cast<int>(in_w), static_cast<int>(in_h), spec);
    const int64_t h = g.resized_h, w = g.resized_w, top = g.top, left = g.left;
    x = resize(x, h, w, spec.antialias);
    x = x.narrow(2, top, spec.height).narrow(3, left, spec.width);
  }
  const NormCache& norm = norm_tensors(spec, device);
  if (norm.mean_t.size(1) != x.size(1))
    throw Error("preprocess: the sidecar's mean/std have " + std::to_string(norm.mean_t.size(1)) +
                " values for " + std::to_string(x.size(1)) + " channels");
  return ((x - norm.mean_t) / norm.std_t).contiguous();
}

torch::Tensor preprocess_frame(const torch::Tensor& hwc_u8, const InputSpec& spec,
                               const torch::Device& device) {
  if (!device.is_cpu()) return preprocess_frame_torch(hwc_u8, spec, device);
  check_frame(hwc_u8);
  thread_local InputPool pool;
  torch::Tensor out = pool.acquire(spec);
  fill_cpu(hwc_u8, spec, out);
  return out;
}

void preprocess_frame(const torch::Tensor& hwc_u8, const InputSpec& spec,
                      const torch::Device& device, torch::Tensor& out) {
  if (!device.is_cpu()) {
    torch::Tensor x = preprocess_frame_torch(hwc_u8, spec, device);
    if (fits(out, spec, device)) {
      torch::NoGradGuard no_grad;
      out.copy_(x);
    } else {
      out = x;
    }
    return;
  }
  check_frame(hwc_u8);
  if (!fits(out, spec, device))
    out = torch::empty({1, spec.channels(), spec.height, spec.width}, torch::kFloat32);
  fill_cpu(hwc_u8, spec, out);
}

uint64_t preprocess_pool_allocations() {
  return g_pool_allocations.load(std::memory_order_relaxed);
}

}  // namespace camscope::model
