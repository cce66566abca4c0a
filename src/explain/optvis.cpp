#include "explain/optvis.h"

#include <torch/csrc/autograd/autograd.h>

#include <algorithm>
#include <cmath>
#include <random>

#include "util/error.h"

namespace camscope::explain {
namespace {

using torch::indexing::Slice;

// Lucid/Lucent's colour decorrelation: the square root of ImageNet's colour correlation
// (from its SVD), scaled so its largest column has unit norm. Rows map decorrelated
// components to R, G, B.
torch::Tensor color_matrix(const torch::Device& dev) {
  static const float kSqrt[3][3] = {{0.26f, 0.09f, 0.02f}, {0.27f, 0.00f, -0.05f},
                                    {0.27f, -0.09f, 0.03f}};
  auto m = torch::from_blob(const_cast<float*>(&kSqrt[0][0]), {3, 3}, torch::kFloat).clone();
  const auto max_norm = m.norm(2, 0).max();
  return (m / max_norm).to(dev);
}

// Spectrum scale of the FFT parameterization: 1 / max(frequency, 1 / size) (decay power 1),
// for the [size, size / 2 + 1] half-spectrum of torch.fft.rfft2.
torch::Tensor spectrum_scale(int size, const torch::Device& dev) {
  const int64_t w2 = size / 2 + 1;
  auto fy = torch::empty({size}, torch::kFloat);
  for (int i = 0; i < size; ++i) {
    // numpy.fft.fftfreq(size): 0, 1, ..., then negative frequencies, over size.
    const int k = i < (size + 1) / 2 ? i : i - size;
    fy[i] = static_cast<float>(k) / static_cast<float>(size);
  }
  auto fx = torch::arange(w2, torch::kFloat) / static_cast<float>(size);
  auto freqs = (fy.unsqueeze(1).pow(2) + fx.unsqueeze(0).pow(2)).sqrt();
  return (1.0 / freqs.clamp_min(1.0 / size)).to(dev);
}

torch::Tensor decorrelate_rgb(const torch::Tensor& t, const torch::Device& dev) {
  // [B, 3, H, W] -> per pixel: rgb = C * t
  const auto c = color_matrix(dev);
  return torch::einsum("ij,bjhw->bihw", {c, t});
}

// The image a parameter stands for, before the sigmoid.
torch::Tensor param_to_logits(const torch::Tensor& p, OptvisRequest::Param kind, bool decorrelate,
                              int size) {
  torch::Tensor t;
  if (kind == OptvisRequest::Param::Fft) {
    auto spectrum = torch::view_as_complex(p) * spectrum_scale(size, p.device());
    const std::vector<int64_t> sizes{size, size}, dims{-2, -1};
    t = at::fft_irfft2(spectrum, c10::IntArrayRef(sizes), dims, c10::string_view("ortho"));
    t = t / 4.0;  // Lucent's "magic" factor: keeps the initial image near grey
  } else {
    t = p;
  }
  return decorrelate ? decorrelate_rgb(t, p.device()) : t;
}

// Initial parameters: small noise (Lucent: std 0.01), or the inverse of the mapping for a
// start image ("accentuate").
torch::Tensor initial_param(const OptvisRequest& req, const torch::Device& dev) {
  const int s = req.size;
  auto gen = at::detail::createCPUGenerator(req.seed);
  auto opts = torch::TensorOptions().dtype(torch::kFloat);
  if (!req.init.defined()) {
    if (req.param == OptvisRequest::Param::Fft)
      return (torch::randn({req.batch, 3, s, s / 2 + 1, 2}, gen, opts) * 0.01).to(dev);
    return (torch::randn({req.batch, 3, s, s}, gen, opts) * 0.01).to(dev);
  }
  auto img = req.init.to(torch::kCPU, torch::kFloat);
  if (img.dim() != 3 || img.size(0) != 3) throw Error("optvis: the start image must be [3, H, W]");
  img = torch::upsample_bilinear2d(img.unsqueeze(0), std::vector<int64_t>{s, s}, false)
            .clamp(0.01, 0.99);
  auto logits = torch::log(img / (1 - img));  // inverse sigmoid
  if (req.decorrelate) {
    const auto inv = torch::inverse(color_matrix(torch::kCPU));
    logits = torch::einsum("ij,bjhw->bihw", {inv, logits});
  }
  logits = logits.expand({req.batch, 3, s, s}).contiguous();
  if (req.param == OptvisRequest::Param::Pixel) return logits.to(dev);
  const std::vector<int64_t> dims{-2, -1};
  auto spectrum = at::fft_rfft2(logits * 4.0, c10::nullopt, dims, c10::string_view("ortho"));
  spectrum = spectrum / spectrum_scale(s, torch::kCPU);
  return torch::view_as_real(spectrum).contiguous().to(dev);
}

// Lucent's standard transforms, drawn from `rng`: pad 12 (grey), jitter 8, scale from
// {0.90, 0.92, ..., 1.10}, rotate by an integer angle from -10..10 (0 five times more often),
// jitter 4.
struct Transforms {
  std::mt19937_64 rng;
  explicit Transforms(uint64_t seed) : rng(seed ^ 0x9e3779b97f4a7c15ull) {}
  int pick(int n) { return static_cast<int>(rng() % static_cast<uint64_t>(n)); }
  torch::Tensor jitter(const torch::Tensor& x, int d) {
    const int64_t h = x.size(2), w = x.size(3);
    const int dx = pick(d), dy = pick(d);
    return x.index({Slice(), Slice(), Slice(dy, dy + h - d), Slice(dx, dx + w - d)});
  }
  torch::Tensor operator()(const torch::Tensor& img) {
    auto x = torch::constant_pad_nd(img, {12, 12, 12, 12}, 0.5);
    x = jitter(x, 8);
    const double scale = 1.0 + (pick(11) - 5) / 50.0;
    const int64_t h = x.size(2), w = x.size(3);
    const std::vector<int64_t> scaled{static_cast<int64_t>(std::llround(h * scale)),
                                      static_cast<int64_t>(std::llround(w * scale))};
    x = torch::upsample_bilinear2d(x, scaled, true);
    const int a = pick(26);
    const double deg = a < 21 ? a - 10 : 0.0;
    if (deg != 0.0) {
      const double r = deg * M_PI / 180.0, c = std::cos(r), s = std::sin(r);
      auto theta = torch::tensor({static_cast<float>(c), static_cast<float>(-s), 0.f,
                                  static_cast<float>(s), static_cast<float>(c), 0.f})
                       .reshape({1, 2, 3})
                       .expand({x.size(0), 2, 3})
                       .to(x.device());
      auto grid = at::affine_grid_generator(theta, x.sizes(), false);
      x = torch::grid_sampler(x, grid, /*bilinear*/ 0, /*zeros*/ 0, false);
    }
    return jitter(x, 4);
  }
};

int64_t spatial_size_check(const model::LayerInfo& info, const std::string& layer) {
  const auto& s = info.output_shape;
  if (s.size() != 4)
    throw Error("optvis: layer '" + layer + "' has no [N, K, h, w] output (a convolutional layer is needed)");
  return s[1];
}

// Lucent's diversity term: minus the mean cosine similarity between the samples' Gram matrices.
torch::Tensor diversity_term(const torch::Tensor& tap) {
  const int64_t b = tap.size(0), k = tap.size(1);
  auto flat = tap.reshape({b, k, -1});
  auto grams = torch::bmm(flat, flat.transpose(1, 2)).reshape({b, -1});
  grams = grams / grams.norm(2, 1, true).clamp_min(1e-12);
  auto sim = torch::mm(grams, grams.t());
  return -(sim.sum() - sim.diagonal().sum()) / static_cast<double>(b);
}

}  // namespace

torch::Tensor optvis_image(const torch::Tensor& param, OptvisRequest::Param kind, bool decorrelate,
                           int size) {
  return torch::sigmoid(param_to_logits(param, kind, decorrelate, size));
}

OptvisResult optimize(model::Model& model, const OptvisRequest& req,
                      const OptvisCallback& callback) {
  using Objective = OptvisRequest::Objective;
  if (req.size < 8 || req.size > 2048) throw Error("optvis: --size must be in 8..2048");
  if (req.steps < 0) throw Error("optvis: --steps must be >= 0");
  if (req.batch < 1 || req.batch > 64) throw Error("optvis: the batch must be in 1..64");
  if (!(req.lr > 0)) throw Error("optvis: the learning rate must be > 0");
  const model::InputSpec& spec = model.sidecar().input;
  if (spec.channels() != 3 && spec.channels() != 1)
    throw Error("optvis: the model's input must be RGB or grey");

  OptvisResult res;
  const bool needs_tap = req.objective != Objective::Class || (req.batch > 1 && req.diversity > 0);
  if (needs_tap) res.layer = req.layer.empty() ? model.default_layer() : req.layer;
  int64_t K = 0;
  if (!res.layer.empty()) K = spatial_size_check(model.layer(res.layer), res.layer);
  switch (req.objective) {
    case Objective::Channel:
    case Objective::Neuron:
      if (req.channel < 0 || req.channel >= K)
        throw Error("optvis: channel " + std::to_string(req.channel) + " out of range: layer '" +
                    res.layer + "' has " + std::to_string(K) + " channels (0.." +
                    std::to_string(K - 1) + ")");
      break;
    case Objective::Class:
      if (req.cls < 0 || req.cls >= model.num_classes())
        throw Error("optvis: class " + std::to_string(req.cls) + " out of range: the model has " +
                    std::to_string(model.num_classes()) + " classes");
      break;
    case Objective::Direction:
      if (static_cast<int64_t>(req.direction.size()) != K)
        throw Error("optvis: the direction has " + std::to_string(req.direction.size()) +
                    " values; layer '" + res.layer + "' has " + std::to_string(K) + " channels");
      break;
  }

  const torch::Device dev = model.device();
  torch::Tensor param = initial_param(req, dev);
  torch::Tensor m1 = torch::zeros_like(param), m2 = torch::zeros_like(param);
  const double b1 = 0.9, b2 = 0.999, eps = 1e-8;
  Transforms tf(req.seed);
  const auto mean = torch::tensor(spec.mean, torch::kFloat).reshape({1, -1, 1, 1}).to(dev);
  const auto stdv = torch::tensor(spec.std, torch::kFloat).reshape({1, -1, 1, 1}).to(dev);
  torch::Tensor dir;
  if (req.objective == Objective::Direction)
    dir = torch::tensor(req.direction, torch::kFloat).reshape({1, -1, 1, 1}).to(dev);
  std::vector<std::string> taps;
  if (!res.layer.empty()) taps.push_back(res.layer);
  res.objectives.reserve(static_cast<size_t>(req.steps));

  const OptvisImages images_now = [&] {
    torch::NoGradGuard ng;
    return optvis_image(param, req.param, req.decorrelate, req.size).to(torch::kCPU).contiguous();
  };

  for (int step = 0; step < req.steps; ++step) {
    torch::AutoGradMode enable(true);
    auto p = param.detach().requires_grad_(true);
    auto img = optvis_image(p, req.param, req.decorrelate, req.size);
    auto x = req.transforms ? tf(img) : img;
    x = torch::upsample_bilinear2d(x, std::vector<int64_t>{spec.height, spec.width}, false);
    if (spec.channels() == 1) {  // ITU-R 601 luma, as preprocessing computes it
      x = (x.select(1, 0) * 0.299 + x.select(1, 1) * 0.587 + x.select(1, 2) * 0.114).unsqueeze(1);
    }
    x = (x - mean) / stdv;
    const auto mode = step < req.redirect_steps ? model::ReluMode::Redirected : model::ReluMode::Normal;
    auto out = model.forward(x, taps, mode);
    torch::Tensor unit;  // [batch]
    const torch::Tensor tap = taps.empty() ? torch::Tensor() : out.taps.at(0);
    switch (req.objective) {
      case Objective::Channel:
        unit = tap.select(1, req.channel).mean({1, 2});
        break;
      case Objective::Neuron: {
        const int64_t h = tap.size(2), w = tap.size(3);
        const int64_t yy = req.y >= 0 ? std::min(req.y, h - 1) : h / 2;
        const int64_t xx = req.x >= 0 ? std::min(req.x, w - 1) : w / 2;
        unit = tap.select(1, req.channel).select(1, yy).select(1, xx);
        break;
      }
      case Objective::Class:
        unit = out.logits.select(1, req.cls);
        break;
      case Objective::Direction:
        unit = (tap * dir).sum(1).mean({1, 2});
        break;
    }
    auto objective = unit.sum();
    if (req.batch > 1 && req.diversity > 0) objective = objective + req.diversity * diversity_term(tap);
    auto centred = img - 0.5;
    if (req.l1 > 0) objective = objective - req.l1 * centred.abs().mean();
    if (req.l2 > 0) objective = objective - req.l2 * centred.pow(2).mean();
    if (req.tv > 0) {
      const int64_t n = req.size - 1;
      auto dxv = (img.narrow(3, 1, n) - img.narrow(3, 0, n)).abs().mean();
      auto dyv = (img.narrow(2, 1, n) - img.narrow(2, 0, n)).abs().mean();
      objective = objective - req.tv * (dxv + dyv);
    }
    const double value = unit.detach().mean().item<double>();
    if (!std::isfinite(value)) throw Error("optvis: the objective became " + std::to_string(value) + " at step " + std::to_string(step));
    res.objectives.push_back(value);
    // Gradient ascent on the objective = Adam descent on its negative.
    auto g = -torch::autograd::grad({objective}, {p})[0];
    {
      torch::NoGradGuard ng;
      const double t = step + 1;
      m1.mul_(b1).add_(g, 1 - b1);
      m2.mul_(b2).addcmul_(g, g, 1 - b2);
      const double bc1 = 1 - std::pow(b1, t), bc2 = 1 - std::pow(b2, t);
      auto denom = (m2.sqrt() / std::sqrt(bc2)).add_(eps);
      param = param - (req.lr / bc1) * m1 / denom;
    }
    if (callback && !callback(OptvisStep{step + 1, req.steps, value}, images_now))
      throw Cancelled();
  }
  res.images = images_now();
  return res;
}

}  // namespace camscope::explain
