#include "app/settings.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>

#include "util/json.h"
#include "util/log.h"

namespace camscope::app {

std::string settings_path() {
  const char* xdg = std::getenv("XDG_CONFIG_HOME");
  if (xdg && *xdg) return std::string(xdg) + "/camscope/settings.json";
  const char* home = std::getenv("HOME");
  if (home && *home) return std::string(home) + "/.config/camscope/settings.json";
  return "";
}

void remember_recent(std::vector<std::string>& list, const std::string& item) {
  if (item.empty()) return;
  list.erase(std::remove(list.begin(), list.end(), item), list.end());
  list.insert(list.begin(), item);
  if (list.size() > 8) list.resize(8);
}

void load_settings(const std::string& path, ui::UiState& s, int* window_w, int* window_h) {
  if (path.empty() || !std::filesystem::exists(path)) return;
  try {
    const Json j = read_json_file(path);
    auto get = [&](const char* key, auto& out) {
      if (j.contains(key)) out = j.at(key).get<std::decay_t<decltype(out)>>();
    };
    std::string cmap = render::colormap_name(s.colormap);
    get("colormap", cmap);
    s.colormap = render::parse_colormap(cmap);
    get("alpha", s.alpha);
    s.alpha = std::clamp(s.alpha, 0.f, 1.f);
    get("threshold", s.threshold);
    s.threshold = std::clamp(s.threshold, 0.f, 1.f);
    get("overlay", s.show_overlay);
    get("show_grid", s.show_grid);
    get("method", s.params.method);
    std::string sort = grid_sort_name(s.params.grid_sort);
    get("grid_sort", sort);
    s.params.grid_sort = parse_grid_sort(sort);
    get("grid_top_k", s.params.grid_top_k);
    s.params.grid_top_k = std::max(0, s.params.grid_top_k);
    get("speed", s.playback.speed);
    get("loop", s.playback.loop);
    get("playback_wait", s.playback.wait);
    get("map_only", s.map_only);
    get("clip_percent", s.clip_percent);
    s.clip_percent = std::clamp(s.clip_percent, 0.f, 50.f);
    get("recent_folders", s.recent_folders);
    get("compare_methods", s.compare_methods);
    if (s.compare_methods.size() > 5) s.compare_methods.resize(5);
    get("recent_models", s.recent_models);
    get("recent_inputs", s.recent_inputs);
    if (j.contains("layout")) {
      const Json& l = j.at("layout");
      // Pixel widths of older versions (left_width, right_width) are ignored: clamped to a
      // small window once, they stayed small forever.
      s.layout.left_fraction = l.value("left_fraction", s.layout.left_fraction);
      s.layout.right_fraction = l.value("right_fraction", s.layout.right_fraction);
      s.layout.timeline_height = l.value("timeline_height", s.layout.timeline_height);
      s.layout.layers_fraction = l.value("layers_fraction", s.layout.layers_fraction);
      s.layout.channels_fraction = l.value("channels_fraction", s.layout.channels_fraction);
    }
    if (window_w && window_h && j.contains("window")) {
      const int w = j.at("window").value("width", 0), h = j.at("window").value("height", 0);
      if (w >= 320 && h >= 240 && w <= 16384 && h <= 16384) {
        *window_w = w;
        *window_h = h;
      }
    }
  } catch (const std::exception& e) {
    log::warn("ignoring settings in " + path + ": " + e.what());
  }
}

void save_settings(const std::string& path, const ui::UiState& s, int window_w, int window_h) {
  if (path.empty()) return;
  Json j;
  j["colormap"] = render::colormap_name(s.colormap);
  j["alpha"] = s.alpha;
  j["threshold"] = s.threshold;
  j["overlay"] = s.show_overlay;
  j["show_grid"] = s.show_grid;
  j["method"] = s.params.method;
  j["grid_sort"] = grid_sort_name(s.params.grid_sort);
  j["grid_top_k"] = s.params.grid_top_k;
  j["speed"] = s.playback.speed;
  j["loop"] = s.playback.loop;
  j["playback_wait"] = s.playback.wait;
  j["map_only"] = s.map_only;
  j["clip_percent"] = s.clip_percent;
  j["recent_folders"] = s.recent_folders;
  j["compare_methods"] = s.compare_methods;
  j["recent_models"] = s.recent_models;
  j["recent_inputs"] = s.recent_inputs;
  j["layout"] = {{"left_fraction", s.layout.left_fraction},
                 {"right_fraction", s.layout.right_fraction},
                 {"timeline_height", s.layout.timeline_height},
                 {"layers_fraction", s.layout.layers_fraction},
                 {"channels_fraction", s.layout.channels_fraction}};
  j["window"] = {{"width", window_w}, {"height", window_h}};
  try {
    std::filesystem::create_directories(std::filesystem::path(path).parent_path());
    write_json_file(path, j);
  } catch (const std::exception& e) {
    log::warn("could not save settings to " + path + ": " + e.what());
  }
}

}  // namespace camscope::app
