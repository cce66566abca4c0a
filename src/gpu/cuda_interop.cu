// CUDA half of the interop TextureBridge (see cuda_interop.h). GLAD comes before
// cuda_gl_interop.h so the GL types are GLAD's. Compiled whenever nvcc exists; run only on a
// machine with a CUDA device and a GL context on the same GPU.
#include <glad/gl.h>
// (order matters)
#include <cuda_gl_interop.h>
#include <cuda_runtime.h>

#include <utility>
#include <vector>

#include "gpu/cuda_check.cuh"
#include "gpu/cuda_interop.h"
#include "gpu/cuda_raii.cuh"

namespace camscope::gpu {
namespace {

// One thread per atlas pixel, same layout math as render::GridLayout (kept in sync by the
// host-path tests, which check the CPU tiler against read-back pixels).
__global__ void tile_kernel(const float* __restrict__ src, size_t pitch_floats, int count,
                            int tile_w, int tile_h, int cols, int border, float border_value,
                            int atlas_w, int atlas_h, float* __restrict__ dst) {
  const int x = blockIdx.x * blockDim.x + threadIdx.x;
  const int y = blockIdx.y * blockDim.y + threadIdx.y;
  if (x >= atlas_w || y >= atlas_h) return;
  float v = border_value;
  const int sx = x - border, sy = y - border;
  if (sx >= 0 && sy >= 0) {
    const int col = sx / (tile_w + border), row = sy / (tile_h + border);
    const int tx = sx - col * (tile_w + border), ty = sy - row * (tile_h + border);
    const int ch = row * cols + col;
    if (tx < tile_w && ty < tile_h && col < cols && ch < count)
      v = src[(static_cast<size_t>(ch) * tile_h + ty) * pitch_floats + tx];
  }
  dst[static_cast<size_t>(y) * atlas_w + x] = v;
}

class CudaInteropImpl final : public CudaInterop {
 public:
  CudaInteropImpl() { m_batch.reserve(16); }
  ~CudaInteropImpl() override { unregister_all(); }

  bool register_texture(size_t slot, GLuint texture, std::string* reason) override {
    if (slot >= m_slots.size()) m_slots.resize(slot + 1);
    const cudaError_t err = m_slots[slot].resource.register_image(texture);
    if (err == cudaSuccess) return true;
    cudaGetLastError();  // reset the (non-sticky) last-error state so later checks start clean
    if (reason) *reason = std::string("cudaGraphicsGLRegisterImage: ") + cudaGetErrorString(err);
    return false;
  }

  void unregister_texture(size_t slot) noexcept override {
    if (slot < m_slots.size()) m_slots[slot].resource.reset();
  }
  void unregister_all() noexcept override {
    for (SlotState& s : m_slots) s.resource.reset();
  }

  uint64_t copy_to_textures(const Copy* copies, size_t count, const CudaSync& sync) override {
    const cudaStream_t stream = work_stream(sync);
    // Atlases are tiled into scratch memory first: write-discard leaves the mapped array's
    // old contents undefined, so borders must be written every frame too.
    for (size_t i = 0; i < count; ++i)
      if (copies[i].map.channels > 0) tile(copies[i], stream);

    m_batch.clear();
    for (size_t i = 0; i < count; ++i) {
      if (copies[i].slot >= m_slots.size() || !m_slots[copies[i].slot].resource.get())
        throw Error("CUDA interop: texture slot " + std::to_string(copies[i].slot) +
                    " is not registered");
      m_batch.push_back(m_slots[copies[i].slot].resource.get());
    }
    cuda_check(cudaGraphicsMapResources(static_cast<int>(m_batch.size()), m_batch.data(), stream),
               "cudaGraphicsMapResources");
    uint64_t bytes = 0;
    cudaError_t err = cudaSuccess;
    const char* failed = nullptr;
    for (size_t i = 0; i < count && err == cudaSuccess; ++i) {
      const Copy& c = copies[i];
      cudaArray_t array = nullptr;
      err = cudaGraphicsSubResourceGetMappedArray(&array, m_batch[i], 0, 0);
      failed = "cudaGraphicsSubResourceGetMappedArray";
      if (err != cudaSuccess) break;
      const bool atlas = c.map.channels > 0;
      const int w = atlas ? c.map.grid.width() : c.map.width;
      const int h = atlas ? c.map.grid.height() : c.map.height;
      const float* src = atlas ? m_slots[c.slot].scratch_ptr : c.map.data;
      const size_t pitch = atlas ? static_cast<size_t>(w) * sizeof(float) : c.map.pitch_bytes;
      err =
          cudaMemcpy2DToArrayAsync(array, 0, 0, src, pitch, static_cast<size_t>(w) * sizeof(float),
                                   static_cast<size_t>(h), cudaMemcpyDeviceToDevice, stream);
      failed = "cudaMemcpy2DToArrayAsync";
      bytes += static_cast<uint64_t>(w) * h * sizeof(float);
    }
    // Unmap on the same stream even after a failed copy, so the textures return to GL.
    const cudaError_t unmap_err =
        cudaGraphicsUnmapResources(static_cast<int>(m_batch.size()), m_batch.data(), stream);
    if (err != cudaSuccess) cuda_check(err, failed);
    cuda_check(unmap_err, "cudaGraphicsUnmapResources");
    // The producer frees its buffers (LibTorch's caching allocator reuses them on the producer's
    // stream, which knows nothing of ours) as soon as the result is dropped: the reads finish
    // before the caller may drop it. A few device-to-device copies: microseconds.
    cuda_check(cudaStreamSynchronize(stream), "cudaStreamSynchronize");
    return bytes;
  }

  const float* copy_to_host(const MapDesc& map, const CudaSync& sync, uint64_t* bytes) override {
    const cudaStream_t stream = work_stream(sync);
    const size_t rows = static_cast<size_t>(map.height) * (map.channels > 0 ? map.channels : 1);
    const size_t row_bytes = static_cast<size_t>(map.width) * sizeof(float);
    float* dst = m_pinned.reserve(rows * row_bytes);
    cuda_check(cudaMemcpy2DAsync(dst, row_bytes, map.data, map.pitch_bytes, row_bytes, rows,
                                 cudaMemcpyDeviceToHost, stream),
               "cudaMemcpy2DAsync");
    cuda_check(cudaStreamSynchronize(stream), "cudaStreamSynchronize");
    *bytes = rows * row_bytes;
    return dst;
  }

 private:
  struct SlotState {
    GraphicsResource resource;
    Buffer<false> scratch;
    float* scratch_ptr = nullptr;
  };

  cudaStream_t work_stream(const CudaSync& sync) {
    if (sync.ready_event) {
      // The producer's work stays on its stream; ours waits for the point it recorded.
      cuda_check(cudaStreamWaitEvent(m_stream.get(), static_cast<cudaEvent_t>(sync.ready_event), 0),
                 "cudaStreamWaitEvent");
      return m_stream.get();
    }
    // No event: order after the producer by working on its stream. No stream either: the legacy
    // default stream, which waits for all blocking streams (ours is non-blocking, so it would not).
    return static_cast<cudaStream_t>(sync.stream);
  }

  void tile(const Copy& c, cudaStream_t stream) {
    if (c.slot >= m_slots.size()) throw Error("CUDA interop: unknown texture slot");
    const render::GridLayout& g = c.map.grid;
    const int w = g.width(), h = g.height();
    SlotState& s = m_slots[c.slot];
    s.scratch_ptr = s.scratch.reserve(static_cast<size_t>(w) * h * sizeof(float));
    const dim3 block(16, 16);
    const dim3 grid((w + block.x - 1) / block.x, (h + block.y - 1) / block.y);
    tile_kernel<<<grid, block, 0, stream>>>(c.map.data, c.map.pitch_bytes / sizeof(float), g.count,
                                            g.tile_w, g.tile_h, g.cols, g.border,
                                            c.map.border_value, w, h, s.scratch_ptr);
    cuda_check(cudaGetLastError(), "tile_kernel launch");
  }

  Stream m_stream;
  std::vector<SlotState> m_slots;
  std::vector<cudaGraphicsResource_t> m_batch;
  Buffer<true> m_pinned;
};

}  // namespace

std::unique_ptr<CudaInterop> create_cuda_interop() {
  int n = 0;
  if (cudaGetDeviceCount(&n) != cudaSuccess || n == 0) {
    cudaGetLastError();
    throw Error("no CUDA device");
  }
  return std::make_unique<CudaInteropImpl>();
}

}  // namespace camscope::gpu
