#pragma once
// A CUDA event the producer (inference worker) records after writing a frame's maps; the GL
// thread passes it as CudaSync::ready_event and the bridge waits on it in its own stream. CUDA-
// free header (handles are void*); defined in cuda_event.cu, available in CUDA builds only.
#include <utility>

namespace camscope::gpu {

class CudaEvent {
 public:
  CudaEvent() = default;
  static CudaEvent create();  // timing disabled; throws camscope::Error on failure
  ~CudaEvent();
  CudaEvent(const CudaEvent&) = delete;
  CudaEvent& operator=(const CudaEvent&) = delete;
  CudaEvent(CudaEvent&& o) noexcept : m_event(std::exchange(o.m_event, nullptr)) {}
  CudaEvent& operator=(CudaEvent&& o) noexcept {
    std::swap(m_event, o.m_event);
    return *this;
  }
  // Records on `stream` (cudaStream_t; nullptr = legacy default stream).
  void record(void* stream);
  void* handle() const { return m_event; }  // cudaEvent_t

 private:
  void* m_event = nullptr;
};

}  // namespace camscope::gpu
