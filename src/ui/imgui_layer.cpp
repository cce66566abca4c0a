#include "ui/imgui_layer.h"

#include <imgui.h>

#include <cstring>

#include "render/gl.h"
#define GLFW_INCLUDE_NONE
#include <GLFW/glfw3.h>
#include <imgui_impl_glfw.h>
#include <imgui_impl_opengl3.h>

#include "util/error.h"

namespace camscope::ui {
namespace {

// One window, one layer: the callbacks find it here. The previous callbacks (the ImGui
// backend's, or none) are called first, so ImGui sees every event as before.
ImGuiLayer* g_layer = nullptr;
struct Previous {
  GLFWkeyfun key = nullptr;
  GLFWcharfun chr = nullptr;
  GLFWmousebuttonfun button = nullptr;
  GLFWcursorposfun cursor = nullptr;
  GLFWscrollfun scroll = nullptr;
  GLFWcursorenterfun enter = nullptr;
  GLFWwindowfocusfun focus = nullptr;
  GLFWwindowsizefun size = nullptr;
  GLFWframebuffersizefun fb_size = nullptr;
  GLFWwindowrefreshfun refresh = nullptr;
} g_prev;

void event() {
  if (g_layer) g_layer->on_event();
}
void on_key(GLFWwindow* w, int key, int scancode, int action, int mods) {
  if (g_prev.key) g_prev.key(w, key, scancode, action, mods);
  event();
  if (g_layer) g_layer->on_key(key, action, mods);
}
void on_char(GLFWwindow* w, unsigned int c) {
  if (g_prev.chr) g_prev.chr(w, c);
  event();
}
void on_button(GLFWwindow* w, int button, int action, int mods) {
  if (g_prev.button) g_prev.button(w, button, action, mods);
  event();
}
void on_cursor(GLFWwindow* w, double x, double y) {
  if (g_prev.cursor) g_prev.cursor(w, x, y);
  event();
}
void on_scroll(GLFWwindow* w, double dx, double dy) {
  if (g_prev.scroll) g_prev.scroll(w, dx, dy);
  event();
}
void on_enter(GLFWwindow* w, int entered) {
  if (g_prev.enter) g_prev.enter(w, entered);
  event();
}
void on_focus(GLFWwindow* w, int focused) {
  if (g_prev.focus) g_prev.focus(w, focused);
  event();
  if (g_layer) g_layer->on_damage();
}
void on_size(GLFWwindow* w, int width, int height) {
  if (g_prev.size) g_prev.size(w, width, height);
  event();
  if (g_layer) g_layer->on_damage();
}
void on_fb_size(GLFWwindow* w, int width, int height) {
  if (g_prev.fb_size) g_prev.fb_size(w, width, height);
  event();
  if (g_layer) g_layer->on_damage();
}
void on_refresh(GLFWwindow* w) {  // exposed: the window's contents must be drawn again
  if (g_prev.refresh) g_prev.refresh(w);
  event();
  if (g_layer) g_layer->on_damage();
}

void install(GLFWwindow* w) {
  g_prev.key = glfwSetKeyCallback(w, on_key);
  g_prev.chr = glfwSetCharCallback(w, on_char);
  g_prev.button = glfwSetMouseButtonCallback(w, on_button);
  g_prev.cursor = glfwSetCursorPosCallback(w, on_cursor);
  g_prev.scroll = glfwSetScrollCallback(w, on_scroll);
  g_prev.enter = glfwSetCursorEnterCallback(w, on_enter);
  g_prev.focus = glfwSetWindowFocusCallback(w, on_focus);
  g_prev.size = glfwSetWindowSizeCallback(w, on_size);
  g_prev.fb_size = glfwSetFramebufferSizeCallback(w, on_fb_size);
  g_prev.refresh = glfwSetWindowRefreshCallback(w, on_refresh);
}

// Puts the backend's callbacks back before it restores its own predecessors.
void uninstall(GLFWwindow* w) {
  glfwSetKeyCallback(w, g_prev.key);
  glfwSetCharCallback(w, g_prev.chr);
  glfwSetMouseButtonCallback(w, g_prev.button);
  glfwSetCursorPosCallback(w, g_prev.cursor);
  glfwSetScrollCallback(w, g_prev.scroll);
  glfwSetCursorEnterCallback(w, g_prev.enter);
  glfwSetWindowFocusCallback(w, g_prev.focus);
  glfwSetWindowSizeCallback(w, g_prev.size);
  glfwSetFramebufferSizeCallback(w, g_prev.fb_size);
  glfwSetWindowRefreshCallback(w, g_prev.refresh);
  g_prev = Previous{};
}

}  // namespace

ImGuiLayer::ImGuiLayer(gl::Context& ctx) : m_ctx(ctx) {
  IMGUI_CHECKVERSION();
  ImGui::CreateContext();
  ImGuiIO& io = ImGui::GetIO();
  io.IniFilename = nullptr;  // layout is ours; settings persist through camscope's own file
  ImGui::StyleColorsDark();
  if (!ctx.headless()) {
    if (!ImGui_ImplGlfw_InitForOpenGL(ctx.window(), true))
      throw Error("ImGui GLFW backend init failed");
    g_layer = this;
    install(ctx.window());
  }
  if (!ImGui_ImplOpenGL3_Init("#version 330")) throw Error("ImGui OpenGL3 backend init failed");
}

ImGuiLayer::~ImGuiLayer() {
  ImGui_ImplOpenGL3_Shutdown();
  if (!m_ctx.headless()) {
    uninstall(m_ctx.window());
    g_layer = nullptr;
    ImGui_ImplGlfw_Shutdown();
  }
  ImGui::DestroyContext();
}

void ImGuiLayer::on_key(int key, int action, int mods) {
  if (action == GLFW_PRESS || action == GLFW_REPEAT)
    m_keys.push_back(KeyPress{key, mods, action == GLFW_REPEAT});
}

std::vector<KeyPress> ImGuiLayer::take_key_presses() {
  std::vector<KeyPress> out;
  out.swap(m_keys);
  return out;
}

void ImGuiLayer::new_frame(float dt_seconds) {
  ImGui_ImplOpenGL3_NewFrame();
  if (!m_ctx.headless()) {
    ImGui_ImplGlfw_NewFrame();
  } else {
    ImGuiIO& io = ImGui::GetIO();
    io.DisplaySize = ImVec2(static_cast<float>(m_ctx.width()), static_cast<float>(m_ctx.height()));
    io.DisplayFramebufferScale = ImVec2(1.f, 1.f);
    io.DeltaTime = dt_seconds > 0 ? dt_seconds : 1.f / 60.f;
  }
  ImGui::NewFrame();
}

namespace {

// 64-bit FNV-1a over whole words: ~1 GB/s, a frame's draw data is tens of kB.
struct Hasher {
  uint64_t h = 1469598103934665603ull;
  void bytes(const void* p, size_t n) {
    const auto* b = static_cast<const unsigned char*>(p);
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
      uint64_t w;
      std::memcpy(&w, b + i, 8);
      h = (h ^ w) * 1099511628211ull;
    }
    for (; i < n; ++i) h = (h ^ b[i]) * 1099511628211ull;
  }
  template <class T>
  void value(const T& v) {
    bytes(&v, sizeof v);
  }
};

uint64_t hash_draw_data(const ImDrawData& d) {
  Hasher h;
  h.value(d.DisplayPos);
  h.value(d.DisplaySize);
  h.value(d.FramebufferScale);
  h.value(d.CmdListsCount);
  for (int i = 0; i < d.CmdListsCount; ++i) {
    const ImDrawList& l = *d.CmdLists[i];
    h.bytes(l.VtxBuffer.Data, static_cast<size_t>(l.VtxBuffer.Size) * sizeof(ImDrawVert));
    h.bytes(l.IdxBuffer.Data, static_cast<size_t>(l.IdxBuffer.Size) * sizeof(ImDrawIdx));
    for (const ImDrawCmd& c : l.CmdBuffer) {
      h.value(c.ClipRect);
      h.value(c.TextureId);
      h.value(c.VtxOffset);
      h.value(c.IdxOffset);
      h.value(c.ElemCount);
      h.value(c.UserCallback);
    }
  }
  return h.h;
}

}  // namespace

bool ImGuiLayer::render(bool force, const float clear[4]) {
  ImGui::Render();
  ImDrawData* d = ImGui::GetDrawData();
  const uint64_t hash = hash_draw_data(*d);
  if (!force && m_drawn && hash == m_drawn_hash) return false;
  m_ctx.bind_default_target();
  glClearColor(clear[0], clear[1], clear[2], clear[3]);
  glClear(GL_COLOR_BUFFER_BIT);
  ImGui_ImplOpenGL3_RenderDrawData(d);
  m_drawn_hash = hash;
  m_drawn = true;
  return true;
}

}  // namespace camscope::ui
