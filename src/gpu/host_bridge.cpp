// Host-upload TextureBridge: the path that works everywhere (and the one CI exercises).
#include "gpu/texture_slots.h"
#include "util/error.h"

namespace camscope::gpu {
namespace {

class HostTextureBridge final : public TextureBridge {
 public:
  explicit HostTextureBridge(bool use_pbo) : m_slots(use_pbo), m_pbo(use_pbo) {}
  const char* name() const override { return m_pbo ? "host upload (PBO)" : "host upload"; }

  void upload(const MapDesc* maps, size_t count, const CudaSync&) override {
    begin_frame();
    for (size_t i = 0; i < count; ++i) {
      const MapDesc m = normalized(maps[i]);
      if (m.memory != Memory::Host)
        throw Error(
            "texture bridge: a CUDA device map was given to the host-upload bridge "
            "(this build has no CUDA interop); copy it to the host first");
      m_slots.ensure(i, m);
      m_last.host_to_gl += m_slots.upload_host(i, m);
    }
    end_frame();
  }

  size_t slot_count() const override { return m_slots.size(); }
  BridgeTexture texture(size_t slot) const override { return m_slots.texture(slot); }
  long allocations() const override { return m_slots.allocations(); }

 private:
  TextureSlots m_slots;
  bool m_pbo;
};

}  // namespace

std::unique_ptr<TextureBridge> make_host_bridge(bool use_pbo) {
  return std::make_unique<HostTextureBridge>(use_pbo);
}

}  // namespace camscope::gpu
