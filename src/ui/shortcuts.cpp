// [SECTION] Keyboard shortcuts: one table drives the help overlay, the keyboard and scripts.
#include <imgui.h>
#include <imgui_internal.h>  // ClosePopupToLevel: Escape closes popups without keyboard nav
#define GLFW_INCLUDE_NONE
#include <GLFW/glfw3.h>

#include <algorithm>
#include <cctype>

#include "ui/panels.h"

namespace camscope::ui {

const std::vector<Shortcut>& shortcuts() {
  static const std::vector<Shortcut> k = {
      {GLFW_KEY_SPACE, "space", "play / pause"},
      {GLFW_KEY_LEFT, "left", "previous frame"},
      {GLFW_KEY_RIGHT, "right", "next frame"},
      {GLFW_KEY_LEFT_BRACKET, "[", "previous layer"},
      {GLFW_KEY_RIGHT_BRACKET, "]", "next layer"},
      {GLFW_KEY_M, "m", "cycle method"},
      {GLFW_KEY_G, "g", "show / hide the channel grid"},
      {GLFW_KEY_V, "v", "map only / map over the frame"},
      {GLFW_KEY_K, "k", "compare view: several methods side by side"},
      {GLFW_KEY_F, "f", "lay the opened channel over the frame / show the map"},
      {GLFW_KEY_T, "t", "lock / unlock the target class"},
      {GLFW_KEY_S, "s", "screenshot (PNG)"},
      {GLFW_KEY_R, "r", "start / stop recording the viewport (MP4)"},
      {GLFW_KEY_O, "o", "open a model or input"},
      {GLFW_KEY_0, "0", "reset zoom"},
      {GLFW_KEY_C, "c", "cancel the long computation in progress"},
      {GLFW_KEY_F1, "f1", "this help"},
      {GLFW_KEY_ESCAPE, "escape", "close a menu, list, popup or dialog (never quits)"},
      {GLFW_KEY_Q, "ctrl+q", "quit (as the window's close button; a recording is finished)",
       GLFW_MOD_CONTROL},
  };
  return k;
}

int shortcut_key(const std::string& name) {
  std::string n = name;
  std::transform(n.begin(), n.end(), n.begin(), [](unsigned char c) { return std::tolower(c); });
  for (const Shortcut& s : shortcuts())
    if (n == s.name) return s.key;
  return -1;
}

void step_layer(UiState& state, const PanelInputs& in, int delta) {
  if (!in.model) return;
  // Only layers with spatial maps make sense to step through.
  std::vector<const std::string*> paths;
  for (const app::LayerRow& l : in.model->layers)
    if (!l.path.empty() && l.output_shape.size() == 4 && l.output_shape[2] * l.output_shape[3] > 1)
      paths.push_back(&l.path);
  if (paths.empty()) return;
  const std::string& cur = selected_layer(state, in);
  auto it =
      std::find_if(paths.begin(), paths.end(), [&](const std::string* p) { return *p == cur; });
  long i = it == paths.end() ? 0 : static_cast<long>(it - paths.begin()) + delta;
  i = std::clamp(i, 0L, static_cast<long>(paths.size()) - 1);
  state.params.layer = *paths[static_cast<size_t>(i)];
}

void cycle_method(UiState& state, const PanelInputs& in) {
  if (in.methods.empty()) return;
  auto it = std::find(in.methods.begin(), in.methods.end(), state.params.method);
  state.params.method =
      it == in.methods.end() || it + 1 == in.methods.end() ? in.methods.front() : *(it + 1);
}

void apply_shortcut(int key, UiState& state, ActionQueue& actions, const PanelInputs& in) {
  switch (key) {
    case GLFW_KEY_SPACE:
      state.playback.playing = !state.playback.playing;
      break;
    case GLFW_KEY_LEFT:
      actions.push(Action::Kind::Step, -1);
      break;
    case GLFW_KEY_RIGHT:
      actions.push(Action::Kind::Step, +1);
      break;
    case GLFW_KEY_LEFT_BRACKET:
      step_layer(state, in, -1);
      break;
    case GLFW_KEY_RIGHT_BRACKET:
      step_layer(state, in, +1);
      break;
    case GLFW_KEY_M:
      cycle_method(state, in);
      break;
    case GLFW_KEY_G:
      state.show_grid = !state.show_grid;
      break;
    case GLFW_KEY_T:
      state.params.target = state.params.target >= 0 ? -1 : (in.result ? in.result->target : -1);
      break;
    case GLFW_KEY_S:
      actions.push(Action::Kind::Screenshot);
      break;
    case GLFW_KEY_R:
      actions.push(Action::Kind::ToggleRecord);
      break;
    case GLFW_KEY_O:
      state.show_open = true;
      break;
    case GLFW_KEY_0:
      state.zoom = 1.f;
      state.pan_x = state.pan_y = 0;
      break;
    case GLFW_KEY_C:
      actions.push(Action::Kind::Cancel);
      break;
    case GLFW_KEY_V:
      state.map_only = !state.map_only;
      break;
    case GLFW_KEY_K:
      state.compare = !state.compare;
      break;
    case GLFW_KEY_F:
      // Needs an opened channel (click a tile); without one it stays the map.
      state.channel_on_frame = !state.channel_on_frame && state.open_channel >= 0;
      break;
    case GLFW_KEY_F1:
      state.show_help = !state.show_help;
      break;
    case GLFW_KEY_ESCAPE:
      close_popups_or_dialogs(state);
      break;
    case GLFW_KEY_Q:  // Ctrl+Q (the keyboard handler checks the modifier)
      actions.push(Action::Kind::Quit);
      break;
    default:
      break;
  }
}

bool popup_open() {
  return ImGui::GetCurrentContext() &&
         ImGui::IsPopupOpen("", ImGuiPopupFlags_AnyPopupId | ImGuiPopupFlags_AnyPopupLevel);
}

void close_popups_or_dialogs(UiState& state) {
  if (popup_open())
    ImGui::ClosePopupToLevel(0, true);  // every level: a submenu and its menu go together
  else if (state.show_help || state.show_open)
    state.show_help = state.show_open = false;
}

void handle_shortcuts(UiState& state, ActionQueue& actions, const PanelInputs& in,
                      const std::vector<KeyPress>& presses) {
  const ImGuiIO& io = ImGui::GetIO();
  constexpr int kMods = GLFW_MOD_CONTROL | GLFW_MOD_ALT | GLFW_MOD_SUPER;
  for (const KeyPress& p : presses) {
    const Shortcut* s = nullptr;
    for (const Shortcut& k : shortcuts())
      if (k.key == p.key && k.mods == (p.mods & kMods)) s = &k;
    if (!s) continue;
    // Ctrl+Q quits from anywhere; a focused text field owns every other key (its Escape
    // reverts the edit).
    const bool quit = s->mods == GLFW_MOD_CONTROL;
    if (io.WantTextInput && !quit) continue;
    // A focused widget owns the keyboard; F1 / Escape / Ctrl+Q still work.
    const bool global = quit || s->key == GLFW_KEY_F1 || s->key == GLFW_KEY_ESCAPE;
    if (io.WantCaptureKeyboard && !global) continue;
    // Held arrows step repeatedly; other keys act once per press.
    if (p.repeat && s->key != GLFW_KEY_LEFT && s->key != GLFW_KEY_RIGHT) continue;
    apply_shortcut(s->key, state, actions, in);
  }
}

}  // namespace camscope::ui
