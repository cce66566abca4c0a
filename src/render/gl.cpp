#include "render/gl.h"

namespace camscope::gl {
namespace detail {
ObjectCounts& mutable_counts() {
  static ObjectCounts counts;  // GL thread only, like every GL call
  return counts;
}
void gen_texture(GLuint* id) { glGenTextures(1, id); }
void del_texture(GLuint id) { glDeleteTextures(1, &id); }
void gen_framebuffer(GLuint* id) { glGenFramebuffers(1, id); }
void del_framebuffer(GLuint id) { glDeleteFramebuffers(1, &id); }
void gen_renderbuffer(GLuint* id) { glGenRenderbuffers(1, id); }
void del_renderbuffer(GLuint id) { glDeleteRenderbuffers(1, &id); }
void gen_buffer(GLuint* id) { glGenBuffers(1, id); }
void del_buffer(GLuint id) { glDeleteBuffers(1, &id); }
void gen_vertex_array(GLuint* id) { glGenVertexArrays(1, id); }
void del_vertex_array(GLuint id) { glDeleteVertexArrays(1, &id); }
void gen_program(GLuint* id) { *id = glCreateProgram(); }
void del_program(GLuint id) { glDeleteProgram(id); }
}  // namespace detail

const ObjectCounts& object_counts() { return detail::mutable_counts(); }

}  // namespace camscope::gl
