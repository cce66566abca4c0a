#pragma once
// CUDA error reporting for camscope's .cu files: a failed call becomes camscope::Error naming
// the call and CUDA's reason, in one line.
#include <cuda_runtime.h>

#include <string>

#include "util/error.h"

namespace camscope::gpu {

inline void cuda_check(cudaError_t err, const char* what) {
  if (err != cudaSuccess)
    throw Error(std::string("CUDA: ") + what + " failed: " + cudaGetErrorString(err));
}

}  // namespace camscope::gpu
