// Interactive GL: a GLFW window with a 3.3 core context.
#include "render/gl.h"
#include "render/gl_context.h"
#include "render/llvm_guard.h"
#include "util/error.h"

#ifdef CAMSCOPE_HAVE_GLFW
#define GLFW_INCLUDE_NONE
#include <GLFW/glfw3.h>
#endif

namespace camscope::gl {

#ifdef CAMSCOPE_HAVE_GLFW
namespace {

std::string g_glfw_error;
void on_glfw_error(int code, const char* desc) {
  g_glfw_error = std::string(desc ? desc : "unknown") + " (GLFW error " + std::to_string(code) + ")";
}

class GlfwContext final : public Context {
 public:
  explicit GlfwContext(const ContextOptions& opt) {
    glfwSetErrorCallback(on_glfw_error);
    if (!display_available()) throw Error("no display (DISPLAY is not set); use --headless or export");
    if (!glfwInit()) throw Error("cannot open a window: " + g_glfw_error);
    glfwWindowHint(GLFW_CONTEXT_VERSION_MAJOR, 3);
    glfwWindowHint(GLFW_CONTEXT_VERSION_MINOR, 3);
    glfwWindowHint(GLFW_OPENGL_PROFILE, GLFW_OPENGL_CORE_PROFILE);
    glfwWindowHint(GLFW_OPENGL_FORWARD_COMPAT, GLFW_TRUE);
    glfwWindowHint(GLFW_VISIBLE, opt.visible ? GLFW_TRUE : GLFW_FALSE);
    m_window = glfwCreateWindow(opt.width, opt.height, opt.title.c_str(), nullptr, nullptr);
    if (!m_window) {
      glfwTerminate();
      throw Error("cannot open a window: " + g_glfw_error);
    }
    glfwMakeContextCurrent(m_window);
    glfwSwapInterval(opt.vsync ? 1 : 0);
    if (!gladLoadGL(reinterpret_cast<GLADloadfunc>(glfwGetProcAddress))) {
      glfwDestroyWindow(m_window);
      glfwTerminate();
      throw Error("GLAD could not load GL 3.3 functions");
    }
  }
  ~GlfwContext() override {
    glfwDestroyWindow(m_window);
    glfwTerminate();
  }
  bool headless() const override { return false; }
  int width() const override {
    int w = 0, h = 0;
    glfwGetFramebufferSize(m_window, &w, &h);
    return w;
  }
  int height() const override {
    int w = 0, h = 0;
    glfwGetFramebufferSize(m_window, &w, &h);
    return h;
  }
  void bind_default_target() override {
    glBindFramebuffer(GL_FRAMEBUFFER, 0);
    glViewport(0, 0, width(), height());
  }
  void end_frame() override { glfwSwapBuffers(m_window); }
  void wait_events(double timeout_s) override {
    if (timeout_s > 0)
      glfwWaitEventsTimeout(timeout_s);
    else
      glfwPollEvents();
  }
  void wake() override { glfwPostEmptyEvent(); }  // thread-safe in GLFW
  bool should_close() const override { return glfwWindowShouldClose(m_window); }
  void request_close() override { glfwSetWindowShouldClose(m_window, GLFW_TRUE); }
  GLFWwindow* window() const override { return m_window; }
  void resize(int w, int h) override { glfwSetWindowSize(m_window, w, h); }

 private:
  GLFWwindow* m_window = nullptr;
};

}  // namespace

std::unique_ptr<Context> create_window_context(const ContextOptions& opt) {
  guard_llvm_interposition();
  return std::make_unique<GlfwContext>(opt);
}
#else
std::unique_ptr<Context> create_window_context(const ContextOptions&) {
  throw Error("this build has no window support (GLFW missing); use --headless");
}
#endif

}  // namespace camscope::gl
