#include "model/device_stream.h"

#include <string>

#include "util/error.h"

#if defined(CAMSCOPE_HAVE_CUDA)
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#include <cuda_runtime_api.h>
#endif

namespace camscope::model {
namespace {

class InertStream final : public DeviceStream {
 public:
  bool active() const override { return false; }
  void* handle() const override { return nullptr; }
  std::shared_ptr<void> make_event() const override { return nullptr; }
  void record(void*) const override {}
  void synchronize() const override {}
};

#if defined(CAMSCOPE_HAVE_CUDA)
void check(cudaError_t e, const char* what) {
  if (e != cudaSuccess) throw Error(std::string(what) + ": " + cudaGetErrorString(e));
}

class CudaStream final : public DeviceStream {
 public:
  explicit CudaStream(int device)
      : m_stream(c10::cuda::getStreamFromPool(/*isHighPriority=*/true,
                                              static_cast<c10::DeviceIndex>(device))) {}
  bool active() const override { return true; }
  void* handle() const override { return m_stream.stream(); }
  std::shared_ptr<void> make_event() const override {
    cudaEvent_t e = nullptr;
    check(cudaEventCreateWithFlags(&e, cudaEventDisableTiming), "cudaEventCreate");
    return std::shared_ptr<void>(e, [](void* p) { cudaEventDestroy(static_cast<cudaEvent_t>(p)); });
  }
  void record(void* event) const override {
    if (event) check(cudaEventRecord(static_cast<cudaEvent_t>(event), m_stream.stream()),
                     "cudaEventRecord");
  }
  void synchronize() const override { m_stream.synchronize(); }
  const c10::cuda::CUDAStream& stream() const { return m_stream; }

 private:
  c10::cuda::CUDAStream m_stream;
};
#endif

}  // namespace

std::unique_ptr<DeviceStream> DeviceStream::create(int cuda_device) {
#if defined(CAMSCOPE_HAVE_CUDA)
  if (cuda_device >= 0) return std::make_unique<CudaStream>(cuda_device);
#else
  (void)cuda_device;
#endif
  return std::make_unique<InertStream>();
}

DeviceStream::Scope::Scope(const DeviceStream* s) {
#if defined(CAMSCOPE_HAVE_CUDA)
  if (const auto* cs = dynamic_cast<const CudaStream*>(s))
    m_guard = new c10::cuda::CUDAStreamGuard(cs->stream());
#else
  (void)s;
#endif
}

DeviceStream::Scope::~Scope() {
#if defined(CAMSCOPE_HAVE_CUDA)
  delete static_cast<c10::cuda::CUDAStreamGuard*>(m_guard);
#endif
}

}  // namespace camscope::model
