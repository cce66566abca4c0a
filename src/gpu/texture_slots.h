#pragma once
// The GL side both bridges share: one R32F texture per slot, sized on change only, and the
// host upload path (direct glTexSubImage2D or through a PBO; atlases tiled on the CPU into a
// staging buffer kept between frames).
#include <vector>

#include "gpu/texture_bridge.h"
#include "render/texture.h"

namespace camscope::gpu {

class TextureSlots {
 public:
  explicit TextureSlots(bool use_pbo) : m_use_pbo(use_pbo) {}

  // Target size of `map` (atlas size for channel grids).
  static void target_size(const MapDesc& map, int* width, int* height);
  // Would `slot` need new storage for this map?
  bool needs_allocation(size_t slot, const MapDesc& map) const;
  // Makes sure the slot exists and is sized for the map; true when it (re)allocated.
  bool ensure(size_t slot, const MapDesc& map);
  // Uploads a host map (normalized) into its slot; returns the bytes sent to GL.
  uint64_t upload_host(size_t slot, const MapDesc& map);

  size_t size() const { return m_slots.size(); }
  BridgeTexture texture(size_t slot) const;
  long allocations() const;

 private:
  struct Slot {
    render::Texture2D tex;
    render::GridLayout grid;
    std::vector<float> staging;  // CPU-tiled atlas, reused frame to frame
    gl::BufferHandle pbo;
    size_t pbo_bytes = 0;
  };
  void send(Slot& s, const float* data, size_t pitch_bytes);
  std::vector<Slot> m_slots;
  bool m_use_pbo;
};

}  // namespace camscope::gpu
