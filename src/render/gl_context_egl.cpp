// Headless GL: EGL surfaceless platform (EGL_MESA_platform_surfaceless), falling back to the
// default display (NVIDIA's EGL device platform). No surface: we render into our own FBO.
#include <EGL/egl.h>
#include <EGL/eglext.h>

#include <chrono>
#include <condition_variable>
#include <mutex>

#include "render/gl.h"
#include "render/gl_context.h"
#include "render/llvm_guard.h"
#include "util/error.h"

namespace camscope::gl {
namespace {

class EglContext final : public Context {
 public:
  explicit EglContext(const ContextOptions& opt) {
    auto get_platform_display = reinterpret_cast<PFNEGLGETPLATFORMDISPLAYEXTPROC>(
        eglGetProcAddress("eglGetPlatformDisplayEXT"));
    if (get_platform_display)
      m_display = get_platform_display(EGL_PLATFORM_SURFACELESS_MESA, EGL_DEFAULT_DISPLAY, nullptr);
    if (m_display == EGL_NO_DISPLAY) m_display = eglGetDisplay(EGL_DEFAULT_DISPLAY);
    if (m_display == EGL_NO_DISPLAY) throw Error("headless GL: no EGL display");
    EGLint major = 0, minor = 0;
    if (!eglInitialize(m_display, &major, &minor))
      throw Error("headless GL: eglInitialize failed (error 0x" + hex(eglGetError()) + ")");
    const EGLint cfg_attr[] = {EGL_SURFACE_TYPE, EGL_PBUFFER_BIT, EGL_RENDERABLE_TYPE,
                               EGL_OPENGL_BIT, EGL_RED_SIZE, 8, EGL_GREEN_SIZE, 8,
                               EGL_BLUE_SIZE, 8, EGL_NONE};
    EGLConfig cfg = nullptr;
    EGLint n = 0;
    if (!eglChooseConfig(m_display, cfg_attr, &cfg, 1, &n) || n == 0) {
      eglTerminate(m_display);
      throw Error("headless GL: no EGL config with desktop OpenGL");
    }
    if (!eglBindAPI(EGL_OPENGL_API)) {
      eglTerminate(m_display);
      throw Error("headless GL: eglBindAPI(OpenGL) failed");
    }
    const EGLint ctx_attr[] = {EGL_CONTEXT_MAJOR_VERSION, 3, EGL_CONTEXT_MINOR_VERSION, 3,
                               EGL_CONTEXT_OPENGL_PROFILE_MASK,
                               EGL_CONTEXT_OPENGL_CORE_PROFILE_BIT, EGL_NONE};
    m_context = eglCreateContext(m_display, cfg, EGL_NO_CONTEXT, ctx_attr);
    if (m_context == EGL_NO_CONTEXT) {
      eglTerminate(m_display);
      throw Error("headless GL: cannot create a GL 3.3 core context (error 0x" +
                  hex(eglGetError()) + ")");
    }
    if (!eglMakeCurrent(m_display, EGL_NO_SURFACE, EGL_NO_SURFACE, m_context)) {
      eglDestroyContext(m_display, m_context);
      eglTerminate(m_display);
      throw Error("headless GL: eglMakeCurrent without surface failed");
    }
    if (!gladLoadGL(reinterpret_cast<GLADloadfunc>(eglGetProcAddress))) {
      release();
      throw Error("headless GL: GLAD could not load GL 3.3 functions");
    }
    resize(opt.width, opt.height);
  }

  ~EglContext() override {
    m_color.reset();
    m_depth.reset();
    m_fbo.reset();
    release();
  }

  bool headless() const override { return true; }
  int width() const override { return m_width; }
  int height() const override { return m_height; }
  void bind_default_target() override {
    glBindFramebuffer(GL_FRAMEBUFFER, m_fbo.id());
    glViewport(0, 0, m_width, m_height);
  }
  void end_frame() override { glFinish(); }
  void wait_events(double timeout_s) override {
    std::unique_lock<std::mutex> lk(m_wake_mu);
    if (timeout_s > 0 && !m_woken)
      m_wake_cv.wait_for(lk, std::chrono::duration<double>(timeout_s), [&] { return m_woken; });
    m_woken = false;
  }
  void wake() override {
    {
      std::lock_guard<std::mutex> lk(m_wake_mu);
      m_woken = true;
    }
    m_wake_cv.notify_all();
  }
  bool should_close() const override { return m_close; }
  void request_close() override { m_close = true; }

  void resize(int w, int h) override {
    if (w <= 0 || h <= 0) throw Error("headless GL: invalid target size");
    if (w == m_width && h == m_height && m_fbo) return;
    m_width = w;
    m_height = h;
    if (!m_fbo) {
      m_fbo = FramebufferHandle::create();
      m_color = RenderbufferHandle::create();
      m_depth = RenderbufferHandle::create();
    }
    glBindRenderbuffer(GL_RENDERBUFFER, m_color.id());
    glRenderbufferStorage(GL_RENDERBUFFER, GL_RGBA8, w, h);
    glBindRenderbuffer(GL_RENDERBUFFER, m_depth.id());
    glRenderbufferStorage(GL_RENDERBUFFER, GL_DEPTH24_STENCIL8, w, h);
    glBindFramebuffer(GL_FRAMEBUFFER, m_fbo.id());
    glFramebufferRenderbuffer(GL_FRAMEBUFFER, GL_COLOR_ATTACHMENT0, GL_RENDERBUFFER, m_color.id());
    glFramebufferRenderbuffer(GL_FRAMEBUFFER, GL_DEPTH_STENCIL_ATTACHMENT, GL_RENDERBUFFER,
                              m_depth.id());
    if (glCheckFramebufferStatus(GL_FRAMEBUFFER) != GL_FRAMEBUFFER_COMPLETE)
      throw Error("headless GL: framebuffer incomplete");
    bind_default_target();
  }

 private:
  static std::string hex(EGLint v) {
    char b[16];
    std::snprintf(b, sizeof b, "%x", static_cast<unsigned>(v));
    return b;
  }
  void release() noexcept {
    if (m_display != EGL_NO_DISPLAY) {
      eglMakeCurrent(m_display, EGL_NO_SURFACE, EGL_NO_SURFACE, EGL_NO_CONTEXT);
      if (m_context != EGL_NO_CONTEXT) eglDestroyContext(m_display, m_context);
      eglTerminate(m_display);
    }
    m_context = EGL_NO_CONTEXT;
    m_display = EGL_NO_DISPLAY;
  }

  EGLDisplay m_display = EGL_NO_DISPLAY;
  EGLContext m_context = EGL_NO_CONTEXT;
  FramebufferHandle m_fbo;
  RenderbufferHandle m_color, m_depth;
  int m_width = 0, m_height = 0;
  bool m_close = false;
  std::mutex m_wake_mu;
  std::condition_variable m_wake_cv;
  bool m_woken = false;
};

}  // namespace

std::unique_ptr<Context> create_headless_context(const ContextOptions& opt) {
  guard_llvm_interposition();
  return std::make_unique<EglContext>(opt);
}

}  // namespace camscope::gl
