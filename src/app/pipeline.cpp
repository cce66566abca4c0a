#include "app/pipeline.h"

#include <algorithm>
#include <cmath>
#include <condition_variable>
#include <exception>
#include <functional>
#include <cstdlib>
#include <limits>
#include <deque>
#include <map>
#include <mutex>
#include <numeric>
#include <thread>
#include <utility>

#include <torch/script.h>

#include "app/lru_cache.h"
#include "app/recycler.h"
#include "explain/channels.h"
#include "explain/device_maps.h"
#include "explain/explain.h"
#include "explain/host_stats.h"
#include "explain/model_probe.h"
#include "explain/metrics.h"
#include "explain/optvis.h"
#include "explain/sanity.h"
#include "model/device_stream.h"
#include "model/model.h"
#include "model/preprocess.h"
#include "util/class_target.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/log.h"
#include "util/off_thread.h"

namespace camscope::app {
namespace {

using Clock = std::chrono::steady_clock;
// A worker error as the panels show it: its first line (TorchScript adds a traceback).
std::string first_line(const std::exception& e) {
  const std::string msg = e.what();
  return msg.substr(0, msg.find('\n'));
}

double ms_since(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

// The cache key DESIGN.md names: (frame, model, layer, method, target).
struct ResultKey {
  int64_t frame = -1;
  uint64_t source = 0, model = 0;
  std::string layer;
  explain::Method method = explain::Method::GradCam;
  int64_t target = -1;
  std::vector<std::string> compare;  // the compare view's further methods
  bool operator==(const ResultKey& o) const {
    return frame == o.frame && source == o.source && model == o.model && layer == o.layer &&
           method == o.method && target == o.target && compare == o.compare;
  }
};

// A frame preprocessed ahead of the worker, valid for one model generation.
struct Prepared {
  torch::Tensor x;
  double ms = 0;
  uint64_t model_generation = 0;
};

struct CacheEntry {
  std::shared_ptr<const capture::Frame> frame;
  std::string layer, error;
  HostMap map;
  model::InputGeometry geometry;
  float raw_lo = 1, raw_hi = 0;  // FrameResult::raw_lo/hi
  HostMap channels;  // [K, h, w] per-channel normalized
  // The device path: the map [1, H, W] and the normalized channels [K, h, w] as tensors on the
  // model's device (map and channels above stay empty), and the map's clip levels.
  torch::Tensor device_map, device_channels;
  std::vector<float> clip_levels;
  std::vector<float> channel_mean, channel_weight;
  std::vector<int64_t> activation_shape;
  std::vector<ClassScore> top;
  int64_t target = -1;
  double target_logit = 0;
  Histogram activation_hist, gradient_hist;
  std::vector<std::pair<std::string, std::vector<float>>> se_gates;
  std::vector<std::pair<std::string, double>> timings_ms;
  uint64_t bytes_to_device = 0, bytes_to_host = 0, map_bytes_to_host = 0;
  std::vector<std::pair<std::string, HostMap>> compare;
  std::vector<double> compare_spearman;
};
using EntryPtr = std::shared_ptr<const CacheEntry>;

// Empties a vector, keeping its storage for the next fill.
template <class V>
void keep_storage(V& dst, V& src) {
  dst = std::move(src);
  dst.clear();
}

// Released cache entries and results get their default values back, except that the vectors
// keep their storage (any field added later is reset too).
void reset_entry(CacheEntry& e) {
  CacheEntry old = std::move(e);
  e = CacheEntry{};
  keep_storage(e.map.values, old.map.values);
  keep_storage(e.channels.values, old.channels.values);
  keep_storage(e.channel_mean, old.channel_mean);
  keep_storage(e.channel_weight, old.channel_weight);
  keep_storage(e.activation_shape, old.activation_shape);
  keep_storage(e.top, old.top);
  keep_storage(e.activation_hist.counts, old.activation_hist.counts);
  keep_storage(e.gradient_hist.counts, old.gradient_hist.counts);
  keep_storage(e.se_gates, old.se_gates);
  keep_storage(e.timings_ms, old.timings_ms);
}

void reset_result(FrameResult& r) {
  FrameResult old = std::move(r);
  r = FrameResult{};
  keep_storage(r.map.values, old.map.values);
  keep_storage(r.grid.values, old.grid.values);
  keep_storage(r.grid_channels, old.grid_channels);
  keep_storage(r.channel_mean, old.channel_mean);
  keep_storage(r.channel_weight, old.channel_weight);
  keep_storage(r.se_gates, old.se_gates);
  keep_storage(r.activation_shape, old.activation_shape);
  keep_storage(r.top, old.top);
  keep_storage(r.activation_hist.counts, old.activation_hist.counts);
  keep_storage(r.gradient_hist.counts, old.gradient_hist.counts);
  keep_storage(r.timings_ms, old.timings_ms);
  keep_storage(r.clip_levels, old.clip_levels);
  r.ready_event = std::move(old.ready_event);  // made once per pooled result
}

// Into m (its storage reused); an undefined or odd-shaped tensor leaves m empty.
void to_host(const torch::Tensor& t, uint64_t* bytes_to_host, HostMap& m,
             uint64_t* map_bytes = nullptr) {
  m.channels = m.height = m.width = 0;
  m.values.clear();
  if (!t.defined()) return;
  torch::Tensor c = t.detach().to(torch::kFloat);
  if (c.dim() == 2) c = c.unsqueeze(0);
  if (c.dim() != 3) return;
  if (!c.device().is_cpu()) {
    c = c.to(torch::kCPU);
    *bytes_to_host += static_cast<uint64_t>(c.numel()) * sizeof(float);
    if (map_bytes) *map_bytes += static_cast<uint64_t>(c.numel()) * sizeof(float);
  }
  c = c.contiguous();
  m.channels = static_cast<int>(c.size(0));
  m.height = static_cast<int>(c.size(1));
  m.width = static_cast<int>(c.size(2));
  m.values.assign(c.data_ptr<float>(), c.data_ptr<float>() + c.numel());
}

void to_vector(const torch::Tensor& t, std::vector<float>& v) {
  v.clear();
  if (!t.defined()) return;
  torch::Tensor c = t.detach().to(torch::kCPU, torch::kFloat).contiguous().view(-1);
  v.assign(c.data_ptr<float>(), c.data_ptr<float>() + c.numel());
}

void histogram(const torch::Tensor& t, bool gradient, Histogram& h) {
  constexpr int kBins = 48;
  h.counts.clear();
  h.lo = h.hi = 0;
  h.mean = h.std = h.dead_fraction = 0;
  if (!t.defined() || t.numel() == 0) return;
  if (t.is_cpu() && t.scalar_type() == torch::kFloat && t.dim() >= 2) {
    // Plain loops on the host (explain/host_stats.h); LibTorch ops when a value is not finite.
    const torch::Tensor c = t.detach().contiguous();
    thread_local explain::HostStats hs;
    if (explain::tensor_stats_host(c.data_ptr<float>(), c.size(0), c.numel() / c.size(0), kBins,
                                   gradient, hs)) {
      h.lo = static_cast<float>(hs.lo);
      h.hi = static_cast<float>(hs.hi);
      h.mean = hs.mean;
      h.std = hs.std;
      h.dead_fraction = hs.dead_fraction;
      h.counts.assign(hs.histogram.begin(), hs.histogram.end());
      return;
    }
  }
  explain::Stats st = explain::tensor_stats(t.detach(), kBins, gradient);
  h.lo = static_cast<float>(st.lo);
  h.hi = static_cast<float>(st.hi);
  h.mean = st.mean;
  h.std = st.std;
  h.dead_fraction = st.dead_fraction;
  h.counts.assign(st.histogram.begin(), st.histogram.end());
}

std::shared_ptr<ModelInfo> describe(const model::Model& m, uint64_t generation) {
  auto info = std::make_shared<ModelInfo>();
  info->generation = generation;
  info->path = m.path();
  info->device_name = m.device_name();
  for (const auto& l : m.layers())
    info->layers.push_back(LayerRow{l.path, l.type, l.output_shape, l.params});
  try {
    info->default_layer = m.default_layer();
  } catch (const Error&) {
  }
  info->labels.reserve(static_cast<size_t>(m.num_classes()));
  for (int64_t c = 0; c < m.num_classes(); ++c) info->labels.push_back(m.label(c));
  const auto& in = m.sidecar().input;
  info->input_channels = in.channels();
  info->input_height = in.height;
  info->input_width = in.width;
  try {
    info->first_conv = explain::first_conv_path(m);
    torch::Tensor w = explain::first_layer_filters(const_cast<model::Model&>(m));
    info->filter_count = static_cast<int>(w.size(0));
    info->filter_size = static_cast<int>(w.size(2));
    uint64_t ignored = 0;
    to_host(explain::make_grid(w, 0, 1, 0.5), &ignored, info->filters);
  } catch (const std::exception&) {
    // No convolution (or an odd one): the filters tab says so.
  }
  return info;
}

std::unique_ptr<model::Model> load_model(const PipelineOptions& opt, const std::string& path) {
  model::Model::Options mo;
  mo.path = path.empty() ? builtin_model_path() : path;
  mo.config_path = opt.model_config;
  mo.device = opt.device;
  mo.threads = opt.threads;
  mo.optimization = model::parse_engine(opt.engine);
  return model::Model::load(mo);
}

}  // namespace

std::vector<std::string> available_methods() {
  return explain::method_names();
}

std::string builtin_model_path() {
  const char* env = std::getenv("CAMSCOPE_ASSETS");
  std::string dir = env && *env ? env : CAMSCOPE_ASSET_DIR;
  return dir + "/builtin.pt";
}

// [SECTION] Shared state. One mutex guards everything below; the heavy work (decode, model)
// runs unlocked on snapshots.
struct Pipeline::Impl {
  PipelineOptions opt;
  mutable std::mutex mu;
  std::condition_variable cv_worker, cv_capture, cv_result;
  bool stop = false;

  // Worker-owned model (swapped under the lock when another one is opened).
  std::unique_ptr<model::Model> model;
  std::shared_ptr<const ModelInfo> info;
  std::vector<std::string> gate_paths;  // squeeze-excitation gates of the model
  uint64_t model_generation = 1;
  // Faithfulness metrics (Pipeline::set_metrics): newest last.
  bool metrics_on = false;
  uint64_t metrics_skip = 0, metrics_generation = 0;
  std::deque<MetricsPoint> metrics_history;
  torch::Tensor metrics_prev_map;
  int64_t metrics_prev_index = -1;
  ViewParams metrics_prev_params;
  bool optvis_requested = false;
  OptvisView optvis;
  uint64_t optvis_generation = 0;
  std::map<std::string, OptvisView> optvis_cache;  // finished runs, by optvis_key()
  bool sanity_requested = false;
  SanityResult sanity;
  uint64_t sanity_generation = 0;
  std::string pending_model;
  bool has_pending_model = false;

  // Capture-owned source.
  std::unique_ptr<capture::FrameSource> source;
  capture::SourceInfo source_info;
  capture::SourceState source_state = capture::SourceState::Ok;
  std::string pending_input;
  bool has_pending_input = false;
  int opening = 0;  // open_model/open_input calls not finished yet (success or failure)
  uint64_t source_generation = 1;

  // Request.
  ViewParams params;
  int64_t wanted = 0;
  uint64_t req_serial = 1;
  // Bumped by requests that stop a long computation in progress (not by playback seeks).
  uint64_t supersede_serial = 1;

  // What the worker is doing for the viewer's "waiting" line: set before each computation,
  // cleared after; the first computation of a model says that it prepares the model.
  std::string activity;
  Clock::time_point activity_since;
  bool model_warm = false;  // a computation with the current model has finished

  // Long computations: progress of the newest, and Cancel.
  JobProgress job;
  uint64_t job_counter = 0;
  uint64_t cancel_job = 0;  // the job id Cancel asked to stop
  ViewParams job_params;    // what the running compute job explains
  Clock::time_point job_reported;  // when the job last reported
  // After Cancel: the same computation is not started again until the params change (or
  // another model or input is opened), so a live source or playback does not restart it.
  bool hold = false;
  ViewParams hold_params;

  // Frame slot (latest wins).
  std::shared_ptr<const capture::Frame> frame;
  double frame_decode_ms = 0;
  uint64_t frame_serial = 0;
  bool frame_taken = true;
  int64_t decoded_index = -1;  // last index published (sequential reads)
  Prepared frame_input;        // `frame` preprocessed by the capture thread (seekable sources)

  // Read-ahead (seekable sources): the frame after the one published, decoded and
  // preprocessed while the worker explains the current one, so stepping forward (playback,
  // export-like loops) never waits for decode and preprocessing. One frame, no more.
  std::shared_ptr<const capture::Frame> ahead;
  double ahead_decode_ms = 0;
  Prepared ahead_input;
  int64_t next_pos = 0;  // the index the source's next() returns

  // Recycled buffers, so steady playback allocates none of its own: decoded frames (the next
  // decode refills a released frame's RGB buffer: sources assign into the Frame they are
  // given), cache entries, results and the capture thread's preprocessed inputs (at most four
  // alive: being written, published, read ahead, at the worker).
  std::shared_ptr<Recycler<capture::Frame>> frame_pool = Recycler<capture::Frame>::create(8);
  std::shared_ptr<Recycler<CacheEntry>> entry_pool = Recycler<CacheEntry>::create(4, reset_entry);
  std::shared_ptr<Recycler<FrameResult>> result_pool =
      Recycler<FrameResult>::create(4, reset_result);
  model::InputPool input_pool{4};  // capture thread only
  uint64_t input_allocations = 0;  // input_pool's, copied under the lock
  std::vector<float> sort_keys;    // worker only: derive()'s grid order

  // What the capture thread needs to preprocess for the current model (copied under the lock,
  // so it never touches the worker-owned model).
  model::InputSpec input_spec;
  torch::Device input_device{torch::kCPU};
  // The CUDA stream every LibTorch call of the worker and capture threads runs on (inert on the
  // CPU), and whether results keep their maps on the model's device (the device path).
  std::shared_ptr<model::DeviceStream> stream;
  torch::Device stream_device{torch::kCPU};
  bool device_maps = false;

  // Output.
  std::shared_ptr<const FrameResult> result;
  uint64_t result_serial = 0;
  LruCache<ResultKey, EntryPtr> cache;
  PipelineStats stats;
  std::string status;

  std::thread capture_thread, worker_thread;

  // run_on_worker(): one task at a time, run by the worker between requests.
  std::function<void()> task;
  bool task_pending = false, task_done = false;
  std::exception_ptr task_error;

  explicit Impl(const PipelineOptions& o) : opt(o), cache(o.cache_entries) {}

  capture::SourceOptions source_options() const {
    capture::SourceOptions so;
    so.decode = opt.decode;
    return so;
  }

  // Called (under the lock) whenever something a viewer shows changed: a result, a status, a
  // sanity report, a finished task. Lets the GL thread sleep instead of polling.
  std::function<void()> on_change;
  void notify_result() {
    cv_result.notify_all();
    if (on_change) on_change();
  }

  bool live() const { return source_info.live || !source_info.seekable; }
  void bump_request() {
    ++req_serial;
    cv_worker.notify_all();
  }
  void supersede() {
    ++supersede_serial;
    hold = false;
  }
  void clear_sanity() {
    if (sanity.running || sanity_requested) return;
    sanity = SanityResult{};
    ++sanity_generation;
  }
  // A Progress callback for one long job: records done/total and says stop when a newer
  // request superseded the job (supersede_serial moved on) or Cancel named it.
  explain::Progress job_progress(uint64_t id, const std::string& method, int64_t frame,
                                 uint64_t sup, bool* by_user) {
    return [this, id, method, frame, sup, by_user](int64_t done, int64_t total,
                                                   const char* unit) {
      // Test hook: each batch takes this much longer (uninterruptible, like a real batch).
      for (int slept = 0; done < total && slept < opt.batch_delay_ms; slept += 5) {
        {
          std::lock_guard<std::mutex> lk(mu);
          if (stop) break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
      }
      std::lock_guard<std::mutex> lk(mu);
      const auto now = Clock::now();
      if (job.id != id) {
        job = JobProgress{};
        job.id = id;
        job.method = method;
        job.frame_index = frame;
      } else {
        job.batch_ms = std::chrono::duration<double, std::milli>(now - job_reported).count();
      }
      job_reported = now;
      job.running = true;
      job.unit = unit;
      job.done = done;
      job.total = total;
      if (on_change) on_change();  // the viewer redraws its progress line
      if (stop) return false;
      if (cancel_job == id) {
        *by_user = true;
        return false;
      }
      return supersede_serial == sup;
    };
  }
  // Under the lock, after a job ended (finished, failed or stopped).
  void finish_job(uint64_t id, bool cancelled, bool by_user, double ms) {
    if (job.id != id) return;  // it never reported: not a long method
    job.running = false;
    job.cancelled = cancelled;
    job.by_user = by_user;
    job.elapsed_ms = ms;
    if (on_change) on_change();
  }

  // The read-ahead frame, when it is the one wanted, becomes the published frame without
  // decoding. Called by seek() too, so stepping forward hands the worker its frame at once
  // instead of waiting for the capture thread to wake up (about 1 ms on a busy machine).
  bool publish_ahead_locked() {
    if (live() || wanted == decoded_index || !ahead || ahead->index != wanted) return false;
    ++stats.frames_decoded;
    ++stats.frames_read_ahead;
    if (!frame_taken) ++stats.frames_dropped;
    decoded_index = wanted;
    frame = std::move(ahead);
    frame_decode_ms = ahead_decode_ms;
    frame_input = std::move(ahead_input);
    ahead_input = {};
    ++frame_serial;
    frame_taken = false;
    cv_worker.notify_all();
    return true;
  }
  // Seekable sources: the published frame is the wanted one and the next is not decoded yet.
  bool read_ahead_due_locked() const {
    const int64_t n = source_info.frame_count;
    return !live() && wanted == decoded_index && !ahead && next_pos == decoded_index + 1 &&
           (n < 0 || next_pos < n);
  }
  void capture_loop();
  void worker_loop();
  void run_sanity_locked(std::unique_lock<std::mutex>& lk);
  void run_optvis_locked(std::unique_lock<std::mutex>& lk);
  void compute_metrics_locked(std::unique_lock<std::mutex>& lk,
                              std::shared_ptr<const FrameResult> r);
  std::string optvis_key(const OptvisParams& p, int64_t frame) const {
    return std::to_string(model_generation) + "|" + p.layer + "|" + std::to_string(p.channel) +
           "|" + std::to_string(p.cls) + "|" + std::to_string(p.steps) + "|" +
           std::to_string(p.size) + "|" + std::to_string(p.batch) + "|" +
           std::to_string(p.seed) + "|" +
           (p.accentuate ? std::to_string(source_generation) + ":" + std::to_string(frame) : "");
  }
  // Reads the squeeze-excitation gates (one extra forward pass) into e.
  void add_gates(model::Model& m, const torch::Tensor& x, CacheEntry& e);
  EntryPtr compute(model::Model& m, const capture::Frame& f, double decode_ms, const Prepared& pre,
                   uint64_t generation, const ViewParams& p, const explain::Progress& progress);
  // Under the lock (or before the threads start), whenever the model changes: what the capture
  // thread needs, camscope's stream on the model's device and whether maps stay there.
  void set_input_spec() {
    input_spec = model->sidecar().input;
    input_device = model->device();
    const bool cuda = input_device.is_cuda();
    if (!stream || stream_device != input_device) {
      stream = model::DeviceStream::create(cuda ? std::max<int>(0, input_device.index()) : -1);
      stream_device = input_device;
    }
    device_maps = opt.device_maps == "on" || (opt.device_maps == "auto" && cuda);
  }
  std::shared_ptr<FrameResult> derive(const CacheEntry& e, const ViewParams& p, int64_t index,
                                      bool from_cache, uint64_t req);
  void finish_device(FrameResult& r, const CacheEntry& e);
};

void Pipeline::Impl::capture_loop() {
  std::unique_lock<std::mutex> lk(mu);
  Clock::time_point last_live = Clock::now();
  while (!stop) {
    if (has_pending_input) {
      std::string spec = pending_input;
      has_pending_input = false;
      status = "opening " + spec + "...";
      notify_result();
      lk.unlock();
      std::unique_ptr<capture::FrameSource> s;
      std::string err;
      try {
        s = capture::open_source(spec, source_options());
      } catch (const std::exception& e) {
        err = e.what();
      }
      lk.lock();
      --opening;
      if (!s) {
        status = err;
        notify_result();
        continue;
      }
      source = std::move(s);
      source_info = source->info();
      ++source_generation;
      wanted = 0;
      decoded_index = -1;
      next_pos = 0;
      frame.reset();
      frame_input = {};
      ahead.reset();
      ahead_input = {};
      status.clear();
      clear_sanity();
      bump_request();
      continue;
    }
    const bool is_live = live();
    if (publish_ahead_locked()) continue;
    const bool read_ahead = read_ahead_due_locked();
    if (!is_live && wanted == decoded_index && !read_ahead) {
      // Also woken when seek() has published the read-ahead frame itself: the next one is
      // then due.
      cv_capture.wait(lk, [&] {
        return stop || has_pending_input || wanted != decoded_index || read_ahead_due_locked();
      });
      continue;
    }
    const int64_t target = read_ahead ? next_pos : wanted;
    const int64_t from = next_pos;
    const model::InputSpec spec = input_spec;
    const torch::Device device = input_device;
    const std::shared_ptr<model::DeviceStream> dev_stream = stream;
    const uint64_t generation = model_generation;
    capture::FrameSource* src = source.get();
    const double fps = source_info.fps;
    const bool webcam = source_info.kind == "webcam";
    lk.unlock();

    // Live sources that generate frames on demand (synthetic) are paced at their nominal rate
    // so they do not burn a core; webcams pace themselves.
    if (is_live && !webcam && fps > 0) {
      auto next_at = last_live + std::chrono::microseconds(static_cast<int64_t>(1e6 / fps));
      std::this_thread::sleep_until(next_at);
      last_live = std::max(next_at, Clock::now() - std::chrono::milliseconds(100));
    }
    std::shared_ptr<capture::Frame> f = frame_pool->acquire();
    bool ok = false;
    std::string err;
    const auto t0 = Clock::now();
    try {
      if (is_live || target == from)
        ok = src->next(*f);
      else
        ok = src->seek(target, *f);
    } catch (const std::exception& e) {
      err = e.what();
    }
    const double decode_ms = ms_since(t0);
    // Seekable sources: preprocess here too, off the worker (a failure leaves it to the worker,
    // which reports it).
    Prepared pre;
    if (!is_live && ok && err.empty()) {
      const auto t1 = Clock::now();
      try {
        torch::Tensor hwc =
            torch::from_blob(f->rgb.data(), {f->height, f->width, 3}, torch::kUInt8);
        if (device.is_cpu()) pre.x = input_pool.acquire(spec);
        // On the worker's stream, so its work on pre.x is ordered after this upload.
        const model::DeviceStream::Scope on_stream(dev_stream.get());
        model::preprocess_frame(hwc, spec, device, pre.x);
        pre.ms = ms_since(t1);
        pre.model_generation = generation;
      } catch (const std::exception&) {
        pre = {};
      }
    }

    lk.lock();
    input_allocations = input_pool.allocations();
    if (src != source.get()) continue;  // the input changed meanwhile
    const capture::SourceState was = source_state;
    source_state = src->state();
    if (source_state != was) notify_result();  // a webcam lost or back: the viewer shows it
    if (!is_live) next_pos = target + 1;
    if (read_ahead) {
      // Kept only when it decoded cleanly; otherwise the frame is decoded again on request and
      // its error reported then.
      if (ok && err.empty()) {
        if (f->index != target) f->index = target;
        ahead = std::move(f);
        ahead_decode_ms = decode_ms;
        ahead_input = std::move(pre);
      } else {
        next_pos = -1;  // position unknown: the next request seeks
      }
      continue;
    }
    if (!err.empty()) {
      status = err;
      decoded_index = target;  // do not retry the same failing frame in a loop
      continue;
    }
    if (!ok) {
      if (is_live) {
        lk.unlock();
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
        lk.lock();
      } else {
        decoded_index = target;
      }
      continue;
    }
    ++stats.frames_decoded;
    if (!frame_taken) ++stats.frames_dropped;
    decoded_index = is_live ? f->index : target;
    if (!is_live && f->index != target) f->index = target;  // frame-exact contract
    frame = std::move(f);
    frame_decode_ms = decode_ms;
    frame_input = std::move(pre);
    ahead.reset();  // a seek elsewhere: the read-ahead frame (if any) is not next any more
    ahead_input = {};
    ++frame_serial;
    frame_taken = false;
    cv_worker.notify_all();
  }
}

void Pipeline::Impl::add_gates(model::Model& m, const torch::Tensor& x, CacheEntry& e) {
  if (gate_paths.empty()) return;
  const auto t0 = Clock::now();
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> gates = explain::channel_gates(m, x, gate_paths);
  e.se_gates.resize(gates.size());
  for (size_t i = 0; i < gates.size(); ++i) {
    e.se_gates[i].first = gate_paths[i];
    to_vector(gates[i], e.se_gates[i].second);
  }
  e.timings_ms.emplace_back("se_gates", ms_since(t0));
}

EntryPtr Pipeline::Impl::compute(model::Model& m, const capture::Frame& f, double decode_ms,
                                 const Prepared& pre, uint64_t generation, const ViewParams& p,
                                 const explain::Progress& progress) {
  std::shared_ptr<CacheEntry> e = entry_pool->acquire();
  e->timings_ms.emplace_back("decode", decode_ms);
  auto t0 = Clock::now();
  torch::Tensor x;
  double pre_ms = 0;
  if (pre.x.defined() && pre.model_generation == generation) {
    x = pre.x;  // preprocessed by the capture thread, overlapping the previous frame's work
    pre_ms = pre.ms;
  } else {
    x = m.preprocess(f.rgb.data(), f.width, f.height);
    pre_ms = ms_since(t0);
  }
  if (!m.device().is_cpu()) e->bytes_to_device += f.rgb.size();
  e->timings_ms.emplace_back("preprocess", pre_ms);

  explain::Request req;
  req.method = explain::parse_method(p.method);
  req.layer = p.layer;
  req.target = p.target;
  req.progress = progress;
  explain::Result r;
  if (p.compare.empty()) {
    r = explain::explain(m, x, req);
  } else {
    // The compare view: the main method first, then the others, from shared passes.
    std::vector<explain::Method> methods{req.method};
    for (const std::string& name : p.compare) {
      const explain::Method cm = explain::parse_method(name);
      if (std::find(methods.begin(), methods.end(), cm) == methods.end()) methods.push_back(cm);
    }
    std::vector<explain::Result> all = explain::explain_many(m, x, methods, req);
    const auto tc = Clock::now();
    std::vector<torch::Tensor> maps;
    for (const auto& res : all) maps.push_back(res.map.detach().to(torch::kFloat));
    const size_t n = maps.size();
    e->compare_spearman.assign(n * n, 1.0);
    for (size_t i = 0; i < n; ++i)
      for (size_t j = i + 1; j < n; ++j)
        e->compare_spearman[i * n + j] = e->compare_spearman[j * n + i] =
            explain::stability(maps[i], maps[j]);
    e->compare.resize(n - 1);
    for (size_t i = 1; i < n; ++i) {
      e->compare[i - 1].first = explain::method_name(methods[i]);
      to_host(maps[i], &e->bytes_to_host, e->compare[i - 1].second, &e->map_bytes_to_host);
    }
    r = std::move(all[0]);
    r.timings_ms.emplace_back("compare", std::chrono::duration<double, std::milli>(Clock::now() - tc).count());
  }
  for (const auto& t : r.timings_ms) {
    auto it = std::find_if(e->timings_ms.begin(), e->timings_ms.end(),
                           [&](const auto& s) { return s.first == t.first; });
    if (it == e->timings_ms.end())
      e->timings_ms.push_back(t);
    else
      it->second += t.second;
  }

  t0 = Clock::now();
  e->layer = r.layer;
  e->target = r.target;
  if (device_maps) {
    e->device_map = explain::map_stack(r.map);
    if (explain::is_pixel_space(req.method)) e->clip_levels = explain::clip_levels(e->device_map);
  } else {
    to_host(r.map, &e->bytes_to_host, e->map, &e->map_bytes_to_host);
  }
  e->geometry = model::input_geometry(f.width, f.height, m.sidecar().input);
  if (r.raw.defined() && r.raw.numel() > 0) {
    e->raw_lo = r.raw.min().item<float>();
    e->raw_hi = r.raw.max().item<float>();
  }
  if (r.logits.defined()) {
    torch::Tensor logits = r.logits.detach().to(torch::kCPU, torch::kFloat).contiguous().view(-1);
    if (r.target >= 0 && r.target < logits.numel())
      e->target_logit = logits.data_ptr<float>()[r.target];
    for (const auto& [cls, prob] : explain::top_classes(logits, 5))
      e->top.push_back(ClassScore{cls, m.label(cls), prob});
  }
  torch::Tensor a = r.activation;
  if (a.defined() && a.dim() == 4 && a.size(0) == 1) a = a.squeeze(0);
  if (a.defined() && a.dim() == 3) {
    e->activation_shape.assign(a.sizes().begin(), a.sizes().end());
    torch::Tensor ad = a.detach().to(torch::kFloat);
    // On the CPU: channel means and the normalized stack in plain loops (explain/host_stats.h),
    // straight into the entry's buffers; LibTorch ops on another device or for non-finite values.
    bool host = false;
    if (ad.is_cpu()) {
      ad = ad.contiguous();
      const int64_t K = ad.size(0), hw = ad.size(1) * ad.size(2);
      e->channel_mean.resize(static_cast<size_t>(K));
      float* out = nullptr;
      if (device_maps) {
        // The device path on the CPU: the same loops, into a tensor the grid gathers from.
        e->device_channels = torch::empty({K, ad.size(1), ad.size(2)}, torch::kFloat);
        out = e->device_channels.data_ptr<float>();
      } else {
        HostMap& ch = e->channels;
        ch.channels = static_cast<int>(K);
        ch.height = static_cast<int>(ad.size(1));
        ch.width = static_cast<int>(ad.size(2));
        ch.values.resize(static_cast<size_t>(K * hw));
        out = ch.values.data();
      }
      host = explain::channel_summary_host(ad.data_ptr<float>(), K, hw, e->channel_mean.data(),
                                           out);
      if (!host) {
        e->device_channels = torch::Tensor();
        e->channels = HostMap{};
      }
    }
    if (!host) {
      to_vector(explain::channel_mean(ad), e->channel_mean);
      // Per-channel min-max on the model's device; on the device path it stays there, else one
      // host copy of the normalized stack.
      if (device_maps)
        e->device_channels = explain::normalize_channels(ad).contiguous();
      else
        to_host(explain::normalize_channels(ad), &e->bytes_to_host, e->channels,
                &e->map_bytes_to_host);
    }
    if (r.channel_weights.defined())
      to_vector(r.channel_weights, e->channel_weight);
    else if (r.gradient.defined() && r.gradient.numel() == ad.numel())
      to_vector(r.gradient.detach().to(torch::kFloat).view_as(ad).mean({1, 2}), e->channel_weight);
    histogram(ad, false, e->activation_hist);
    histogram(r.gradient, true, e->gradient_hist);
  } else if (a.defined()) {
    e->activation_shape.assign(a.sizes().begin(), a.sizes().end());
  }
  e->timings_ms.emplace_back("grid", ms_since(t0));
  if (p.se_gates) add_gates(m, x, *e);
  return e;
}

std::shared_ptr<FrameResult> Pipeline::Impl::derive(const CacheEntry& e, const ViewParams& p,
                                                    int64_t index, bool from_cache, uint64_t req) {
  std::shared_ptr<FrameResult> r = result_pool->acquire();
  r->request_serial = req;
  r->params = p;
  r->params.layer = e.layer.empty() ? p.layer : e.layer;
  r->frame = e.frame;
  r->frame_index = index;
  r->pts = e.frame ? e.frame->pts : 0;
  r->error = e.error;
  r->from_cache = from_cache;
  r->map = e.map;
  r->geometry = e.geometry;
  r->raw_lo = e.raw_lo;
  r->raw_hi = e.raw_hi;
  r->channel_mean = e.channel_mean;
  r->channel_weight = e.channel_weight;
  r->activation_shape = e.activation_shape;
  r->top = e.top;
  r->target = e.target;
  r->target_logit = e.target_logit;
  r->activation_hist = e.activation_hist;
  r->gradient_hist = e.gradient_hist;
  r->se_gates = e.se_gates;
  r->timings_ms = e.timings_ms;
  r->bytes_to_device = e.bytes_to_device;
  r->bytes_to_host = e.bytes_to_host;
  r->map_bytes_to_host = e.map_bytes_to_host;
  r->clip_levels = e.clip_levels;
  r->compare = e.compare;
  r->compare_spearman = e.compare_spearman;

  const HostMap& ch = e.channels;
  const bool on_device = e.device_channels.defined();
  const int K = on_device ? static_cast<int>(e.device_channels.size(0)) : ch.channels;
  if (!ch.empty() || on_device) {
    std::vector<int>& order = r->grid_channels;
    order.resize(static_cast<size_t>(K));
    std::iota(order.begin(), order.end(), 0);
    const std::vector<float>* key = nullptr;
    if (p.grid_sort == GridSort::Activation) key = &e.channel_mean;
    if (p.grid_sort == GridSort::Weight)
      key = e.channel_weight.empty() ? &e.channel_mean : &e.channel_weight;
    if (key && key->size() == order.size()) {
      // Descending, ties by index: what a stable sort gives, without its scratch allocation.
      // NaN sorts last, so the order stays a strict weak one.
      std::vector<float>& k = sort_keys;
      k.resize(key->size());
      for (size_t i = 0; i < k.size(); ++i)
        k[i] = std::isnan((*key)[i]) ? -std::numeric_limits<float>::infinity() : (*key)[i];
      std::sort(order.begin(), order.end(),
                [&](int x, int y) { return k[x] > k[y] || (k[x] == k[y] && x < y); });
    }
    if (p.grid_top_k > 0 && static_cast<size_t>(p.grid_top_k) < order.size()) {
      // The opened channel stays pinned: it follows the top k when the ranking drops it.
      const int pin = p.pinned_channel;
      const bool keep = pin >= 0 && pin < K &&
                        std::find(order.begin(), order.begin() + p.grid_top_k, pin) ==
                            order.begin() + p.grid_top_k;
      order.resize(static_cast<size_t>(p.grid_top_k));
      if (keep) order.push_back(pin);
    }
    if (on_device) {
      // The device path: one gather on the model's device, no host copy.
      r->device_grid = explain::keep(explain::grid_stack(e.device_channels, order));
    } else {
      r->grid.channels = static_cast<int>(order.size());
      r->grid.height = ch.height;
      r->grid.width = ch.width;
      const size_t plane = static_cast<size_t>(ch.height) * ch.width;
      r->grid.values.resize(order.size() * plane);
      for (size_t i = 0; i < order.size(); ++i)
        std::copy_n(ch.values.begin() + static_cast<ptrdiff_t>(order[i] * plane), plane,
                    r->grid.values.begin() + static_cast<ptrdiff_t>(i * plane));
    }
  }
  finish_device(*r, e);
  return r;
}

// The device path's last step: the map joins the result, and one event recorded on camscope's
// stream marks both buffers written (the GL thread's bridge waits on it in its own stream).
void Pipeline::Impl::finish_device(FrameResult& r, const CacheEntry& e) {
  if (e.device_map.defined()) r.device_map = explain::keep(e.device_map);
  if (stream && stream->active() && (!r.device_map.empty() || !r.device_grid.empty())) {
    if (!r.ready_event) r.ready_event = stream->make_event();
    stream->record(r.ready_event.get());
    r.device_map.ready_event = r.device_grid.ready_event = r.ready_event.get();
  }
}

// Runs on the worker with the lock held on entry and exit; the check itself runs unlocked on
// the frame and params of the newest result.
void Pipeline::Impl::run_sanity_locked(std::unique_lock<std::mutex>& lk) {
  sanity_requested = false;
  std::shared_ptr<const FrameResult> r = result;
  model::Model* m = model.get();
  sanity = SanityResult{};
  sanity.running = true;
  ++sanity_generation;
  sanity.frame_index = r->frame_index;
  sanity.method = r->params.method;
  sanity.layer = r->params.layer;
  sanity.target = r->target;
  const uint64_t job_id = ++job_counter;
  const uint64_t sup = supersede_serial;
  bool by_user = false;
  bool cancelled = false;
  lk.unlock();
  SanityResult out = sanity;
  const auto t0 = Clock::now();
  try {
    torch::Tensor x = m->preprocess(r->frame->rgb.data(), r->frame->width, r->frame->height);
    explain::Request req;
    req.method = explain::parse_method(r->params.method);
    req.layer = r->params.layer;
    req.target = r->target;
    req.progress = job_progress(job_id, "sanity", r->frame_index, sup, &by_user);
    explain::SanityReport rep = explain::sanity_check(*m, x, req);
    std::vector<torch::Tensor> maps{rep.base_map};
    for (const auto& st : rep.steps) {
      out.steps.push_back(SanityStep{st.block, st.spearman, st.spearman_abs});
      maps.push_back(st.map);
    }
    // One device-to-host copy for the whole panel, once per sanity run (not per frame).
    torch::Tensor all = torch::stack(maps).to(torch::kCPU, torch::kFloat).contiguous();
    out.maps.channels = static_cast<int>(all.size(0));
    out.maps.height = static_cast<int>(all.size(1));
    out.maps.width = static_cast<int>(all.size(2));
    out.maps.values.assign(all.data_ptr<float>(), all.data_ptr<float>() + all.numel());
  } catch (const explain::Cancelled&) {
    cancelled = true;
  } catch (const std::exception& e) {
    out.error = first_line(e);
  }
  out.running = false;
  out.elapsed_ms = ms_since(t0);
  lk.lock();
  finish_job(job_id, cancelled, by_user, out.elapsed_ms);
  if (cancelled) {
    ++stats.cancelled;
    out = SanityResult{};
    out.error = "sanity check stopped at " + std::to_string(job.done) + "/" +
                std::to_string(job.total) + " blocks (" +
                (by_user ? "cancelled" : "a newer request came") + ")";
  }
  sanity = std::move(out);
  ++sanity_generation;
  notify_result();
}

namespace {
// [batch, 3, S, S] CPU float -> HostMap planes.
void to_host_images(const torch::Tensor& imgs, HostMap& out) {
  const torch::Tensor c = imgs.to(torch::kCPU, torch::kFloat).contiguous();
  out.channels = static_cast<int>(c.size(0) * 3);
  out.height = static_cast<int>(c.size(2));
  out.width = static_cast<int>(c.size(3));
  out.values.assign(c.data_ptr<float>(), c.data_ptr<float>() + c.numel());
}
}  // namespace

// Runs on the worker with the lock held on entry and exit; the optimization runs unlocked.
void Pipeline::Impl::run_optvis_locked(std::unique_lock<std::mutex>& lk) {
  optvis_requested = false;
  const OptvisParams p = optvis.params;
  std::shared_ptr<const FrameResult> r = result;
  const int64_t frame = p.accentuate && r ? r->frame_index : -1;
  const std::string key = optvis_key(p, frame);
  if (auto it = optvis_cache.find(key); it != optvis_cache.end()) {
    optvis = it->second;
    optvis.from_cache = true;
    ++optvis_generation;
    notify_result();
    return;
  }
  model::Model* m = model.get();
  const uint64_t job_id = ++job_counter;
  bool by_user = false;
  lk.unlock();
  OptvisView out = optvis;
  const auto t0 = Clock::now();
  bool cancelled = false;
  try {
    explain::OptvisRequest req;
    if (p.channel >= 0) {
      req.objective = explain::OptvisRequest::Objective::Channel;
      req.layer = p.layer;
      req.channel = p.channel;
    } else {
      req.objective = explain::OptvisRequest::Objective::Class;
      req.cls = p.cls;
    }
    req.steps = p.steps;
    req.size = p.size;
    req.batch = p.batch;
    req.diversity = p.batch > 1 ? 20.0 : 0.0;
    req.seed = p.seed;
    if (p.accentuate && r && r->frame && r->frame->valid())
      req.init = torch::from_blob(const_cast<uint8_t*>(r->frame->rgb.data()),
                                  {r->frame->height, r->frame->width, 3}, torch::kUInt8)
                     .permute({2, 0, 1})
                     .to(torch::kFloat)
                     .div(255.0);
    const explain::Progress progress =
        job_progress(job_id, "optvis", frame, supersede_serial, &by_user);
    auto res = explain::optimize(*m, req, [&](const explain::OptvisStep& st,
                                              const explain::OptvisImages& images) {
      // The panel gets new images every 8 steps (and the last): copying them is cheap, but
      // the panel's upload and redraw are not free at every step.
      const bool send = st.step % 8 == 0 || st.step == st.total;
      HostMap host;
      if (send) to_host_images(images(), host);
      {
        std::lock_guard<std::mutex> g(mu);
        optvis.step = st.step;
        optvis.total = st.total;
        optvis.objective = st.objective;
        if (send) {
          optvis.images = std::move(host);
          optvis.batch = p.batch;
        }
        ++optvis_generation;
      }
      // Cancel (or quitting) stops it; newer map requests wait for it to finish.
      bool go = true;
      {
        std::lock_guard<std::mutex> g(mu);
        go = !stop && cancel_job != job_id;
        if (cancel_job == job_id) by_user = true;
      }
      if (go) progress(st.step, st.total, "steps");
      return go;
    });
    to_host_images(res.images, out.images);
    out.batch = p.batch;
    out.step = out.total = p.steps;
    out.objective = res.objectives.empty() ? 0 : res.objectives.back();
  } catch (const explain::Cancelled&) {
    cancelled = true;
  } catch (const std::exception& e) {
    out.error = first_line(e);
  }
  out.running = false;
  out.elapsed_ms = ms_since(t0);
  lk.lock();
  finish_job(job_id, cancelled, by_user, out.elapsed_ms);
  if (cancelled) {
    ++stats.cancelled;
    optvis.running = false;
    optvis.cancelled = true;  // keeps the images and step it reached
  } else {
    out.frame_index = frame;
    optvis = out;
    if (out.error.empty()) {
      if (optvis_cache.size() >= 32) optvis_cache.erase(optvis_cache.begin());
      optvis_cache[key] = out;
    }
  }
  ++optvis_generation;
  notify_result();
}

void Pipeline::Impl::worker_loop() {
  std::unique_lock<std::mutex> lk(mu);
  uint64_t seen_req = 0, seen_frame = 0;
  uint64_t done_req = 0, done_frame = 0;
  while (!stop) {
    cv_worker.wait(lk, [&] {
      return stop || task_pending || has_pending_model || (sanity_requested && result) ||
             optvis_requested ||
             req_serial != seen_req || frame_serial != seen_frame;
    });
    if (stop) break;
    // Every LibTorch call of this round runs on camscope's stream (inert on the CPU).
    const std::shared_ptr<model::DeviceStream> round_stream = stream;
    const model::DeviceStream::Scope on_stream(round_stream.get());
    if (task_pending) {
      task_pending = false;
      std::function<void()> fn = std::move(task);
      lk.unlock();
      std::exception_ptr err;
      try {
        fn();
      } catch (...) {
        err = std::current_exception();
      }
      lk.lock();
      task_error = err;
      task_done = true;
      notify_result();
      continue;
    }
    if (sanity_requested && !has_pending_model && result && result->frame) {
      run_sanity_locked(lk);
      continue;
    }
    if (optvis_requested && !has_pending_model && model) {
      run_optvis_locked(lk);
      continue;
    }
    seen_req = req_serial;
    seen_frame = frame_serial;

    if (has_pending_model) {
      std::string path = pending_model;
      has_pending_model = false;
      status = "loading " + path + "...";
      notify_result();
      lk.unlock();
      std::unique_ptr<model::Model> m;
      std::string err;
      try {
        m = load_model(opt, path);
      } catch (const std::exception& e) {
        err = e.what();
      }
      lk.lock();
      --opening;
      if (!m) {
        status = err;
        notify_result();
        continue;
      }
      model = std::move(m);
      model_warm = false;
      ++model_generation;
      set_input_spec();
      info = describe(*model, model_generation);
      gate_paths = explain::find_channel_gates(*model);
      cache.clear();
      params.layer.clear();  // the old layer path means nothing in another model
      status.clear();
      clear_sanity();
      bump_request();
      continue;
    }

    const bool is_live = live();
    if (done_req == req_serial && (!is_live || frame_serial == done_frame)) continue;
    const ViewParams p = params;
    const uint64_t req = req_serial;
    const uint64_t fserial = frame_serial;
    std::shared_ptr<const capture::Frame> f = frame;
    const double decode_ms = frame_decode_ms;
    const Prepared pre = frame_input;
    const uint64_t compute_generation = model_generation;
    if (is_live && !f) continue;
    const int64_t index = is_live ? f->index : wanted;
    std::string layer = p.layer;
    explain::Method method = explain::Method::GradCam;
    try {
      method = explain::parse_method(p.method);
    } catch (const Error& e) {
      status = e.what();
      continue;
    }
    if (layer.empty() && explain::needs_layer(method)) layer = info->default_layer;
    ResultKey key{index, source_generation, model_generation, layer, method, p.target, p.compare};
    bool from_cache = true;
    EntryPtr entry;
    if (const EntryPtr* hit = cache.get(key)) entry = *hit;
    if (!entry) {
      if (!f || f->index != index) continue;  // the capture thread has not decoded it yet
      ViewParams resolved = p;
      resolved.layer = layer;
      if (hold && resolved.same_computation(hold_params)) {
        // Cancelled by the user: wait for other params (cached frames are still shown).
        done_req = req;
        done_frame = fserial;
        continue;
      }
      from_cache = false;
      frame_taken = true;
      stats.worker_busy = true;
      model::Model* m = model.get();
      const uint64_t job_id = ++job_counter;
      const uint64_t sup = supersede_serial;
      job_params = resolved;
      bool by_user = false, cancelled = false;
      activity = model_warm ? "computing " + p.method + " for frame " + std::to_string(index)
                            : std::string("first result: preparing the model (") +
                                  (opt.engine == "fast" ? "fast engine: freezing and folding the "
                                                          "graph, "
                                                        : "") +
                                  "first run of every op), then " + p.method;
      activity_since = Clock::now();
      if (on_change) on_change();
      lk.unlock();
      const auto tj = Clock::now();
      std::shared_ptr<CacheEntry> e;
      try {
        e = std::const_pointer_cast<CacheEntry>(
            compute(*m, *f, decode_ms, pre, compute_generation, resolved,
                    job_progress(job_id, p.method, index, sup, &by_user)));
      } catch (const explain::Cancelled&) {
        cancelled = true;  // nothing to publish or cache
      } catch (const std::exception& ex) {
        e = entry_pool->acquire();
        e->error = first_line(ex);
        e->layer = layer;  // the header names the layer that failed
      }
      if (e) e->frame = f;
      for (int slept = 0; e && slept < opt.worker_delay_ms && !stop; slept += 5)
        std::this_thread::sleep_for(
            std::chrono::milliseconds(std::min(5, opt.worker_delay_ms - slept)));
      lk.lock();
      stats.worker_busy = false;
      activity.clear();
      if (model.get() == m) model_warm = true;
      finish_job(job_id, cancelled, by_user, ms_since(tj));
      if (cancelled) {
        ++stats.cancelled;
        if (by_user) {  // the request stays unanswered until the next one
          done_req = req;
          done_frame = fserial;
        }
        cv_result.notify_all();
        continue;
      }
      if (model.get() != m) continue;  // another model arrived meanwhile
      entry = e;
      ++stats.computed;
      if (e->error.empty())
        cache.put(key, entry);
      else
        ++stats.errors;
    } else {
      ++stats.cache_hits;
      if (f && f->index == index) frame_taken = true;
      if (p.se_gates && !gate_paths.empty() && entry->se_gates.empty() && entry->frame) {
        // Cached before the SE tab was opened: add the gates once, keep them in the cache.
        model::Model* m = model.get();
        lk.unlock();
        std::shared_ptr<CacheEntry> e = entry_pool->acquire();
        *e = *entry;
        try {
          add_gates(*m, m->preprocess(e->frame->rgb.data(), e->frame->width, e->frame->height), *e);
        } catch (const std::exception& ex) {
          log::warn(std::string("SE gates: ") + ex.what());
        }
        lk.lock();
        if (model.get() != m) continue;
        entry = e;
        cache.put(key, entry);
      }
    }
    // Deriving copies the channel stack; do it unlocked so the GL thread never waits on it.
    const uint64_t generation = model_generation;
    lk.unlock();
    auto r = derive(*entry, p, index, from_cache, req);
    lk.lock();
    r->serial = ++result_serial;
    r->model_generation = generation;
    result = std::move(r);
    stats.cache_size = cache.size();
    done_req = req;
    done_frame = fserial;
    notify_result();
    // Faithfulness metrics, off the critical path: once the map is out, when no newer request
    // waits, or on every 5th new result while they keep coming (the panel says which frames).
    const bool measured = metrics_prev_index == index &&
                          result->params.same_computation(metrics_prev_params);
    if (metrics_on && !measured) {
      const bool idle = req_serial == req && frame_serial == fserial;
      if (idle || ++metrics_skip % 5 == 0) compute_metrics_locked(lk, result);
    }
  }
}

void Pipeline::Impl::compute_metrics_locked(std::unique_lock<std::mutex>& lk,
                                            std::shared_ptr<const FrameResult> r) {
  if (!r || !r->error.empty() || !r->has_map() || !r->frame || !r->frame->valid()) return;
  model::Model* m = model.get();
  lk.unlock();
  MetricsPoint pt;
  pt.frame_index = r->frame_index;
  pt.method = r->params.method;
  const auto t0 = Clock::now();
  torch::Tensor map;
  bool ok = false;
  try {
    torch::Tensor x = m->preprocess(r->frame->rgb.data(), r->frame->width, r->frame->height);
    if (!r->device_map.empty())  // the device path: the map never left the model's device
      map = explain::kept_tensor(r->device_map).select(0, 0);
    else
      map = torch::from_blob(const_cast<float*>(r->map.values.data()),
                             {r->map.height, r->map.width}, torch::kFloat)
                .clone();
    const explain::Faithfulness f = explain::faithfulness(*m, x, map.to(m->device()), r->target, 20);
    pt.score = f.score;
    pt.drop = f.drop;
    pt.increase = f.increase;
    pt.deletion = f.deletion;
    pt.insertion = f.insertion;
    ok = true;
  } catch (const std::exception& e) {
    log::warn(std::string("metrics: ") + e.what());
  }
  pt.ms = ms_since(t0);
  lk.lock();
  if (!ok || model.get() != m) return;
  const bool same = metrics_prev_index >= 0 && r->frame_index == metrics_prev_index + 1 &&
                    r->params.same_computation(metrics_prev_params) &&
                    metrics_prev_map.sizes() == map.sizes();
  if (same) pt.stability = explain::stability(metrics_prev_map, map);
  metrics_prev_map = map;
  metrics_prev_index = r->frame_index;
  metrics_prev_params = r->params;
  metrics_history.push_back(pt);
  while (metrics_history.size() > 120) metrics_history.pop_front();
  ++metrics_generation;
  notify_result();
}

// [SECTION] Public API

Pipeline::Pipeline(const PipelineOptions& opt, const ViewParams& params)
    : m(std::make_unique<Impl>(opt)) {
  if (opt.device_maps != "auto" && opt.device_maps != "on" && opt.device_maps != "off")
    throw Error("--device-maps must be auto, on or off (got '" + opt.device_maps + "')");
  // The input first: a bad path is reported before the model spends time loading.
  m->source = capture::open_source(opt.input, m->source_options());
  m->source_info = m->source->info();
  // Torch work off this (GL) thread: see util/off_thread.h.
  ViewParams first = params;
  run_off_thread([&] {
    m->model = load_model(opt, opt.model);
    m->info = describe(*m->model, m->model_generation);
    m->set_input_spec();
    m->gate_paths = explain::find_channel_gates(*m->model);
    explain::parse_method(params.method);                      // throws with suggestions
    if (!params.layer.empty()) m->model->layer(params.layer);  // throws with suggestions
    if (!opt.target_spec.empty()) first.target = resolve_target(opt.target_spec, m->info->labels);
    if (first.target >= m->model->num_classes())
      throw Error("--target " + std::to_string(first.target) +
                  " is out of range (the model has " +
                  std::to_string(m->model->num_classes()) + " classes)");
  });
  m->params = first;
  m->capture_thread = std::thread([this] { m->capture_loop(); });
  m->worker_thread = std::thread([this] { m->worker_loop(); });
}

Pipeline::~Pipeline() {
  {
    std::lock_guard<std::mutex> lk(m->mu);
    m->stop = true;
  }
  m->cv_worker.notify_all();
  m->cv_capture.notify_all();
  m->cv_result.notify_all();
  if (m->capture_thread.joinable()) m->capture_thread.join();
  if (m->worker_thread.joinable()) m->worker_thread.join();
}

void Pipeline::set_on_change(std::function<void()> fn) {
  std::lock_guard<std::mutex> lk(m->mu);
  m->on_change = std::move(fn);
}

void Pipeline::set_params(const ViewParams& p) {
  std::lock_guard<std::mutex> lk(m->mu);
  if (m->params == p) return;
  if (!m->params.same_computation(p)) {
    m->supersede();
    // The sanity panel shows the check of the layer and method on screen, not another's.
    if (p.layer != m->params.layer || p.method != m->params.method) m->clear_sanity();
  }
  m->params = p;
  m->bump_request();
}

ViewParams Pipeline::params() const {
  std::lock_guard<std::mutex> lk(m->mu);
  return m->params;
}

void Pipeline::seek(int64_t index, bool supersede) {
  std::lock_guard<std::mutex> lk(m->mu);
  if (m->live()) return;
  const int64_t n = m->source_info.frame_count;
  index = std::max<int64_t>(0, n > 0 ? std::min(index, n - 1) : index);
  if (index == m->wanted) return;
  if (supersede) ++m->supersede_serial;  // a hold (Cancel) stays: same params, other frame
  m->wanted = index;
  m->publish_ahead_locked();
  m->bump_request();
  m->cv_capture.notify_all();
}

int64_t Pipeline::wanted_index() const {
  std::lock_guard<std::mutex> lk(m->mu);
  return m->wanted;
}

void Pipeline::open_model(const std::string& path) {
  std::lock_guard<std::mutex> lk(m->mu);
  if (m->has_pending_model) --m->opening;  // replaces a request not started yet
  m->pending_model = path;
  m->has_pending_model = true;
  m->supersede();
  ++m->opening;
  m->cv_worker.notify_all();
}

void Pipeline::open_input(const std::string& spec) {
  std::lock_guard<std::mutex> lk(m->mu);
  if (m->has_pending_input) --m->opening;
  m->pending_input = spec;
  m->has_pending_input = true;
  m->supersede();
  ++m->opening;
  m->cv_capture.notify_all();
}

std::shared_ptr<const FrameResult> Pipeline::latest() const {
  std::lock_guard<std::mutex> lk(m->mu);
  return m->result;
}

uint64_t Pipeline::request_serial() const {
  std::lock_guard<std::mutex> lk(m->mu);
  return m->req_serial;
}

bool Pipeline::is_current(const FrameResult& r) const {
  std::lock_guard<std::mutex> lk(m->mu);
  return r.request_serial == m->req_serial && m->opening == 0;
}

std::shared_ptr<const FrameResult> Pipeline::wait_current(std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lk(m->mu);
  const bool ok = m->cv_result.wait_for(lk, timeout, [&] {
    return m->stop || (m->result && m->result->request_serial == m->req_serial && m->opening == 0);
  });
  if (!ok || m->stop) return nullptr;
  return m->result;
}

void Pipeline::run_on_worker(std::function<void()> fn) {
  std::unique_lock<std::mutex> lk(m->mu);
  m->cv_result.wait(lk, [&] { return m->stop || !m->task_pending; });
  if (m->stop) throw Error("the pipeline is shutting down");
  m->task = std::move(fn);
  m->task_pending = true;
  m->task_done = false;
  m->cv_worker.notify_all();
  m->cv_result.wait(lk, [&] { return m->stop || m->task_done; });
  if (!m->task_done) throw Error("the pipeline is shutting down");
  m->task_done = false;
  if (m->task_error) std::rethrow_exception(std::exchange(m->task_error, nullptr));
}

JobProgress Pipeline::progress() const {
  std::lock_guard<std::mutex> lk(m->mu);
  return m->job;
}

void Pipeline::cancel() {
  std::lock_guard<std::mutex> lk(m->mu);
  if (!m->job.running) return;
  m->cancel_job = m->job.id;
  if (m->job.method != "sanity" && m->job.method != "optvis") {
    m->hold = true;
    m->hold_params = m->job_params;
  }
}

void Pipeline::retry() {
  std::lock_guard<std::mutex> lk(m->mu);
  m->hold = false;
  m->bump_request();
}

void Pipeline::set_metrics(bool on) {
  std::lock_guard<std::mutex> lk(m->mu);
  if (m->metrics_on == on) return;
  m->metrics_on = on;
  if (on && m->result) {  // the frame on screen gets its metrics now
    m->bump_request();
  }
}

std::vector<MetricsPoint> Pipeline::metrics() const {
  std::lock_guard<std::mutex> lk(m->mu);
  return {m->metrics_history.begin(), m->metrics_history.end()};
}

uint64_t Pipeline::metrics_generation() const {
  std::lock_guard<std::mutex> lk(m->mu);
  return m->metrics_generation;
}

void Pipeline::run_optvis(const OptvisParams& params) {
  std::lock_guard<std::mutex> lk(m->mu);
  OptvisView v;
  v.params = params;
  v.running = true;
  v.total = params.steps;
  const std::vector<std::string>& labels = m->info ? m->info->labels : std::vector<std::string>{};
  if (params.channel >= 0) {
    const std::string layer = params.layer.empty() && m->info ? m->info->default_layer : params.layer;
    v.what = layer + " channel " + std::to_string(params.channel);
  } else {
    v.what = "class " + std::to_string(params.cls);
    if (params.cls >= 0 && params.cls < static_cast<int64_t>(labels.size()))
      v.what += " (" + labels[static_cast<size_t>(params.cls)] + ")";
  }
  if (params.accentuate) v.what += ", from the frame";
  m->optvis = std::move(v);
  m->optvis_requested = true;
  ++m->optvis_generation;
  m->cv_worker.notify_all();
}

OptvisView Pipeline::optvis() const {
  std::lock_guard<std::mutex> lk(m->mu);
  return m->optvis;
}

uint64_t Pipeline::optvis_generation() const {
  std::lock_guard<std::mutex> lk(m->mu);
  return m->optvis_generation;
}

void Pipeline::run_sanity() {
  std::lock_guard<std::mutex> lk(m->mu);
  m->sanity_requested = true;
  m->sanity.running = true;
  ++m->sanity_generation;
  m->cv_worker.notify_all();
}

uint64_t Pipeline::sanity_generation() const {
  std::lock_guard<std::mutex> lk(m->mu);
  return m->sanity_generation;
}

uint64_t Pipeline::source_generation() const {
  std::lock_guard<std::mutex> lk(m->mu);
  return m->source_generation;
}

SanityResult Pipeline::sanity() const {
  std::lock_guard<std::mutex> lk(m->mu);
  return m->sanity;
}

std::shared_ptr<const ModelInfo> Pipeline::model_info() const {
  std::lock_guard<std::mutex> lk(m->mu);
  return m->info;
}

capture::SourceInfo Pipeline::source_info() const {
  std::lock_guard<std::mutex> lk(m->mu);
  return m->source_info;
}

capture::SourceState Pipeline::source_state() const {
  std::lock_guard<std::mutex> lk(m->mu);
  return m->source_state;
}

std::string Pipeline::activity() const {
  std::lock_guard<std::mutex> lk(m->mu);
  if (m->activity.empty()) return {};
  char secs[32];
  std::snprintf(secs, sizeof secs, " (%.1f s)", ms_since(m->activity_since) / 1000.0);
  return m->activity + secs;
}

std::string Pipeline::status() const {
  std::lock_guard<std::mutex> lk(m->mu);
  return m->status;
}

PipelineStats Pipeline::stats() const {
  std::lock_guard<std::mutex> lk(m->mu);
  PipelineStats s = m->stats;
  s.buffer_allocations = m->frame_pool->allocations() + m->entry_pool->allocations() +
                         m->result_pool->allocations() + m->input_allocations;
  return s;
}

}  // namespace camscope::app
