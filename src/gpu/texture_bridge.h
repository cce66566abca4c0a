#pragma once
// TextureBridge: puts float maps produced by explain/ (host memory or CUDA device memory) into
// R32F GL textures for render/. Torch-free: callers hand raw pointers, pitches and shapes.
//
// A frame is one upload() call; maps[i] lands in texture slot i. Slot textures are allocated on
// first use and reallocated only when their size changes, so the steady state allocates and
// registers nothing. GL thread only.
//
// Implementations (make_texture_bridge picks):
//  - host upload: glTexSubImage2D (optionally through a PBO) from host memory; what CI tests.
//  - CUDA-GL interop (builds with CUDA only): textures registered once with CUDA, all textures
//    of a frame mapped in one call, device-to-device copies; falls back to a host round trip if
//    registration fails.
#include <cstddef>
#include <cstdint>
#include <memory>

#include "render/gl.h"
#include "render/grid_layout.h"
#include "util/device_buffer.h"

namespace camscope::gpu {

enum class Memory { Host, Cuda };

struct MapDesc {
  const float* data = nullptr;  // host pointer, or CUDA device pointer when memory == Cuda
  Memory memory = Memory::Host;
  int width = 0, height = 0;  // the map; for channels: each channel's size
  size_t pitch_bytes = 0;     // bytes between rows; 0 = width * 4; a multiple of 4
  // 0: one 2-D map. N > 0: N channel maps [N, height, width] (channel stride height *
  // pitch_bytes), tiled into one atlas by `grid` (default GridLayout::make(N, w, h, 1)).
  int channels = 0;
  render::GridLayout grid;
  float border_value = 0.f;  // what atlas borders and empty cells hold
};

// How the producer hands over device data. Both are opaque CUDA handles (cudaStream_t,
// cudaEvent_t) so this header stays CUDA-free. With ready_event, the bridge waits on it
// (cudaStreamWaitEvent) in its own stream; else it works on `stream` (the producer's; nullptr =
// the legacy default stream).
struct CudaSync {
  void* stream = nullptr;
  void* ready_event = nullptr;
};

// Bytes moved, by direction. host_to_device is never produced by the bridge itself; the app
// adds its own frame uploads to the same struct for the timings panel and bench.
struct TransferStats {
  uint64_t host_to_device = 0, device_to_host = 0, host_to_gl = 0, device_to_gl = 0;
  uint64_t total() const { return host_to_device + device_to_host + host_to_gl + device_to_gl; }
  TransferStats& operator+=(const TransferStats& o) {
    host_to_device += o.host_to_device;
    device_to_host += o.device_to_host;
    host_to_gl += o.host_to_gl;
    device_to_gl += o.device_to_gl;
    return *this;
  }
};

struct BridgeTexture {
  GLuint id = 0;  // R32F, memory row 0 = the map's top row
  int width = 0, height = 0;
  render::GridLayout grid;  // valid() when the slot holds a channel-grid atlas
};

class TextureBridge {
 public:
  virtual ~TextureBridge() = default;
  TextureBridge() = default;
  TextureBridge(const TextureBridge&) = delete;
  TextureBridge& operator=(const TextureBridge&) = delete;

  virtual const char* name() const = 0;
  // Uploads one frame. Throws camscope::Error on bad descriptors or memory this bridge cannot
  // read (device memory in a bridge built without CUDA). `sync` matters for device maps only.
  virtual void upload(const MapDesc* maps, size_t count, const CudaSync& sync) = 0;
  void upload(const MapDesc* maps, size_t count) { upload(maps, count, CudaSync{}); }
  void upload(const MapDesc& map, const CudaSync& sync = {}) { upload(&map, 1, sync); }

  virtual size_t slot_count() const = 0;
  virtual BridgeTexture texture(size_t slot) const = 0;
  // Texture storage (re)allocations since creation: flat in the steady state.
  virtual long allocations() const = 0;

  const TransferStats& last_frame() const { return m_last; }
  const TransferStats& total() const { return m_total; }

 protected:
  void begin_frame() { m_last = {}; }
  void end_frame() { m_total += m_last; }
  TransferStats m_last, m_total;
};

struct BridgeOptions {
  bool use_pbo = false;     // host path: stream through a pixel buffer object
  bool prefer_cuda = true;  // try interop when built with CUDA and a device is present
};

std::unique_ptr<TextureBridge> make_host_bridge(bool use_pbo = false);
// Interop when available (else host upload, with one log line saying why).
std::unique_ptr<TextureBridge> make_texture_bridge(const BridgeOptions& opt = {});
// True when this build links the CUDA interop path.
bool cuda_interop_built();

// A buffer the producer left on its device (the device path): a single map (atlas = false; its
// first channel) or a channel stack tiled into an atlas with the default layout.
inline MapDesc map_desc(const DeviceBuffer& b, bool atlas) {
  MapDesc m;
  m.data = b.data;
  m.memory = b.cuda ? Memory::Cuda : Memory::Host;
  m.width = b.width;
  m.height = b.height;
  if (atlas) {
    m.channels = b.channels;
    m.grid = render::GridLayout::make(b.channels, b.width, b.height, 1);
  }
  return m;
}

// Checks a descriptor and fills its defaults (pitch, grid). Throws camscope::Error.
MapDesc normalized(const MapDesc& map);

}  // namespace camscope::gpu
