#pragma once
// What the inference worker publishes and the UI reads: plain host data, no LibTorch and no GL,
// so ui/ panels can include it. A FrameResult is immutable once published and shared by
// std::shared_ptr between the worker and the GL thread.
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "capture/frame_source.h"
#include "model/input_geometry.h"
#include "util/device_buffer.h"
#include "util/error.h"

namespace camscope::app {

// Order of the channel grid.
enum class GridSort { Index, Activation, Weight };
inline const char* grid_sort_name(GridSort s) {
  return s == GridSort::Index ? "index" : s == GridSort::Activation ? "activation" : "weight";
}
// "index", "activation" (or "mean"), "weight"; throws camscope::Error otherwise.
inline GridSort parse_grid_sort(const std::string& s) {
  if (s == "index") return GridSort::Index;
  if (s == "activation" || s == "mean") return GridSort::Activation;
  if (s == "weight") return GridSort::Weight;
  throw Error("unknown grid order '" + s + "' (expected index, activation or weight)");
}

// What the viewer asks for. layer, method and target are part of the result cache key; the
// grid options are re-derived from a cached result in microseconds.
struct ViewParams {
  std::string layer;               // "" = the model's default layer
  std::string method = "gradcam";  // DESIGN.md method name
  int64_t target = -1;             // class index; -1 = top-1 of each frame
  GridSort grid_sort = GridSort::Activation;
  int grid_top_k = 0;     // 0 = every channel
  bool se_gates = false;  // also read the squeeze-excitation gates (one more forward pass)
  int pinned_channel = -1;  // kept in the grid (appended) when the order or top-k leaves it out
  // Compare view: more methods computed on the same frame, from the same forward (+ backward)
  // where they share it (explain::explain_many); empty = off.
  std::vector<std::string> compare;
  bool same_computation(const ViewParams& o) const {
    return layer == o.layer && method == o.method && target == o.target && compare == o.compare;
  }
  bool operator==(const ViewParams& o) const {
    return same_computation(o) && grid_sort == o.grid_sort && grid_top_k == o.grid_top_k &&
           se_gates == o.se_gates && pinned_channel == o.pinned_channel;
  }
  bool operator!=(const ViewParams& o) const { return !(*this == o); }
};

struct ClassScore {
  int64_t cls = 0;
  std::string label;
  double prob = 0;  // softmax
};

// Equal-width histogram of a tensor's values over [lo, hi], with its summary statistics.
struct Histogram {
  std::vector<float> counts;
  float lo = 0, hi = 0;
  double mean = 0, std = 0;
  double dead_fraction = 0;  // channels <= 0 everywhere (activations) / == 0 (gradients)
};

// Host float image or stack of images, row 0 = top.
struct HostMap {
  int channels = 0, height = 0, width = 0;
  std::vector<float> values;  // [channels, height, width]
  bool empty() const { return values.empty(); }
  float at(int c, int y, int x) const {
    return values[(static_cast<size_t>(c) * height + y) * width + x];
  }
};

struct FrameResult {
  uint64_t serial = 0;            // increases with every publish
  uint64_t request_serial = 0;    // the request it answers (Pipeline::request_serial)
  uint64_t model_generation = 0;  // bumps when another model is opened
  ViewParams params;              // as requested, with the layer resolved
  std::shared_ptr<const capture::Frame> frame;
  int64_t frame_index = -1;
  double pts = 0;
  std::string error;  // non-empty: the explanation failed (the frame is still shown)
  bool from_cache = false;

  HostMap map;                        // [1, H_in, W_in] in [0, 1]
  // Where the map lies on the frame: the source pixels the model saw (crop box) and the
  // transform between frame and model-input pixels. Every consumer (viewport, hover, overlay
  // texture, recordings, screenshots) places the map with it.
  model::InputGeometry geometry;
  // The raw map's value range before min-max normalization (CAM family: the weighted sum at
  // feature resolution; pixel methods: the attribution), for the colorbar. lo > hi: none.
  float raw_lo = 1, raw_hi = 0;
  HostMap grid;                       // [N, h, w] per-channel min-max, in display order
  std::vector<int> grid_channels;     // display position -> channel index
  std::vector<float> channel_mean;    // [K] mean activation per channel
  std::vector<float> channel_weight;  // [K] CAM weights (else mean gradient); may be empty
  // Squeeze-excitation gates (path, [K] in [0, 1]) of every SE block, when the model has any.
  std::vector<std::pair<std::string, std::vector<float>>> se_gates;
  std::vector<int64_t> activation_shape;
  std::vector<ClassScore> top;  // 5 best, softmax, best first
  int64_t target = -1;          // the class explained
  double target_logit = 0;
  Histogram activation_hist, gradient_hist;
  std::vector<std::pair<std::string, double>> timings_ms;  // decode, preprocess, forward, ...
  uint64_t bytes_to_device = 0, bytes_to_host = 0;         // moved by the worker
  // Of bytes_to_host: the maps and the channel grid (0 on the device path).
  uint64_t map_bytes_to_host = 0;
  // The device path (PipelineOptions::device_maps): the map [1, H_in, W_in] and the grid
  // [N, h, w] (same meaning as map and grid, which are then empty) left where the model
  // computed them, for the TextureBridge. clip_levels: the map's values at
  // clip_level_percents() (util/clip_levels.h), for pixel-space methods.
  DeviceBuffer device_map, device_grid;
  std::vector<float> clip_levels;
  std::shared_ptr<void> ready_event;  // CUDA: the event both buffers name (one per pooled result)
  // Shapes wherever the data lives (host copy or device buffer).
  bool has_map() const { return !map.empty() || !device_map.empty(); }
  bool has_grid() const { return !grid.empty() || !device_grid.empty(); }
  int map_width() const { return !map.empty() ? map.width : device_map.width; }
  int map_height() const { return !map.empty() ? map.height : device_map.height; }
  int grid_channels_count() const { return !grid.empty() ? grid.channels : device_grid.channels; }
  int grid_tile_width() const { return !grid.empty() ? grid.width : device_grid.width; }
  int grid_tile_height() const { return !grid.empty() ? grid.height : device_grid.height; }
  // Compare view: each further method's map ([1, H_in, W_in] in [0, 1]), and the Spearman rank
  // correlation between every two maps, the main one first ([n * n], n = 1 + compare.size()).
  std::vector<std::pair<std::string, HostMap>> compare;
  std::vector<double> compare_spearman;
};

// Faithfulness of one frame's map (DESIGN.md "Faithfulness metrics"), computed by the worker
// after the frame's result is out (it never delays a map) or on every Nth frame while results
// keep coming. stability < -1: no previous consecutive frame to compare with.
struct MetricsPoint {
  int64_t frame_index = -1;
  std::string method;
  double score = 0, drop = 0, deletion = 0, insertion = 0, stability = -2;
  bool increase = false;
  double ms = 0;
};

struct LayerRow {
  std::string path, type;
  std::vector<int64_t> output_shape;
  int64_t params = 0;
};

// A loaded model as the UI sees it.
struct ModelInfo {
  uint64_t generation = 0;
  std::string path, device_name, default_layer;
  std::vector<LayerRow> layers;
  std::vector<std::string> labels;  // one per class
  int input_channels = 3, input_height = 224, input_width = 224;
  std::string first_conv;  // path of the first convolution ("" when none)
  HostMap filters;         // its filters tiled as an atlas [C, H, W] in [0, 1] (0.5 = zero)
  int filter_count = 0, filter_size = 0;
};

// Cascading parameter randomization on one frame (Adebayo et al. 2018).
struct SanityStep {
  std::string block;
  double spearman = 0, spearman_abs = 0;
};
struct SanityResult {
  bool running = false;
  int64_t frame_index = -1;
  std::string method, layer, error;
  int64_t target = -1;
  std::vector<SanityStep> steps;
  HostMap maps;  // [1 + steps, H_in, W_in] in [0, 1]: the original map, then each step's
  double elapsed_ms = 0;
};

// Feature visualization of a unit of the model on screen (explain/optvis.h), asked for from
// the window: a channel of a layer, or a class.
struct OptvisParams {
  std::string layer;    // channel objective: the layer ("" = the model's default)
  int channel = -1;     // >= 0: that channel's mean activation
  int64_t cls = -1;     // channel < 0: this class logit
  int steps = 256;
  int size = 128;
  int batch = 1;        // > 1: that many images with a diversity term
  bool accentuate = false;  // start from the frame on screen instead of noise
  uint64_t seed = 0;
  bool operator==(const OptvisParams& o) const {
    return layer == o.layer && channel == o.channel && cls == o.cls && steps == o.steps &&
           size == o.size && batch == o.batch && accentuate == o.accentuate && seed == o.seed;
  }
};

// Its state for the panel: refined step by step while it runs (images every few steps).
struct OptvisView {
  bool running = false, cancelled = false, from_cache = false;
  OptvisParams params;
  std::string what;   // "features.block3 channel 3" or "class 5 (ring)"
  std::string error;
  int step = 0, total = 0;
  double objective = 0;
  int64_t frame_index = -1;  // accentuate: the frame it started from
  HostMap images;            // [batch * 3, size, size] in [0, 1]: image b's R, G, B planes
  int batch = 0;
  double elapsed_ms = 0;
};

// The newest long computation of the worker (scorecam, smoothgrad, intgrad, the sanity check):
// running, finished or stopped at a batch boundary. Shown in the viewport with a Cancel button.
struct JobProgress {
  uint64_t id = 0;       // 0: none yet
  bool running = false;
  std::string method;    // "intgrad", ..., or "sanity"
  std::string unit;      // "steps", "samples", "channels", "blocks"
  int64_t done = 0, total = 0;
  double batch_ms = 0;  // time between the last two reports (one batch)
  int64_t frame_index = -1;
  bool cancelled = false;      // stopped before the end; its result was neither shown nor cached
  bool by_user = false;        // stopped by Cancel (else: a newer request superseded it)
  double elapsed_ms = 0;
};

struct PipelineStats {
  uint64_t frames_decoded = 0, frames_dropped = 0;  // dropped: live frames never inferred
  uint64_t frames_read_ahead = 0;  // published from the read-ahead slot, decoded beforehand
  uint64_t computed = 0, cache_hits = 0, errors = 0;
  uint64_t cancelled = 0;  // long computations stopped early (newer request or Cancel)
  size_t cache_size = 0;
  bool worker_busy = false;
  // Frames, preprocessed inputs, cache entries and results allocated because none was free for
  // reuse: flat in steady playback once the cache is full.
  uint64_t buffer_allocations = 0;
};

}  // namespace camscope::app
