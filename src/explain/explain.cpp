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

void report(const Progress& progress, int64_t done, int64_t total, const char* unit) {
  if (progress && !progress(done, total, unit)) throw Cancelled();
}

// --- What a method needs, and the pass that provides it ---------------------------------------

// The score a gradient is taken of: the target logit unless a method defines its own.
using ScoreFn = torch::Tensor (*)(const torch::Tensor& logits, int64_t target, const Request&);

struct Needs {
  bool layer = false;       // a tapped [1, K, h, w] feature map
  bool grad = false;        // G = d score / d A at the tap (must exist)
  bool hessian = false;     // also H.A, the Hessian-vector product in direction A
  bool input_grad = false;  // d score / d x (pixel space); G comes along when it exists
  bool guided = false;      // ReLUs pass back guided gradients (with input_grad)
  bool batched = false;     // extra batched forward passes after the first (slow, Progress)
  bool shared = false;      // computable from the shared passes of explain_many
  ScoreFn score = nullptr;  // nullptr: the target logit
};

// One forward pass with the layer tapped. With a gradient, autograd records from the tap on
// (from the input on with input_grad) and the score's gradient is taken to the tap and, with
// input_grad, to the input too; with hessian the first gradient keeps its graph for H.A.
struct Pass {
  torch::Tensor logits, A, G, hvp, dx;
  int64_t target = -1;
};
Pass run_pass(model::Model& model, const torch::Tensor& input, const std::string& layer,
              int64_t target, const Needs& n, const Request& req, StageTimer& timer) {
  Pass p;
  std::vector<std::string> taps;
  if (!layer.empty()) taps.push_back(layer);
  const bool grad = n.grad || n.input_grad;
  const auto mode = n.guided ? model::ReluMode::Guided : model::ReluMode::Normal;
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
  auto x = n.input_grad ? input.detach().requires_grad_(true) : input.detach();
  auto out = model.forward(x, taps, mode);
  p.logits = out.logits[0].detach();
  p.target = resolve_target(p.logits, target);
  timer.stage("forward");
  auto score = n.score ? n.score(out.logits[0], p.target, req) : out.logits[0][p.target];
  std::vector<torch::Tensor> wrt;
  bool tap_grad = !layer.empty() && out.taps.at(0).requires_grad();
  if (tap_grad) wrt.push_back(out.taps[0]);
  if (n.input_grad) wrt.push_back(x);
  if (!wrt.empty()) {
    auto g = torch::autograd::grad({score}, wrt, /*grad_outputs=*/{}, /*retain_graph=*/n.hessian,
                                   /*create_graph=*/n.hessian, /*allow_unused=*/true);
    size_t i = 0;
    if (tap_grad) p.G = g[i++];
    if (n.input_grad) p.dx = g[i++];
    if (n.hessian && p.G.defined() && p.G.requires_grad()) {
      // d(G . v)/dA with v = A held constant: the Hessian-vector product H.A. A gradient that
      // does not depend on A (everything after the layer linear) has none: H.A = 0.
      auto h = torch::autograd::grad({p.G}, {out.taps[0]}, {out.taps[0].detach()},
                                     /*retain_graph=*/false, /*create_graph=*/false,
                                     /*allow_unused=*/true);
      if (h[0].defined()) p.hvp = h[0][0];
    }
    if (tap_grad && p.G.defined()) p.G = p.G.detach()[0];
    if (n.input_grad && !p.dx.defined())
      throw Error("the model's output does not depend on its input");
    if (n.input_grad) p.dx = p.dx[0];
  }
  if (!layer.empty()) p.A = out.taps[0].detach()[0];
  timer.stage("backward");
  return p;
}

// d(target logit)/d(wrt) for a batch of inputs [B, C, H, W], chunked; wrt is the input, or the
// tapped layer when `layer` is given. The samples are independent (eval mode), so the gradient of
// the summed score gives each sample's own gradient. Reports progress (done of total) and throws
// Cancelled when the callback says stop.
template <typename Fn>
void batched_grads(model::Model& model, int64_t n, int batch, int64_t target,
                   const std::string& layer, Fn make_inputs,
                   const std::function<void(int64_t, const torch::Tensor&)>& consume,
                   const Progress& progress, const char* unit) {
  batch = std::max(1, batch);
  for (int64_t i = 0; i < n; i += batch) {
    report(progress, i, n, unit);
    int64_t b = std::min<int64_t>(batch, n - i);
    torch::AutoGradMode enable(true);
    torch::Tensor g;
    if (layer.empty()) {
      auto x = make_inputs(i, b).detach().requires_grad_(true);
      auto out = model.forward(x, {}, model::ReluMode::Normal);
      g = torch::autograd::grad({out.logits.select(1, target).sum()}, {x})[0];
    } else {
      auto out = model.forward(make_inputs(i, b).detach(), {layer}, model::ReluMode::Normal);
      if (!out.taps.at(0).requires_grad())
        throw Error("the target score does not depend on layer '" + layer + "'");
      g = torch::autograd::grad({out.logits.select(1, target).sum()}, {out.taps[0]},
                                /*grad_outputs=*/{}, /*retain_graph=*/false,
                                /*create_graph=*/false, /*allow_unused=*/true)[0];
      if (!g.defined()) throw Error("the target score does not depend on layer '" + layer + "'");
    }
    consume(i, g);
  }
  report(progress, n, n, unit);
}

// Seeded Gaussian noise [n, C, H, W] * sigma on the input's device. Drawn on the CPU one sample
// at a time in order, as a Python loop would, so a seed means the same noise on every device.
torch::Tensor seeded_noise(const torch::Tensor& input, int64_t n, double sigma, uint64_t seed) {
  auto gen = at::detail::createCPUGenerator(seed);
  std::vector<torch::Tensor> noise;
  auto cpu_opts = torch::TensorOptions().dtype(input.dtype()).device(torch::kCPU);
  for (int64_t i = 0; i < n; ++i) noise.push_back(torch::randn(input.sizes(), gen, cpu_opts));
  return torch::cat(noise).to(input.device()).mul_(sigma);
}

// --- One small function per method ------------------------------------------------------------
// Each gets the pass its row asked for and returns the raw map (CAM family: [h, w] at feature
// resolution; pixel space: [C, H, W]), setting r.channel_weights where the method has them.

struct Ctx {
  model::Model& model;
  const torch::Tensor& input;  // [1, C, H, W] on the model's device
  const Request& req;
  Result& r;
  const Pass& p;
  StageTimer& timer;
};

torch::Tensor with_weights(Ctx& c, const torch::Tensor& w) {
  c.r.channel_weights = w;
  c.timer.stage("weights");
  return weighted_sum(c.p.A, w);
}

torch::Tensor m_activation(Ctx& c) { return activation_raw(c.p.A); }
torch::Tensor m_cam(Ctx& c) {
  CamHead head = find_cam_head(c.model, c.r.layer, c.p.A, c.p.logits, c.input);
  return with_weights(c, head.weight[c.p.target].to(c.p.A.dtype()));
}
torch::Tensor m_gradcam(Ctx& c) { return with_weights(c, gradcam_weights(c.p.G)); }
torch::Tensor m_gradcampp(Ctx& c) { return with_weights(c, gradcampp_weights(c.p.A, c.p.G)); }
torch::Tensor m_xgradcam(Ctx& c) { return with_weights(c, xgradcam_weights(c.p.A, c.p.G)); }
torch::Tensor m_layercam(Ctx& c) { return layercam_raw(c.p.A, c.p.G); }
torch::Tensor m_eigencam(Ctx& c) { return eigencam_raw(c.p.A); }
torch::Tensor m_hirescam(Ctx& c) { return hirescam_raw(c.p.A, c.p.G); }
torch::Tensor m_elementwise(Ctx& c) { return elementwise_raw(c.p.A, c.p.G); }
torch::Tensor m_eigengradcam(Ctx& c) { return eigengradcam_raw(c.p.A, c.p.G); }
torch::Tensor m_fem(Ctx& c) { return with_weights(c, fem_weights(c.p.A)); }
torch::Tensor m_kpcacam(Ctx& c) { return kpcacam_raw(c.p.A); }
torch::Tensor m_shapleycam(Ctx& c) { return with_weights(c, shapleycam_weights(c.p.G, c.p.hvp)); }
torch::Tensor m_finercam(Ctx& c) { return with_weights(c, gradcam_weights(c.p.G)); }

torch::Tensor m_randomcam(Ctx& c) {
  auto gen = at::detail::createCPUGenerator(c.req.seed);
  auto w = torch::rand({c.p.A.size(0)}, gen, torch::TensorOptions().dtype(c.p.A.dtype())) * 2 - 1;
  return with_weights(c, w.to(c.p.A.device()));
}

torch::Tensor m_scorecam(Ctx& c) {
  torch::NoGradGuard no_grad;
  const auto& A = c.p.A;
  const int64_t K = A.size(0), H = c.input.size(2), W = c.input.size(3);
  const int batch = std::max(1, c.req.scorecam_batch);
  std::vector<torch::Tensor> scores;
  // Masks are made per batch (each is normalized on its own), so memory stays at one batch
  // of input-size masks however many channels the layer has.
  for (int64_t i = 0; i < K; i += batch) {
    report(c.req.progress, i, K, "channels");
    int64_t b = std::min<int64_t>(batch, K - i);
    auto x = c.input * scorecam_masks(A.narrow(0, i, b), H, W);  // [b, C, H, W]
    scores.push_back(c.model.forward(x, {}).logits.select(1, c.p.target));
  }
  report(c.req.progress, K, K, "channels");
  return with_weights(c, scorecam_weights(torch::cat(scores)));
}

torch::Tensor m_ablationcam(Ctx& c) {
  const auto& A = c.p.A;
  const int64_t K = A.size(0);
  const double y = c.p.logits[c.p.target].item<double>();
  const double value = ablation_value(A);
  const int batch = std::max(1, c.req.ablation_batch);
  std::vector<torch::Tensor> scores;
  for (int64_t i = 0; i < K; i += batch) {
    report(c.req.progress, i, K, "channels");
    const int64_t b = std::min<int64_t>(batch, K - i);
    // Copy j of the batch has channel i + j of the tapped output set to the ablation value.
    auto mask = torch::zeros({b, K, 1, 1}, torch::TensorOptions().dtype(torch::kBool));
    for (int64_t j = 0; j < b; ++j) mask[j][i + j] = true;
    mask = mask.to(A.device());
    auto x = c.input.expand({b, -1, -1, -1}).contiguous();
    auto logits = c.model.forward_edited(x, c.r.layer, [&](const torch::Tensor& out) {
      return torch::where(mask, torch::full({}, value, out.options()), out);
    });
    scores.push_back(logits.select(1, c.p.target));
  }
  report(c.req.progress, K, K, "channels");
  return with_weights(c, ablation_weights(y, torch::cat(scores)).to(A.dtype()));
}

torch::Tensor m_smoothgradcampp(Ctx& c) {
  const int64_t n = c.req.smoothgradcampp_samples;
  if (n < 1) throw Error("smoothgradcampp needs at least one sample");
  auto noise = seeded_noise(c.input, n, c.req.smoothgradcampp_sigma, c.req.seed);
  std::vector<torch::Tensor> grads;
  batched_grads(
      c.model, n, c.req.sample_batch, c.p.target, c.r.layer,
      [&](int64_t i, int64_t b) { return c.input + noise.narrow(0, i, b); },
      [&](int64_t, const torch::Tensor& g) { grads.push_back(g); }, c.req.progress, "samples");
  c.timer.stage("backward");
  return with_weights(c, smoothgradcampp_weights(c.p.A, torch::cat(grads)));
}

torch::Tensor m_saliency(Ctx& c) { return c.p.dx.abs(); }
torch::Tensor m_gradxinput(Ctx& c) { return c.input[0] * c.p.dx; }
torch::Tensor m_guidedbp(Ctx& c) { return c.p.dx; }

torch::Tensor m_smoothgrad(Ctx& c) {
  if (c.req.smoothgrad_samples < 1) throw Error("smoothgrad needs at least one sample");
  const double sigma = smoothgrad_stddev(c.input, c.req.smoothgrad_sigma);
  const int64_t n = c.req.smoothgrad_samples;
  auto noise_all = seeded_noise(c.input, n, sigma, c.req.seed);
  auto acc = torch::zeros_like(c.input[0]);
  batched_grads(
      c.model, n, c.req.sample_batch, c.p.target, "",
      [&](int64_t i, int64_t b) { return c.input + noise_all.narrow(0, i, b); },
      [&](int64_t, const torch::Tensor& g) { acc += g.abs().sum(0); }, c.req.progress, "samples");
  c.timer.stage("backward");
  return acc / static_cast<double>(n);
}

torch::Tensor m_intgrad(Ctx& c) {
  Quadrature q = gauss_legendre(c.req.intgrad_steps);
  const int64_t n = q.alphas.size();
  const auto& input = c.input;
  auto opts = torch::TensorOptions().dtype(input.dtype()).device(input.device());
  auto alphas = torch::tensor(q.alphas, torch::kDouble).to(opts).reshape({n, 1, 1, 1});
  auto weights = torch::tensor(q.weights, torch::kDouble).to(opts).reshape({n, 1, 1, 1});
  auto acc = torch::zeros_like(input[0]);
  // Zero baseline: the path is alpha * x.
  batched_grads(
      c.model, n, c.req.sample_batch, c.p.target, "",
      [&](int64_t i, int64_t b) { return alphas.narrow(0, i, b) * input; },
      [&](int64_t i, const torch::Tensor& g) {
        acc += (weights.narrow(0, i, g.size(0)) * g).sum(0);
      },
      c.req.progress, "steps");
  c.timer.stage("backward");
  return input[0] * acc;
}

torch::Tensor m_guidedgradcam(Ctx& c) {
  c.r.channel_weights = gradcam_weights(c.p.G);
  auto cam = postprocess_cam(weighted_sum(c.p.A, c.r.channel_weights), c.input.size(2),
                             c.input.size(3));
  Needs guided;
  guided.input_grad = true;
  guided.guided = true;
  Pass g = run_pass(c.model, c.input, "", c.p.target, guided, c.req, c.timer);
  return g.dx * cam.unsqueeze(0);
}

// Finer-CAM's score: the target against its 3 nearest classes by |z - z_t| (ties to the lower
// index), weighted by their softmax probabilities; the probabilities stay in the graph.
torch::Tensor finer_score(const torch::Tensor& z, int64_t t, const Request& req) {
  const torch::Tensor zd = z.detach().to(torch::kCPU, torch::kDouble).contiguous();
  const double* v = zd.data_ptr<double>();
  std::vector<int64_t> others;
  for (int64_t j = 0; j < zd.numel(); ++j)
    if (j != t) others.push_back(j);
  if (others.empty()) throw Error("finercam needs a model with at least 2 classes");
  std::stable_sort(others.begin(), others.end(), [&](int64_t a, int64_t b) {
    return std::abs(v[a] - v[t]) < std::abs(v[b] - v[t]);
  });
  others.resize(std::min<size_t>(3, others.size()));
  auto p = torch::softmax(z, 0);
  auto idx = torch::tensor(others, torch::kLong).to(z.device());
  auto pj = p.index_select(0, idx), zj = z.index_select(0, idx);
  return (pj * (z[t] - req.finer_alpha * zj)).sum() / (pj.sum() + 1e-9);
}

// --- The table ---------------------------------------------------------------------------------
// One row per method, in the CLI's (and the UI's cycling) order. Adding a method: one enum
// value, one function above, one row here.
using MapFn = torch::Tensor (*)(Ctx&);
struct MethodRow {
  Method method;
  const char* name;
  bool cam;  // CAM family (raw map at feature resolution) rather than pixel space
  Needs needs;
  MapFn fn;
};

Needs needs(std::initializer_list<const char*> flags, ScoreFn score = nullptr) {
  Needs n;
  for (std::string f : flags) {
    if (f == "layer") n.layer = true;
    if (f == "grad") n.grad = true;
    if (f == "hessian") n.hessian = true;
    if (f == "input_grad") n.input_grad = true;
    if (f == "guided") n.guided = true;
    if (f == "batched") n.batched = true;
    if (f == "shared") n.shared = true;
  }
  n.score = score;
  return n;
}

const std::vector<MethodRow>& table() {
  static const std::vector<MethodRow> rows = {
      {Method::Activation, "activation", true, needs({"layer", "shared"}), m_activation},
      {Method::Cam, "cam", true, needs({"layer", "shared"}), m_cam},
      {Method::GradCam, "gradcam", true, needs({"layer", "grad", "shared"}), m_gradcam},
      {Method::GradCamPP, "gradcampp", true, needs({"layer", "grad", "shared"}), m_gradcampp},
      {Method::XGradCam, "xgradcam", true, needs({"layer", "grad", "shared"}), m_xgradcam},
      {Method::LayerCam, "layercam", true, needs({"layer", "grad", "shared"}), m_layercam},
      {Method::ScoreCam, "scorecam", true, needs({"layer", "batched"}), m_scorecam},
      {Method::EigenCam, "eigencam", true, needs({"layer", "shared"}), m_eigencam},
      {Method::Saliency, "saliency", false, needs({"input_grad"}), m_saliency},
      {Method::GradXInput, "gradxinput", false, needs({"input_grad"}), m_gradxinput},
      {Method::SmoothGrad, "smoothgrad", false, needs({"batched"}), m_smoothgrad},
      {Method::IntGrad, "intgrad", false, needs({"batched"}), m_intgrad},
      {Method::GuidedBP, "guidedbp", false, needs({"input_grad", "guided"}), m_guidedbp},
      {Method::GuidedGradCam, "guidedgradcam", false, needs({"layer", "grad"}), m_guidedgradcam},
      {Method::HiResCam, "hirescam", true, needs({"layer", "grad", "shared"}), m_hirescam},
      {Method::GradCamElementWise, "gradcamelementwise", true, needs({"layer", "grad", "shared"}),
       m_elementwise},
      {Method::EigenGradCam, "eigengradcam", true, needs({"layer", "grad", "shared"}),
       m_eigengradcam},
      {Method::AblationCam, "ablationcam", true, needs({"layer", "batched"}), m_ablationcam},
      {Method::Fem, "fem", true, needs({"layer", "shared"}), m_fem},
      {Method::KpcaCam, "kpcacam", true, needs({"layer", "shared"}), m_kpcacam},
      {Method::ShapleyCam, "shapleycam", true, needs({"layer", "grad", "hessian"}), m_shapleycam},
      {Method::FinerCam, "finercam", true, needs({"layer", "grad"}, finer_score), m_finercam},
      {Method::RandomCam, "randomcam", true, needs({"layer", "shared"}), m_randomcam},
      {Method::SmoothGradCamPP, "smoothgradcampp", true, needs({"layer", "batched"}),
       m_smoothgradcampp},
  };
  return rows;
}

const MethodRow& row(Method m) {
  for (const auto& r : table())
    if (r.method == m) return r;
  throw Error("unknown method id " + std::to_string(static_cast<int>(m)));
}

// Validates the request and picks the layer: what explain() does before its first pass.
std::string resolve_layer(model::Model& model, const torch::Tensor& input, const Request& req,
                          Method m) {
  if (!input.defined() || input.dim() != 4 || input.size(0) != 1)
    throw Error("explain expects one preprocessed image [1, C, H, W]");
  if (req.target < -1 || req.target >= model.num_classes())
    throw Error("target class " + std::to_string(req.target) + " out of range: the model has " +
                std::to_string(model.num_classes()) + " classes (0.." +
                std::to_string(model.num_classes() - 1) + ")");
  std::string layer = req.layer;
  if (layer.empty()) {
    if (needs_layer(m)) {
      layer = model.default_layer();
    } else {
      // Pixel-space methods do not need a layer; tap the default one when there is one so the
      // channel views still have activations to show.
      try {
        layer = model.default_layer();
      } catch (const Error&) {
      }
    }
  }
  if (!layer.empty()) {
    const auto& info = model.layer(layer);  // throws with the closest paths
    // An empty shape means the layer table could not probe it; the tap decides below.
    if (needs_layer(m) && !info.output_shape.empty())
      check_feature_layer(model, layer, info.output_shape, m);
  }
  return layer;
}

// The method's function on a pass already made, then the post-processing.
void finish(model::Model& model, const torch::Tensor& input, const Request& req, Method m,
            const Pass& p, Result& r, StageTimer& timer) {
  const MethodRow& mr = row(m);
  r.logits = p.logits;
  r.activation = p.A;
  r.gradient = p.G;
  r.target = p.target;
  if (mr.needs.layer)
    check_feature_layer(model, r.layer,
                        p.A.defined() ? p.A.unsqueeze(0).sizes().vec() : std::vector<int64_t>{},
                        m);
  if (mr.needs.grad && !p.G.defined())
    throw Error("the target score does not depend on layer '" + r.layer + "'");
  Ctx ctx{model, input, req, r, p, timer};
  r.raw = mr.fn(ctx);
  r.map = mr.cam ? postprocess_cam(r.raw, input.size(2), input.size(3)) : pixel_map(r.raw);
  timer.stage("postprocess");
}

}  // namespace

Method parse_method(const std::string& name) {
  for (const auto& m : table())
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
  for (const auto& e : table())
    if (e.method == m) return e.name;
  return "?";
}

std::vector<std::string> method_names() {
  std::vector<std::string> out;
  for (const auto& m : table()) out.push_back(m.name);
  return out;
}

bool is_cam_family(Method m) {
  return row(m).cam;
}
bool is_pixel_space(Method m) {
  return !is_cam_family(m);
}
bool needs_layer(Method m) {
  return row(m).needs.layer;
}
bool is_slow(Method m) {
  return row(m).needs.batched;
}
bool shares_pass(Method m) {
  return row(m).needs.shared;
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
  Result r;
  r.layer = resolve_layer(model, input, req, req.method);
  StageTimer timer(r, model.device());
  const Needs& n = row(req.method).needs;
  Pass p = run_pass(model, input, r.layer, req.target, n, req, timer);
  finish(model, input, req, req.method, p, r, timer);
  return r;
}

std::vector<Result> explain_many(model::Model& model, const torch::Tensor& input_any,
                                 const std::vector<Method>& methods, const Request& base) {
  if (!input_any.defined() || input_any.dim() != 4 || input_any.size(0) != 1)
    throw Error("explain expects one preprocessed image [1, C, H, W]");
  const torch::Tensor input = input_any.to(model.device());
  std::vector<Result> out(methods.size());
  // Two shared passes at most: a plain forward for the methods without gradient and a forward
  // + backward to the tap for those with one. Each method then sees exactly the pass explain()
  // would have made for it alone (same graph, same kernels), so the results are identical.
  struct Shared {
    bool made = false;
    Pass p;
    std::vector<std::pair<std::string, double>> timings;
  } shared[2];
  for (size_t i = 0; i < methods.size(); ++i) {
    const Method m = methods[i];
    Request req = base;
    req.method = m;
    if (!shares_pass(m)) {
      out[i] = explain(model, input, req);
      continue;
    }
    Result& r = out[i];
    r.layer = resolve_layer(model, input, req, m);
    const Needs& n = row(m).needs;
    Shared& s = shared[n.grad ? 1 : 0];
    StageTimer timer(r, model.device());
    if (!s.made) {
      s.p = run_pass(model, input, r.layer, req.target, n, req, timer);
      s.timings = r.timings_ms;
      s.made = true;
    } else {
      r.timings_ms = s.timings;  // the pass this result came from, counted once per method
    }
    finish(model, input, req, m, s.p, r, timer);
  }
  return out;
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
