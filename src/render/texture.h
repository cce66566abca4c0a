#pragma once
// A 2-D GL texture whose storage is (re)defined only when its size or format changes, so
// per-frame uploads are glTexSubImage2D into existing storage. Memory row 0 is the image's top
// row throughout camscope's render code; passes sample without flipping.
#include <cstddef>
#include <cstdint>

#include "render/gl.h"

namespace camscope::render {

class Texture2D {
 public:
  Texture2D() = default;
  // Defines storage when size or format differ (deleting the old texture object: a CUDA
  // registration must be dropped first). Returns true when it (re)allocated.
  bool ensure(int width, int height, GLenum internal_format);
  // glTexSubImage2D from host memory; `row_pitch_bytes` 0 = tightly packed.
  void upload_r32f(const float* data, size_t row_pitch_bytes = 0);
  void upload_rgb8(const uint8_t* data, size_t row_pitch_bytes = 0);
  void upload_rgba8(const uint8_t* data);
  void set_filter(GLenum filter);  // GL_NEAREST or GL_LINEAR, min and mag
  void reset() {
    m_tex.reset();
    m_width = m_height = 0;
    m_format = 0;
  }

  GLuint id() const { return m_tex.id(); }
  int width() const { return m_width; }
  int height() const { return m_height; }
  GLenum internal_format() const { return m_format; }
  long allocations() const { return m_allocations; }

 private:
  void upload(GLenum format, GLenum type, const void* data, size_t row_pitch_bytes, int bpp);
  gl::TextureHandle m_tex;
  int m_width = 0, m_height = 0;
  GLenum m_format = 0;
  GLenum m_filter = GL_LINEAR;
  long m_allocations = 0;
};

// An RGBA8 color texture with its framebuffer: what the passes render into and the UI shows
// (ImGui::Image with default uvs shows it upright since memory row 0 is the top).
class RenderTarget {
 public:
  // Reallocates only on size change. Throws camscope::Error if the FBO is incomplete.
  void resize(int width, int height);
  void bind() const;  // binds the FBO and sets the viewport
  // RGBA8 pixels, row 0 = top (memory order, no flip needed).
  void read_rgba(uint8_t* out) const;
  GLuint texture() const { return m_color.id(); }
  int width() const { return m_color.width(); }
  int height() const { return m_color.height(); }

 private:
  Texture2D m_color;
  gl::FramebufferHandle m_fbo;
};

// Float (R32F) texture readback and copy through a framebuffer the caller owns (`fbo` is made on
// first use): for values the host never had on the device path (the hovered map value, a
// channel's tile of a grid atlas). Rectangles are in memory rows (row 0 = the image's top).
void read_r32f(gl::FramebufferHandle& fbo, GLuint texture, int x, int y, int w, int h,
               float* out);
// Copies the rectangle of `src` into `dst` (already of size w x h, R32F) at (0, 0).
void copy_r32f(gl::FramebufferHandle& fbo, GLuint src, int x, int y, int w, int h,
               const Texture2D& dst);

}  // namespace camscope::render
