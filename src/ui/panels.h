#pragma once
// The panels of the interactive window, laid out as fixed, user-resizable regions (no docking):
//
//   ┌ menu ───────────────────────────────────────────────┐
//   │ Layers   │ Viewport                     │ Channels  │
//   │          │                              │           │
//   │──────────│                              │───────────│
//   │ Method   │──────────────────────────────│ Timings / │
//   │          │ Timeline                     │ Inspect   │
//   └──────────┴──────────────────────────────┴───────────┘
//
// Every panel reads PanelInputs (this frame's snapshot) and edits UiState or pushes Actions.
#include <string>
#include <vector>

struct ImDrawList;

#include "app/frame_result.h"
#include "capture/frame_source.h"
#include "render/gl.h"
#include "ui/result_textures.h"
#include "ui/ui_state.h"

namespace camscope::ui {

struct GlStats {
  double ui_frame_ms = 0;  // CPU time of the last render-loop iteration, without vsync wait
  double ui_fps = 0;       // display rate: redraws in the last second
  uint64_t redraws = 0;    // redraws since start (the loop draws only when something changed)
  double result_fps = 0;   // new results per second
  double upload_ms = 0, draw_ms = 0;
  uint64_t bytes_to_gl = 0;
  std::string renderer, bridge;
  gl::ObjectCounts objects;
};

struct PanelInputs {
  const app::FrameResult* result = nullptr;  // the result on screen (may be null)
  bool result_current = false;               // it answers the current request
  const app::ModelInfo* model = nullptr;
  const capture::SourceInfo* source = nullptr;
  capture::SourceState source_state = capture::SourceState::Ok;
  app::PipelineStats stats;
  app::SanityResult sanity;
  app::OptvisView optvis;
  std::vector<app::MetricsPoint> metrics;  // newest last
  app::JobProgress progress;  // the worker's newest long computation
  std::vector<std::string> methods;
  std::string status;                    // pipeline error or progress
  const std::string* message = nullptr;  // last app message (screenshot written...)
  const std::string* captures = nullptr;  // the folder screenshots and recordings go to
  // Playback slower than the video: what it does about it ("" = keeping up), e.g. "skipping
  // frames: 23 skipped (results 8.1/s, video 30 fps)".
  std::string playback_note;
  std::string activity;  // what the worker computes now (Pipeline::activity)
  bool recording = false;
  bool recording_video_time = false;  // the clip follows the video's timestamps (else the clock)
  const ResultTextures* textures = nullptr;
  GlStats gl;
};

// Positions of the viewport image on screen, for tests and the hover readout.
struct ViewportGeometry {
  float x = 0, y = 0, w = 0, h = 0;  // image rectangle in window pixels
  float colormap_x = 0, colormap_y = 0;  // centre of the colormap combo (window tests click it)
  float left_column = 0, right_column = 0;  // side column widths drawn (0: hidden)
};

// Side column width in pixels for a fraction of the window width: at least ~160 px (a quarter
// of a very small window), at most 40% of the window.
float column_width(float fraction, float window_width);

// Draws everything; returns where the viewport image landed.
ViewportGeometry draw_panels(UiState& state, ActionQueue& actions, const PanelInputs& in);

// One panel each (panels_*.cpp).
void draw_menu_bar(UiState& state, ActionQueue& actions, const PanelInputs& in);
void draw_layers(UiState& state, const PanelInputs& in);
void draw_method(UiState& state, const PanelInputs& in);
ViewportGeometry draw_viewport(UiState& state, ActionQueue& actions, const PanelInputs& in);
void draw_timeline(UiState& state, ActionQueue& actions, const PanelInputs& in);
void draw_channels(UiState& state, const PanelInputs& in);
void draw_timings(const PanelInputs& in);
void draw_inspect(UiState& state, ActionQueue& actions, const PanelInputs& in);
void draw_open_dialog(UiState& state, ActionQueue& actions, const PanelInputs& in);
void draw_help(UiState& state);

// Keyboard shortcuts (F1 lists them). Keys are GLFW key codes (whatever ImGui's version
// calls its own keys), so scripts can inject them in headless runs.
struct Shortcut {
  int key;
  const char* name;  // as the help overlay and scripts spell it
  const char* description;
  int mods = 0;  // GLFW_MOD_* bits that must be held (Ctrl+Q), none for the others
};
const std::vector<Shortcut>& shortcuts();
int shortcut_key(const std::string& name);  // -1 when unknown
// Applies one shortcut's effect.
void apply_shortcut(int key, UiState& state, ActionQueue& actions, const PanelInputs& in);
// Applies the key presses queued since the last frame, in order, each one once (a slow frame
// loses none). Skipped while a text field has the keyboard; while an ImGui widget wants it,
// only F1, Escape and Ctrl+Q act. Call after ImGui's NewFrame, before the panels.
void handle_shortcuts(UiState& state, ActionQueue& actions, const PanelInputs& in,
                      const std::vector<KeyPress>& presses);
// Escape: closes the open menu / combo / popup, else the help or open dialog. Never quits.
void close_popups_or_dialogs(UiState& state);
// True while an ImGui popup (menu, combo list, context popup) is open.
bool popup_open();

// Readouts, as the panels word them (pure: tested without a window).
// Timeline: the frame on screen and its timestamp; the frame asked for apart when it differs,
// e.g. "frame 12 / 89   0.400 s   (pending: frame 15)".
std::string timeline_label(const app::FrameResult* shown, int64_t wanted, int64_t frame_count);
// Channel panel without tiles: why ("pending: ..." until a current result says otherwise).
const char* channels_placeholder(const app::FrameResult* r, bool current);
// "60.0 fps", or "unpaced (> 1000 fps)" for a loop nothing paces (idle or headless).
std::string display_rate_text(double fps);
// The target picker's search: the label contains the filter (ignoring case), or the filter is
// the class index.
bool class_matches(const std::string& label, int64_t index, const std::string& filter);

// The colorbar drawn over the viewport image's lower left corner (image rectangle x, y, w, h):
// the colormap from 0 to 1 (the normalized map), the threshold, and the raw map's range.
// `clip`: the map value that saturates the colormap (< 1: a pixel-space map's top percent is
// clipped); `channel` >= 0: that channel (per-channel min-max) is shown instead of the map.
void draw_colorbar(ImDrawList* dl, float x, float y, float w, float h, render::Colormap map,
                   float threshold, const app::FrameResult& r, float clip = 1.f,
                   int channel = -1);

// The layer being explained: the chosen one, else the model's default.
const std::string& selected_layer(const UiState& state, const PanelInputs& in);
// Layer/method stepping shared by shortcuts and scripts.
void step_layer(UiState& state, const PanelInputs& in, int delta);
void cycle_method(UiState& state, const PanelInputs& in);

}  // namespace camscope::ui
