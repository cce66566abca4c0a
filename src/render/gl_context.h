#pragma once
// A GL 3.3 core context with a default render target, behind one interface:
//  - a GLFW window (interactive), or
//  - a headless EGL surfaceless context (Mesa or NVIDIA) that renders into an FBO.
// The same render and ImGui code runs on both. All calls on the thread that created it.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

struct GLFWwindow;

namespace camscope::gl {

class Context {
 public:
  virtual ~Context() = default;
  virtual bool headless() const = 0;
  // Framebuffer size in pixels of the default target (window or FBO).
  virtual int width() const = 0;
  virtual int height() const = 0;
  // Binds the default target (window framebuffer or the headless FBO) and sets the viewport.
  virtual void bind_default_target() = 0;
  // Presents the frame (swap) for windows; finishes for headless. Does not poll events.
  virtual void end_frame() = 0;
  // Processes pending window events (callbacks run here), blocking up to `timeout_s` seconds
  // until one arrives or wake() is called; 0 only polls. Headless contexts have no events:
  // they sleep until wake() or the timeout. GL thread only.
  virtual void wait_events(double timeout_s) = 0;
  // Ends a wait_events() early (or makes the next one return at once). Any thread.
  virtual void wake() = 0;
  virtual bool should_close() const = 0;
  virtual void request_close() = 0;
  // GLFW window handle, nullptr when headless.
  virtual GLFWwindow* window() const { return nullptr; }
  // Resizes the headless target (windows resize through the window manager).
  virtual void resize(int width, int height) = 0;

  // Reads the default target as RGBA8, top row first (flipped from GL's bottom-up order).
  std::vector<uint8_t> read_pixels_rgba();
  // Writes the default target to a PNG, top row first.
  void save_png(const std::string& path);

  std::string renderer() const;
  std::string version() const;
};

struct ContextOptions {
  int width = 1280, height = 720;
  std::string title = "camscope";
  bool vsync = true;
  bool visible = true;
};

// Headless EGL surfaceless context. Throws camscope::Error with the reason when unavailable.
std::unique_ptr<Context> create_headless_context(const ContextOptions& opt);
// GLFW window. Throws camscope::Error (e.g. "no display") when it cannot open one.
std::unique_ptr<Context> create_window_context(const ContextOptions& opt);
// True when a window can plausibly be opened (DISPLAY or WAYLAND_DISPLAY is set).
bool display_available();

}  // namespace camscope::gl
