#pragma once
// The CUDA half of the interop TextureBridge, behind a CUDA-free interface so that the GL half
// (interop_bridge.cpp) compiles in every build. Implemented in cuda_interop.cu (camscope_cuda).
// Every call happens on the GL thread with the context current.
#include <memory>
#include <string>

#include "gpu/texture_bridge.h"

namespace camscope::gpu {

class CudaInterop {
 public:
  virtual ~CudaInterop() = default;

  // Registers an R32F texture for write-discard use as `slot`, replacing (unregistering) what
  // the slot held. False with a reason when the driver refuses (e.g. GL and CUDA on different
  // devices); the caller then falls back to the host round trip.
  virtual bool register_texture(size_t slot, GLuint texture, std::string* reason) = 0;
  // Must run before the texture is deleted.
  virtual void unregister_texture(size_t slot) noexcept = 0;
  virtual void unregister_all() noexcept = 0;

  struct Copy {
    size_t slot = 0;
    MapDesc map;  // normalized, memory == Cuda; atlases are tiled on the device
  };
  // Maps every slot named in `copies` with ONE cudaGraphicsMapResources call, copies device to
  // device into the mapped arrays, unmaps, all on one stream (see CudaSync). Returns bytes
  // written to GL. Throws camscope::Error on CUDA errors.
  virtual uint64_t copy_to_textures(const Copy* copies, size_t count, const CudaSync& sync) = 0;
  // Fallback: copies the map (as given, not tiled) into pinned host memory owned by this object
  // and waits for it. Returns the host pointer (tightly packed rows) and the bytes moved.
  virtual const float* copy_to_host(const MapDesc& map, const CudaSync& sync, uint64_t* bytes) = 0;
};

// Throws camscope::Error when no CUDA device is usable. Defined only in CUDA builds.
std::unique_ptr<CudaInterop> create_cuda_interop();
// The interop bridge over a CudaInterop (interop_bridge.cpp).
std::unique_ptr<TextureBridge> make_interop_bridge(std::unique_ptr<CudaInterop> cuda, bool use_pbo);

}  // namespace camscope::gpu
