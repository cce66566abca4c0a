#include "gpu/texture_slots.h"

#include <cstring>
#include <string>

#include "util/error.h"

namespace camscope::gpu {

MapDesc normalized(const MapDesc& map) {
  MapDesc m = map;
  if (!m.data) throw Error("texture bridge: map has no data");
  if (m.width <= 0 || m.height <= 0)
    throw Error("texture bridge: map size must be positive (got " + std::to_string(m.width) + "x" +
                std::to_string(m.height) + ")");
  if (m.channels < 0) throw Error("texture bridge: negative channel count");
  const size_t row = static_cast<size_t>(m.width) * sizeof(float);
  if (m.pitch_bytes == 0) m.pitch_bytes = row;
  if (m.pitch_bytes < row || m.pitch_bytes % sizeof(float) != 0)
    throw Error("texture bridge: row pitch " + std::to_string(m.pitch_bytes) +
                " bytes is smaller than a row or not a multiple of 4");
  if (m.channels > 0) {
    if (!m.grid.valid()) m.grid = render::GridLayout::make(m.channels, m.width, m.height, 1);
    if (m.grid.count != m.channels || m.grid.tile_w != m.width || m.grid.tile_h != m.height)
      throw Error("texture bridge: grid layout does not match the channel maps");
  }
  return m;
}

void TextureSlots::target_size(const MapDesc& map, int* width, int* height) {
  *width = map.channels > 0 ? map.grid.width() : map.width;
  *height = map.channels > 0 ? map.grid.height() : map.height;
}

bool TextureSlots::needs_allocation(size_t slot, const MapDesc& map) const {
  if (slot >= m_slots.size() || !m_slots[slot].tex.id()) return true;
  int w = 0, h = 0;
  target_size(map, &w, &h);
  return m_slots[slot].tex.width() != w || m_slots[slot].tex.height() != h;
}

bool TextureSlots::ensure(size_t slot, const MapDesc& map) {
  if (slot >= m_slots.size()) m_slots.resize(slot + 1);
  Slot& s = m_slots[slot];
  s.grid = map.channels > 0 ? map.grid : render::GridLayout{};
  int w = 0, h = 0;
  target_size(map, &w, &h);
  return s.tex.ensure(w, h, GL_R32F);
}

void TextureSlots::send(Slot& s, const float* data, size_t pitch_bytes) {
  if (!m_use_pbo) {
    s.tex.upload_r32f(data, pitch_bytes);
    return;
  }
  const size_t row = static_cast<size_t>(s.tex.width()) * sizeof(float);
  const size_t bytes = row * static_cast<size_t>(s.tex.height());
  if (!s.pbo) s.pbo = gl::BufferHandle::create();
  glBindBuffer(GL_PIXEL_UNPACK_BUFFER, s.pbo.id());
  if (s.pbo_bytes != bytes) {
    glBufferData(GL_PIXEL_UNPACK_BUFFER, static_cast<GLsizeiptr>(bytes), nullptr, GL_STREAM_DRAW);
    s.pbo_bytes = bytes;
  }
  // Invalidation lets the driver hand out fresh memory while the previous frame's transfer
  // may still be reading the old contents, instead of stalling.
  void* dst = glMapBufferRange(GL_PIXEL_UNPACK_BUFFER, 0, static_cast<GLsizeiptr>(bytes),
                               GL_MAP_WRITE_BIT | GL_MAP_INVALIDATE_BUFFER_BIT);
  if (!dst) {
    glBindBuffer(GL_PIXEL_UNPACK_BUFFER, 0);
    throw Error("texture bridge: could not map the pixel buffer");
  }
  const auto* src = reinterpret_cast<const uint8_t*>(data);
  for (int y = 0; y < s.tex.height(); ++y)
    std::memcpy(static_cast<uint8_t*>(dst) + y * row, src + y * pitch_bytes, row);
  glUnmapBuffer(GL_PIXEL_UNPACK_BUFFER);
  s.tex.upload_r32f(nullptr, 0);  // offset 0 into the bound PBO
  glBindBuffer(GL_PIXEL_UNPACK_BUFFER, 0);
}

uint64_t TextureSlots::upload_host(size_t slot, const MapDesc& map) {
  Slot& s = m_slots.at(slot);
  if (map.channels > 0) {
    const size_t n = static_cast<size_t>(s.tex.width()) * static_cast<size_t>(s.tex.height());
    if (s.staging.size() != n) s.staging.resize(n);
    render::tile_channels(map.data, map.pitch_bytes / sizeof(float), map.grid, map.border_value,
                          s.staging.data());
    send(s, s.staging.data(), 0);
  } else {
    send(s, map.data, map.pitch_bytes);
  }
  return static_cast<uint64_t>(s.tex.width()) * s.tex.height() * sizeof(float);
}

BridgeTexture TextureSlots::texture(size_t slot) const {
  const Slot& s = m_slots.at(slot);
  return {s.tex.id(), s.tex.width(), s.tex.height(), s.grid};
}

long TextureSlots::allocations() const {
  long n = 0;
  for (const Slot& s : m_slots) n += s.tex.allocations();
  return n;
}

}  // namespace camscope::gpu
