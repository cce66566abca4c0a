#include "ui/imgui_layer.h"

#include <imgui.h>

#include "render/gl.h"
#define GLFW_INCLUDE_NONE
#include <GLFW/glfw3.h>
#include <imgui_impl_glfw.h>
#include <imgui_impl_opengl3.h>

#include "util/error.h"

namespace camscope::ui {

ImGuiLayer::ImGuiLayer(gl::Context& ctx) : m_ctx(ctx) {
  IMGUI_CHECKVERSION();
  ImGui::CreateContext();
  ImGuiIO& io = ImGui::GetIO();
  io.IniFilename = nullptr;  // layout is ours; settings persist through camscope's own file
  ImGui::StyleColorsDark();
  if (!ctx.headless()) {
    if (!ImGui_ImplGlfw_InitForOpenGL(ctx.window(), true))
      throw Error("ImGui GLFW backend init failed");
  }
  if (!ImGui_ImplOpenGL3_Init("#version 330")) throw Error("ImGui OpenGL3 backend init failed");
}

ImGuiLayer::~ImGuiLayer() {
  ImGui_ImplOpenGL3_Shutdown();
  if (!m_ctx.headless()) ImGui_ImplGlfw_Shutdown();
  ImGui::DestroyContext();
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

void ImGuiLayer::render() {
  ImGui::Render();
  m_ctx.bind_default_target();
  ImGui_ImplOpenGL3_RenderDrawData(ImGui::GetDrawData());
}

}  // namespace camscope::ui
