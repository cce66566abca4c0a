#pragma once
// RAII owners for the CUDA handles the interop path holds: one owner per handle, copy deleted,
// move by exchange/swap, destructors release and never throw. GLAD must be included first.
#include <glad/gl.h>
// (order matters)
#include <cuda_gl_interop.h>
#include <cuda_runtime.h>

#include <utility>

#include "gpu/cuda_check.cuh"

namespace camscope::gpu {

// One owner per CUDA handle: copy deleted, move by exchange, destructor never throws.
class GraphicsResource {
 public:
  GraphicsResource() = default;
  // Returns the CUDA error instead of throwing: a refusal is an expected, handled outcome.
  cudaError_t register_image(GLuint texture) {
    reset();
    return cudaGraphicsGLRegisterImage(&m_res, texture, GL_TEXTURE_2D,
                                       cudaGraphicsRegisterFlagsWriteDiscard);
  }
  ~GraphicsResource() { reset(); }
  GraphicsResource(const GraphicsResource&) = delete;
  GraphicsResource& operator=(const GraphicsResource&) = delete;
  GraphicsResource(GraphicsResource&& o) noexcept : m_res(std::exchange(o.m_res, nullptr)) {}
  GraphicsResource& operator=(GraphicsResource&& o) noexcept {
    std::swap(m_res, o.m_res);
    return *this;
  }
  void reset() noexcept {
    if (m_res) cudaGraphicsUnregisterResource(m_res);
    m_res = nullptr;
  }
  cudaGraphicsResource_t get() const { return m_res; }

 private:
  cudaGraphicsResource_t m_res = nullptr;
};

class Stream {
 public:
  Stream() {
    cuda_check(cudaStreamCreateWithFlags(&m_stream, cudaStreamNonBlocking), "cudaStreamCreate");
  }
  ~Stream() {
    if (m_stream) cudaStreamDestroy(m_stream);
  }
  Stream(const Stream&) = delete;
  Stream& operator=(const Stream&) = delete;
  cudaStream_t get() const { return m_stream; }

 private:
  cudaStream_t m_stream = nullptr;
};

// Device or pinned host memory that grows on demand and is kept between frames.
template <bool Pinned>
class Buffer {
 public:
  Buffer() = default;
  ~Buffer() { release(); }
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;
  Buffer(Buffer&& o) noexcept
      : m_ptr(std::exchange(o.m_ptr, nullptr)), m_bytes(std::exchange(o.m_bytes, 0)) {}
  Buffer& operator=(Buffer&& o) noexcept {
    std::swap(m_ptr, o.m_ptr);
    std::swap(m_bytes, o.m_bytes);
    return *this;
  }
  float* reserve(size_t bytes) {
    if (bytes > m_bytes) {
      release();
      if (Pinned)
        cuda_check(cudaHostAlloc(&m_ptr, bytes, cudaHostAllocDefault), "cudaHostAlloc");
      else
        cuda_check(cudaMalloc(&m_ptr, bytes), "cudaMalloc");
      m_bytes = bytes;
    }
    return static_cast<float*>(m_ptr);
  }

 private:
  void release() noexcept {
    if (m_ptr) {
      if (Pinned)
        cudaFreeHost(m_ptr);
      else
        cudaFree(m_ptr);
    }
    m_ptr = nullptr;
    m_bytes = 0;
  }
  void* m_ptr = nullptr;
  size_t m_bytes = 0;
};

}  // namespace camscope::gpu
