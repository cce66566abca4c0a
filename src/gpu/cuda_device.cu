// CUDA runtime queries used by the interop path. Compiled whenever nvcc is present (CI checks
// that the CUDA sources build); linked only when LibTorch has CUDA. No torch headers here.
#include <cuda_runtime.h>

namespace camscope::gpu {

int cuda_device_count() {
  int n = 0;
  if (cudaGetDeviceCount(&n) != cudaSuccess) return 0;
  return n;
}

}  // namespace camscope::gpu
