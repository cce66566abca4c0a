#include "gpu/cuda_check.cuh"
#include "gpu/cuda_event.h"

namespace camscope::gpu {

CudaEvent CudaEvent::create() {
  cudaEvent_t e = nullptr;
  cuda_check(cudaEventCreateWithFlags(&e, cudaEventDisableTiming), "cudaEventCreate");
  CudaEvent ev;
  ev.m_event = e;
  return ev;
}

CudaEvent::~CudaEvent() {
  if (m_event) cudaEventDestroy(static_cast<cudaEvent_t>(m_event));
}

void CudaEvent::record(void* stream) {
  cuda_check(cudaEventRecord(static_cast<cudaEvent_t>(m_event), static_cast<cudaStream_t>(stream)),
             "cudaEventRecord");
}

}  // namespace camscope::gpu
