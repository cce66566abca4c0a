#pragma once
// Dear ImGui bound to a gl::Context: the GLFW platform backend for windows, a plain
// display-size/delta-time feed for headless contexts; the OpenGL3 renderer for both.
#include "render/gl_context.h"

namespace camscope::ui {

class ImGuiLayer {
 public:
  explicit ImGuiLayer(gl::Context& ctx);
  ~ImGuiLayer();
  ImGuiLayer(const ImGuiLayer&) = delete;
  ImGuiLayer& operator=(const ImGuiLayer&) = delete;

  // Starts an ImGui frame. dt_seconds is used for headless contexts (windows measure it).
  void new_frame(float dt_seconds);
  // Renders ImGui's draw data into the context's default target.
  void render();

 private:
  gl::Context& m_ctx;
};

}  // namespace camscope::ui
