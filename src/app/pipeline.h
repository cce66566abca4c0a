#pragma once
// The live pipeline behind `camscope view` (and reusable by `bench`): DESIGN.md's
//   capture thread ──frame──▶ inference worker ──FrameResult──▶ GL thread
// The capture thread decodes the frame the viewer wants (seekable sources) or keeps only the
// newest frame of a live source. The worker runs preprocess → forward with taps → explain →
// channel-grid preparation on the model's device and publishes one immutable FrameResult at a
// time (latest wins, stale work is dropped, nothing queues). Results are cached by
// (frame, model, layer, method, target) so going back to a computed frame is instant.
// Nothing here touches GL; the GL thread reads `latest()` without ever waiting.
//
// Typical use (GL thread or a benchmark):
//   Pipeline p(opts);                 // loads the model, opens the input (throws Error)
//   p.set_params(params); p.seek(42); // cheap: latest request wins
//   auto r = p.latest();              // never blocks; nullptr until the first result
//   auto r = p.wait_current(5s);      // blocks until the current request is answered
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "app/frame_result.h"
#include "capture/frame_source.h"

namespace camscope::app {

struct PipelineOptions {
  std::string model;         // TorchScript path; "" = the built-in model
  std::string model_config;  // sidecar; "" = beside the model
  std::string device = "auto";
  std::string input = "synthetic";
  int threads = 0;            // LibTorch intra-op threads; 0 = all cores
  std::string engine = "fast";  // model::GraphOptimization: "fast" or "exact" 
  size_t cache_entries = 48;  // result LRU
  int worker_delay_ms = 0;    // test hook: extra sleep per computed result
  DecodeOptions decode;       // images: --exif-orientation, --max-image-mb
  int batch_delay_ms = 0;     // test hook: extra sleep per batch of a long method
  // --target as typed (top1, an index or a class label): resolved into the params' target once
  // the model is loaded. "" = keep the params' target.
  std::string target_spec;
  // The device path (--device-maps): "auto" keeps maps and channel grids where the model
  // computed them when it runs on CUDA (no device-to-host copy of a map; ResultTextures fills
  // the textures through the interop bridge); "on" does it on any device (the CPU too, which
  // tests the same code up to the CUDA boundary); "off" copies them to the host as before.
  std::string device_maps = "auto";
};

// DESIGN.md's method names, in the order the UI cycles through them.
std::vector<std::string> available_methods();

// Where the built-in model lives ($CAMSCOPE_ASSETS or the source tree's assets/).
std::string builtin_model_path();

class Pipeline {
 public:
  // Loads the model and opens the input synchronously (so the CLI can fail with one line),
  // then starts the capture and worker threads.
  explicit Pipeline(const PipelineOptions& opt, const ViewParams& params = {});
  ~Pipeline();
  Pipeline(const Pipeline&) = delete;
  Pipeline& operator=(const Pipeline&) = delete;

  // Called on a pipeline thread, under its lock, whenever a result, status or sanity report is
  // published (must be quick and must not call back into the Pipeline): the viewer wakes its
  // GL thread with it. Replacing it (or nullptr) waits for a call in progress.
  void set_on_change(std::function<void()> fn);

  // [SECTION] Requests (any thread; never block on the model)
  void set_params(const ViewParams& params);
  ViewParams params() const;
  // Seekable sources: the frame to show. Clamped to the source; ignored by live sources.
  // A seek supersedes (stops) a long computation in progress, except with supersede = false
  // (playback: the running job finishes so something is shown, then the newest frame follows).
  void seek(int64_t index, bool supersede = true);
  int64_t wanted_index() const;
  // Opens another model / input on the worker / capture thread; errors land in status().
  void open_model(const std::string& path);
  void open_input(const std::string& spec);

  // [SECTION] Results
  std::shared_ptr<const FrameResult> latest() const;
  // Serial of the newest request (params, seek or new live frame).
  uint64_t request_serial() const;
  // True when `r` answers the current params and wanted frame (and nothing is being opened).
  bool is_current(const FrameResult& r) const;
  // Blocks until a result answering the current request is published and no model or input
  // is being opened (or timeout: nullptr). A failed open counts as finished: see status().
  std::shared_ptr<const FrameResult> wait_current(std::chrono::milliseconds timeout);

  // Runs fn on the inference worker between requests and waits for it (rethrowing what it
  // threw). For torch work that must share the worker's OpenMP team: `bench` times the bare
  // model here (see util/off_thread.h for why a second OpenMP thread costs every team).
  void run_on_worker(std::function<void()> fn);

  // Long computations (scorecam, smoothgrad, intgrad, sanity) report progress per batch and
  // stop at the next batch boundary when a newer request supersedes them (other params,
  // another frame by a seek, another model or input) or cancel() is called. A stopped result
  // is not cached; after cancel() the worker waits for the next request.
  JobProgress progress() const;
  void cancel();
  // Undoes cancel(): the current request is computed again.
  void retry();

  // Runs the sanity check on the current frame and params after the current work (async).
  void run_sanity();
  SanityResult sanity() const;
  uint64_t sanity_generation() const;  // changes whenever sanity() does

  // Faithfulness metrics of each new map (drop, increase, deletion / insertion AUC, stability
  // against the previous consecutive frame), computed after the map is published when the
  // worker is free, else on every 5th new result. The last 120, oldest first.
  void set_metrics(bool on);
  std::vector<MetricsPoint> metrics() const;
  uint64_t metrics_generation() const;

  // Feature visualization on the worker (after the current work), refined step by step and
  // cached per (model, params, frame when accentuating). Cancel() stops it within a step. While
  // it runs the worker computes no maps (the viewport says so).
  void run_optvis(const OptvisParams& params);
  OptvisView optvis() const;
  uint64_t optvis_generation() const;  // changes whenever optvis() does

  std::shared_ptr<const ModelInfo> model_info() const;
  capture::SourceInfo source_info() const;
  uint64_t source_generation() const;  // changes when another input is opened
  capture::SourceState source_state() const;
  std::string status() const;  // last error or progress message ("" when fine)
  // What the worker computes now, with the seconds it has taken so far, e.g. "first result:
  // preparing the model (...), then gradcam (2.3 s)"; "" when idle.
  std::string activity() const;
  PipelineStats stats() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> m;
};

}  // namespace camscope::app
