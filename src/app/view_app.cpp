#include "app/view_app.h"

#include <imgui.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cfloat>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <deque>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <numeric>
#include <thread>
#include <tuple>
#include <utility>
#include <vector>

#include "app/recorder.h"
#include "app/script.h"
#include "app/settings.h"
#include "render/gl.h"
#include "ui/imgui_layer.h"
#include "ui/panels.h"
#include "ui/result_textures.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/image_io.h"
#include "util/json.h"
#include "util/log.h"

namespace camscope::app {
namespace {

using Clock = std::chrono::steady_clock;
double ms_between(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}
double seconds_between(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

// Redraw policy. The loop draws only when something changed; after an input event it draws a
// few frames more (ImGui settles hover, popups and layout one frame after the input), and
// never faster than kMaxFps without vsync (Xvfb, llvmpipe). When nothing changed it sleeps in
// wait_events(): window events, the pipeline's publish callback or a deadline wake it.
constexpr int kSettleFrames = 3;
constexpr double kMaxFps = 120.0;
constexpr double kIdleWakeS = 0.25;       // the longest sleep (to notice SIGINT/SIGTERM)
constexpr double kTextCursorBlinkS = 0.5;  // a focused text field still blinks its cursor

// SIGINT / SIGTERM end the loop like the close button (a recording is finished properly).
volatile std::sig_atomic_t g_quit_signal = 0;
extern "C" void on_quit_signal(int) { g_quit_signal = 1; }

// Process CPU time, all threads (the worker's, llvmpipe's, the GL thread's).
double cpu_seconds() {
  rusage ru{};
  ::getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1e-6;
}

std::string absolute_path(const std::string& p) {
  std::error_code ec;
  const std::filesystem::path a = std::filesystem::absolute(p, ec);
  return ec ? p : a.lexically_normal().string();
}

// A new file name in `dir` (created when missing): PREFIX + date and time + EXT.
std::string timestamped(const std::string& dir, const char* prefix, const char* ext) {
  std::error_code ec;
  if (!dir.empty()) std::filesystem::create_directories(dir, ec);
  if (ec) throw Error("cannot create the captures folder " + dir + ": " + ec.message());
  char buf[64];
  std::time_t t = std::time(nullptr);
  std::strftime(buf, sizeof buf, "%Y%m%d_%H%M%S", std::localtime(&t));
  std::string base = (std::filesystem::path(dir) / (std::string(prefix) + buf)).string();
  std::string path = base + ext;
  for (int i = 2; file_exists(path); ++i) path = base + "_" + std::to_string(i) + ext;
  return path;
}

long rss_kib() {
  std::ifstream f("/proc/self/statm");
  long pages_total = 0, pages_rss = 0;
  f >> pages_total >> pages_rss;
  return pages_rss * (::sysconf(_SC_PAGESIZE) / 1024);
}

bool parse_on_off(const ScriptCommand& c) {
  const std::string& v = c.args.at(0);
  if (v == "on" || v == "1" || v == "true") return true;
  if (v == "off" || v == "0" || v == "false") return false;
  throw Error(c.where() + ": " + c.name + " expects on or off, got '" + v + "'");
}

double parse_number(const ScriptCommand& c, size_t i = 0) {
  const std::string& v = c.args.at(i);
  char* end = nullptr;
  const double d = std::strtod(v.c_str(), &end);
  if (end == v.c_str() || *end || !std::isfinite(d))
    throw Error(c.where() + ": " + c.name + " expects a number, got '" + v + "'");
  return d;
}

int64_t parse_integer(const ScriptCommand& c, size_t i = 0) {
  const double d = parse_number(c, i);
  if (d != std::floor(d)) throw Error(c.where() + ": " + c.name + " expects an integer");
  return static_cast<int64_t>(d);
}

// The render loop and everything it owns. GL thread only.
class ViewSession {
 public:
  explicit ViewSession(const ViewOptions& opt);
  ~ViewSession();
  int run();

 private:
  enum class Wait { None, Frames, Result, Sanity, Optvis, FirstResult, Sleep, File, Mouse, Progress, Idle };
  // Why the next redraw happens (the first reason since the last redraw).
  enum class Why { None, Start, Input, Result, State, Script, Playback, TextCursor };
  static const char* why_name(Why w);

  int loop();
  void redraw(Clock::time_point t0);
  // Asks for `frames` redraws (at least one) for reason `w`.
  void mark(Why w, int frames = 1);
  // Marks a redraw when the result, status or other things the panels show changed.
  void check_changes();
  double idle_timeout(Clock::time_point now) const;
  bool playing_seekable() const {
    return m_state.playback.playing && !m_source.live && m_source.seekable;
  }

  void refresh_model_info();
  void tick_playback(double dt);
  std::string playback_note() const;
  void remember_folder_of(const std::string& path);
  void sync_requests();
  void perform(const ui::Action& a, bool from_script);
  void run_script();
  bool script_waiting();
  void execute(const ScriptCommand& c);
  void screenshot(const std::string& path, bool from_script);
  void save_optvis(const std::string& path, bool from_script);
  void save_overlay(const std::string& path);
  void toggle_record(const std::string& path, bool from_script);
  void record_tick(bool redrawn);
  double clock_s() const;
  bool source_timed() const;
  Json state_json() const;
  Json frame_stats_json() const;
  void fill_inputs();

  // What the panels show that can change without an input event; compared each loop turn.
  struct Shown {
    uint64_t result_serial = 0, sanity_generation = 0, source_generation = 0;
    uint64_t optvis_generation = 0, metrics_generation = 0;
    const ModelInfo* model = nullptr;
    int64_t wanted = -1;  // -1 while playing: results, not the clock, redraw playback
    bool playing = false, recording = false;
    capture::SourceState source_state = capture::SourceState::Ok;
    std::string status, message;
    std::string activity;  // only before the first result: the waiting line's text
    uint64_t job_id = 0;  // a long computation's progress line
    int64_t job_done = 0;
    bool job_running = false, job_cancelled = false;
    auto tie() const {
      return std::tie(result_serial, sanity_generation, optvis_generation, metrics_generation,
                      source_generation, model, wanted, playing,
                      recording, source_state, status, message, activity, job_id, job_done,
                      job_running, job_cancelled);
    }
    bool operator!=(const Shown& o) const { return tie() != o.tie(); }
  };

  const ViewOptions& m_opt;
  std::unique_ptr<Pipeline> m_pipeline;
  std::unique_ptr<gl::Context> m_ctx;
  std::unique_ptr<ui::ImGuiLayer> m_imgui;
  std::unique_ptr<ui::ResultTextures> m_textures;
  ui::UiState m_state;
  ui::ActionQueue m_actions;
  ui::PanelInputs m_in;
  ui::ViewportGeometry m_geo;
  std::shared_ptr<const FrameResult> m_result;
  std::shared_ptr<const ModelInfo> m_model;
  capture::SourceInfo m_source;
  uint64_t m_source_generation = 0;
  uint64_t m_sanity_generation = ~0ull;
  uint64_t m_optvis_generation = ~0ull;
  uint64_t m_metrics_generation = ~0ull;
  bool m_metrics_sent = false;
  ViewParams m_sent_params;
  int64_t m_sent_wanted = -1;
  std::string m_message;
  bool m_quit = false;
  // Opens asked for and not yet seen to succeed: only successful ones go into Recent.
  std::string m_pending_model, m_pending_input;

  // Script.
  std::vector<ScriptCommand> m_script;
  size_t m_pc = 0;
  Wait m_wait = Wait::None;
  int64_t m_wait_frames = 0;
  Clock::time_point m_wait_deadline;
  const ScriptCommand* m_wait_cmd = nullptr;
  std::string m_wait_file;
  // Scripted mouse (drag): one step per frame, applied before ImGui's frame starts.
  struct MouseStep {
    float x, y;
    bool down;
  };
  std::vector<MouseStep> m_mouse;
  size_t m_mouse_pos = 0;

  // Recording and timing. Clip time of the last recorded image, and what it showed: video is
  // paced by source timestamps, live input (and a paused or re-drawn frame) by the clock.
  Recorder m_recorder;
  std::vector<uint8_t> m_record_buffer;
  std::string m_pending_overlay;  // save_overlay: written after this frame's texture update
  bool m_rec_timed = false;
  double m_rec_t = 0, m_rec_clock = 0, m_rec_pts = 0;
  int64_t m_rec_index = -1;
  uint64_t m_ticks = 0;  // loop iterations (the headless clock: 1/60 s each)
  Clock::time_point m_start = Clock::now();
  std::vector<float> m_frame_ms;  // CPU time per loop iteration, excluding present/vsync
  uint64_t m_stats_first_result = 0;
  double m_ui_fps = 0, m_result_fps = 0;
  uint64_t m_last_result_serial = 0;
  // Playback against slow results: frames skipped since play started, whether it is holding
  // for a result (wait mode), and the last result seen while playing.
  int64_t m_play_skipped = 0, m_play_last_index = -1;
  uint64_t m_play_seen_serial = 0;
  bool m_play_waiting = false, m_play_was_playing = false;
  Clock::time_point m_last_result_time = Clock::now();

  // Redraw scheduling and counters (exposed by print_state / print_frame_stats).
  Why m_why = Why::Start;
  int m_pending_frames = kSettleFrames;
  bool m_idle_waited = true;  // the loop slept with nothing to draw since the last redraw
  bool m_text_input = false;  // a text field had the keyboard in the last frame
  uint64_t m_seen_events = 0;
  Shown m_shown;
  std::vector<ui::KeyPress> m_keys;  // queued presses, applied in order by the next redraw
  uint64_t m_redraws = 0, m_bursts = 0;
  uint64_t m_presented = 0;     // redraws that drew and presented (the others matched)
  uint64_t m_seen_damage = 0;
  bool m_force_render = true;  // a redraw for another reason than input: always draw
  Clock::time_point m_last_redraw = Clock::now();
  std::deque<Clock::time_point> m_redraw_times;  // the last second's, for the display rate
  double m_slow_frame_ms = 0;                     // test hook: CAMSCOPE_TEST_SLOW_FRAME_MS
  Clock::time_point m_loop_stats_time;            // when the timings panel's copy was taken
  // Since reset_frame_stats.
  Clock::time_point m_stats_t0 = Clock::now();
  double m_stats_cpu0 = cpu_seconds();
  uint64_t m_stats_redraws = 0, m_stats_bursts = 0, m_stats_presented = 0;
  std::map<std::string, uint64_t> m_stats_bursts_by;
};

const char* ViewSession::why_name(Why w) {
  switch (w) {
    case Why::None:
      return "none";
    case Why::Start:
      return "start";
    case Why::Input:
      return "input";
    case Why::Result:
      return "result";
    case Why::State:
      return "state";
    case Why::Script:
      return "script";
    case Why::Playback:
      return "playback";
    case Why::TextCursor:
      return "text_cursor";
  }
  return "?";
}

ViewSession::ViewSession(const ViewOptions& opt) : m_opt(opt) {
  int win_w = opt.window.width, win_h = opt.window.height;
  if (!opt.settings_file.empty())
    load_settings(opt.settings_file, m_state, opt.size_given ? nullptr : &win_w,
                  opt.size_given ? nullptr : &win_h);
  // The CLI wins over the settings file.
  if (!opt.colormap.empty()) m_state.colormap = render::parse_colormap(opt.colormap);
  if (opt.alpha >= 0) m_state.alpha = opt.alpha;
  if (opt.threshold >= 0) m_state.threshold = opt.threshold;
  ViewParams params = opt.params;
  if (params.method.empty()) params.method = m_state.params.method;  // not on the command line
  params.grid_sort = m_state.params.grid_sort;
  params.grid_top_k = m_state.params.grid_top_k;
  if (!opt.script.empty()) m_script = parse_script(opt.script);

  // Model and input first: a bad path fails with one line before any window opens.
  m_pipeline = std::make_unique<Pipeline>(opt.pipeline, params);
  m_state.params = m_pipeline->params();
  m_sent_params = m_state.params;
  m_source = m_pipeline->source_info();
  m_state.playback.playing = opt.play < 0 ? !opt.headless && !m_source.live : opt.play == 1;
  remember_recent(m_state.recent_models,
                  opt.pipeline.model.empty() ? std::string() : opt.pipeline.model);
  remember_recent(m_state.recent_inputs, opt.pipeline.input);

  gl::ContextOptions wopt = opt.window;
  wopt.width = win_w;
  wopt.height = win_h;
  m_ctx = opt.headless ? gl::create_headless_context(wopt) : gl::create_window_context(wopt);
  m_imgui = std::make_unique<ui::ImGuiLayer>(*m_ctx);
  m_textures = std::make_unique<ui::ResultTextures>();
  m_frame_ms.reserve(1 << 16);
  m_in.gl.renderer = m_ctx->renderer();
  m_in.gl.bridge = m_textures->bridge().name();
  m_in.methods = available_methods();
  if (opt.headless && m_script.empty()) m_wait = Wait::FirstResult;
  m_wait_deadline = Clock::now() + std::chrono::seconds(180);
  if (const char* slow = std::getenv("CAMSCOPE_TEST_SLOW_FRAME_MS"))
    m_slow_frame_ms = std::clamp(std::atof(slow), 0.0, 10000.0);
  // The worker's publish callback wakes the GL thread from wait_events().
  m_pipeline->set_on_change([ctx = m_ctx.get()] { ctx->wake(); });
}

ViewSession::~ViewSession() {
  if (m_pipeline) m_pipeline->set_on_change(nullptr);  // before the context goes
  m_recorder.stop();
  if (!m_opt.settings_file.empty())
    save_settings(m_opt.settings_file, m_state, m_ctx ? m_ctx->width() : m_opt.window.width,
                  m_ctx ? m_ctx->height() : m_opt.window.height);
  // GL objects go before the context; the pipeline's threads stop last.
  m_textures.reset();
  m_imgui.reset();
  m_ctx.reset();
  m_pipeline.reset();
}

void ViewSession::refresh_model_info() {
  std::shared_ptr<const ModelInfo> info = m_pipeline->model_info();
  if (info != m_model) {
    const bool changed = m_model && info && info->generation != m_model->generation;
    m_model = info;
    if (changed) {
      m_state.params.layer.clear();
      m_state.params.target = -1;
      m_state.open_channel = -1;
      m_message = "opened " + info->path;
      remember_recent(m_state.recent_models, m_pending_model.empty() ? info->path : m_pending_model);
      remember_folder_of(info->path);
      m_pending_model.clear();
      m_state.show_open = false;  // the dialog's job is done
    }
    if (m_model) m_textures->update_filters(*m_model);
  }
  const uint64_t gen = m_pipeline->source_generation();
  if (gen != m_source_generation) {
    m_source = m_pipeline->source_info();
    if (m_source_generation != 0) {
      m_state.playback.wanted = 0;
      m_state.playback.position = 0;
      m_sent_wanted = 0;
      m_message = "opened " + m_source.uri;
      remember_recent(m_state.recent_inputs, m_pending_input.empty() ? m_source.uri : m_pending_input);
      remember_folder_of(m_pending_input.empty() ? m_source.uri : m_pending_input);
      m_pending_input.clear();
      m_state.show_open = false;
    }
    m_source_generation = gen;
  }
}

// The folder of an opened file (or the opened folder itself) goes into the browser's recent
// folders; webcams and synthetic inputs have none.
void ViewSession::remember_folder_of(const std::string& path) {
  std::error_code ec;
  const std::filesystem::path p = std::filesystem::absolute(path, ec);
  if (ec || !std::filesystem::exists(p, ec)) return;
  const std::filesystem::path dir = std::filesystem::is_directory(p, ec) ? p : p.parent_path();
  remember_recent(m_state.recent_folders, dir.lexically_normal().string());
}

void ViewSession::tick_playback(double dt) {
  ui::Playback& pb = m_state.playback;
  if (m_source.live || !m_source.seekable) return;
  if (pb.playing && !m_play_was_playing) {  // a new run of playback: count afresh
    m_play_skipped = 0;
    m_play_last_index = -1;
  }
  m_play_was_playing = pb.playing;
  m_play_waiting = false;
  if (pb.playing) {
    // Frames passed over between two results shown while playing: playback skipped them.
    const std::shared_ptr<const FrameResult> latest = m_pipeline->latest();
    if (latest && latest->serial != m_play_seen_serial) {
      m_play_seen_serial = latest->serial;
      if (m_play_last_index >= 0 && latest->frame_index > m_play_last_index + 1 &&
          latest->frame_index <= pb.wanted)
        m_play_skipped += latest->frame_index - m_play_last_index - 1;
      m_play_last_index = latest->frame_index;
    }
    if (pb.wait && !(latest && latest->frame_index == pb.wanted && m_pipeline->is_current(*latest))) {
      m_play_waiting = true;  // hold the position until this frame's result is on screen
      return;
    }
    const double fps = m_source.fps > 0 ? m_source.fps : 30.0;
    pb.position += dt * fps * pb.speed;
    // Waiting playback advances at most one frame per result: none is skipped.
    if (pb.wait) pb.position = std::min(pb.position, static_cast<double>(pb.wanted) + 1.0);
    const int64_t n = m_source.frame_count;
    if (n > 0 && pb.position >= static_cast<double>(n)) {
      if (pb.loop) {
        pb.position = std::fmod(pb.position, static_cast<double>(n));
        m_play_last_index = -1;
      } else {
        pb.position = static_cast<double>(n - 1);
        pb.playing = false;
      }
    }
    pb.wanted = static_cast<int64_t>(pb.position);
  } else {
    pb.position = static_cast<double>(pb.wanted);
  }
}

std::string ViewSession::playback_note() const {
  const ui::Playback& pb = m_state.playback;
  if (!playing_seekable()) return {};
  const double fps = (m_source.fps > 0 ? m_source.fps : 30.0) * pb.speed;
  char buf[200];
  if (pb.wait) {
    if (!m_play_waiting) return {};
    std::snprintf(buf, sizeof buf,
                  "waiting for each result (%.1f results/s; the video runs at %.3g fps)",
                  m_result_fps, fps);
  } else {
    if (m_play_skipped <= 0) return {};
    std::snprintf(buf, sizeof buf,
                  "skipping frames to keep time: %lld skipped (%.1f results/s, video %.3g fps)",
                  static_cast<long long>(m_play_skipped), m_result_fps, fps);
  }
  return buf;
}

void ViewSession::sync_requests() {
  m_state.params.pinned_channel = m_state.open_channel;
  // Compare view: the further methods (not the main one, at most 5).
  std::vector<std::string> compare;
  if (m_state.compare)
    for (const std::string& name : m_state.compare_methods)
      if (name != m_state.params.method && compare.size() < 5 &&
          std::find(compare.begin(), compare.end(), name) == compare.end())
        compare.push_back(name);
  m_state.params.compare = std::move(compare);
  if (m_state.metrics != m_metrics_sent) {
    m_pipeline->set_metrics(m_state.metrics);
    m_metrics_sent = m_state.metrics;
  }
  if (m_state.params != m_sent_params) {
    m_pipeline->set_params(m_state.params);
    m_sent_params = m_state.params;
  }
  const int64_t n = m_source.frame_count;
  if (n > 0) m_state.playback.wanted = std::clamp<int64_t>(m_state.playback.wanted, 0, n - 1);
  m_state.playback.wanted = std::max<int64_t>(0, m_state.playback.wanted);
  if (m_state.playback.wanted != m_sent_wanted) {
    // Playback does not stop a long computation (it finishes, then the newest frame follows);
    // a seek or step by the user does.
    m_pipeline->seek(m_state.playback.wanted, !m_state.playback.playing);
    m_sent_wanted = m_state.playback.wanted;
  }
}

void ViewSession::save_overlay(const std::string& path) {
  check_writable(path, m_opt.force);
  const ui::TextureView ov = m_textures->overlay();
  if (!ov) throw Error("save_overlay: no result on screen yet");
  std::vector<uint8_t> rgba;
  m_textures->read_overlay(rgba);
  std::vector<uint8_t> rgb(static_cast<size_t>(ov.width) * ov.height * 3);
  for (size_t i = 0, n = rgb.size() / 3; i < n; ++i)
    for (int c = 0; c < 3; ++c) rgb[3 * i + c] = rgba[4 * i + c];
  write_png(path, rgb.data(), ov.width, ov.height, 3);
  log::note("overlay written to " + path);
}

void ViewSession::save_optvis(const std::string& path_in, bool from_script) {
  try {
    const OptvisView v = m_pipeline->optvis();
    std::vector<uint8_t> rgb;
    const int w = ui::optvis_atlas(v, rgb);
    if (w == 0) throw Error("no feature visualization to save yet");
    const std::string path = absolute_path(
        path_in.empty() ? timestamped(m_opt.captures, "camscope_optvis_", ".png") : path_in);
    check_writable(path, m_opt.force);
    write_png(path, rgb.data(), w, v.images.height, 3);
    m_message = "feature visualization written to " + path;
    log::note(m_message);
  } catch (const Error& e) {
    if (from_script) throw;
    m_message = e.what();
  }
}

void ViewSession::screenshot(const std::string& path_in, bool from_script) {
  try {
    const std::string path = absolute_path(
        path_in.empty() ? timestamped(m_opt.captures, "camscope_", ".png") : path_in);
    check_writable(path, m_opt.force);
    m_ctx->save_png(path);
    m_message = "screenshot written to " + path;
    log::note(m_message);
  } catch (const Error& e) {
    if (from_script) throw;
    m_message = e.what();
  }
}

void ViewSession::toggle_record(const std::string& path_in, bool from_script) {
  try {
    if (m_recorder.active()) {
      // The last image lasts one source frame while a video plays, else as long as it was
      // on screen.
      const double frame_s = 1.0 / m_recorder.fps();
      const double held = m_rec_timed && m_state.playback.playing
                              ? frame_s
                              : std::max(frame_s, clock_s() - m_rec_clock);
      const std::string path = m_recorder.path();
      const int64_t images = m_recorder.images();
      const bool ok = m_recorder.stop(m_rec_t + held);
      char what[160];
      std::snprintf(what, sizeof what, "recorded %lld images (%.2f s at %g fps, %s) to ",
                    static_cast<long long>(images), m_recorder.duration(), m_recorder.fps(),
                    m_rec_timed ? "video time" : "wall-clock time");
      m_message = ok ? what + path : "ffmpeg failed while recording " + path;
      if (!ok && from_script) throw Error(m_message);
      log::note(m_message);
      return;
    }
    const std::string path = absolute_path(
        path_in.empty() ? timestamped(m_opt.captures, "camscope_", ".mp4") : path_in);
    check_writable(path, m_opt.force);
    const ui::TextureView ov = m_textures->overlay();
    if (!ov) throw Error("nothing to record yet (no result on screen)");
    m_rec_timed = source_timed();
    m_recorder.start(path, ov.width, ov.height,
                     m_rec_timed && m_source.fps > 0 ? m_source.fps : 30.0);
    m_message = "recording to " + path +
                (m_rec_timed ? " (clip time = video time, at any playback speed; a paused frame "
                               "lasts as long as it is on screen)"
                             : " (clip time = wall-clock time)");
    // The current image is the first frame.
    const auto& shown = m_textures->shown();
    m_rec_t = 0;
    m_rec_clock = clock_s();
    m_rec_pts = shown ? shown->pts : 0;
    m_rec_index = shown ? shown->frame_index : -1;
    m_textures->read_overlay(m_record_buffer);
    m_recorder.write(m_record_buffer.data(), ov.width, ov.height, 0.0);
  } catch (const Error& e) {
    if (from_script) throw;
    m_message = e.what();
  }
}

double ViewSession::clock_s() const {
  // Headless frames are 1/60 s apart, as playback counts them: deterministic in tests.
  return m_opt.headless ? static_cast<double>(m_ticks) / 60.0
                        : std::chrono::duration<double>(Clock::now() - m_start).count();
}

bool ViewSession::source_timed() const {
  return !m_source.live && m_source.seekable && m_source.kind == "video" && m_source.fps > 0;
}

// Once per loop iteration: a new viewport image goes into the recording at its clip time.
void ViewSession::record_tick(bool redrawn) {
  ++m_ticks;
  if (!m_recorder.active() || !redrawn) return;
  const auto& r = m_textures->shown();
  const double now = clock_s();
  // Video moving forward: the source's time between the two images. Otherwise (live input, a
  // paused frame re-drawn, a seek backwards or a loop): the time it was on screen.
  double t = m_rec_t + (now - m_rec_clock);
  if (m_rec_timed && r && m_rec_index >= 0 && r->frame_index > m_rec_index && r->pts > m_rec_pts)
    t = m_rec_t + (r->pts - m_rec_pts);
  m_rec_t = t;
  m_rec_clock = now;
  if (r) {
    m_rec_pts = r->pts;
    m_rec_index = r->frame_index;
  }
  m_textures->read_overlay(m_record_buffer);
  const ui::TextureView ov = m_textures->overlay();
  if (!m_recorder.write(m_record_buffer.data(), ov.width, ov.height, t))
    m_message = m_recorder.error();
}

void ViewSession::perform(const ui::Action& a, bool from_script) {
  using K = ui::Action::Kind;
  ui::Playback& pb = m_state.playback;
  switch (a.kind) {
    case K::Seek:
      pb.wanted = a.value;
      pb.position = static_cast<double>(a.value);
      break;
    case K::Step: {
      pb.playing = false;
      int64_t w = pb.wanted + a.value;
      const int64_t n = m_source.frame_count;
      if (n > 0 && pb.loop) w = ((w % n) + n) % n;
      pb.wanted = std::max<int64_t>(0, n > 0 ? std::min(w, n - 1) : w);
      pb.position = static_cast<double>(pb.wanted);
      break;
    }
    case K::OpenModel:
      m_pipeline->open_model(a.text);
      m_pending_model = a.text;  // remembered in Recent once it has opened
      m_message = "loading " + a.text + "...";
      break;
    case K::OpenInput:
      m_pipeline->open_input(a.text);
      m_pending_input = a.text;
      m_message = "opening " + a.text + "...";
      break;
    case K::Cancel:
      m_pipeline->cancel();
      break;
    case K::Retry:
      m_pipeline->retry();
      break;
    case K::Screenshot:
      screenshot(a.text, from_script);
      break;
    case K::ToggleRecord:
      toggle_record(a.text, from_script);
      break;
    case K::RunSanity:
      m_pipeline->run_sanity();
      break;
    case K::RunOptvis: {
      OptvisParams p = m_state.optvis;
      p.channel = static_cast<int>(a.value);
      p.layer = p.channel >= 0 ? ui::selected_layer(m_state, m_in) : std::string();
      p.cls = m_result ? m_result->target : std::max<int64_t>(0, m_state.params.target);
      if (p.channel < 0 && p.cls < 0) p.cls = 0;
      m_state.optvis = p;
      m_pipeline->run_optvis(p);
      break;
    }
    case K::SaveOptvis:
      save_optvis(a.text, from_script);
      break;
    case K::Quit:
      m_quit = true;
      break;
  }
}

// [SECTION] Script

bool ViewSession::script_waiting() {
  switch (m_wait) {
    case Wait::None:
      return false;
    case Wait::Frames:  // counted down by redraw()
      if (m_wait_frames > 0) return true;
      break;
    case Wait::Sleep:
      if (Clock::now() < m_wait_deadline) return true;
      break;
    case Wait::File:
      if (!file_exists(m_wait_file)) {
        if (Clock::now() > m_wait_deadline)
          throw Error(m_wait_cmd->where() + ": timed out waiting for " + m_wait_file);
        return true;
      }
      break;
    case Wait::FirstResult:
    case Wait::Result: {
      const auto& shown = m_textures->shown();
      const bool done = shown && (m_wait == Wait::FirstResult || m_pipeline->is_current(*shown));
      if (!done) {
        if (Clock::now() > m_wait_deadline)
          throw Error((m_wait_cmd ? m_wait_cmd->where() + ": " : std::string()) +
                      "timed out waiting for a result" +
                      (m_pipeline->status().empty() ? "" : " (" + m_pipeline->status() + ")"));
        return true;
      }
      if (m_wait == Wait::FirstResult) {
        m_wait = m_opt.frames > 0 ? Wait::Frames : Wait::None;
        m_wait_frames = m_opt.frames;
        return m_wait != Wait::None;
      }
      break;
    }
    case Wait::Sanity:
      if (m_pipeline->sanity().running) {
        if (Clock::now() > m_wait_deadline)
          throw Error(m_wait_cmd->where() + ": sanity check timed out");
        return true;
      }
      break;
    case Wait::Optvis:
      if (m_pipeline->optvis().running) {
        if (Clock::now() > m_wait_deadline)
          throw Error(m_wait_cmd->where() + ": feature visualization timed out");
        return true;
      }
      break;
    case Wait::Progress: {  // a long computation has finished its first batch
      const JobProgress j = m_pipeline->progress();
      if (!(j.running && j.done > 0)) {
        if (Clock::now() > m_wait_deadline)
          throw Error(m_wait_cmd->where() + ": no long computation in progress");
        if (m_opt.headless) std::this_thread::sleep_for(std::chrono::milliseconds(2));
        return true;
      }
      break;
    }
    case Wait::Idle: {  // no long computation running (finished or stopped)
      if (m_pipeline->progress().running || m_pipeline->sanity().running) {
        if (Clock::now() > m_wait_deadline)
          throw Error(m_wait_cmd->where() + ": a long computation is still running");
        if (m_opt.headless) std::this_thread::sleep_for(std::chrono::milliseconds(2));
        return true;
      }
      break;
    }
    case Wait::Mouse:
      if (m_mouse_pos < m_mouse.size()) {
        const MouseStep& st = m_mouse[m_mouse_pos++];
        ImGuiIO& io = ImGui::GetIO();
        io.MousePos = ImVec2(st.x, st.y);
        io.MouseDown[0] = st.down;
        return true;
      }
      m_mouse.clear();
      break;
  }
  m_wait = Wait::None;
  return false;
}

// Once per frame: resume after a wait, then run commands until one waits.
void ViewSession::run_script() {
  if (script_waiting()) return;
  while (!m_quit && m_wait == Wait::None && m_pc < m_script.size()) {
    const ScriptCommand& c = m_script[m_pc++];
    execute(c);
    sync_requests();  // so wait_result sees the request this command made
  }
}

void ViewSession::execute(const ScriptCommand& c) {
  const std::string& n = c.name;
  // Commands that only wait or report change nothing on screen; the others are drawn.
  static const char* kPassive[] = {"wait_result",       "frames",           "sleep",
                                   "wait_file",         "print_state",      "print_frame_stats",
                                   "reset_frame_stats", "quit"};
  if (std::none_of(std::begin(kPassive), std::end(kPassive), [&](const char* p) { return n == p; }))
    mark(Why::Script, 2);
  const std::string a0 = c.args.empty() ? std::string() : c.args[0];
  auto wait_for = [&](Wait w, double seconds) {
    m_wait = w;
    m_wait_cmd = &c;
    m_wait_deadline =
        Clock::now() + std::chrono::milliseconds(static_cast<int64_t>(seconds * 1000));
  };
  if (n == "wait_result") {
    wait_for(Wait::Result, c.args.empty() ? 120.0 : parse_number(c));
  } else if (n == "wait_idle") {
    wait_for(Wait::Idle, c.args.empty() ? 120.0 : parse_number(c));
  } else if (n == "wait_progress") {
    wait_for(Wait::Progress, c.args.empty() ? 120.0 : parse_number(c));
  } else if (n == "cancel") {
    perform({ui::Action::Kind::Cancel, 0, {}}, true);
  } else if (n == "retry") {
    perform({ui::Action::Kind::Retry, 0, {}}, true);
  } else if (n == "window_size") {
    const int64_t w = parse_integer(c, 0), h = parse_integer(c, 1);
    if (w < 64 || h < 64 || w > 16384 || h > 16384)
      throw Error(c.where() + ": window_size expects W H in 64..16384");
    m_ctx->resize(static_cast<int>(w), static_cast<int>(h));
    m_wait = Wait::Frames;
    m_wait_frames = 2;
  } else if (n == "drag") {
    // Left button down at (x0, y0), moved to (x1, y1) over 8 frames, released, then the
    // pointer leaves the window.
    const float x0 = static_cast<float>(parse_number(c, 0)), y0 = static_cast<float>(parse_number(c, 1));
    const float x1 = static_cast<float>(parse_number(c, 2)), y1 = static_cast<float>(parse_number(c, 3));
    m_mouse = {{x0, y0, false}, {x0, y0, true}};
    for (int i = 1; i <= 8; ++i)
      m_mouse.push_back({x0 + (x1 - x0) * i / 8.f, y0 + (y1 - y0) * i / 8.f, true});
    m_mouse.push_back({x1, y1, false});
    m_mouse.push_back({-FLT_MAX, -FLT_MAX, false});
    m_mouse_pos = 0;
    m_wait = Wait::Mouse;
  } else if (n == "frames") {
    m_wait = Wait::Frames;
    m_wait_frames = std::max<int64_t>(1, parse_integer(c));
  } else if (n == "sleep") {
    wait_for(Wait::Sleep, std::max(0.0, parse_number(c)));
  } else if (n == "wait_file") {
    m_wait_file = a0;
    wait_for(Wait::File, c.args.size() > 1 ? parse_number(c, 1) : 120.0);
  } else if (n == "select_layer" || n == "layer") {
    if (!m_model) throw Error(c.where() + ": no model");
    const auto& ls = m_model->layers;
    if (std::none_of(ls.begin(), ls.end(), [&](const LayerRow& l) { return l.path == a0; }))
      throw Error(c.where() + ": no layer '" + a0 + "' in the model");
    m_state.params.layer = a0;
  } else if (n == "method") {
    if (std::find(m_in.methods.begin(), m_in.methods.end(), a0) == m_in.methods.end())
      throw Error(c.where() + ": unknown method '" + a0 + "'");
    m_state.params.method = a0;
  } else if (n == "target") {
    if (a0 == "top1" || a0 == "auto") {
      m_state.params.target = -1;
    } else {
      const int64_t t = parse_integer(c);
      const int64_t classes = m_model ? static_cast<int64_t>(m_model->labels.size()) : 0;
      if (t < 0 || t >= classes)
        throw Error(c.where() + ": target " + a0 + " out of range (" + std::to_string(classes) +
                    " classes)");
      m_state.params.target = t;
    }
  } else if (n == "sort_grid") {
    m_state.params.grid_sort = parse_grid_sort(a0);
  } else if (n == "top_k") {
    m_state.params.grid_top_k = static_cast<int>(std::max<int64_t>(0, parse_integer(c)));
  } else if (n == "toggle_grid") {
    m_state.show_grid = !m_state.show_grid;
  } else if (n == "open_channel") {
    m_state.open_channel = a0 == "none" ? -1 : static_cast<int>(parse_integer(c));
  } else if (n == "seek") {
    perform({ui::Action::Kind::Seek, parse_integer(c), {}}, true);
  } else if (n == "step") {
    perform({ui::Action::Kind::Step, parse_integer(c), {}}, true);
  } else if (n == "play" || n == "pause") {
    m_state.playback.playing = n == "play";
  } else if (n == "speed") {
    m_state.playback.speed = static_cast<float>(std::clamp(parse_number(c), 0.01, 64.0));
  } else if (n == "loop") {
    m_state.playback.loop = parse_on_off(c);
  } else if (n == "colormap") {
    m_state.colormap = render::parse_colormap(a0);
  } else if (n == "alpha") {
    m_state.alpha = static_cast<float>(std::clamp(parse_number(c), 0.0, 1.0));
  } else if (n == "threshold") {
    m_state.threshold = static_cast<float>(std::clamp(parse_number(c), 0.0, 1.0));
  } else if (n == "zoom") {
    m_state.zoom = static_cast<float>(std::clamp(parse_number(c), 1.0, 32.0));
  } else if (n == "overlay") {
    m_state.show_overlay = parse_on_off(c);
  } else if (n == "map_only") {
    m_state.map_only = parse_on_off(c);
  } else if (n == "channel_on_frame") {
    // channel_on_frame N: opens channel N and lays it over the frame; "off" goes back to the map.
    if (a0 == "off") {
      m_state.channel_on_frame = false;
    } else {
      m_state.open_channel = static_cast<int>(parse_integer(c));
      m_state.channel_on_frame = true;
    }
  } else if (n == "browse") {
    m_state.show_open = true;
    m_state.browse_dir = a0;
    m_state.browse_dirty = true;
    ui::refresh_browser(m_state);
  } else if (n == "browse_filter") {
    try {
      m_state.browse_filter = parse_browse_filter(a0);
    } catch (const Error& e) {
      throw Error(c.where() + ": " + e.what());
    }
    m_state.browse_dirty = true;
    ui::refresh_browser(m_state);
  } else if (n == "browse_open") {
    ui::refresh_browser(m_state);
    const auto& es = m_state.browse.entries;
    const auto it = std::find_if(es.begin(), es.end(), [&](const BrowseEntry& e) { return e.name == a0; });
    if (it == es.end())
      throw Error(c.where() + ": '" + a0 + "' is not listed in " + m_state.browse.dir);
    const BrowseEntry entry = *it;
    ui::browse_activate(m_state, m_actions, entry);
    ui::refresh_browser(m_state);
  } else if (n == "compare") {
    m_state.compare = parse_on_off(c);
  } else if (n == "compare_methods") {
    // compare_methods a,b,c: the methods shown beside the main one (at most 5).
    std::vector<std::string> list;
    std::string cur;
    for (char ch : a0 + ",") {
      if (ch != ',') {
        cur += ch;
        continue;
      }
      if (cur.empty()) continue;
      if (std::find(m_in.methods.begin(), m_in.methods.end(), cur) == m_in.methods.end())
        throw Error(c.where() + ": unknown method '" + cur + "'");
      list.push_back(cur);
      cur.clear();
    }
    if (list.empty() || list.size() > 5)
      throw Error(c.where() + ": compare_methods expects 1 to 5 methods, comma-separated");
    m_state.compare_methods = list;
  } else if (n == "metrics") {
    m_state.metrics = parse_on_off(c);
  } else if (n == "optvis") {
    // optvis channel N [STEPS] | optvis class K [STEPS]: the Visualize tab's buttons.
    if (c.args.size() < 2 || (a0 != "channel" && a0 != "class"))
      throw Error(c.where() + ": optvis expects 'channel N [STEPS]' or 'class K [STEPS]'");
    const int64_t v = parse_integer(c, 1);
    if (c.args.size() > 2) m_state.optvis.steps = static_cast<int>(std::clamp<int64_t>(parse_integer(c, 2), 1, 100000));
    if (a0 == "class") {
      m_state.params.target = v;
      m_state.optvis.channel = -1;
      OptvisParams p = m_state.optvis;
      p.cls = v;
      m_pipeline->run_optvis(p);
    } else {
      m_state.open_channel = static_cast<int>(v);
      perform({ui::Action::Kind::RunOptvis, v, {}}, true);
    }
    m_state.select_tab = "visualize";
    m_state.select_tab_frames = 3;
    m_state.show_grid = true;
  } else if (n == "wait_optvis") {
    wait_for(Wait::Optvis, c.args.empty() ? 300.0 : parse_number(c));
  } else if (n == "save_optvis") {
    perform({ui::Action::Kind::SaveOptvis, 0, a0}, true);
  } else if (n == "optvis_settings") {
    // optvis_settings SIZE BATCH ACCENTUATE(on|off) [SEED]
    m_state.optvis.size = static_cast<int>(std::clamp<int64_t>(parse_integer(c, 0), 8, 1024));
    m_state.optvis.batch = static_cast<int>(std::clamp<int64_t>(parse_integer(c, 1), 1, 8));
    m_state.optvis.accentuate = c.args.size() > 2 && c.args[2] == "on";
    if (c.args.size() > 3) m_state.optvis.seed = static_cast<uint64_t>(parse_integer(c, 3));
  } else if (n == "playback_wait") {
    m_state.playback.wait = parse_on_off(c);
  } else if (n == "clip") {
    m_state.clip_percent = static_cast<float>(std::clamp(parse_number(c), 0.0, 50.0));
  } else if (n == "key") {
    const int key = ui::shortcut_key(a0);
    if (key < 0) throw Error(c.where() + ": unknown key '" + a0 + "' (F1 lists the shortcuts)");
    ui::apply_shortcut(key, m_state, m_actions, m_in);
  } else if (n == "open_model") {
    perform({ui::Action::Kind::OpenModel, 0, a0}, true);
  } else if (n == "open_input") {
    perform({ui::Action::Kind::OpenInput, 0, a0}, true);
  } else if (n == "sanity") {
    m_pipeline->run_sanity();
    if (a0 != "start") wait_for(Wait::Sanity, c.args.empty() ? 300.0 : parse_number(c));
  } else if (n == "screenshot") {
    // Taken after this frame is drawn; the script resumes on the next frame, so later
    // commands do not leak into the picture.
    m_actions.push(ui::Action::Kind::Screenshot, 0, a0);
    m_wait = Wait::Frames;
    m_wait_frames = 1;
  } else if (n == "save_overlay") {
    // The viewport's overlay texture (frame + map, frame-sized) read back from GL after this
    // frame's textures are updated: what recordings write and the viewport shows.
    m_pending_overlay = a0;
    m_wait = Wait::Frames;
    m_wait_frames = 1;
  } else if (n == "record_start") {
    if (!m_recorder.active()) m_actions.push(ui::Action::Kind::ToggleRecord, 0, a0);
  } else if (n == "record_stop") {
    if (m_recorder.active()) m_actions.push(ui::Action::Kind::ToggleRecord);
  } else if (n == "print_state") {
    std::printf("%s\n", state_json().dump().c_str());
    std::fflush(stdout);
  } else if (n == "reset_frame_stats") {
    m_frame_ms.clear();
    m_stats_first_result = m_result ? m_result->serial : 0;
    m_stats_t0 = Clock::now();
    m_stats_cpu0 = cpu_seconds();
    m_stats_redraws = m_stats_bursts = m_stats_presented = 0;
    m_stats_bursts_by.clear();
  } else if (n == "print_frame_stats") {
    std::printf("%s\n", frame_stats_json().dump().c_str());
    std::fflush(stdout);
  } else if (n == "tab") {
    static const char* kTabs[] = {"timings", "stats",  "model",     "se",
                                  "filters", "sanity", "visualize", "metrics"};
    if (std::none_of(std::begin(kTabs), std::end(kTabs), [&](const char* t) { return a0 == t; }))
      throw Error(c.where() + ": unknown tab '" + a0 +
                  "' (timings, stats, model, se, filters, sanity)");
    m_state.select_tab = a0;
    m_state.select_tab_frames = 3;
    m_state.show_grid = true;  // the details panel lives in the right column
  } else if (n == "quit") {
    m_quit = true;
  }
}

// [SECTION] State for scripts and tests

Json ViewSession::state_json() const {
  Json j;
  const ui::UiState& s = m_state;
  j["renderer"] = m_ctx->renderer();
  j["model"] = m_model ? m_model->path : "";
  if (m_model) {
    j["num_classes"] = m_model->labels.size();
    Json spatial = Json::array();
    for (const LayerRow& l : m_model->layers)
      if (l.output_shape.size() == 4 && l.output_shape[2] * l.output_shape[3] > 1)
        spatial.push_back({{"path", l.path}, {"shape", l.output_shape}});
    j["spatial_layers"] = spatial;
  }
  j["input"] = m_source.uri;
  j["source"] = {{"kind", m_source.kind},
                 {"frame_count", m_source.frame_count},
                 {"fps", m_source.fps},
                 {"live", m_source.live}};
  j["layer"] = s.params.layer.empty() && m_model ? m_model->default_layer : s.params.layer;
  j["method"] = s.params.method;
  j["target"] = s.params.target;
  j["grid_sort"] = grid_sort_name(s.params.grid_sort);
  j["grid_top_k"] = s.params.grid_top_k;
  j["wanted"] = s.playback.wanted;
  j["timeline"] = ui::timeline_label(m_textures->shown().get(), s.playback.wanted,
                                     m_source.frame_count);
  j["playing"] = s.playback.playing;
  j["speed"] = s.playback.speed;
  j["loop"] = s.playback.loop;
  j["playback"] = {{"wait", s.playback.wait},
                   {"waiting", m_play_waiting},
                   {"skipped", m_play_skipped},
                   {"note", playback_note()}};
  j["colormap"] = render::colormap_name(s.colormap);
  j["alpha"] = s.alpha;
  j["threshold"] = s.threshold;
  j["map_only"] = s.map_only;
  j["channel_on_frame"] = s.channel_on_frame;
  j["clip_percent"] = s.clip_percent;
  j["display"] = {{"clip_value", m_textures->shown_clip()},
                  {"channel", m_textures->shown_channel()}};
  j["show_grid"] = s.show_grid;
  j["zoom"] = s.zoom;
  j["open_channel"] = s.open_channel;
  j["show_help"] = s.show_help;
  j["show_open"] = s.show_open;
  j["popup_open"] = ui::popup_open();
  j["colormap_combo"] = {m_geo.colormap_x, m_geo.colormap_y};
  j["redraws"] = m_redraws;
  j["redraw_bursts"] = m_bursts;
  j["presented"] = m_presented;
  j["viewport"] = {m_geo.x, m_geo.y, m_geo.w, m_geo.h};
  j["window"] = {m_ctx->width(), m_ctx->height()};
  j["layout"] = {{"left", m_geo.left_column},
                 {"right", m_geo.right_column},
                 {"left_fraction", s.layout.left_fraction},
                 {"right_fraction", s.layout.right_fraction},
                 {"timeline_height", s.layout.timeline_height}};
  j["recent_models"] = s.recent_models;
  j["recent_inputs"] = s.recent_inputs;
  {
    Json entries = Json::array();
    for (const BrowseEntry& e : s.browse.entries)
      entries.push_back(e.kind == BrowseKind::Folder ? e.name + "/" : e.name);
    j["browser"] = {{"dir", s.browse.dir},
                    {"filter", browse_filter_name(s.browse_filter)},
                    {"entries", entries},
                    {"hidden", s.browse.hidden},
                    {"error", s.browse.error},
                    {"recent_folders", s.recent_folders}};
  }
  j["clock_ms"] = std::chrono::duration<double, std::milli>(Clock::now() - m_start).count();
  const JobProgress job = m_pipeline->progress();
  j["progress"] = {{"id", job.id},           {"running", job.running},
                   {"method", job.method},   {"unit", job.unit},
                   {"done", job.done},       {"total", job.total},
                   {"batch_ms", job.batch_ms},
                   {"cancelled", job.cancelled}, {"by_user", job.by_user},
                   {"frame_index", job.frame_index}};
  const auto& r = m_textures->shown();
  if (r) {
    // The device path keeps no host copy of the map: its sum is read back from the texture.
    auto map_sum = [&](const FrameResult& fr) -> double {
      if (!fr.map.empty()) return std::accumulate(fr.map.values.begin(), fr.map.values.end(), 0.0);
      std::vector<float> v;
      int w = 0, h = 0;
      if (!m_textures->read_map(v, &w, &h)) return 0.0;
      return std::accumulate(v.begin(), v.end(), 0.0);
    };
    Json top = Json::array();
    for (const ClassScore& c : r->top)
      top.push_back({{"class", c.cls}, {"label", c.label}, {"score", c.prob}});
    Json order = Json::array();
    for (size_t i = 0; i < r->grid_channels.size() && i < 64; ++i)
      order.push_back(r->grid_channels[i]);
    Json timings = Json::object();
    for (const auto& [k, v] : r->timings_ms) timings[k] = v;
    j["result"] = {{"frame_index", r->frame_index},
                   {"pts", r->pts},
                   {"raw_range", {r->raw_lo, r->raw_hi}},
                   {"layer", r->params.layer},
                   {"method", r->params.method},
                   {"target", r->target},
                   {"requested_target", r->params.target},
                   {"current", m_pipeline->is_current(*r)},
                   {"from_cache", r->from_cache},
                   {"error", r->error},
                   {"top", top},
                   {"map_size", {r->map_width(), r->map_height()}},
                   {"device_map", !r->device_map.empty()},
                   {"device_grid", !r->device_grid.empty()},
                   {"bytes_to_host", r->bytes_to_host},
                   {"map_bytes_to_host", r->map_bytes_to_host},
                   {"activation_shape", r->activation_shape},
                   {"grid_channels", order},
                   {"channel_mean", r->channel_mean},
                   {"channel_weight", r->channel_weight},
                   {"grid_count", r->grid_channels.size()},
                   {"se_blocks", r->se_gates.size()},
                   {"map_sum", map_sum(*r)},
                   {"map_center", [&] {  // the hover readout's value at the map's center
                      if (!r->map.empty())
                        return static_cast<double>(r->map.at(0, r->map.height / 2, r->map.width / 2));
                      return static_cast<double>(
                          m_textures->map_value(r->map_width() / 2, r->map_height() / 2));
                    }()},
                   {"compare", [&] {
                      Json a = Json::array();
                      for (const auto& [name, map] : r->compare)
                        a.push_back({{"method", name},
                                     {"map_sum", std::accumulate(map.values.begin(),
                                                                 map.values.end(), 0.0)},
                                     {"map_size", {map.width, map.height}}});
                      return a;
                    }()},
                   {"compare_spearman", r->compare_spearman},
                   {"timings_ms", timings}};
  } else {
    j["result"] = nullptr;
  }
  const PipelineStats st = m_pipeline->stats();
  j["stats"] = {{"decoded", st.frames_decoded}, {"dropped", st.frames_dropped},
                {"computed", st.computed},      {"cache_hits", st.cache_hits},
                {"cache_size", st.cache_size},  {"errors", st.errors},
                {"cancelled", st.cancelled}};
  const SanityResult san = m_pipeline->sanity();
  Json steps = Json::array();
  for (const SanityStep& x : san.steps)
    steps.push_back(
        {{"block", x.block}, {"spearman", x.spearman}, {"spearman_abs", x.spearman_abs}});
  j["sanity"] = {{"running", san.running}, {"error", san.error}, {"steps", steps},
                 {"maps", {san.maps.channels, san.maps.height, san.maps.width}}};
  const gl::ObjectCounts& oc = gl::object_counts();
  j["gl_objects"] = {{"total", oc.total()},
                     {"textures", oc.textures},
                     {"framebuffers", oc.framebuffers},
                     {"buffers", oc.buffers}};
  j["rss_kib"] = rss_kib();
  j["recording"] = m_recorder.active();
  j["record"] = {{"images", m_recorder.images()},
                 {"frames", m_recorder.frames()},
                 {"seconds", m_recorder.duration()},
                 {"source_timed", m_rec_timed}};
  j["status"] = m_pipeline->status();
  j["activity"] = m_pipeline->activity();
  j["message"] = m_message;
  j["captures_dir"] = m_opt.captures;
  j["compare"] = s.compare;
  j["compare_shown"] = m_textures->compare_count();
  {
    Json pts = Json::array();
    for (const MetricsPoint& p : m_pipeline->metrics())
      pts.push_back({{"frame_index", p.frame_index}, {"method", p.method}, {"score", p.score},
                     {"drop", p.drop}, {"increase", p.increase}, {"deletion", p.deletion},
                     {"insertion", p.insertion},
                     {"stability", p.stability < -1.5 ? Json(nullptr) : Json(p.stability)}});
    j["metrics"] = pts;
  }
  {
    const OptvisView v = m_pipeline->optvis();
    j["optvis"] = {{"running", v.running},     {"cancelled", v.cancelled},
                   {"from_cache", v.from_cache}, {"what", v.what},
                   {"error", v.error},         {"step", v.step},
                   {"total", v.total},         {"objective", v.objective},
                   {"batch", v.batch},         {"size", v.images.width},
                   {"elapsed_ms", v.elapsed_ms}};
  }
  return j;
}

Json ViewSession::frame_stats_json() const {
  std::vector<float> v = m_frame_ms;
  std::sort(v.begin(), v.end());
  auto pct = [&](double p) -> double {
    return v.empty() ? 0.0
                     : v[std::min(v.size() - 1, static_cast<size_t>(p * (v.size() - 1) + 0.5))];
  };
  double sum = 0;
  for (float x : v) sum += x;
  const double wall = seconds_between(m_stats_t0, Clock::now());
  const double cpu = cpu_seconds() - m_stats_cpu0;
  Json bursts_by = Json::object();
  for (const auto& [k, n] : m_stats_bursts_by) bursts_by[k] = n;
  return Json{{"frame_stats",
               {{"count", v.size()},
                {"mean_ms", v.empty() ? 0.0 : sum / v.size()},
                {"p50_ms", pct(0.5)},
                {"p95_ms", pct(0.95)},
                {"max_ms", v.empty() ? 0.0 : v.back()},
                {"results", (m_result ? m_result->serial : 0) - m_stats_first_result},
                {"redraws", m_stats_redraws},
                {"presented", m_stats_presented},
                {"bursts", m_stats_bursts},
                {"bursts_by_reason", bursts_by},
                {"wall_s", wall},
                {"cpu_s", cpu},
                {"cpu_percent", wall > 0 ? 100.0 * cpu / wall : 0.0}}}};
}

// [SECTION] The loop

void ViewSession::fill_inputs() {
  m_in.result = m_result.get();
  m_in.result_current = m_result && m_pipeline->is_current(*m_result);
  m_in.model = m_model.get();
  m_in.source = &m_source;
  m_in.source_state = m_pipeline->source_state();
  m_in.stats = m_pipeline->stats();
  const uint64_t sg = m_pipeline->sanity_generation();
  if (sg != m_sanity_generation) {
    m_in.sanity = m_pipeline->sanity();
    m_sanity_generation = sg;
    m_textures->update_sanity(m_in.sanity, sg, m_state.colormap);
  }
  const uint64_t mg = m_pipeline->metrics_generation();
  if (mg != m_metrics_generation) {
    m_in.metrics = m_pipeline->metrics();
    m_metrics_generation = mg;
  }
  const uint64_t og = m_pipeline->optvis_generation();
  if (og != m_optvis_generation) {
    m_in.optvis = m_pipeline->optvis();
    m_optvis_generation = og;
    m_textures->update_optvis(m_in.optvis, og);
  }
  m_in.status = m_pipeline->status();
  m_in.progress = m_pipeline->progress();
  m_in.message = &m_message;
  m_in.captures = &m_opt.captures;
  m_in.playback_note = playback_note();
  m_in.activity = m_pipeline->activity();
  m_in.recording = m_recorder.active();
  m_in.recording_video_time = m_rec_timed;
  m_in.textures = m_textures.get();
  m_in.gl.upload_ms = m_textures->upload_ms();
  m_in.gl.draw_ms = m_textures->draw_ms();
  m_in.gl.bytes_to_gl = m_textures->bytes_to_gl();
  m_in.gl.objects = gl::object_counts();
  // The loop's own figures are sampled twice a second: shown live, they would differ in every
  // frame and no settling frame could ever be skipped as unchanged.
  const auto now = Clock::now();
  if (seconds_between(m_loop_stats_time, now) >= 0.5 || m_in.gl.redraws == 0) {
    m_loop_stats_time = now;
    m_in.gl.ui_fps = m_ui_fps;
    m_in.gl.redraws = m_redraws;
    m_in.gl.ui_frame_ms = m_frame_ms.empty() ? 0.0 : m_frame_ms.back();
  }
  m_in.gl.result_fps = m_result_fps;
}

void ViewSession::mark(Why w, int frames) {
  if (m_why == Why::None) m_why = w;
  if (w != Why::Input && w != Why::TextCursor) m_force_render = true;
  m_pending_frames = std::max(m_pending_frames, frames);
}

void ViewSession::check_changes() {
  Shown now;
  const std::shared_ptr<const FrameResult> r = m_pipeline->latest();
  now.result_serial = r ? r->serial : 0;
  now.sanity_generation = m_pipeline->sanity_generation();
  now.optvis_generation = m_pipeline->optvis_generation();
  now.metrics_generation = m_pipeline->metrics_generation();
  now.source_generation = m_pipeline->source_generation();
  now.model = m_pipeline->model_info().get();
  now.playing = m_state.playback.playing;
  now.wanted = now.playing ? -1 : m_state.playback.wanted;
  now.recording = m_recorder.active();
  now.source_state = m_pipeline->source_state();
  now.status = m_pipeline->status();
  now.message = m_message;
  if (!m_textures->shown()) now.activity = m_pipeline->activity();
  const JobProgress job = m_pipeline->progress();
  now.job_id = job.id;
  now.job_done = job.done;
  now.job_running = job.running;
  now.job_cancelled = job.cancelled;
  if (now.result_serial != m_shown.result_serial) mark(Why::Result);
  if (now != m_shown) mark(Why::State);
  m_shown = std::move(now);
}

double ViewSession::idle_timeout(Clock::time_point now) const {
  double t = kIdleWakeS;
  // Before the first result the waiting line counts the seconds.
  if (!m_shown.activity.empty()) t = std::min(t, 0.25);
  const double to_deadline = seconds_between(now, m_wait_deadline);
  switch (m_wait) {
    case Wait::Sleep:
    case Wait::Result:
    case Wait::FirstResult:
    case Wait::Sanity:
    case Wait::Optvis:
      t = std::min(t, to_deadline);
      break;
    case Wait::File:
    case Wait::Progress:  // polled: a long computation's first batch, or its end
    case Wait::Idle:
      t = std::min(t, 0.05);
      break;
    default:
      break;
  }
  // Playback in a window follows the clock: wake when the next frame is due.
  if (!m_opt.headless && playing_seekable()) {
    const double rate = (m_source.fps > 0 ? m_source.fps : 30.0) * m_state.playback.speed;
    const double pos = m_state.playback.position;
    if (rate > 0) t = std::min(t, (std::floor(pos) + 1.0 - pos) / rate);
  }
  if (m_text_input) t = std::min(t, kTextCursorBlinkS - seconds_between(m_last_redraw, now));
  return std::max(t, 0.001);
}

int ViewSession::run() {
  g_quit_signal = 0;
  struct sigaction sa {}, old_int{}, old_term{};
  sa.sa_handler = on_quit_signal;
  sigemptyset(&sa.sa_mask);
  ::sigaction(SIGINT, &sa, &old_int);
  ::sigaction(SIGTERM, &sa, &old_term);
  struct Restore {
    struct sigaction i, t;
    ~Restore() {
      ::sigaction(SIGINT, &i, nullptr);
      ::sigaction(SIGTERM, &t, nullptr);
    }
  } restore{old_int, old_term};
  const int status = loop();
  if (g_quit_signal) log::note("interrupted: quitting");
  // Quitting (Ctrl+Q, the close button, a signal, the script's quit) finishes a recording.
  if (m_recorder.active()) toggle_record("", false);
  if (m_opt.headless && !m_opt.screenshot.empty()) screenshot(m_opt.screenshot, true);
  return status;
}

int ViewSession::loop() {
  auto last_tick = Clock::now();
  const double min_interval = m_opt.headless ? 0.0 : 1.0 / kMaxFps;
  while (!m_quit && !m_ctx->should_close() && !g_quit_signal) {
    m_ctx->wait_events(0);  // runs the window callbacks: key queue, event count
    if (m_ctx->should_close()) break;
    const uint64_t events = m_imgui->input_events();
    if (events != m_seen_events) {
      m_seen_events = events;
      mark(Why::Input, kSettleFrames);
    }
    for (const ui::KeyPress& k : m_imgui->take_key_presses()) m_keys.push_back(k);

    refresh_model_info();
    run_script();
    if (m_quit) break;
    if (m_opt.headless && m_wait == Wait::None && m_pc >= m_script.size())
      break;  // headless: the script (or the first result plus --frames) is done

    const auto now = Clock::now();
    // Windows play back on the wall clock; headless sessions advance 1/60 s per redraw, so
    // scripted runs are deterministic.
    if (!m_opt.headless) tick_playback(seconds_between(last_tick, now));
    last_tick = now;
    sync_requests();
    check_changes();
    if (m_wait == Wait::Frames || m_wait == Wait::Mouse) mark(Why::Script);
    if (m_opt.headless && playing_seekable()) mark(Why::Playback);
    if (m_text_input && seconds_between(m_last_redraw, now) >= kTextCursorBlinkS)
      mark(Why::TextCursor);

    if (m_why == Why::None) {
      m_idle_waited = true;
      m_ctx->wait_events(idle_timeout(now));
      continue;
    }
    const double since = seconds_between(m_last_redraw, now);
    if (m_redraws > 0 && since < min_interval) {
      m_ctx->wait_events(min_interval - since);  // frame cap (no vsync under Xvfb)
      continue;
    }
    redraw(now);
  }
  return 0;
}

void ViewSession::redraw(Clock::time_point t0) {
  if (m_idle_waited || m_redraws == 0) {
    ++m_bursts;
    ++m_stats_bursts;
    ++m_stats_bursts_by[why_name(m_why)];
  }
  m_idle_waited = false;
  ++m_redraws;
  ++m_stats_redraws;
  if (--m_pending_frames <= 0) {
    m_pending_frames = 0;
    m_why = Why::None;
  }
  const double dt = m_opt.headless || m_redraws == 1 ? 1.0 / 60.0 : seconds_between(m_last_redraw, t0);
  m_last_redraw = t0;
  m_redraw_times.push_back(t0);
  while (seconds_between(m_redraw_times.front(), t0) > 1.0) m_redraw_times.pop_front();
  m_ui_fps = static_cast<double>(m_redraw_times.size());
  if (m_opt.headless) {
    tick_playback(dt);
    sync_requests();
  }

  // Newest result, never waiting for the worker.
  m_result = m_pipeline->latest();
  if (m_result && m_result->serial != m_last_result_serial) {
    const double since = ms_between(m_last_result_time, t0) / 1000.0;
    if (since > 0)
      m_result_fps = m_result_fps == 0 ? 1.0 / since : 0.8 * m_result_fps + 0.2 / since;
    m_last_result_time = t0;
    m_last_result_serial = m_result->serial;
  }
  ui::DisplayOptions disp{m_state.colormap, m_state.alpha, m_state.threshold,
                          m_state.show_overlay};
  disp.map_only = m_state.map_only;
  disp.channel = m_state.channel_on_frame ? m_state.open_channel : -1;
  disp.clip_percent = m_state.clip_percent;
  const bool redrawn = m_textures->update(m_result, disp);
  if (!m_pending_overlay.empty()) save_overlay(std::exchange(m_pending_overlay, {}));

  m_imgui->new_frame(static_cast<float>(dt));
  fill_inputs();
  ui::handle_shortcuts(m_state, m_actions, m_in, m_keys);
  m_keys.clear();
  m_geo = ui::draw_panels(m_state, m_actions, m_in);
  if (std::exchange(m_state.optvis_pending, false))
    m_actions.push(ui::Action::Kind::RunOptvis, m_state.optvis.channel);
  // Settling frames after an input often draw exactly what is on screen already: ImGui's draw
  // data is compared with the last drawn frame's and nothing is drawn or presented then. A
  // changed texture, a damaged window or a pending screenshot always draws.
  const uint64_t damage = m_imgui->damage_events();
  const bool force = m_force_render || redrawn || damage != m_seen_damage || !m_actions.empty();
  static const float kClear[4] = {0.08f, 0.08f, 0.09f, 1.f};
  const bool drawn = m_imgui->render(force, kClear);
  m_seen_damage = damage;
  m_force_render = false;
  if (drawn) {
    ++m_presented;
    ++m_stats_presented;
  }

  m_state.params.se_gates = m_state.se_tab_visible;
  ui::Action a;
  while (m_actions.pop(a)) perform(a, !m_script.empty() && m_opt.headless);
  sync_requests();
  record_tick(redrawn);
  if (m_wait == Wait::Frames && m_wait_frames > 0) --m_wait_frames;
  if (m_slow_frame_ms > 0)
    std::this_thread::sleep_for(std::chrono::duration<double, std::milli>(m_slow_frame_ms));
  m_frame_ms.push_back(static_cast<float>(ms_between(t0, Clock::now())));
  if (m_frame_ms.size() >= m_frame_ms.capacity())
    m_frame_ms.erase(m_frame_ms.begin(), m_frame_ms.begin() + m_frame_ms.size() / 2);
  if (drawn) m_ctx->end_frame();
  m_text_input = ImGui::GetIO().WantTextInput;
}

}  // namespace

std::string captures_dir(const std::string& given) {
  std::string dir = given;
  if (dir.empty())
    if (const char* env = std::getenv("CAMSCOPE_CAPTURES")) dir = env;
  if (dir.empty()) {
    const char* home = std::getenv("HOME");
    dir = home && *home ? std::string(home) + "/Pictures/camscope" : "camscope-captures";
  }
  return absolute_path(dir);
}

int run_view(const ViewOptions& opt) {
  ViewSession session(opt);
  return session.run();
}

}  // namespace camscope::app
