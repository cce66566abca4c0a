#pragma once
// Dear ImGui bound to a gl::Context: the GLFW platform backend for windows, a plain
// display-size/delta-time feed for headless contexts; the OpenGL3 renderer for both.
//
// Windows: GLFW callbacks are chained after the ImGui backend's, so that
//  - every key press (and repeat) is queued in order, however slow a frame is (ImGui 1.86 only
//    keeps "is down" per key: a tap shorter than a frame would be lost), and
//  - every input event (key, character, mouse button / move / wheel, focus, enter/leave,
//    resize, expose) is counted: the viewer redraws only when something happened.
#include <cstdint>
#include <vector>

#include "render/gl_context.h"
#include "ui/ui_state.h"

namespace camscope::ui {

class ImGuiLayer {
 public:
  explicit ImGuiLayer(gl::Context& ctx);
  ~ImGuiLayer();
  ImGuiLayer(const ImGuiLayer&) = delete;
  ImGuiLayer& operator=(const ImGuiLayer&) = delete;

  // Starts an ImGui frame. dt_seconds is used for headless contexts (windows measure it).
  void new_frame(float dt_seconds);
  // Ends the ImGui frame and draws it into the context's default target (cleared to
  // `clear` first), unless `force` is false and the frame's draw data (vertices, indices,
  // textures, clip rectangles, display size) equals the last drawn frame's: then the target
  // still holds that picture and nothing is drawn. Returns whether it drew. Callers force a
  // draw when a texture's contents changed or the target was damaged (expose, resize).
  bool render(bool force, const float clear[4]);

  // Input events seen since creation (window callbacks; always 0 headless).
  uint64_t input_events() const { return m_events; }
  // Of those, the ones after which the window's picture must be drawn again whatever ImGui
  // draws: expose, resize, focus change.
  uint64_t damage_events() const { return m_damage; }
  // Key presses queued since the last call, oldest first.
  std::vector<KeyPress> take_key_presses();

  // Called by the GLFW callbacks (GL thread, inside wait_events()).
  void on_event() { ++m_events; }
  void on_damage() { ++m_damage; }
  void on_key(int key, int action, int mods);

 private:
  gl::Context& m_ctx;
  uint64_t m_events = 0, m_damage = 0;
  uint64_t m_drawn_hash = 0;
  bool m_drawn = false;
  std::vector<KeyPress> m_keys;
};

}  // namespace camscope::ui
