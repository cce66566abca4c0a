// The GPU check's benchmark (built as build-gpu/gpu_bench; run by scripts/gpu_check.sh).
// Everything runs on the model's device (CUDA when there is one, else the CPU):
//  a. the device path end to end, as the app runs it, on resnet50: a 1920x1080 RGB8 frame on the
//     host -> model->preprocess (host -> device) -> forward + Grad-CAM at the default layer -> a
//     64-channel grid on the device (per-channel min-max, the 64 channels of largest mean, one
//     index_select) -> ready event -> TextureBridge upload of map + grid atlas into GL textures
//     (headless EGL). End-to-end fps from a loop with no syncs beyond what the ops need, per-stage
//     ms from a second pass that syncs between stages, bytes per frame by direction.
//  b. Score-CAM (resnet18, 224 input): ms per map.
//  c. resnet50 variants against fp32 eager: fp16, channels_last, CUDA graph replay: ms per
//     forward (and per Grad-CAM map where it is sane), max |difference| of logits and maps.
// Writes one JSON (--json PATH) and prints a short summary. CUDA-only parts are compiled only
// with CAMSCOPE_HAVE_CUDA and reported as {"skipped": reason} otherwise.
//
//   gpu_bench --model18 R18.pt --model50 R50.pt [--device auto|cpu|cuda] [--frames N]
//             [--warmup N] [--stage-frames N] [--scorecam-iters N] [--scorecam-warmup N]
//             [--scorecam-batch N] [--variant-iters N] [--grid N] [--size WxH] [--threads N]
//             [--cpu-lowp] [--json PATH]
#include <ATen/Parallel.h>
#include <torch/csrc/autograd/autograd.h>
#include <torch/version.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <deque>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "explain/channels.h"
#include "explain/device_maps.h"
#include "explain/explain.h"
#include "gpu/texture_bridge.h"
#include "model/device_stream.h"
#include "model/model.h"
#include "render/gl.h"
#include "render/gl_context.h"
#include "util/args.h"
#include "util/error.h"
#include "util/json.h"

#ifdef CAMSCOPE_HAVE_CUDA
#include <ATen/cuda/CUDAGraph.h>
#endif

using namespace camscope;
using Clock = std::chrono::steady_clock;

namespace {

double ms_between(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

double round3(double v) { return std::round(v * 1000.0) / 1000.0; }

// Synthetic frames: smooth colour ramps, a few discs and bars that move between frames, and
// fine texture, so consecutive frames differ everywhere (no cache or branch sees a repeat).
std::vector<std::vector<uint8_t>> make_frames(int w, int h, int count) {
  std::vector<std::vector<uint8_t>> frames(static_cast<size_t>(count));
  for (int f = 0; f < count; ++f) {
    auto& px = frames[static_cast<size_t>(f)];
    px.resize(static_cast<size_t>(w) * h * 3);
    const float cx = w * (0.3f + 0.12f * f), cy = h * (0.4f + 0.08f * f), r = h * 0.18f;
    for (int y = 0; y < h; ++y) {
      for (int x = 0; x < w; ++x) {
        uint8_t* p = &px[(static_cast<size_t>(y) * w + x) * 3];
        const float dx = x - cx, dy = y - cy;
        const bool disc = dx * dx + dy * dy < r * r;
        const bool bar = ((x + 37 * f) / 96) % 5 == 0 && y > h / 2;
        const int tex = ((x * 7 + y * 13 + f * 29) & 31) - 16;
        int rr = 40 + 160 * x / w + tex, gg = 30 + 150 * y / h + tex, bb = 120 + tex;
        if (disc) rr = 230 - f * 20, gg = 60 + f * 30, bb = 40;
        if (bar) rr = 20, gg = 200, bb = 220 - f * 25;
        p[0] = static_cast<uint8_t>(std::clamp(rr, 0, 255));
        p[1] = static_cast<uint8_t>(std::clamp(gg, 0, 255));
        p[2] = static_cast<uint8_t>(std::clamp(bb, 0, 255));
      }
    }
  }
  return frames;
}

// What one frame of the device path leaves for the GL thread, as the app's worker publishes it
// (explain/device_maps.h): buffers on the model's device whose owners keep the tensors alive.
struct FrameOut {
  DeviceBuffer map;   // [1, H_in, W_in] float32
  DeviceBuffer grid;  // [n, h, w] float32, per-channel min-max, largest channel mean first
};

float max_abs_diff(const torch::Tensor& a, const torch::Tensor& b) {
  return (a.to(torch::kFloat) - b.to(torch::kFloat)).abs().max().item<float>();
}

// ---- Grad-CAM written out for the ResNets of bench/make_resnet.py (torchvision's structure),
// on a plain TorchScript module: the variants (fp16 in particular) run on module clones that
// camscope's Model cannot wrap. The network runs in the module's dtype; the CAM arithmetic in
// float32 (so a difference measures the network's precision, not the post-processing's).
torch::Tensor call(const torch::jit::Module& m, const char* child, const torch::Tensor& x) {
  return m.attr(child).toModule().forward({x}).toTensor();
}

torch::Tensor resnet_features(const torch::jit::Module& m, const torch::Tensor& x) {
  auto t = call(m, "maxpool", call(m, "relu", call(m, "bn1", call(m, "conv1", x))));
  for (const char* layer : {"layer1", "layer2", "layer3", "layer4"}) t = call(m, layer, t);
  return t;
}

torch::Tensor resnet_head(const torch::jit::Module& m, const torch::Tensor& a) {
  return call(m, "fc", call(m, "avgpool", a).flatten(1));
}

torch::Tensor minmax(const torch::Tensor& t) {
  auto mn = t.amin({-2, -1}, true);
  auto z = t - mn;
  return z / (z.amax({-2, -1}, true) + 1e-7);
}

// Grad-CAM at layer4 for class `target`, post-processed as DESIGN.md says (ReLU, min-max,
// bilinear upsample, ReLU, min-max). Returns [H, W] float32.
torch::Tensor manual_gradcam(const torch::jit::Module& m, const torch::Tensor& x, int64_t target) {
  torch::Tensor a;
  {
    torch::NoGradGuard ng;
    a = resnet_features(m, x);
  }
  a = a.detach().requires_grad_(true);
  auto logits = resnet_head(m, a);
  auto g = torch::autograd::grad({logits.select(0, 0).select(0, target)}, {a})[0];
  auto af = a.detach().to(torch::kFloat)[0], gf = g.to(torch::kFloat)[0];
  auto w = gf.mean({1, 2}, true);
  auto cam = minmax(torch::relu((w * af).sum(0)));
  cam = torch::upsample_bilinear2d(cam.unsqueeze(0).unsqueeze(0), {x.size(2), x.size(3)}, false);
  return minmax(torch::relu(cam))[0][0];
}

// Converts every 4-D parameter and buffer of m to channels-last memory format, in place.
void to_channels_last(torch::jit::Module& m) {
  for (auto p : m.parameters(true))
    if (p.dim() == 4) p.set_data(p.contiguous(at::MemoryFormat::ChannelsLast));
}

struct Options {
  std::string model18, model50, device = "auto", json_path;
  int width = 1920, height = 1080, frames = 60, warmup = 5, stage_frames = 20, grid = 64;
  int scorecam_iters = 5, scorecam_warmup = 1, scorecam_batch = 16, variant_iters = 50;
  int threads = 0;
  bool cpu_lowp = false;
};

class Bench {
 public:
  explicit Bench(const Options& o) : m_opt(o) {}

  Json run() {
    Json out;
    out["tool"] = "gpu_bench";
    out["torch_version"] = TORCH_VERSION;
#ifdef CAMSCOPE_HAVE_CUDA
    out["cuda_build"] = true;
#else
    out["cuda_build"] = false;
#endif
    model::Model::Options mo;
    mo.path = m_opt.model18;
    mo.device = m_opt.device;
    mo.threads = m_opt.threads;
    auto t0 = Clock::now();
    m_m18 = model::Model::load(mo);
    // The device path runs resnet50 (the 1080p target); Score-CAM runs resnet18.
    mo.path = m_opt.model50;
    t0 = Clock::now();
    m_m50 = model::Model::load(mo);
    const double load_ms = ms_between(t0, Clock::now());
    const torch::Device dev = m_m18->device();
    m_cuda = dev.is_cuda();
    m_stream = model::DeviceStream::create(m_cuda ? (dev.has_index() ? dev.index() : 0) : -1);
    out["device"] = m_cuda ? "cuda" : "cpu";
    out["device_name"] = m_m18->device_name();
    out["threads"] = at::get_num_threads();
    out["stream"] = m_stream->active() ? "camscope DeviceStream (LibTorch pool, high priority)"
                                       : "none (CPU)";
    out["frame"] = {{"width", m_opt.width}, {"height", m_opt.height}, {"distinct", 4},
                    {"format", "RGB8, host memory"}};
    m_frames = make_frames(m_opt.width, m_opt.height, 4);
    std::printf("gpu_bench: device %s (%s), torch %s, %d threads\n", m_cuda ? "cuda" : "cpu",
                m_m18->device_name().c_str(), TORCH_VERSION, at::get_num_threads());

    // One failing part (a CUDA graph capture the JIT refuses, say) must not cost the others:
    // each records {"error": reason}; main() then exits non-zero after writing the JSON.
    section(out, "device_path", [&] { return device_path(load_ms); });
    section(out, "scorecam", [&] { return scorecam(); });
    section(out, "variants", [&] { return variants(); });
    out["errors"] = m_errors;
    return out;
  }

  int errors() const { return m_errors; }

 private:
  template <class F>
  void section(Json& out, const char* name, F&& f) {
    try {
      out[name] = f();
    } catch (const std::exception& e) {
      ++m_errors;
      out[name] = {{"error", e.what()}};
      std::fprintf(stderr, "gpu_bench: %s: error: %s\n", name, e.what());
    }
  }

  // Runs one variant, recording an error instead of ending the bench.
  template <class F>
  Json variant(const char* name, F&& f) {
    try {
      return f();
    } catch (const std::exception& e) {
      ++m_errors;
      std::fprintf(stderr, "gpu_bench: variant %s: error: %s\n", name, e.what());
      return {{"error", e.what()}};
    }
  }

  void sync() const { m_stream->synchronize(); }

  explain::Request gradcam_request(const model::Model& m) const {
    explain::Request req;
    req.method = explain::Method::GradCam;
    req.layer = m.default_layer();
    return req;
  }

  // One frame of the device path up to the ready event. stages (optional) receives the
  // synced per-stage times.
  FrameOut produce(const std::vector<uint8_t>& rgb, const explain::Request& req,
                   std::map<std::string, double>* stages, void* ready_event,
                   std::map<std::string, double>* explain_stages) {
    model::DeviceStream::Scope scope(m_stream.get());
    auto t0 = Clock::now();
    torch::Tensor x = m_m50->preprocess(rgb.data(), m_opt.width, m_opt.height);
    if (stages) sync();
    auto t1 = Clock::now();
    explain::Result r = explain::explain(*m_m50, x, req);
    if (stages) sync();
    auto t2 = Clock::now();
    FrameOut f;
    {
      torch::NoGradGuard ng;
      const torch::Tensor a = r.activation;  // [K, h, w] on the device
      const int64_t n = std::min<int64_t>(m_opt.grid, a.size(0));
      // Ranking on the device: no host copy of the scores (explain::top_k and the host order
      // explain::grid_stack takes would need one), then one gather.
      const torch::Tensor idx = std::get<1>(explain::channel_mean(a).topk(n));
      f.grid = explain::keep(explain::normalize_channels(a.index_select(0, idx)).contiguous(),
                             ready_event);
      f.map = explain::keep(explain::map_stack(r.map), ready_event);
    }
    m_stream->record(ready_event);
    if (stages) {
      sync();
      auto t3 = Clock::now();
      (*stages)["preprocess"] += ms_between(t0, t1);
      (*stages)["explain_gradcam"] += ms_between(t1, t2);
      (*stages)["grid"] += ms_between(t2, t3);
      if (explain_stages)
        for (const auto& [name, ms] : r.timings_ms) (*explain_stages)[name] += ms;
    }
    return f;
  }

  static void describe(const FrameOut& f, gpu::MapDesc* d) {
    d[0] = gpu::map_desc(f.map, /*atlas=*/false);
    d[1] = gpu::map_desc(f.grid, /*atlas=*/true);
  }

  Json device_path(double load_ms) {
    Json j;
    const explain::Request req = gradcam_request(*m_m50);
    const auto& in = m_m50->sidecar().input;
    j["model"] = m_m50->path();
    j["model_load_ms"] = round3(load_ms);
    j["input"] = {in.height, in.width};
    j["layer"] = req.layer;
    j["method"] = "gradcam";
    j["grid_channels"] = m_opt.grid;

    std::unique_ptr<gl::Context> ctx;
    std::unique_ptr<gpu::TextureBridge> bridge;
    try {
      ctx = gl::create_headless_context({64, 64});
      bridge = gpu::make_texture_bridge();
      j["gl_renderer"] = ctx->renderer();
      j["bridge"] = bridge->name();
    } catch (const std::exception& e) {
      j["gl_error"] = e.what();
      j["bridge"] = "none (no GL)";
      std::printf("device path: GL upload skipped: %s\n", e.what());
    }
    auto event = m_stream->make_event();
    gpu::CudaSync cs{m_stream->handle(), event.get()};
    gpu::MapDesc descs[2];
    // Outputs stay alive for a few frames after their upload, as the app's published results
    // do (the interop bridge finishes its reads before upload() returns, so this is a margin,
    // not a requirement).
    std::deque<FrameOut> keep;
    auto step = [&](int i, std::map<std::string, double>* stages,
                    std::map<std::string, double>* explain_stages) {
      FrameOut f = produce(m_frames[static_cast<size_t>(i) % m_frames.size()], req, stages,
                           event.get(), explain_stages);
      auto t = Clock::now();
      if (bridge) {
        describe(f, descs);
        bridge->upload(descs, 2, cs);
        if (stages) {
          sync();
          glFinish();
          (*stages)["upload"] += ms_between(t, Clock::now());
        }
      }
      keep.push_back(std::move(f));
      if (keep.size() > 3) keep.pop_front();
    };

    for (int i = 0; i < m_opt.warmup; ++i) step(i, nullptr, nullptr);
    sync();
    if (bridge) glFinish();
    const uint64_t tot_before = bridge ? bridge->total().device_to_host : 0;

    // End to end: no syncs beyond those the ops make; one at the end.
    auto t0 = Clock::now();
    for (int i = 0; i < m_opt.frames; ++i) step(i, nullptr, nullptr);
    sync();
    if (bridge) glFinish();
    const double e2e = ms_between(t0, Clock::now());
    j["frames"] = m_opt.frames;
    j["warmup"] = m_opt.warmup;
    j["e2e_ms_per_frame"] = round3(e2e / m_opt.frames);
    j["fps"] = round3(1000.0 * m_opt.frames / e2e);

    // Per stage, synced.
    std::map<std::string, double> stages, explain_stages;
    for (int i = 0; i < m_opt.stage_frames; ++i) step(i, &stages, &explain_stages);
    Json st = Json::object();
    double total = 0;
    for (const char* k : {"preprocess", "explain_gradcam", "grid", "upload"}) {
      if (!stages.count(k)) continue;
      st[k] = round3(stages[k] / m_opt.stage_frames);
      total += stages[k] / m_opt.stage_frames;
    }
    st["sum"] = round3(total);
    j["stage_frames"] = m_opt.stage_frames;
    j["stages_ms"] = st;
    Json es = Json::object();
    for (const auto& [k, v] : explain_stages) es[k] = round3(v / m_opt.stage_frames);
    j["explain_internal_ms"] = es;  // explain()'s own stage clock (host side, no extra syncs)

    const FrameOut& last = keep.back();
    j["map_size"] = {last.map.height, last.map.width};
    j["map_memory"] = last.map.cuda ? "cuda" : "host";
    j["grid_shape"] = {last.grid.channels, last.grid.height, last.grid.width};
    Json bytes;
    // The frame goes to the device as RGB8 (model->preprocess); nothing crosses on the CPU.
    bytes["host_to_device"] = m_cuda ? static_cast<uint64_t>(m_opt.width) * m_opt.height * 3 : 0;
    bytes["host_to_device_note"] = m_cuda ? "the RGB8 frame, as model->preprocess uploads it (not metered)"
                                          : "none: the model is on the CPU";
    if (bridge) {
      const auto& lf = bridge->last_frame();
      // This bench copies nothing to the host itself; all of it is the bridge's.
      bytes["device_to_host"] = lf.device_to_host;
      bytes["device_to_host_all_frames"] = bridge->total().device_to_host - tot_before;
      bytes["host_to_gl"] = lf.host_to_gl;
      bytes["device_to_gl"] = lf.device_to_gl;
      j["grid_atlas"] = {bridge->texture(1).width, bridge->texture(1).height};
      j["texture_allocations"] = bridge->allocations();
    }
    j["bytes_per_frame"] = bytes;
    std::printf(
        "device path (%dx%d RGB8 -> %s gradcam@%s -> %d-ch grid -> GL via %s): %.1f fps "
        "(%.2f ms/frame); stages ms: preprocess %.2f, gradcam %.2f, grid %.2f, upload %.2f\n",
        m_opt.width, m_opt.height, "resnet50", req.layer.c_str(), m_opt.grid,
        j["bridge"].get<std::string>().c_str(), j["fps"].get<double>(),
        j["e2e_ms_per_frame"].get<double>(), st.value("preprocess", 0.0),
        st.value("explain_gradcam", 0.0), st.value("grid", 0.0), st.value("upload", 0.0));
    std::printf("  bytes/frame: host->device %llu, device->host %llu, device->GL %llu, host->GL %llu\n",
                static_cast<unsigned long long>(bytes.value("host_to_device", uint64_t{0})),
                static_cast<unsigned long long>(bytes.value("device_to_host", uint64_t{0})),
                static_cast<unsigned long long>(bytes.value("device_to_gl", uint64_t{0})),
                static_cast<unsigned long long>(bytes.value("host_to_gl", uint64_t{0})));
    keep.clear();
    bridge.reset();
    ctx.reset();
    return j;
  }

  Json scorecam() {
    Json j;
    model::DeviceStream::Scope scope(m_stream.get());
    explain::Request req = gradcam_request(*m_m18);
    req.method = explain::Method::ScoreCam;
    req.scorecam_batch = m_opt.scorecam_batch;
    const torch::Tensor x = m_m18->preprocess(m_frames[0].data(), m_opt.width, m_opt.height);
    j["model"] = m_m18->path();
    j["input"] = {x.size(2), x.size(3)};
    j["layer"] = req.layer;
    j["batch"] = req.scorecam_batch;
    j["warmup"] = m_opt.scorecam_warmup;
    j["iters"] = m_opt.scorecam_iters;
    if (m_opt.scorecam_iters <= 0) {
      j["skipped"] = "--scorecam-iters 0";
      return j;
    }
    explain::Result r;
    for (int i = 0; i < m_opt.scorecam_warmup; ++i) r = explain::explain(*m_m18, x, req);
    sync();
    auto t0 = Clock::now();
    for (int i = 0; i < m_opt.scorecam_iters; ++i) r = explain::explain(*m_m18, x, req);
    sync();
    const double ms = ms_between(t0, Clock::now()) / m_opt.scorecam_iters;
    j["channels"] = r.activation.size(0);
    j["ms_per_map"] = round3(ms);
    std::printf("scorecam (resnet18 %lldx%lld, %lld channels, batch %d): %.1f ms per map\n",
                static_cast<long long>(x.size(2)), static_cast<long long>(x.size(3)),
                static_cast<long long>(r.activation.size(0)), req.scorecam_batch, ms);
    return j;
  }

  template <class F>
  double time_ms(int warmup, int iters, F&& f) {
    for (int i = 0; i < warmup; ++i) f();
    sync();
    auto t0 = Clock::now();
    for (int i = 0; i < iters; ++i) f();
    sync();
    return ms_between(t0, Clock::now()) / iters;
  }

  Json variants() {
    Json j;
    model::Model::Options mo;
    mo.path = m_opt.model50;
    mo.device = m_cuda ? m_m18->device().str() : "cpu";
    mo.threads = m_opt.threads;
    auto m50 = model::Model::load(mo);
    model::DeviceStream::Scope scope(m_stream.get());
    // At least 3 warm-up runs: the JIT profiles on the first and optimizes on the second.
    const int iters = m_opt.variant_iters, warm = std::max(3, iters / 10);
    const torch::Tensor x = m50->preprocess(m_frames[1].data(), m_opt.width, m_opt.height);
    j["model"] = m50->path();
    j["input"] = {x.size(2), x.size(3)};
    j["iters"] = iters;
    torch::jit::Module& mod = m50->module();

    // fp32 eager: the reference.
    torch::Tensor ref_logits, ref_map;
    Json base;
    {
      torch::NoGradGuard ng;
      base["forward_ms"] = round3(time_ms(warm, iters, [&] { mod.forward({x}); }));
      ref_logits = mod.forward({x}).toTensor();
    }
    const int64_t target = ref_logits.argmax(1).item<int64_t>();
    const explain::Request req = gradcam_request(*m50);
    explain::Result er;
    base["gradcam_ms"] =
        round3(time_ms(warm, iters, [&] { er = explain::explain(*m50, x, req); }));
    const int64_t camscope_target = er.target;
    ref_map = manual_gradcam(mod, x, target);
    // The written-out Grad-CAM below must agree with camscope's own (same target).
    base["manual_vs_camscope_map_maxabs"] =
        camscope_target == target ? max_abs_diff(ref_map, er.map) : -1.0f;
    base["target"] = target;
    j["fp32_eager"] = base;
    std::printf("resnet50 fp32 eager: forward %.2f ms, gradcam %.2f ms (written-out vs camscope "
                "map max|d| %.2g)\n",
                base["forward_ms"].get<double>(), base["gradcam_ms"].get<double>(),
                base["manual_vs_camscope_map_maxabs"].get<double>());

    // fp16: a clone of the module in half precision, half input.
    j["fp16"] = variant("fp16", [&] {
      Json v;
      const bool run = m_cuda || m_opt.cpu_lowp;
      if (!run) {
        v["skipped"] = "no CUDA device (half convolutions need one; --cpu-lowp tests the code "
                       "path in bfloat16)";
        std::printf("fp16: skipped (no CUDA device)\n");
      } else {
        const auto dt = m_cuda ? torch::kHalf : torch::kBFloat16;
        v["dtype"] = m_cuda ? "float16" : "bfloat16 (CPU test of the fp16 code path)";
        torch::jit::Module h = mod.clone();
        h.to(dt);
        const torch::Tensor xh = x.to(dt);
        torch::Tensor lh;
        {
          torch::NoGradGuard ng;
          v["forward_ms"] = round3(time_ms(warm, iters, [&] { h.forward({xh}); }));
          lh = h.forward({xh}).toTensor();
        }
        torch::Tensor mh;
        v["gradcam_ms"] =
            round3(time_ms(warm, iters, [&] { mh = manual_gradcam(h, xh, target); }));
        v["gradcam_path"] = "written-out (module children), CAM arithmetic in float32";
        v["logits_maxabs_diff"] = max_abs_diff(lh, ref_logits);
        v["map_maxabs_diff"] = max_abs_diff(mh, ref_map);
        v["top1_same"] = lh.argmax(1).item<int64_t>() == target;
        print_variant("fp16", v);
      }
      return v;
    });

    // channels_last: 4-D parameters and the input in ChannelsLast; Grad-CAM through camscope's
    // own path (a Model clone whose module was converted).
    j["channels_last"] = variant("channels_last", [&] {
      Json v;
      torch::jit::Module c = mod.clone();
      to_channels_last(c);
      const torch::Tensor xc = x.contiguous(at::MemoryFormat::ChannelsLast);
      torch::Tensor lc;
      {
        torch::NoGradGuard ng;
        v["forward_ms"] = round3(time_ms(warm, iters, [&] { c.forward({xc}); }));
        lc = c.forward({xc}).toTensor();
      }
      auto mc = m50->clone();
      to_channels_last(mc->module());
      explain::Result rc;
      v["gradcam_ms"] = round3(time_ms(warm, iters, [&] { rc = explain::explain(*mc, xc, req); }));
      v["gradcam_path"] = "camscope explain() on a converted Model clone";
      v["logits_maxabs_diff"] = max_abs_diff(lc, ref_logits);
      v["map_maxabs_diff"] = max_abs_diff(rc.map, er.map);
      v["top1_same"] = lc.argmax(1).item<int64_t>() == target;
      print_variant("channels_last", v);
      return v;
    });

    // Last: a failed capture can leave the CUDA context unusable for what would follow.
    j["cuda_graph"] = variant("cuda_graph", [&] { return cuda_graph(mod, x, ref_logits, warm, iters); });
    return j;
  }

  void print_variant(const char* name, const Json& v) const {
    std::printf("%s: forward %.2f ms, gradcam %.2f ms; max|d| logits %.3g, map %.3g\n", name,
                v.value("forward_ms", 0.0), v.value("gradcam_ms", 0.0),
                v.value("logits_maxabs_diff", 0.0), v.value("map_maxabs_diff", 0.0));
  }

  Json cuda_graph(torch::jit::Module& mod, const torch::Tensor& x, const torch::Tensor& ref,
                  int warm, int iters) {
    Json v;
#ifdef CAMSCOPE_HAVE_CUDA
    if (!m_cuda) {
      v["skipped"] = "model on the CPU";
      std::printf("cuda_graph: skipped (model on the CPU)\n");
      return v;
    }
    // Capture needs a non-default stream: the DeviceStream scope (the caller's) provides one.
    torch::NoGradGuard ng;
    torch::Tensor static_x = x.clone(), static_out;
    // The profiling executor settles its plan (and any fuser compiles) in the first runs:
    // none of that may happen during capture.
    for (int i = 0; i < 5; ++i) mod.forward({static_x});
    sync();
    at::cuda::CUDAGraph graph;
    graph.capture_begin();
    static_out = mod.forward({static_x}).toTensor();
    graph.capture_end();
    graph.replay();
    sync();
    v["forward_ms"] = round3(time_ms(warm, iters, [&] { graph.replay(); }));
    // Replay with a fresh input copied into the static one, as a live loop would do it.
    v["copy_in_and_replay_ms"] = round3(time_ms(warm, iters, [&] {
      static_x.copy_(x, /*non_blocking=*/true);
      graph.replay();
    }));
    sync();
    v["logits_maxabs_diff"] = max_abs_diff(static_out, ref);
    v["gradcam"] = "not captured (backward to a tap through the JIT executor)";
    print_variant("cuda_graph", v);
#else
    (void)mod, (void)x, (void)ref, (void)warm, (void)iters;
    v["skipped"] = "no CUDA device (this build has no CUDA LibTorch)";
    std::printf("cuda_graph: skipped (no CUDA device)\n");
#endif
    return v;
  }

  Options m_opt;
  std::unique_ptr<model::Model> m_m18, m_m50;
  std::unique_ptr<model::DeviceStream> m_stream;
  std::vector<std::vector<uint8_t>> m_frames;
  bool m_cuda = false;
  int m_errors = 0;
};

}  // namespace

int main(int argc, char** argv) {
  try {
    Args a(argc, argv,
           {"model18", "model50", "device", "frames", "warmup", "stage-frames", "scorecam-iters",
            "scorecam-warmup", "scorecam-batch", "variant-iters", "grid", "size", "threads",
            "json"},
           {"cpu-lowp"});
    Options o;
    o.model18 = a.get("model18");
    o.model50 = a.get("model50");
    if (o.model18.empty() || o.model50.empty())
      throw Error("usage: gpu_bench --model18 R18.pt --model50 R50.pt [--device D] [--frames N] "
                  "[--json PATH] (see bench/gpu_bench.cpp)");
    o.device = a.get("device", o.device);
    o.frames = a.get_int("frames", o.frames);
    o.warmup = a.get_int("warmup", o.warmup);
    o.stage_frames = a.get_int("stage-frames", o.stage_frames);
    o.scorecam_iters = a.get_int("scorecam-iters", o.scorecam_iters);
    o.scorecam_warmup = a.get_int("scorecam-warmup", o.scorecam_warmup);
    o.scorecam_batch = a.get_int("scorecam-batch", o.scorecam_batch);
    o.variant_iters = a.get_int("variant-iters", o.variant_iters);
    o.grid = a.get_int("grid", o.grid);
    o.threads = a.get_int("threads", o.threads);
    o.cpu_lowp = a.flag("cpu-lowp");
    o.json_path = a.get("json");
    if (auto s = a.opt("size")) {
      if (std::sscanf(s->c_str(), "%dx%d", &o.width, &o.height) != 2 || o.width < 16 ||
          o.height < 16)
        throw Error("--size must be WxH (at least 16x16), got '" + *s + "'");
    }
    if (o.frames < 1 || o.stage_frames < 1 || o.variant_iters < 1 || o.grid < 1 || o.warmup < 0 ||
        o.scorecam_batch < 1)
      throw Error("--frames, --stage-frames, --variant-iters, --grid, --scorecam-batch must be >= 1");
    Bench bench(o);
    const Json out = bench.run();
    if (!o.json_path.empty()) {
      write_json_file(o.json_path, out);
      std::printf("gpu_bench: wrote %s\n", o.json_path.c_str());
    }
    if (bench.errors() > 0) {
      std::fprintf(stderr, "gpu_bench: %d part(s) failed (see \"error\" in the JSON)\n",
                   bench.errors());
      return 1;
    }
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "gpu_bench: error: %s\n", e.what());
    return 1;
  }
}
