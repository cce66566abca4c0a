#pragma once
// GL entry point for camscope: GLAD first (before any other GL or CUDA-GL header), then RAII
// owners for GL objects. One owner per handle: copy is deleted, move transfers, the destructor
// releases and never throws. GL calls only on the GL thread that owns the context.
#include <glad/gl.h>

#include <utility>

namespace camscope::gl {

// Live GL object count per kind, for leak tests and the timings panel.
struct ObjectCounts {
  long textures = 0, framebuffers = 0, renderbuffers = 0, programs = 0, shaders = 0,
       buffers = 0, vertex_arrays = 0;
  long total() const {
    return textures + framebuffers + renderbuffers + programs + shaders + buffers + vertex_arrays;
  }
};
const ObjectCounts& object_counts();
namespace detail {
ObjectCounts& mutable_counts();
}

template <void (*Create)(GLuint*), void (*Destroy)(GLuint), long ObjectCounts::*Counter>
class Handle {
 public:
  Handle() = default;
  static Handle create() {
    Handle h;
    Create(&h.m_id);
    ++(detail::mutable_counts().*Counter);
    return h;
  }
  ~Handle() { reset(); }
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  Handle(Handle&& o) noexcept : m_id(std::exchange(o.m_id, 0)) {}
  Handle& operator=(Handle&& o) noexcept {
    if (this != &o) {
      reset();
      m_id = std::exchange(o.m_id, 0);
    }
    return *this;
  }
  void reset() noexcept {
    if (m_id) {
      Destroy(m_id);
      --(detail::mutable_counts().*Counter);
      m_id = 0;
    }
  }
  GLuint id() const { return m_id; }
  explicit operator bool() const { return m_id != 0; }

 private:
  GLuint m_id = 0;
};

namespace detail {
void gen_texture(GLuint* id);
void del_texture(GLuint id);
void gen_framebuffer(GLuint* id);
void del_framebuffer(GLuint id);
void gen_renderbuffer(GLuint* id);
void del_renderbuffer(GLuint id);
void gen_buffer(GLuint* id);
void del_buffer(GLuint id);
void gen_vertex_array(GLuint* id);
void del_vertex_array(GLuint id);
void gen_program(GLuint* id);
void del_program(GLuint id);
}  // namespace detail

using TextureHandle = Handle<detail::gen_texture, detail::del_texture, &ObjectCounts::textures>;
using FramebufferHandle =
    Handle<detail::gen_framebuffer, detail::del_framebuffer, &ObjectCounts::framebuffers>;
using RenderbufferHandle =
    Handle<detail::gen_renderbuffer, detail::del_renderbuffer, &ObjectCounts::renderbuffers>;
using BufferHandle = Handle<detail::gen_buffer, detail::del_buffer, &ObjectCounts::buffers>;
using VertexArrayHandle =
    Handle<detail::gen_vertex_array, detail::del_vertex_array, &ObjectCounts::vertex_arrays>;
using ProgramHandle = Handle<detail::gen_program, detail::del_program, &ObjectCounts::programs>;

}  // namespace camscope::gl
