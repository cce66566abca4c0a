// `camscope view`: the interactive window (or its headless twin for tests and screenshots).
#include <imgui.h>

#include <chrono>
#include <cstdio>
#include <memory>
#include <string>

#include "app/commands.h"
#include "render/gl.h"
#include "render/gl_context.h"
#include "ui/imgui_layer.h"
#include "util/args.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/image_io.h"
#include "util/log.h"

namespace camscope::app {
namespace {

const char* kViewHelp =
    "usage: camscope view [--input IMAGE] [--headless --frames N --screenshot OUT.png]\n"
    "                     [--size WxH] [--force]\n";

void parse_size(const std::string& s, int& w, int& h) {
  if (std::sscanf(s.c_str(), "%dx%d", &w, &h) != 2 || w <= 0 || h <= 0 || w > 16384 || h > 16384)
    throw Error("--size expects WxH, got '" + s + "'");
}

}  // namespace

int cmd_view(int argc, const char* const* argv) {
  Args args(argc, argv, {"input", "frames", "screenshot", "size", "model", "layer", "method"},
            {"headless", "force", "help", "verbose"});
  if (args.flag("help")) {
    std::fputs(kViewHelp, stdout);
    return 0;
  }
  log::set_verbose(args.flag("verbose"));
  gl::ContextOptions opt;
  if (args.has("size")) parse_size(args.get("size"), opt.width, opt.height);
  const std::string shot = args.get("screenshot");
  if (!shot.empty()) check_writable(shot, args.flag("force"));

  // Decode the input before touching GL: a bad file fails fast with one line.
  Image image;
  const std::string input = args.get("input");
  if (!input.empty()) image = load_image_rgb(input);

  bool headless = args.flag("headless");
  if (!headless && !gl::display_available()) {
    log::note("no display found; running headless (use 'camscope export' for batch output)");
    headless = true;
  }
  const int frames = args.get_int("frames", headless ? 3 : -1);
  if (headless && frames <= 0) throw Error("--frames must be positive");

  std::unique_ptr<gl::Context> ctx =
      headless ? gl::create_headless_context(opt) : gl::create_window_context(opt);
  ui::ImGuiLayer imgui(*ctx);

  gl::TextureHandle tex;
  if (!image.pixels.empty()) {
    tex = gl::TextureHandle::create();
    glBindTexture(GL_TEXTURE_2D, tex.id());
    glPixelStorei(GL_UNPACK_ALIGNMENT, 1);
    glTexImage2D(GL_TEXTURE_2D, 0, GL_RGB8, image.width, image.height, 0, GL_RGB,
                 GL_UNSIGNED_BYTE, image.pixels.data());
    glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MIN_FILTER, GL_LINEAR);
    glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MAG_FILTER, GL_LINEAR);
    glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_WRAP_S, GL_CLAMP_TO_EDGE);
    glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_WRAP_T, GL_CLAMP_TO_EDGE);
  }
  const std::string renderer = ctx->renderer();

  using clock = std::chrono::steady_clock;
  auto last = clock::now();
  float frame_ms = 0.f;
  for (int f = 0; frames < 0 || f < frames; ++f) {
    if (ctx->should_close()) break;
    auto now = clock::now();
    float dt = std::chrono::duration<float>(now - last).count();
    last = now;
    frame_ms = frame_ms == 0.f ? dt * 1000.f : 0.9f * frame_ms + 0.1f * dt * 1000.f;

    imgui.new_frame(headless ? 1.f / 60.f : dt);
    const ImVec2 disp = ImGui::GetIO().DisplaySize;
    const float info_w = 300.f;
    ImGui::SetNextWindowPos(ImVec2(0, 0));
    ImGui::SetNextWindowSize(ImVec2(disp.x - info_w, disp.y));
    ImGui::Begin("Viewport", nullptr, ImGuiWindowFlags_NoMove | ImGuiWindowFlags_NoResize |
                                          ImGuiWindowFlags_NoCollapse);
    if (tex) {
      ImVec2 avail = ImGui::GetContentRegionAvail();
      float s = std::min(avail.x / image.width, avail.y / image.height);
      ImGui::Image(reinterpret_cast<ImTextureID>(static_cast<intptr_t>(tex.id())),
                   ImVec2(image.width * s, image.height * s));
    } else {
      ImGui::TextUnformatted("No input. Open one with --input IMAGE.");
    }
    ImGui::End();
    ImGui::SetNextWindowPos(ImVec2(disp.x - info_w, 0));
    ImGui::SetNextWindowSize(ImVec2(info_w, disp.y));
    ImGui::Begin("Info", nullptr, ImGuiWindowFlags_NoMove | ImGuiWindowFlags_NoResize |
                                      ImGuiWindowFlags_NoCollapse);
    ImGui::Text("Input: %s", input.empty() ? "(none)" : input.c_str());
    if (tex) ImGui::Text("Image: %d x %d", image.width, image.height);
    ImGui::TextWrapped("GL: %s", renderer.c_str());
    ImGui::Text("Frame: %.2f ms", frame_ms);
    ImGui::End();

    ctx->bind_default_target();
    glClearColor(0.08f, 0.08f, 0.09f, 1.f);
    glClear(GL_COLOR_BUFFER_BIT);
    imgui.render();
    if (headless && f == frames - 1 && !shot.empty()) {
      ctx->save_png(shot);
      log::note("screenshot written to " + shot);
    }
    ctx->end_frame();
  }
  return 0;
}

}  // namespace camscope::app
