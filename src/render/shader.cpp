#include "render/shader.h"

#include <cstdlib>
#include <vector>

#include "util/error.h"
#include "util/fs.h"

namespace camscope::gl {
namespace {

std::string info_log(GLuint obj, bool is_program) {
  GLint len = 0;
  if (is_program)
    glGetProgramiv(obj, GL_INFO_LOG_LENGTH, &len);
  else
    glGetShaderiv(obj, GL_INFO_LOG_LENGTH, &len);
  std::vector<char> buf(static_cast<size_t>(len > 1 ? len : 1), '\0');
  if (is_program)
    glGetProgramInfoLog(obj, len, nullptr, buf.data());
  else
    glGetShaderInfoLog(obj, len, nullptr, buf.data());
  std::string s(buf.data());
  // Keep the message one line: the CLI prints it as a single error line.
  for (char& c : s)
    if (c == '\n' || c == '\r') c = ' ';
  while (!s.empty() && s.back() == ' ') s.pop_back();
  return s;
}

GLuint compile(GLenum stage, const std::string& src, const std::string& name) {
  GLuint sh = glCreateShader(stage);
  const char* p = src.c_str();
  glShaderSource(sh, 1, &p, nullptr);
  glCompileShader(sh);
  GLint ok = 0;
  glGetShaderiv(sh, GL_COMPILE_STATUS, &ok);
  if (!ok) {
    std::string log = info_log(sh, false);
    glDeleteShader(sh);
    throw Error(name + ": " + (stage == GL_VERTEX_SHADER ? "vertex" : "fragment") +
                " shader failed to compile: " + log);
  }
  return sh;
}

}  // namespace

ProgramHandle build_program(const std::string& vertex_src, const std::string& fragment_src,
                            const std::string& name) {
  GLuint vs = compile(GL_VERTEX_SHADER, vertex_src, name);
  GLuint fs = 0;
  try {
    fs = compile(GL_FRAGMENT_SHADER, fragment_src, name);
  } catch (...) {
    glDeleteShader(vs);
    throw;
  }
  ProgramHandle prog = ProgramHandle::create();
  glAttachShader(prog.id(), vs);
  glAttachShader(prog.id(), fs);
  glLinkProgram(prog.id());
  glDeleteShader(vs);
  glDeleteShader(fs);
  GLint ok = 0;
  glGetProgramiv(prog.id(), GL_LINK_STATUS, &ok);
  if (!ok) throw Error(name + ": program failed to link: " + info_log(prog.id(), true));
  return prog;
}

std::string shader_dir() {
  if (const char* env = std::getenv("CAMSCOPE_SHADERS")) return env;
#ifdef CAMSCOPE_SHADER_DIR
  return CAMSCOPE_SHADER_DIR;
#else
  return "shaders";
#endif
}

ProgramHandle load_program(const std::string& name) {
  const std::string base = shader_dir() + "/" + name;
  return build_program(read_text_file(base + ".vert"), read_text_file(base + ".frag"), name);
}

const char* fullscreen_vertex_shader() {
  return R"(#version 330 core
out vec2 uv;
void main() {
  vec2 p = vec2((gl_VertexID << 1) & 2, gl_VertexID & 2);
  uv = p;
  gl_Position = vec4(p * 2.0 - 1.0, 0.0, 1.0);
}
)";
}

}  // namespace camscope::gl
