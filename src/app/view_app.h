#pragma once
// The interactive viewer: the render loop on the GL thread (window or headless, same code),
// wired to the Pipeline (capture + inference threads) and the ImGui panels. Each display frame
// it picks up the newest result without waiting, uploads it once, draws the panels, carries
// out the actions they (or the keyboard, or a --script) asked for, and forwards changed
// requests to the pipeline.
#include <string>

#include "app/pipeline.h"
#include "render/gl_context.h"
#include "ui/ui_state.h"

namespace camscope::app {

struct ViewOptions {
  PipelineOptions pipeline;
  ViewParams params;  // initial layer/method/target (CLI)
  gl::ContextOptions window;
  bool size_given = false;  // --size: do not take the window size from the settings
  bool headless = false;
  int frames = -1;            // headless without script: frames after the first result
  std::string screenshot;     // written after the last frame (headless)
  std::string script;         // --script FILE
  bool force = false;         // overwrite existing screenshot/record files
  std::string settings_file;  // "" = no persistence
  // Where screenshots and recordings without a given name go (created on first use):
  // --captures, else $CAMSCOPE_CAPTURES, else ~/Pictures/camscope. See captures_dir().
  std::string captures;
  // CLI display overrides (applied over the settings file).
  std::string colormap;
  float alpha = -1.f;
  float threshold = -1.f;
  int play = -1;  // -1: play unless headless; 0 paused; 1 playing
};

// Runs until the window closes, the script ends (quit) or `frames` are rendered. Returns the
// exit status; user errors throw camscope::Error.
int run_view(const ViewOptions& opt);

// The captures folder for a --captures value ("" = $CAMSCOPE_CAPTURES, else
// $HOME/Pictures/camscope, else ./camscope-captures), as an absolute path.
std::string captures_dir(const std::string& given);

}  // namespace camscope::app
