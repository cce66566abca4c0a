#include "app/script.h"

#include <sstream>

#include "util/args.h"
#include "util/error.h"
#include "util/fs.h"

namespace camscope::app {
namespace {

struct Arity {
  const char* name;
  int min_args, max_args;
};
constexpr Arity kCommands[] = {
    {"wait_result", 0, 1},
    {"frames", 1, 1},
    {"sleep", 1, 1},
    {"wait_file", 1, 2},
    {"select_layer", 1, 1},
    {"layer", 1, 1},
    {"method", 1, 1},
    {"target", 1, 1},
    {"sort_grid", 1, 1},
    {"top_k", 1, 1},
    {"toggle_grid", 0, 0},
    {"open_channel", 1, 1},
    {"seek", 1, 1},
    {"step", 1, 1},
    {"play", 0, 0},
    {"pause", 0, 0},
    {"speed", 1, 1},
    {"loop", 1, 1},
    {"colormap", 1, 1},
    {"alpha", 1, 1},
    {"threshold", 1, 1},
    {"zoom", 1, 1},
    {"overlay", 1, 1},
    {"key", 1, 1},
    {"open_model", 1, 1},
    {"open_input", 1, 1},
    {"sanity", 0, 1},
    {"screenshot", 0, 1},
    {"save_overlay", 1, 1},
    {"record_start", 0, 1},
    {"record_stop", 0, 0},
    {"print_state", 0, 0},
    {"reset_frame_stats", 0, 0},
    {"print_frame_stats", 0, 0},
    {"tab", 1, 1},
    {"quit", 0, 0},
    {"wait_progress", 0, 1},
    {"wait_idle", 0, 1},
    {"cancel", 0, 0},
    {"retry", 0, 0},
    {"window_size", 2, 2},
    {"drag", 4, 4},
    {"map_only", 1, 1},
    {"channel_on_frame", 1, 1},
    {"clip", 1, 1},
    {"playback_wait", 1, 1},
    {"browse", 1, 1},
    {"optvis", 2, 3},
    {"compare", 1, 1},
    {"compare_methods", 1, 1},
    {"metrics", 1, 1},
    {"wait_optvis", 0, 1},
    {"save_optvis", 0, 1},
    {"optvis_settings", 3, 4},
    {"browse_filter", 1, 1},
    {"browse_open", 1, 1},
};

}  // namespace

std::string ScriptCommand::where() const {
  return "script line " + std::to_string(line);
}

std::vector<ScriptCommand> parse_script_text(const std::string& text, const std::string& name) {
  std::vector<ScriptCommand> out;
  std::istringstream in(text);
  std::string line;
  int n = 0;
  std::vector<std::string> names;
  for (const Arity& a : kCommands) names.push_back(a.name);
  while (std::getline(in, line)) {
    ++n;
    const auto hash = line.find('#');
    if (hash != std::string::npos) line.resize(hash);
    std::istringstream words(line);
    ScriptCommand c;
    c.line = n;
    if (!(words >> c.name)) continue;
    for (std::string w; words >> w;) c.args.push_back(w);
    const Arity* a = nullptr;
    for (const Arity& k : kCommands)
      if (c.name == k.name) a = &k;
    const std::string at = name + ":" + std::to_string(n) + ": ";
    if (!a) {
      std::string hint;
      auto near = closest(c.name, names, 1);
      if (!near.empty()) hint = " (did you mean " + near.front() + "?)";
      throw Error(at + "unknown script command '" + c.name + "'" + hint);
    }
    const int k = static_cast<int>(c.args.size());
    if (k < a->min_args || k > a->max_args)
      throw Error(at + "'" + c.name + "' takes " +
                  (a->min_args == a->max_args
                       ? std::to_string(a->min_args)
                       : std::to_string(a->min_args) + " to " + std::to_string(a->max_args)) +
                  " argument(s), got " + std::to_string(k));
    out.push_back(std::move(c));
  }
  return out;
}

std::vector<ScriptCommand> parse_script(const std::string& path) {
  if (!file_exists(path)) throw Error(path + ": no such script file");
  return parse_script_text(read_text_file(path), path);
}

}  // namespace camscope::app
