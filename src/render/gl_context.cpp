#include "render/gl_context.h"

#include <cstdlib>

#include "render/gl.h"
#include "util/image_io.h"

namespace camscope::gl {

std::vector<uint8_t> Context::read_pixels_rgba() {
  bind_default_target();
  const int w = width(), h = height();
  std::vector<uint8_t> px(static_cast<size_t>(w) * h * 4);
  glPixelStorei(GL_PACK_ALIGNMENT, 1);
  glReadPixels(0, 0, w, h, GL_RGBA, GL_UNSIGNED_BYTE, px.data());
  flip_rows(px.data(), w, h, 4);
  return px;
}

void Context::save_png(const std::string& path) {
  auto px = read_pixels_rgba();
  write_png(path, px.data(), width(), height(), 4);
}

std::string Context::renderer() const {
  const GLubyte* s = glGetString(GL_RENDERER);
  return s ? reinterpret_cast<const char*>(s) : "unknown";
}

std::string Context::version() const {
  const GLubyte* s = glGetString(GL_VERSION);
  return s ? reinterpret_cast<const char*>(s) : "unknown";
}

bool display_available() {
  const char* x = std::getenv("DISPLAY");
  const char* w = std::getenv("WAYLAND_DISPLAY");
  return (x && *x) || (w && *w);
}

}  // namespace camscope::gl
