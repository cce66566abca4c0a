#pragma once
// Viewer settings that persist between runs: display options, grid order, playback, panel
// layout and recently opened files, in $XDG_CONFIG_HOME/camscope/settings.json (else
// ~/.config/camscope/settings.json). Model-specific choices (layer, target) are not kept: they
// mean nothing for another model.
#include <string>

#include "ui/ui_state.h"

namespace camscope::app {

// "" when neither XDG_CONFIG_HOME nor HOME is set.
std::string settings_path();
// Applies what the file holds onto `state`; a missing file changes nothing. A malformed file
// is reported with one warning line and ignored (it is not the user's input to this run).
void load_settings(const std::string& path, ui::UiState& state, int* window_w, int* window_h);
// Writes atomically, creating the folder. Failures are reported with one warning line.
void save_settings(const std::string& path, const ui::UiState& state, int window_w, int window_h);
// Puts `item` first in `list`, without duplicates, at most 8 entries.
void remember_recent(std::vector<std::string>& list, const std::string& item);

}  // namespace camscope::app
