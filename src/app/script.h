#pragma once
// `--script FILE`: UI commands, one per line, that drive a viewer session the way a user
// would (tests, demos, reproducible screenshots). `#` starts a comment. Commands:
//   wait_result [SECONDS]      render until the current request's result is on screen
//   frames N                   render N frames
//   sleep SECONDS              wait that long (drawing only what changes, as a user's idle)
//   wait_file PATH [SECONDS]   wait until PATH exists (tests driving a window from outside)
//   select_layer PATH | layer PATH     method NAME     target INDEX|top1
//   sort_grid index|activation|weight  top_k N (0 = all)   toggle_grid   open_channel N|none
//   seek N   step +N|-N   play   pause   speed X   loop on|off
//   colormap NAME   alpha X   threshold X   zoom X   overlay on|off
//   key NAME                   press a shortcut (space, left, right, [, ], m, g, t, s, f1...)
//   open_model PATH   open_input SPEC   sanity [SECONDS|start]  (start: do not wait)
//   screenshot [PATH]   record_start [PATH]   record_stop   (no PATH: the captures folder)
//   map_only on|off   channel_on_frame N|off   clip PERCENT (pixel-space maps; 0 = off)
//   compare on|off   compare_methods a,b,c (1..5 beside the main one)   metrics on|off
//   optvis channel N [STEPS] | optvis class K [STEPS]   feature visualization (Visualize tab)
//   optvis_settings SIZE BATCH on|off [SEED]   (on: accentuate, start from the frame)
//   wait_optvis [SECONDS]   save_optvis [PATH]
//   playback_wait on|off       playback waits for every result (on) or skips frames (off)
//   browse DIR   browse_filter all|models|images|videos   browse_open NAME   (the file browser
//                              of the Open dialog: list DIR, filter, open an entry by name)
//   tab timings|stats|model|se|filters|sanity    show a tab of the details panel
//   print_state   reset_frame_stats   print_frame_stats   quit
// print_frame_stats reports, since reset_frame_stats: redraws, redraw bursts (by the reason
// that started each: input, result, state, script, playback...), wall and process CPU time.
//   wait_progress [SECONDS]    until a long computation (scorecam, smoothgrad, intgrad, sanity)
//                              has finished its first batch
//   wait_idle [SECONDS]        until no long computation is running (finished or stopped)
//   cancel                     the Cancel button: stop the long computation in progress
//   retry                      the Retry button: compute again what Cancel stopped
//   window_size W H            resize the (headless) window
//   drag X0 Y0 X1 Y1           left-button drag with the mouse, in window pixels (headless)
#include <string>
#include <vector>

namespace camscope::app {

struct ScriptCommand {
  int line = 0;
  std::string name;
  std::vector<std::string> args;
  std::string where() const;  // "script line N"
};

// Parses and checks names and argument counts; throws camscope::Error naming the file and line
// ("FILE:3: unknown script command 'selct_layer' (did you mean select_layer?)").
std::vector<ScriptCommand> parse_script(const std::string& path);
std::vector<ScriptCommand> parse_script_text(const std::string& text, const std::string& name);

}  // namespace camscope::app
