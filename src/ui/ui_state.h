#pragma once
// What the panels read and write. UiState is owned by the GL thread: panels edit the viewer's
// wishes in place (layer, method, target, display options, playback), and actions the app must
// carry out (screenshot, open a file, run the sanity check...) go into an ActionQueue. The app
// compares the wishes with the pipeline's request each frame; panels never call the model.
#include <cstdint>
#include <deque>
#include <string>
#include <vector>

#include "app/frame_result.h"
#include "render/colormap.h"
#include "util/browse.h"

namespace camscope::ui {

struct Layout {  // panel sizes, persisted in the settings file
  // Side columns as fractions of the window width. Each frame they are turned into pixels and
  // clamped to what the window allows (kept at least ~160 px, at most 40% each) without
  // changing the fractions, so a window that was once small does not shrink a large one.
  float left_fraction = 0.26f, right_fraction = 0.28f;
  float timeline_height = 96.f;     // pixels (clamped to half the height on use)
  float layers_fraction = 0.58f;    // of the left column, the rest is the method panel
  float channels_fraction = 0.52f;  // of the right column, the rest is timings/inspect
};

struct Playback {
  bool playing = false;
  bool loop = true;
  float speed = 1.f;
  double position = 0;  // fractional frame index while playing
  int64_t wanted = 0;   // the frame to show (seekable sources)
  // When results come slower than the video: false = keep time and skip frames (said in the
  // timeline), true = wait for each frame's result (every frame shown, slower than real time).
  bool wait = false;
};

struct UiState {
  app::ViewParams params;  // what to compute (layer, method, target, grid order)
  bool target_locked = false;
  std::string class_filter;  // the target picker's search text

  // Viewport display.
  render::Colormap colormap = render::Colormap::Jet;
  float alpha = 0.5f;
  float threshold = 0.f;
  bool show_overlay = true;
  bool map_only = false;          // the heatmap alone on black (key V)
  bool channel_on_frame = false;  // the opened channel laid over the frame instead of the map
  float clip_percent = 2.f;       // pixel-space methods: the top 2 % saturate (0 = off)
  // Compare view: the main method and these side by side on the same frame (2-6 maps),
  // synchronized zoom / pan / hover, with their pairwise rank correlation.
  bool compare = false;
  std::vector<std::string> compare_methods{"gradcampp", "layercam", "hirescam"};
  bool metrics = false;  // faithfulness metrics per frame (Inspect > Metrics)
  bool hist_log = true;           // histograms: log10(1 + count), so the tails are visible
  app::OptvisParams optvis;       // the Visualize tab's settings (steps, size, batch...)
  bool optvis_pending = false;    // the channel panel's "visualize": run it for optvis.channel
  float zoom = 1.f;            // 1 = fit
  float pan_x = 0, pan_y = 0;  // centre offset in frame pixels

  bool show_grid = true;
  int open_channel = -1;  // channel shown large, -1 none
  bool show_help = false;
  bool se_tab_visible = false;  // set while drawing: the worker reads SE gates only then
  bool show_open = false;
  // Tab request ("timings", "stats", "model", "se", "filters", "sanity") from scripts, held
  // for a few frames because nested tab bars switch one frame after another.
  std::string select_tab;
  int select_tab_frames = 0;

  Playback playback;
  Layout layout;

  std::vector<std::string> recent_models, recent_inputs;
  std::string open_model_text, open_input_text;

  // The Open dialog's file browser: the folder shown (absolute; "" = start at the newest recent
  // folder, else the working directory), its filter, folders that held opened files, and the
  // listing, re-read when the folder or filter changes (browse_dirty) or on Refresh.
  std::string browse_dir;
  BrowseFilter browse_filter = BrowseFilter::All;
  std::vector<std::string> recent_folders;
  BrowseListing browse;
  bool browse_dirty = true;
};



// A key press (or auto-repeat) as the window reported it: GLFW key code and modifier bits.
struct KeyPress {
  int key = 0;
  int mods = 0;
  bool repeat = false;
};

struct Action {
  enum class Kind {
    Seek,          // value: frame index
    Step,          // value: +1 / -1
    OpenModel,     // text: path
    OpenInput,     // text: source spec
    Screenshot,    // text: path ("" = automatic name)
    ToggleRecord,  // text: path ("" = automatic name)
    RunSanity,
    RunOptvis,   // value: channel of the selected layer, or -1 for the target class
    SaveOptvis,  // text: path ("" = the captures folder)
    Cancel,  // stop the long computation in progress
    Retry,   // compute again what Cancel stopped
    Quit,
  };
  Kind kind;
  int64_t value = 0;
  std::string text;
};

class ActionQueue {
 public:
  void push(Action::Kind k, int64_t value = 0, std::string text = {}) {
    m_actions.push_back(Action{k, value, std::move(text)});
  }
  bool empty() const { return m_actions.empty(); }
  bool pop(Action& out) {
    if (m_actions.empty()) return false;
    out = std::move(m_actions.front());
    m_actions.pop_front();
    return true;
  }

 private:
  std::deque<Action> m_actions;
};

// Re-reads the browser's folder when it changed (ui/panels_layout.cpp).
void refresh_browser(UiState& state);
// What clicking an entry does: a folder is entered; a model or an input is put into its field
// and opened (the dialog closes when the open succeeds).
void browse_activate(UiState& state, ActionQueue& actions, const BrowseEntry& entry);

}  // namespace camscope::ui
