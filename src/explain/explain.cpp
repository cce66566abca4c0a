#include "explain/explain.h"

#include <torch/csrc/autograd/autograd.h>
#include <torch/cuda.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <functional>
#include <limits>
#include <numeric>
#include <sstream>

#include "explain/cam_head.h"
#include "explain/cam_math.h"
#include "explain/pixel_math.h"
#include "util/args.h"
#include "util/error.h"

namespace camscope::explain {
namespace {

struct MethodName {
  Method method;
  const char* name;
};
constexpr MethodName kMethods[] = {
    {Method::Activation, "activation"}, {Method::Cam, "cam"},
    {Method::GradCam, "gradcam"},       {Method::GradCamPP, "gradcampp"},
    {Method::XGradCam, "xgradcam"},     {Method::LayerCam, "layercam"},
    {Method::ScoreCam, "scorecam"},     {Method::EigenCam, "eigencam"},
    {Method::Saliency, "saliency"},     {Method::GradXInput, "gradxinput"},
    {Method::SmoothGrad, "smoothgrad"}, {Method::IntGrad, "intgrad"},
    {Method::GuidedBP, "guidedbp"},     {Method::GuidedGradCam, "guidedgradcam"},
};

std::string shape_str(const std::vector<int64_t>& s) {
  std::ostringstream o;
  o << "[";
  for (size_t i = 0; i < s.size(); ++i) o << (i ? ", " : "") << s[i];
  o << "]";
  return o.str();
}

// Wall time per stage. On CUDA the device is synchronized at each boundary so the numbers are
// the stage's own cost, not whatever the queue happened to flush there.
class StageTimer {
 public:
  StageTimer(Result& r, const torch::Device& dev) : m_r(r), m_cuda(dev.is_cuda()) { reset(); }
  void reset() {
    sync();
    m_t0 = std::chrono::steady_clock::now();
  }
  void stage(const char* name) {
    sync();
    auto t1 = std::chrono::steady_clock::now();
    m_r.timings_ms.emplace_back(name, std::chrono::duration<double, std::milli>(t1 - m_t0).count());
    m_t0 = t1;
  }

 private:
  void sync() {
    if (m_cuda) torch::cuda::synchronize();
  }
  Result& m_r;
  bool m_cuda;
  std::chrono::steady_clock::time_point m_t0;
};

// `shape`: the layer's output shape (from the layer table, or the tap at run time).
void check_feature_layer(const model::Model& model, const std::string& path,
                         const std::vector<int64_t>& s, Method m) {
  std::string why;
  if (s.empty())
    why = "has no tensor output";
  else if (s.size() != 4)
    why = "has output " + shape_str(s) + " without spatial dimensions";
  else if (s[2] * s[3] <= 1)
    why = "has a 1x1 output " + shape_str(s);
  if (why.empty()) return;
  std::string hint;
  try {
    const std::string def = model.default_layer();
    if (def != path) hint = " (try --layer " + def + ")";
  } catch (const Error&) {
  }
  throw Error("layer '" + path + "' " + why + "; " + method_name(m) +
              " needs a [N, K, h, w] feature map" + hint);
}

int64_t resolve_target(const torch::Tensor& logits, int64_t requested) {
  return requested >= 0 ? requested : logits.argmax().item<int64_t>();
}

// One forward pass with the layer tapped. With `grad`, autograd records from the tap on (from the
// input on with `input_grad`); the score's gradient is taken to the tap and,
// with `input_grad`, to the input too.
struct Pass {
  torch::Tensor logits, A, G, dx;
  int64_t target = -1;
};
Pass run_pass(model::Model& model, const torch::Tensor& input, const std::string& layer,
              int64_t target, bool grad, bool input_grad, model::ReluMode mode, StageTimer& timer) {
  Pass p;
  std::vector<std::string> taps;
  if (!layer.empty()) taps.push_back(layer);
  if (!grad) {
    torch::NoGradGuard no_grad;
    auto out = model.forward(input, taps, mode);
    p.logits = out.logits[0];
    if (!layer.empty()) p.A = out.taps.at(0)[0];
    p.target = resolve_target(p.logits, target);
    timer.stage("forward");
    return p;
  }
  torch::AutoGradMode enable(true);
  // Without an input gradient the model records autograd from the tap on only.
  auto x = input_grad ? input.detach().requires_grad_(true) : input.detach();
  auto out = model.forward(x, taps, mode);
  p.logits = out.logits[0].detach();
  p.target = resolve_target(p.logits, target);
  timer.stage("forward");
  auto score = out.logits[0][p.target];
  std::vector<torch::Tensor> wrt;
  bool tap_grad = !layer.empty() && out.taps.at(0).requires_grad();
  if (tap_grad) wrt.push_back(out.taps[0]);
  if (input_grad) wrt.push_back(x);
  if (!wrt.empty()) {
    auto g = torch::autograd::grad({score}, wrt, /*grad_outputs=*/{}, /*retain_graph=*/false,
                                   /*create_graph=*/false, /*allow_unused=*/true);
    size_t i = 0;
    if (tap_grad) p.G = g[i++];
    if (input_grad) p.dx = g[i++];
    if (tap_grad && p.G.defined()) p.G = p.G[0];
    if (input_grad && !p.dx.defined())
      throw Error("the model's output does not depend on its input");
    if (input_grad) p.dx = p.dx[0];
  }
  if (!layer.empty()) p.A = out.taps[0].detach()[0];
  timer.stage("backward");
  return p;
}

// d(target logit)/dx for a batch of inputs [B, C, H, W], chunked. The samples are independent
// (eval mode), so the gradient of the summed score gives each sample's own gradient.
// Reports progress (done of total) and throws Cancelled when the callback says stop.
void report(const Progress& progress, int64_t done, int64_t total, const char* unit) {
  if (progress && !progress(done, total, unit)) throw Cancelled();
}

template <typename Fn>
void batched_input_grads(model::Model& model, int64_t n, int batch, int64_t target,
                         model::ReluMode mode, Fn make_inputs,
                         const std::function<void(int64_t, const torch::Tensor&)>& consume,
                         const Progress& progress, const char* unit) {
  batch = std::max(1, batch);
  for (int64_t i = 0; i < n; i += batch) {
    report(progress, i, n, unit);
    int64_t b = std::min<int64_t>(batch, n - i);
    torch::AutoGradMode enable(true);
    auto x = make_inputs(i, b).detach().requires_grad_(true);
    auto out = model.forward(x, {}, mode);
    auto score = out.logits.select(1, target).sum();
    auto g = torch::autograd::grad({score}, {x})[0];
    consume(i, g);
  }
  report(progress, n, n, unit);
}

}  // namespace

Method parse_method(const std::string& name) {
  for (const auto& m : kMethods)
    if (name == m.name) return m.method;
  auto names = method_names();
  auto best = closest(name, names, 1);
  std::string msg = "unknown method '" + name + "'";
  if (!best.empty() && edit_distance(name, best[0]) <= std::max<size_t>(2, name.size() / 3))
    msg += " (did you mean " + best[0] + "?)";
  msg += "; methods:";
  for (const auto& n : names) msg += " " + n;
  throw Error(msg);
}

const char* method_name(Method m) {
  for (const auto& e : kMethods)
    if (e.method == m) return e.name;
  return "?";
}

std::vector<std::string> method_names() {
  std::vector<std::string> out;
  for (const auto& m : kMethods) out.push_back(m.name);
  return out;
}

bool is_cam_family(Method m) {
  switch (m) {
    case Method::Activation:
    case Method::Cam:
    case Method::GradCam:
    case Method::GradCamPP:
    case Method::XGradCam:
    case Method::LayerCam:
    case Method::ScoreCam:
    case Method::EigenCam:
      return true;
    default:
      return false;
  }
}
bool is_pixel_space(Method m) {
  return !is_cam_family(m);
}
bool needs_layer(Method m) {
  return is_cam_family(m) || m == Method::GuidedGradCam;
}

std::vector<std::pair<int64_t, double>> top_classes(const torch::Tensor& logits, int n) {
  // Softmax in double over the flattened logits, then the n largest, largest first (ties by
  // class index). Plain loops: a handful of LibTorch ops and item() calls cost more than the
  // arithmetic on a thousand classes.
  const torch::Tensor l = logits.detach().flatten().to(torch::kCPU, torch::kDouble).contiguous();
  const int64_t k = l.numel();
  const double* v = l.data_ptr<double>();
  std::vector<std::pair<int64_t, double>> out;
  n = static_cast<int>(std::min<int64_t>(std::max(n, 0), k));
  if (n == 0) return out;
  double mx = -std::numeric_limits<double>::infinity();
  for (int64_t i = 0; i < k; ++i) mx = std::max(mx, v[i]);
  double sum = 0;
  for (int64_t i = 0; i < k; ++i) sum += std::exp(v[i] - mx);
  std::vector<int64_t> idx(static_cast<size_t>(k));
  std::iota(idx.begin(), idx.end(), 0);
  // NaN ranks last, so the order stays a strict weak one.
  auto key = [&](int64_t i) {
    return std::isnan(v[i]) ? -std::numeric_limits<double>::infinity() : v[i];
  };
  auto larger = [&](int64_t a, int64_t b) {
    const double x = key(a), y = key(b);
    return x > y || (x == y && a < b);
  };
  std::partial_sort(idx.begin(), idx.begin() + n, idx.end(), larger);
  for (int i = 0; i < n; ++i) out.emplace_back(idx[i], std::exp(v[idx[i]] - mx) / sum);
  return out;
}

Result explain(model::Model& model, const torch::Tensor& input_any, const Request& req) {
  if (!input_any.defined() || input_any.dim() != 4 || input_any.size(0) != 1)
    throw Error("explain expects one preprocessed image [1, C, H, W]");
  const torch::Tensor input = input_any.to(model.device());  // no-op when already there
  const Method m = req.method;
  if (req.target < -1 || req.target >= model.num_classes())
    throw Error("target class " + std::to_string(req.target) + " out of range: the model has " +
                std::to_string(model.num_classes()) + " classes (0.." +
                std::to_string(model.num_classes() - 1) + ")");

  Result r;
  r.layer = req.layer;
  if (r.layer.empty()) {
    if (needs_layer(m)) {
      r.layer = model.default_layer();
    } else {
      // Pixel-space methods do not need a layer; tap the default one when there is one so the
      // channel views still have activations to show.
      try {
        r.layer = model.default_layer();
      } catch (const Error&) {
      }
    }
  }
  if (!r.layer.empty()) {
    const auto& info = model.layer(r.layer);  // throws with the closest paths
    // An empty shape means the layer table could not probe it; the tap decides below.
    if (needs_layer(m) && !info.output_shape.empty())
      check_feature_layer(model, r.layer, info.output_shape, m);
  }

  const int64_t H = input.size(2), W = input.size(3);
  StageTimer timer(r, model.device());
  using model::ReluMode;

  auto finish_cam = [&](const torch::Tensor& raw) {
    r.raw = raw;
    r.map = postprocess_cam(raw, H, W);
    timer.stage("postprocess");
  };
  auto finish_pixel = [&](const torch::Tensor& attr) {
    r.raw = attr;
    r.map = pixel_map(attr);
    timer.stage("postprocess");
  };
  auto take = [&](Pass& p) {
    r.logits = p.logits;
    r.activation = p.A;
    r.gradient = p.G;
    r.target = p.target;
    if (needs_layer(m))
      check_feature_layer(model, r.layer,
                          p.A.defined() ? p.A.unsqueeze(0).sizes().vec() : std::vector<int64_t>{},
                          m);
  };

  switch (m) {
    case Method::Activation: {
      Pass p = run_pass(model, input, r.layer, req.target, false, false, ReluMode::Normal, timer);
      take(p);
      finish_cam(activation_raw(p.A));
      break;
    }
    case Method::Cam: {
      Pass p = run_pass(model, input, r.layer, req.target, false, false, ReluMode::Normal, timer);
      take(p);
      CamHead head = find_cam_head(model, r.layer, p.A, p.logits, input);
      r.channel_weights = head.weight[p.target].to(p.A.dtype());
      timer.stage("weights");
      finish_cam(weighted_sum(p.A, r.channel_weights));
      break;
    }
    case Method::GradCam:
    case Method::GradCamPP:
    case Method::XGradCam:
    case Method::LayerCam: {
      Pass p = run_pass(model, input, r.layer, req.target, true, false, ReluMode::Normal, timer);
      take(p);
      if (!p.G.defined())
        throw Error("the target score does not depend on layer '" + r.layer + "'");
      if (m == Method::LayerCam) {
        finish_cam(layercam_raw(p.A, p.G));
        break;
      }
      r.channel_weights = m == Method::GradCam     ? gradcam_weights(p.G)
                          : m == Method::GradCamPP ? gradcampp_weights(p.A, p.G)
                                                   : xgradcam_weights(p.A, p.G);
      timer.stage("weights");
      finish_cam(weighted_sum(p.A, r.channel_weights));
      break;
    }
    case Method::ScoreCam: {
      Pass p = run_pass(model, input, r.layer, req.target, false, false, ReluMode::Normal, timer);
      take(p);
      torch::NoGradGuard no_grad;
      const int64_t K = p.A.size(0);
      const int batch = std::max(1, req.scorecam_batch);
      std::vector<torch::Tensor> scores;
      // Masks are made per batch (each is normalized on its own), so memory stays at one batch
      // of input-size masks however many channels the layer has.
      for (int64_t i = 0; i < K; i += batch) {
        report(req.progress, i, K, "channels");
        int64_t b = std::min<int64_t>(batch, K - i);
        auto x = input * scorecam_masks(p.A.narrow(0, i, b), H, W);  // [b, C, H, W]
        scores.push_back(model.forward(x, {}).logits.select(1, p.target));
      }
      report(req.progress, K, K, "channels");
      r.channel_weights = scorecam_weights(torch::cat(scores));
      timer.stage("weights");
      finish_cam(weighted_sum(p.A, r.channel_weights));
      break;
    }
    case Method::EigenCam: {
      Pass p = run_pass(model, input, r.layer, req.target, false, false, ReluMode::Normal, timer);
      take(p);
      finish_cam(eigencam_raw(p.A));
      break;
    }
    case Method::Saliency:
    case Method::GradXInput:
    case Method::GuidedBP: {
      auto mode = m == Method::GuidedBP ? ReluMode::Guided : ReluMode::Normal;
      Pass p = run_pass(model, input, r.layer, req.target, true, true, mode, timer);
      take(p);
      finish_pixel(m == Method::Saliency     ? p.dx.abs()
                   : m == Method::GradXInput ? input[0] * p.dx
                                             : p.dx);
      break;
    }
    case Method::SmoothGrad: {
      if (req.smoothgrad_samples < 1) throw Error("smoothgrad needs at least one sample");
      Pass p = run_pass(model, input, r.layer, req.target, false, false, ReluMode::Normal, timer);
      take(p);
      const double sigma = smoothgrad_stddev(input, req.smoothgrad_sigma);
      // Noise comes from a CPU generator on every device, so a seed means the same noise
      // everywhere; drawn one sample at a time in order, as a Python loop would.
      auto gen = at::detail::createCPUGenerator(req.seed);
      const int64_t n = req.smoothgrad_samples;
      std::vector<torch::Tensor> noise;
      auto cpu_opts = torch::TensorOptions().dtype(input.dtype()).device(torch::kCPU);
      for (int64_t i = 0; i < n; ++i) noise.push_back(torch::randn(input.sizes(), gen, cpu_opts));
      auto noise_all = torch::cat(noise).to(input.device()).mul_(sigma);
      auto acc = torch::zeros_like(input[0]);
      batched_input_grads(
          model, n, req.sample_batch, p.target, ReluMode::Normal,
          [&](int64_t i, int64_t b) { return input + noise_all.narrow(0, i, b); },
          [&](int64_t, const torch::Tensor& g) { acc += g.abs().sum(0); }, req.progress,
          "samples");
      timer.stage("backward");
      finish_pixel(acc / static_cast<double>(n));
      break;
    }
    case Method::IntGrad: {
      Pass p = run_pass(model, input, r.layer, req.target, false, false, ReluMode::Normal, timer);
      take(p);
      Quadrature q = gauss_legendre(req.intgrad_steps);
      const int64_t n = q.alphas.size();
      auto opts = torch::TensorOptions().dtype(input.dtype()).device(input.device());
      auto alphas = torch::tensor(q.alphas, torch::kDouble).to(opts).reshape({n, 1, 1, 1});
      auto weights = torch::tensor(q.weights, torch::kDouble).to(opts).reshape({n, 1, 1, 1});
      auto acc = torch::zeros_like(input[0]);
      // Zero baseline: the path is alpha * x.
      batched_input_grads(
          model, n, req.sample_batch, p.target, ReluMode::Normal,
          [&](int64_t i, int64_t b) { return alphas.narrow(0, i, b) * input; },
          [&](int64_t i, const torch::Tensor& g) {
            acc += (weights.narrow(0, i, g.size(0)) * g).sum(0);
          },
          req.progress, "steps");
      timer.stage("backward");
      finish_pixel(input[0] * acc);
      break;
    }
    case Method::GuidedGradCam: {
      Pass p = run_pass(model, input, r.layer, req.target, true, false, ReluMode::Normal, timer);
      take(p);
      if (!p.G.defined())
        throw Error("the target score does not depend on layer '" + r.layer + "'");
      r.channel_weights = gradcam_weights(p.G);
      auto cam = postprocess_cam(weighted_sum(p.A, r.channel_weights), H, W);
      Pass g = run_pass(model, input, "", p.target, true, true, ReluMode::Guided, timer);
      finish_pixel(g.dx * cam.unsqueeze(0));
      break;
    }
  }
  return r;
}

bool batchable(Method m) {
  switch (m) {
    case Method::Activation:
    case Method::GradCam:
    case Method::GradCamPP:
    case Method::XGradCam:
    case Method::LayerCam:
      return true;
    default:
      return false;
  }
}

std::vector<Result> explain_batch(model::Model& model, const torch::Tensor& inputs_any,
                                  const Request& req) {
  if (!inputs_any.defined() || inputs_any.dim() != 4 || inputs_any.size(0) < 1)
    throw Error("explain_batch expects preprocessed images [N, C, H, W]");
  const int64_t N = inputs_any.size(0);
  std::vector<Result> out;
  const Method m = req.method;
  if (N == 1 || !batchable(m)) {
    for (int64_t i = 0; i < N; ++i) out.push_back(explain(model, inputs_any.narrow(0, i, 1), req));
    return out;
  }
  const torch::Tensor input = inputs_any.to(model.device());
  if (req.target < -1 || req.target >= model.num_classes())
    throw Error("target class " + std::to_string(req.target) + " out of range: the model has " +
                std::to_string(model.num_classes()) + " classes (0.." +
                std::to_string(model.num_classes() - 1) + ")");
  const std::string layer = req.layer.empty() ? model.default_layer() : req.layer;
  {
    const auto& info = model.layer(layer);  // throws with the closest paths
    if (!info.output_shape.empty()) check_feature_layer(model, layer, info.output_shape, m);
  }
  const int64_t H = input.size(2), W = input.size(3);
  Result shared;  // the batch's stage timings
  StageTimer timer(shared, model.device());
  torch::Tensor logits, A, G;
  std::vector<int64_t> targets(static_cast<size_t>(N));
  auto pick_targets = [&] {
    for (int64_t i = 0; i < N; ++i) targets[i] = resolve_target(logits[i], req.target);
  };
  if (m == Method::Activation) {
    torch::NoGradGuard no_grad;
    auto fw = model.forward(input, {layer});
    logits = fw.logits;
    A = fw.taps.at(0);
    pick_targets();
    timer.stage("forward");
  } else {
    torch::AutoGradMode enable(true);
    auto fw = model.forward(input.detach(), {layer});
    logits = fw.logits.detach();
    pick_targets();
    timer.stage("forward");
    auto idx = torch::tensor(targets, torch::kLong).to(fw.logits.device()).unsqueeze(1);
    auto score = fw.logits.gather(1, idx).sum();
    const torch::Tensor tap = fw.taps.at(0);
    if (tap.requires_grad()) {
      auto g = torch::autograd::grad({score}, {tap}, {}, false, false, true);
      G = g[0];
    }
    A = tap.detach();
    timer.stage("backward");
  }
  if (A.dim() > 0) check_feature_layer(model, layer, A.narrow(0, 0, 1).sizes().vec(), m);
  if (m != Method::Activation && !G.defined())
    throw Error("the target score does not depend on layer '" + layer + "'");
  for (int64_t i = 0; i < N; ++i) {
    Result r;
    r.layer = layer;
    r.logits = logits[i];
    r.activation = A[i];
    r.target = targets[i];
    torch::Tensor raw;
    if (m == Method::Activation) {
      raw = activation_raw(r.activation);
    } else {
      r.gradient = G[i];
      if (m == Method::LayerCam) {
        raw = layercam_raw(r.activation, r.gradient);
      } else {
        r.channel_weights = m == Method::GradCam     ? gradcam_weights(r.gradient)
                            : m == Method::GradCamPP ? gradcampp_weights(r.activation, r.gradient)
                                                     : xgradcam_weights(r.activation, r.gradient);
        raw = weighted_sum(r.activation, r.channel_weights);
      }
    }
    r.raw = raw;
    r.map = postprocess_cam(raw, H, W);
    out.push_back(std::move(r));
  }
  timer.stage("postprocess");  // weights and maps of the whole batch
  for (auto& r : out) r.timings_ms = shared.timings_ms;
  return out;
}

}  // namespace camscope::explain
