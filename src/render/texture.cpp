#include "render/texture.h"

#include <string>

#include "util/error.h"

namespace camscope::render {
namespace {

GLenum pixel_format_of(GLenum internal_format) {
  switch (internal_format) {
    case GL_R32F:
      return GL_RED;
    case GL_RGB8:
      return GL_RGB;
    default:
      return GL_RGBA;
  }
}
GLenum pixel_type_of(GLenum internal_format) {
  return internal_format == GL_R32F ? GL_FLOAT : GL_UNSIGNED_BYTE;
}

}  // namespace

bool Texture2D::ensure(int width, int height, GLenum internal_format) {
  if (width <= 0 || height <= 0)
    throw Error("texture size must be positive (got " + std::to_string(width) + "x" +
                std::to_string(height) + ")");
  if (m_tex && width == m_width && height == m_height && internal_format == m_format) return false;
  GLint max_size = 0;
  glGetIntegerv(GL_MAX_TEXTURE_SIZE, &max_size);
  if (width > max_size || height > max_size)
    throw Error("texture " + std::to_string(width) + "x" + std::to_string(height) +
                " exceeds the GL limit of " + std::to_string(max_size));
  // A fresh object rather than redefining the old one: CUDA registrations and FBO attachments
  // refer to the object, and redefinition under them is undefined.
  m_tex = gl::TextureHandle::create();
  glBindTexture(GL_TEXTURE_2D, m_tex.id());
  glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MIN_FILTER, static_cast<GLint>(m_filter));
  glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MAG_FILTER, static_cast<GLint>(m_filter));
  glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_WRAP_S, GL_CLAMP_TO_EDGE);
  glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_WRAP_T, GL_CLAMP_TO_EDGE);
  glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MAX_LEVEL, 0);
  glTexImage2D(GL_TEXTURE_2D, 0, static_cast<GLint>(internal_format), width, height, 0,
               pixel_format_of(internal_format), pixel_type_of(internal_format), nullptr);
  m_width = width;
  m_height = height;
  m_format = internal_format;
  ++m_allocations;
  return true;
}

void Texture2D::set_filter(GLenum filter) {
  if (filter == m_filter && m_tex) return;
  m_filter = filter;
  if (!m_tex) return;
  glBindTexture(GL_TEXTURE_2D, m_tex.id());
  glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MIN_FILTER, static_cast<GLint>(filter));
  glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MAG_FILTER, static_cast<GLint>(filter));
}

void Texture2D::upload(GLenum format, GLenum type, const void* data, size_t row_pitch_bytes,
                       int bpp) {
  if (!m_tex) throw Error("texture upload before its size was set");
  if (row_pitch_bytes % static_cast<size_t>(bpp) != 0)
    throw Error("texture upload: row pitch " + std::to_string(row_pitch_bytes) +
                " is not a multiple of the pixel size");
  glBindTexture(GL_TEXTURE_2D, m_tex.id());
  glPixelStorei(GL_UNPACK_ALIGNMENT, 1);
  glPixelStorei(GL_UNPACK_ROW_LENGTH, static_cast<GLint>(row_pitch_bytes / bpp));
  glTexSubImage2D(GL_TEXTURE_2D, 0, 0, 0, m_width, m_height, format, type, data);
  glPixelStorei(GL_UNPACK_ROW_LENGTH, 0);
  glPixelStorei(GL_UNPACK_ALIGNMENT, 4);
}

void Texture2D::upload_r32f(const float* data, size_t row_pitch_bytes) {
  upload(GL_RED, GL_FLOAT, data, row_pitch_bytes, 4);
}
void Texture2D::upload_rgb8(const uint8_t* data, size_t row_pitch_bytes) {
  upload(GL_RGB, GL_UNSIGNED_BYTE, data, row_pitch_bytes, 3);
}
void Texture2D::upload_rgba8(const uint8_t* data) {
  upload(GL_RGBA, GL_UNSIGNED_BYTE, data, 0, 4);
}

void RenderTarget::resize(int width, int height) {
  m_color.set_filter(GL_LINEAR);
  if (!m_color.ensure(width, height, GL_RGBA8) && m_fbo) return;
  if (!m_fbo) m_fbo = gl::FramebufferHandle::create();
  glBindFramebuffer(GL_FRAMEBUFFER, m_fbo.id());
  glFramebufferTexture2D(GL_FRAMEBUFFER, GL_COLOR_ATTACHMENT0, GL_TEXTURE_2D, m_color.id(), 0);
  const GLenum status = glCheckFramebufferStatus(GL_FRAMEBUFFER);
  glBindFramebuffer(GL_FRAMEBUFFER, 0);
  if (status != GL_FRAMEBUFFER_COMPLETE)
    throw Error("render target " + std::to_string(width) + "x" + std::to_string(height) +
                " is incomplete (status 0x" + std::to_string(status) + ")");
}

void RenderTarget::bind() const {
  glBindFramebuffer(GL_FRAMEBUFFER, m_fbo.id());
  glViewport(0, 0, width(), height());
}

void RenderTarget::read_rgba(uint8_t* out) const {
  glBindFramebuffer(GL_READ_FRAMEBUFFER, m_fbo.id());
  glPixelStorei(GL_PACK_ALIGNMENT, 1);
  glReadPixels(0, 0, width(), height(), GL_RGBA, GL_UNSIGNED_BYTE, out);
  glPixelStorei(GL_PACK_ALIGNMENT, 4);
  glBindFramebuffer(GL_READ_FRAMEBUFFER, 0);
}

namespace {
void bind_read(gl::FramebufferHandle& fbo, GLuint texture) {
  if (!fbo) fbo = gl::FramebufferHandle::create();
  glBindFramebuffer(GL_READ_FRAMEBUFFER, fbo.id());
  glFramebufferTexture2D(GL_READ_FRAMEBUFFER, GL_COLOR_ATTACHMENT0, GL_TEXTURE_2D, texture, 0);
  glReadBuffer(GL_COLOR_ATTACHMENT0);
}
void unbind_read() {
  glFramebufferTexture2D(GL_READ_FRAMEBUFFER, GL_COLOR_ATTACHMENT0, GL_TEXTURE_2D, 0, 0);
  glBindFramebuffer(GL_READ_FRAMEBUFFER, 0);
}
}  // namespace

void read_r32f(gl::FramebufferHandle& fbo, GLuint texture, int x, int y, int w, int h,
               float* out) {
  bind_read(fbo, texture);
  glPixelStorei(GL_PACK_ALIGNMENT, 4);
  glReadPixels(x, y, w, h, GL_RED, GL_FLOAT, out);
  unbind_read();
}

void copy_r32f(gl::FramebufferHandle& fbo, GLuint src, int x, int y, int w, int h,
               const Texture2D& dst) {
  bind_read(fbo, src);
  glBindTexture(GL_TEXTURE_2D, dst.id());
  glCopyTexSubImage2D(GL_TEXTURE_2D, 0, 0, 0, x, y, w, h);
  glBindTexture(GL_TEXTURE_2D, 0);
  unbind_read();
}

}  // namespace camscope::render
