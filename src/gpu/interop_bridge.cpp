// CUDA-GL interop TextureBridge, GL half: owns the textures (TextureSlots), keeps their CUDA
// registrations in step with their storage, batches a frame's device maps into one mapped copy,
// and falls back to a device->host->GL round trip when registration fails.
#include <string>
#include <vector>

#include "gpu/cuda_interop.h"
#include "gpu/texture_slots.h"
#include "util/error.h"
#include "util/log.h"

namespace camscope::gpu {
namespace {

class InteropTextureBridge final : public TextureBridge {
 public:
  InteropTextureBridge(std::unique_ptr<CudaInterop> cuda, bool use_pbo)
      : m_cuda(std::move(cuda)), m_slots(use_pbo) {
    m_copies.reserve(16);
  }
  ~InteropTextureBridge() override {
    // Registrations go before the textures they refer to (m_slots is destroyed after this).
    if (m_cuda) m_cuda->unregister_all();
  }

  const char* name() const override {
    return m_fallback ? "CUDA via host (interop unavailable)" : "CUDA-GL interop";
  }

  void upload(const MapDesc* maps, size_t count, const CudaSync& sync) override {
    begin_frame();
    m_copies.clear();  // keeps its capacity: no allocation in the steady state
    for (size_t i = 0; i < count; ++i) {
      const MapDesc m = normalized(maps[i]);
      if (m_slots.needs_allocation(i, m)) {
        m_cuda->unregister_texture(i);
        m_slots.ensure(i, m);
        if (!m_fallback && !register_slot(i)) {
          // Maps already queued this frame lost their registrations too.
          for (const CudaInterop::Copy& c : m_copies) upload_via_host(c.slot, c.map, sync);
          m_copies.clear();
        }
      } else {
        m_slots.ensure(i, m);  // refreshes the slot's grid layout only
      }
      if (m.memory == Memory::Host) {
        m_last.host_to_gl += m_slots.upload_host(i, m);
      } else if (m_fallback) {
        upload_via_host(i, m, sync);
      } else {
        m_copies.push_back({i, m});
      }
    }
    if (!m_copies.empty())
      m_last.device_to_gl += m_cuda->copy_to_textures(m_copies.data(), m_copies.size(), sync);
    end_frame();
  }

  size_t slot_count() const override { return m_slots.size(); }
  BridgeTexture texture(size_t slot) const override { return m_slots.texture(slot); }
  long allocations() const override { return m_slots.allocations(); }

 private:
  bool register_slot(size_t slot) {
    std::string reason;
    if (m_cuda->register_texture(slot, m_slots.texture(slot).id, &reason)) return true;
    log::warn("CUDA-GL interop unavailable (" + reason + "); maps go through host memory");
    m_fallback = true;
    m_cuda->unregister_all();
    return false;
  }

  void upload_via_host(size_t slot, const MapDesc& m, const CudaSync& sync) {
    uint64_t bytes = 0;
    MapDesc host = m;
    host.data = m_cuda->copy_to_host(m, sync, &bytes);
    host.memory = Memory::Host;
    host.pitch_bytes = static_cast<size_t>(m.width) * sizeof(float);
    m_last.device_to_host += bytes;
    m_last.host_to_gl += m_slots.upload_host(slot, host);
  }

  std::unique_ptr<CudaInterop> m_cuda;
  TextureSlots m_slots;
  std::vector<CudaInterop::Copy> m_copies;
  bool m_fallback = false;
};

}  // namespace

std::unique_ptr<TextureBridge> make_interop_bridge(std::unique_ptr<CudaInterop> cuda,
                                                   bool use_pbo) {
  if (!cuda) throw Error("interop bridge: no CUDA backend");
  return std::make_unique<InteropTextureBridge>(std::move(cuda), use_pbo);
}

bool cuda_interop_built() {
#ifdef CAMSCOPE_HAVE_CUDA
  return true;
#else
  return false;
#endif
}

std::unique_ptr<TextureBridge> make_texture_bridge(const BridgeOptions& opt) {
#ifdef CAMSCOPE_HAVE_CUDA
  if (opt.prefer_cuda) {
    try {
      return make_interop_bridge(create_cuda_interop(), opt.use_pbo);
    } catch (const Error& e) {
      log::info(std::string("texture bridge: host upload (") + e.what() + ")");
    }
  }
#endif
  return make_host_bridge(opt.use_pbo);
}

}  // namespace camscope::gpu
