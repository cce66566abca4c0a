// [SECTION] Layout: fixed regions separated by splitter bars the user drags; the sizes live in
// UiState::layout (persisted in the settings) as fractions of the window where they scale.
#include <imgui.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>

#include "ui/panels.h"

namespace camscope::ui {
namespace {

// Panels do not resize themselves (the splitters do): an edge shared by two panels would
// otherwise belong to whichever ImGui hit first, and the other's drag would be lost.
constexpr ImGuiWindowFlags kPanelFlags = ImGuiWindowFlags_NoMove | ImGuiWindowFlags_NoCollapse |
                                         ImGuiWindowFlags_NoBringToFrontOnFocus |
                                         ImGuiWindowFlags_NoResize;

// A bar between two regions, on top of them; returns the mouse movement along its axis while
// it is dragged (0 otherwise).
float splitter(const char* id, float x, float y, float w, float h, bool vertical) {
  constexpr float kThick = 8.f;
  if (vertical) {
    x -= kThick * 0.5f;
    w = kThick;
  } else {
    y -= kThick * 0.5f;
    h = kThick;
  }
  ImGui::SetNextWindowPos(ImVec2(x, y), ImGuiCond_Always);
  ImGui::SetNextWindowSize(ImVec2(w, h), ImGuiCond_Always);
  ImGui::PushStyleVar(ImGuiStyleVar_WindowPadding, ImVec2(0, 0));
  ImGui::PushStyleVar(ImGuiStyleVar_WindowMinSize, ImVec2(1, 1));
  ImGui::PushStyleVar(ImGuiStyleVar_WindowBorderSize, 0.f);
  float delta = 0;
  if (ImGui::Begin(id, nullptr,
                   ImGuiWindowFlags_NoDecoration | ImGuiWindowFlags_NoMove |
                       ImGuiWindowFlags_NoSavedSettings | ImGuiWindowFlags_NoBackground |
                       ImGuiWindowFlags_NoFocusOnAppearing | ImGuiWindowFlags_NoNav)) {
    ImGui::InvisibleButton("##bar", ImVec2(w, h));
    const bool active = ImGui::IsItemActive();
    if (active || ImGui::IsItemHovered()) {
      ImGui::SetMouseCursor(vertical ? ImGuiMouseCursor_ResizeEW : ImGuiMouseCursor_ResizeNS);
      const ImVec2 a = ImGui::GetItemRectMin(), b = ImGui::GetItemRectMax();
      ImGui::GetWindowDrawList()->AddRectFilled(
          vertical ? ImVec2(a.x + w * 0.5f - 1, a.y) : ImVec2(a.x, a.y + h * 0.5f - 1),
          vertical ? ImVec2(a.x + w * 0.5f + 1, b.y) : ImVec2(b.x, a.y + h * 0.5f + 1),
          active ? IM_COL32(250, 180, 60, 255) : IM_COL32(120, 160, 250, 200));
    }
    if (active) delta = vertical ? ImGui::GetIO().MouseDelta.x : ImGui::GetIO().MouseDelta.y;
  }
  ImGui::End();
  ImGui::PopStyleVar(3);
  return delta;
}

}  // namespace

float column_width(float fraction, float window_width) {
  const float lo = std::min(160.f, window_width * 0.25f);
  return std::clamp(fraction * window_width, lo, std::max(lo, window_width * 0.4f));
}

namespace {

bool begin_region(const char* name, float x, float y, float w, float h,
                  ImGuiWindowFlags extra = 0) {
  ImGui::SetNextWindowPos(ImVec2(x, y), ImGuiCond_Always);
  ImGui::SetNextWindowSize(ImVec2(std::max(w, 40.f), std::max(h, 40.f)), ImGuiCond_Always);
  return ImGui::Begin(name, nullptr, kPanelFlags | extra);
}

}  // namespace

ViewportGeometry draw_panels(UiState& state, ActionQueue& actions, const PanelInputs& in) {
  state.se_tab_visible = false;
  draw_menu_bar(state, actions, in);
  const ImVec2 disp = ImGui::GetIO().DisplaySize;
  const float top = ImGui::GetFrameHeight();  // menu bar
  const float height = disp.y - top;
  Layout& l = state.layout;
  // Pixel sizes for this window; the persisted fractions change only when a splitter moves.
  l.left_fraction = std::clamp(l.left_fraction, 0.02f, 0.4f);
  l.right_fraction = std::clamp(l.right_fraction, 0.02f, 0.4f);
  l.layers_fraction = std::clamp(l.layers_fraction, 0.15f, 0.85f);
  l.channels_fraction = std::clamp(l.channels_fraction, 0.15f, 0.85f);
  const float left_w = column_width(l.left_fraction, disp.x);
  const float right_w = state.show_grid ? column_width(l.right_fraction, disp.x) : 0.f;
  const float timeline_h = std::clamp(l.timeline_height, 60.f, std::max(60.f, height * 0.5f));
  const float center_x = left_w;
  const float center_w = std::max(100.f, disp.x - left_w - right_w);

  // Left column: layers over method.
  const float layers_h = height * l.layers_fraction;
  if (begin_region("Layers", 0, top, left_w, layers_h)) draw_layers(state, in);
  ImGui::End();
  if (begin_region("Method & target", 0, top + layers_h, left_w, height - layers_h))
    draw_method(state, in);
  ImGui::End();

  // Centre: viewport over timeline.
  ViewportGeometry geo;
  const float view_h = height - timeline_h;
  if (begin_region("Viewport", center_x, top, center_w, view_h,
                   ImGuiWindowFlags_NoScrollbar | ImGuiWindowFlags_NoScrollWithMouse))
    geo = draw_viewport(state, actions, in);
  ImGui::End();
  if (begin_region("Timeline", center_x, top + view_h, center_w, timeline_h))
    draw_timeline(state, actions, in);
  ImGui::End();

  // Right column: channel grid over timings/inspect (hidden with G).
  const float ch_h = height * l.channels_fraction;
  const float rx = disp.x - right_w;
  if (state.show_grid) {
    if (begin_region("Channels", rx, top, right_w, ch_h)) draw_channels(state, in);
    ImGui::End();
    if (begin_region("Details", rx, top + ch_h, right_w, height - ch_h)) {
      if (ImGui::BeginTabBar("details")) {
        const bool want_timings = state.select_tab == "timings";
        const bool want_inspect = !state.select_tab.empty() && !want_timings;
        if (ImGui::BeginTabItem("Timings", nullptr,
                                want_timings ? ImGuiTabItemFlags_SetSelected : 0)) {
          draw_timings(in);
          ImGui::EndTabItem();
        }
        if (ImGui::BeginTabItem("Inspect", nullptr,
                                want_inspect ? ImGuiTabItemFlags_SetSelected : 0)) {
          draw_inspect(state, actions, in);
          ImGui::EndTabItem();
        }
        ImGui::EndTabBar();
      }
    }
    ImGui::End();
  }
  if (!state.select_tab.empty() && --state.select_tab_frames <= 0) state.select_tab.clear();

  // Splitters, on top of the panels. Dragging turns pixels back into fractions.
  if (const float d = splitter("##split_left", left_w, top, 0, height, true))
    l.left_fraction = std::clamp((left_w + d) / disp.x, 0.02f, 0.4f);
  if (const float d = splitter("##split_layers", 0, top + layers_h, left_w, 0, false))
    l.layers_fraction = std::clamp((layers_h + d) / height, 0.15f, 0.85f);
  if (const float d = splitter("##split_timeline", center_x, top + view_h, center_w, 0, false))
    l.timeline_height = std::clamp(timeline_h - d, 60.f, std::max(60.f, height * 0.5f));
  if (state.show_grid) {
    if (const float d = splitter("##split_right", rx, top, 0, height, true))
      l.right_fraction = std::clamp((right_w - d) / disp.x, 0.02f, 0.4f);
    if (const float d = splitter("##split_channels", rx, top + ch_h, right_w, 0, false))
      l.channels_fraction = std::clamp((ch_h + d) / height, 0.15f, 0.85f);
  }
  geo.left_column = left_w;
  geo.right_column = right_w;

  if (state.show_open) draw_open_dialog(state, actions, in);
  if (state.show_help) draw_help(state);
  return geo;
}

void draw_menu_bar(UiState& state, ActionQueue& actions, const PanelInputs& in) {
  if (!ImGui::BeginMainMenuBar()) return;
  if (ImGui::BeginMenu("File")) {
    if (ImGui::MenuItem("Open model or input...", "O")) state.show_open = true;
    if (ImGui::MenuItem("Screenshot", "S")) actions.push(Action::Kind::Screenshot);
    if (ImGui::MenuItem(in.recording ? "Stop recording" : "Record viewport (MP4)", "R"))
      actions.push(Action::Kind::ToggleRecord);
    if (in.captures && !in.captures->empty())
      ImGui::TextDisabled("captures go to %s", in.captures->c_str());
    ImGui::Separator();
    if (ImGui::MenuItem("Quit", "Ctrl+Q")) actions.push(Action::Kind::Quit);
    ImGui::EndMenu();
  }
  if (ImGui::BeginMenu("View")) {
    ImGui::MenuItem("Channel grid", "G", &state.show_grid);
    ImGui::MenuItem("Heatmap overlay", nullptr, &state.show_overlay);
    if (ImGui::MenuItem("Reset zoom")) {
      state.zoom = 1.f;
      state.pan_x = state.pan_y = 0;
    }
    if (ImGui::MenuItem("Reset layout")) state.layout = Layout{};
    ImGui::EndMenu();
  }
  if (ImGui::BeginMenu("Help")) {
    ImGui::MenuItem("Shortcuts", "F1", &state.show_help);
    ImGui::EndMenu();
  }
  // Status at the right of the bar: what the pipeline is doing.
  static const std::string kNone;
  const std::string& msg = in.status.empty() ? (in.message ? *in.message : kNone) : in.status;
  if (in.recording) {
    ImGui::SameLine();
    ImGui::TextColored(ImVec4(1.f, 0.25f, 0.25f, 1.f), "REC");
    if (ImGui::IsItemHovered())
      ImGui::SetTooltip(in.recording_video_time
                            ? "clip time = video time (1 s of video = 1 s of clip at any "
                              "playback speed);\na paused frame lasts as long as it is on screen"
                            : "clip time = wall-clock time");
  }
  if (!msg.empty()) {
    const float w = ImGui::CalcTextSize(msg.c_str()).x;
    ImGui::SameLine(std::max(ImGui::GetCursorPosX() + 20.f, ImGui::GetWindowWidth() - w - 16.f));
    if (!in.status.empty())
      ImGui::TextColored(ImVec4(1.f, 0.6f, 0.3f, 1.f), "%s", msg.c_str());
    else
      ImGui::TextUnformatted(msg.c_str());
  }
  ImGui::EndMainMenuBar();
}

void refresh_browser(UiState& state) {
  if (!state.browse_dirty) return;
  if (state.browse_dir.empty() && !state.recent_folders.empty())
    state.browse_dir = state.recent_folders.front();
  state.browse = list_folder(state.browse_dir, state.browse_filter);
  state.browse_dir = state.browse.dir;
  state.browse_dirty = false;
}

void browse_activate(UiState& state, ActionQueue& actions, const BrowseEntry& entry) {
  const std::string path = (std::filesystem::path(state.browse.dir) / entry.name).string();
  switch (entry.kind) {
    case BrowseKind::Folder:
      state.browse_dir = path;
      state.browse_dirty = true;
      break;
    case BrowseKind::Model:
      state.open_model_text = path;
      actions.push(Action::Kind::OpenModel, 0, path);
      break;
    case BrowseKind::Image:
    case BrowseKind::Video:
    case BrowseKind::Other:
      state.open_input_text = path;
      actions.push(Action::Kind::OpenInput, 0, path);
      break;
  }
}

namespace {

std::string size_text(uintmax_t bytes) {
  char buf[32];
  if (bytes >= (uintmax_t{1} << 30))
    std::snprintf(buf, sizeof buf, "%.1f GB", static_cast<double>(bytes) / (1 << 30));
  else if (bytes >= (uintmax_t{1} << 20))
    std::snprintf(buf, sizeof buf, "%.1f MB", static_cast<double>(bytes) / (1 << 20));
  else if (bytes >= 1024)
    std::snprintf(buf, sizeof buf, "%.0f kB", static_cast<double>(bytes) / 1024);
  else
    std::snprintf(buf, sizeof buf, "%ju B", bytes);
  return buf;
}

const char* kind_tag(BrowseKind k) {
  switch (k) {
    case BrowseKind::Folder:
      return "folder";
    case BrowseKind::Model:
      return "model";
    case BrowseKind::Image:
      return "image";
    case BrowseKind::Video:
      return "video";
    case BrowseKind::Other:
      return "";
  }
  return "";
}

// The browser under the two fields: where, filter, recent folders, then the folder's entries.
void draw_browser(UiState& state, ActionQueue& actions) {
  refresh_browser(state);
  if (ImGui::Button("Up")) {
    state.browse_dir = parent_folder(state.browse.dir);
    state.browse_dirty = true;
  }
  ImGui::SameLine();
  char dir[1024];
  std::snprintf(dir, sizeof dir, "%s", state.browse_dir.c_str());
  ImGui::SetNextItemWidth(-250.f);
  if (ImGui::InputText("##browse_dir", dir, sizeof dir, ImGuiInputTextFlags_EnterReturnsTrue)) {
    state.browse_dir = dir;
    state.browse_dirty = true;
  }
  ImGui::SameLine();
  ImGui::SetNextItemWidth(90);
  if (ImGui::BeginCombo("##browse_filter", browse_filter_name(state.browse_filter))) {
    for (BrowseFilter f :
         {BrowseFilter::All, BrowseFilter::Models, BrowseFilter::Images, BrowseFilter::Videos})
      if (ImGui::Selectable(browse_filter_name(f), f == state.browse_filter)) {
        state.browse_filter = f;
        state.browse_dirty = true;
      }
    ImGui::EndCombo();
  }
  ImGui::SameLine();
  ImGui::SetNextItemWidth(-1);
  if (ImGui::BeginCombo("##recent_folders", "recent folders")) {
    if (state.recent_folders.empty()) ImGui::TextDisabled("none yet");
    for (const std::string& f : state.recent_folders)
      if (ImGui::Selectable(f.c_str())) {
        state.browse_dir = f;
        state.browse_dirty = true;
      }
    ImGui::EndCombo();
  }
  if (!state.browse.error.empty()) ImGui::TextColored(ImVec4(1, 0.5f, 0.3f, 1), "%s", state.browse.error.c_str());
  ImGui::BeginChild("##entries", ImVec2(0, 240), true);
  const BrowseEntry* clicked = nullptr;
  for (const BrowseEntry& e : state.browse.entries) {
    const bool folder = e.kind == BrowseKind::Folder;
    const std::string label = folder ? e.name + "/" : e.name;
    ImGui::PushID(e.name.c_str());
    if (ImGui::Selectable(label.c_str(), false, ImGuiSelectableFlags_SpanAllColumns))
      clicked = &e;
    if (ImGui::IsItemHovered() && !folder)
      ImGui::SetTooltip("click: open as %s", e.kind == BrowseKind::Model ? "the model" : "the input");
    if (!folder) {
      ImGui::SameLine(std::max(220.f, ImGui::GetWindowContentRegionMax().x - 150.f));
      ImGui::TextDisabled("%-6s %10s", kind_tag(e.kind), size_text(e.size).c_str());
    }
    ImGui::PopID();
  }
  if (state.browse.entries.empty() && state.browse.error.empty())
    ImGui::TextDisabled("nothing here to open (filter: %s)", browse_filter_name(state.browse_filter));
  ImGui::EndChild();
  if (state.browse.hidden > 0)
    ImGui::TextDisabled("%zu other entries hidden (filter, dot files)", state.browse.hidden);
  ImGui::SameLine();
  if (ImGui::SmallButton("Refresh")) state.browse_dirty = true;
  ImGui::SameLine();
  if (ImGui::SmallButton("Open this folder as input")) {
    state.open_input_text = state.browse.dir;
    actions.push(Action::Kind::OpenInput, 0, state.browse.dir);
  }
  if (clicked) browse_activate(state, actions, BrowseEntry(*clicked));
}

}  // namespace

void draw_open_dialog(UiState& state, ActionQueue& actions, const PanelInputs& in) {
  ImGui::SetNextWindowSize(ImVec2(640, 0), ImGuiCond_Appearing);
  const ImVec2 disp = ImGui::GetIO().DisplaySize;
  ImGui::SetNextWindowPos(ImVec2(disp.x * 0.5f, disp.y * 0.12f), ImGuiCond_Appearing,
                          ImVec2(0.5f, 0));
  if (!ImGui::Begin("Open", &state.show_open, ImGuiWindowFlags_NoCollapse)) {
    ImGui::End();
    return;
  }
  auto field = [&](const char* label, std::string& text, std::vector<std::string>& recent,
                   Action::Kind kind, const char* hint) {
    ImGui::TextUnformatted(label);
    char buf[1024];
    std::snprintf(buf, sizeof buf, "%s", text.c_str());
    ImGui::SetNextItemWidth(-70.f);
    const bool enter = ImGui::InputTextWithHint((std::string("##") + label).c_str(), hint, buf,
                                                sizeof buf, ImGuiInputTextFlags_EnterReturnsTrue);
    text = buf;
    ImGui::SameLine();
    if ((ImGui::Button((std::string("Open##") + label).c_str()) || enter) && !text.empty())
      actions.push(kind, 0, text);
    if (!recent.empty()) {
      ImGui::SetNextItemWidth(-70.f);
      if (ImGui::BeginCombo((std::string("##recent") + label).c_str(), "recent")) {
        for (const std::string& r : recent) {
          ImGui::PushID(r.c_str());
          if (ImGui::Selectable(r.c_str())) {
            text = r;
            actions.push(kind, 0, r);
          }
          ImGui::PopID();
        }
        ImGui::EndCombo();
      }
    }
  };
  field("Model (TorchScript .pt)", state.open_model_text, state.recent_models,
        Action::Kind::OpenModel, "path/to/model.pt");
  field("Input", state.open_input_text, state.recent_inputs, Action::Kind::OpenInput,
        "image, folder, video, webcam:0, synthetic[:seed]");
  // Where an open stands: "loading ...", or why it failed (the dialog stays open then).
  if (!in.status.empty()) ImGui::TextColored(ImVec4(1.f, 0.6f, 0.3f, 1.f), "%s", in.status.c_str());
  ImGui::Separator();
  ImGui::TextUnformatted("Browse");
  draw_browser(state, actions);
  ImGui::End();
}

void draw_help(UiState& state) {
  const ImVec2 disp = ImGui::GetIO().DisplaySize;
  ImGui::SetNextWindowPos(ImVec2(disp.x * 0.5f, disp.y * 0.5f), ImGuiCond_Always,
                          ImVec2(0.5f, 0.5f));
  ImGui::SetNextWindowBgAlpha(0.92f);
  if (ImGui::Begin("Shortcuts (F1)", &state.show_help,
                   ImGuiWindowFlags_AlwaysAutoResize | ImGuiWindowFlags_NoCollapse |
                       ImGuiWindowFlags_NoMove)) {
    if (ImGui::BeginTable("keys", 2, ImGuiTableFlags_RowBg | ImGuiTableFlags_BordersInnerV)) {
      for (const Shortcut& s : shortcuts()) {
        ImGui::TableNextRow();
        ImGui::TableNextColumn();
        ImGui::TextUnformatted(s.name);
        ImGui::TableNextColumn();
        ImGui::TextUnformatted(s.description);
      }
      ImGui::EndTable();
    }
    ImGui::TextDisabled("Viewport: wheel zooms, drag pans, hover reads the map value.");
    ImGui::TextDisabled("Channels: click a tile to open it large.");
    ImGui::TextDisabled("Escape closes menus, lists and dialogs; Ctrl+Q or the close button quits.");
  }
  ImGui::End();
}

}  // namespace camscope::ui
