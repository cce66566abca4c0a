// explain() on real TorchScript models: every CAM-family method against values worked out by
// hand for a model with chosen weights, the method identities, the pixel-space methods against
// an independent PyTorch reference, SE gates, filters, the sanity check and the error paths.
#include <doctest/doctest.h>

#include <cmath>
#include <fstream>
#include <vector>

#include "explain/cam_math.h"
#include "explain/channels.h"
#include "explain/explain.h"
#include "explain/model_probe.h"
#include "explain/pixel_math.h"
#include "explain/sanity.h"
#include "explain_fixture.h"
#include "model/model.h"
#include "test_support.h"
#include "util/error.h"
#include "util/npy.h"

using namespace camscope;
using namespace camscope::explain;

namespace {

std::unique_ptr<model::Model> load(const std::string& name) {
  model::Model::Options o;
  o.path = test::explain_fixture_dir() + "/" + name + ".pt";
  o.device = "cpu";
  return model::Model::load(o);
}

torch::Tensor npy_tensor(const std::string& path) {
  NpyArray a = read_npy(path);
  return torch::tensor(a.data).reshape(a.shape);
}

double max_diff(const torch::Tensor& a, const torch::Tensor& b) {
  REQUIRE(a.sizes() == b.sizes());
  return (a.to(torch::kDouble) - b.to(torch::kDouble)).abs().max().item<double>();
}

// --- The tiny model, by hand -----------------------------------------------------------------
// conv(3->3, 3x3, stride 2, pad 1) -> ReLU -> GAP -> Linear(3->2), weights from the same closed
// formulas as explain_fixtures.py; input 6x6 so the feature map is 3x3.
constexpr int C = 3, S = 6, K = 3, h = 3, CLS = 2;
double conv_w(int o, int c, int i, int j) {
  return ((o * 7 + c * 3 + i * 5 + j * 2) % 11 - 5) / 5.0;
}
double conv_b(int o) {
  return 0.1 * o - 0.1;
}
double fc_w(int t, int k) {
  return ((t * 3 + k * 2) % 5 - 2) / 2.0;
}
double fc_b(int t) {
  return 0.25 * t;
}
double input_x(int c, int i, int j) {
  return ((c * 13 + i * 7 + j * 3) % 17 - 8) / 8.0;
}

using Vec = std::vector<double>;

// ReLU(conv(x)) as [K][h][h].
Vec hand_activation(const Vec& x) {
  Vec a(K * h * h);
  for (int o = 0; o < K; ++o)
    for (int y = 0; y < h; ++y)
      for (int z = 0; z < h; ++z) {
        double s = conv_b(o);
        for (int c = 0; c < C; ++c)
          for (int i = 0; i < 3; ++i)
            for (int j = 0; j < 3; ++j) {
              int yy = y * 2 + i - 1, zz = z * 2 + j - 1;
              if (yy >= 0 && yy < S && zz >= 0 && zz < S)
                s += conv_w(o, c, i, j) * x[(c * S + yy) * S + zz];
            }
        a[(o * h + y) * h + z] = std::max(s, 0.0);
      }
  return a;
}

Vec hand_logits(const Vec& a) {
  Vec l(CLS);
  for (int t = 0; t < CLS; ++t) {
    l[t] = fc_b(t);
    for (int k = 0; k < K; ++k) {
      double m = 0;
      for (int p = 0; p < h * h; ++p) m += a[k * h * h + p] / (h * h);
      l[t] += fc_w(t, k) * m;
    }
  }
  return l;
}

torch::Tensor T(const Vec& v, std::vector<int64_t> shape) {
  return torch::tensor(v, torch::kDouble).reshape(shape).to(torch::kFloat);
}

Vec tiny_input() {
  Vec x(C * S * S);
  for (int c = 0; c < C; ++c)
    for (int i = 0; i < S; ++i)
      for (int j = 0; j < S; ++j) x[(c * S + i) * S + j] = input_x(c, i, j);
  return x;
}

// sum_k w_k A_k
Vec combine(const Vec& a, const Vec& w) {
  Vec m(h * h, 0.0);
  for (int k = 0; k < K; ++k)
    for (int p = 0; p < h * h; ++p) m[p] += w[k] * a[k * h * h + p];
  return m;
}

}  // namespace

TEST_CASE("every CAM-family method on a hand-built model matches values computed by hand") {
  if (!test::have_explain_fixtures()) return;
  auto model = load("tiny");
  const Vec x = tiny_input();
  const auto input = T(x, {1, C, S, S});
  const Vec a = hand_activation(x);
  const Vec logits = hand_logits(a);
  const int t = logits[1] > logits[0] ? 1 : 0;
  // The score is linear in the GAP of the tapped ReLU output: G_k = W[t, k] / (h w) everywhere.
  Vec g(K * h * h);
  for (int k = 0; k < K; ++k)
    for (int p = 0; p < h * h; ++p) g[k * h * h + p] = fc_w(t, k) / (h * h);
  // The chosen weights must make this a real test: some units are cut by the ReLU and some
  // channels get negative weights.
  REQUIRE(std::count(a.begin(), a.end(), 0.0) > 0);

  Vec sum_a(K, 0.0);
  for (int k = 0; k < K; ++k)
    for (int p = 0; p < h * h; ++p) sum_a[k] += a[k * h * h + p];
  Vec w_grad(K), w_pp(K), w_x(K), w_cam(K), mean_k(h * h, 0.0), layer(h * h, 0.0);
  for (int k = 0; k < K; ++k) {
    w_cam[k] = fc_w(t, k);
    w_grad[k] = fc_w(t, k) / (h * h);
    double gk = w_grad[k], pp = 0, xg = 0;
    for (int p = 0; p < h * h; ++p) {
      double alpha = gk == 0 ? 0 : gk * gk / (2 * gk * gk + sum_a[k] * gk * gk * gk + 1e-6);
      pp += std::max(gk, 0.0) * alpha;
      xg += gk * a[k * h * h + p] / (sum_a[k] + 1e-7);
      layer[p] += std::max(gk, 0.0) * a[k * h * h + p];
      mean_k[p] += a[k * h * h + p] / K;
    }
    w_pp[k] = pp;
    w_x[k] = xg;
  }

  // Score-CAM by hand: masked inputs through the hand-written forward pass.
  auto masks = scorecam_masks(T(a, {K, h, h}), S, S).to(torch::kDouble);
  Vec scores(K);
  for (int k = 0; k < K; ++k) {
    Vec xm(x);
    for (int c = 0; c < C; ++c)
      for (int p = 0; p < S * S; ++p) xm[c * S * S + p] *= masks[k][0].flatten()[p].item<double>();
    scores[k] = hand_logits(hand_activation(xm))[t];
  }
  Vec w_score(K);
  double z = 0;
  for (double s : scores) z += std::exp(s);
  for (int k = 0; k < K; ++k) w_score[k] = std::exp(scores[k]) / z;

  // Eigen-CAM by hand: power iteration on the K x K covariance of the centred activations.
  Vec mu(K, 0.0), v(K, 1.0);
  for (int k = 0; k < K; ++k) mu[k] = sum_a[k] / (h * h);
  for (int it = 0; it < 500; ++it) {
    Vec nv(K, 0.0);
    for (int p = 0; p < h * h; ++p) {
      double proj = 0;
      for (int k = 0; k < K; ++k) proj += (a[k * h * h + p] - mu[k]) * v[k];
      for (int k = 0; k < K; ++k) nv[k] += (a[k * h * h + p] - mu[k]) * proj;
    }
    double n = 0;
    for (double e : nv) n += e * e;
    for (int k = 0; k < K; ++k) v[k] = nv[k] / std::sqrt(n);
  }
  Vec eig(h * h, 0.0), tot(h * h, 0.0);
  for (int p = 0; p < h * h; ++p)
    for (int k = 0; k < K; ++k)
      eig[p] += (a[k * h * h + p] - mu[k]) * v[k], tot[p] += a[k * h * h + p];
  double em = 0, tm = 0, corr = 0;
  for (int p = 0; p < h * h; ++p) em += eig[p] / (h * h), tm += tot[p] / (h * h);
  for (int p = 0; p < h * h; ++p) corr += (eig[p] - em) * (tot[p] - tm);
  if (corr < 0)
    for (auto& e : eig) e = -e;

  struct Case {
    Method m;
    Vec raw, weights;
  };
  std::vector<Case> cases = {
      {Method::Activation, mean_k, {}},
      {Method::Cam, combine(a, w_cam), w_cam},
      {Method::GradCam, combine(a, w_grad), w_grad},
      {Method::GradCamPP, combine(a, w_pp), w_pp},
      {Method::XGradCam, combine(a, w_x), w_x},
      {Method::LayerCam, layer, {}},
      {Method::ScoreCam, combine(a, w_score), w_score},
      {Method::EigenCam, eig, {}},
  };
  for (const auto& c : cases) {
    CAPTURE(method_name(c.m));
    Request req;
    req.method = c.m;
    req.layer = "relu";
    Result r = explain::explain(*model, input, req);
    CHECK(r.target == t);
    CHECK(max_diff(r.logits, T(logits, {CLS})) < 1e-5);
    CHECK(max_diff(r.activation, T(a, {K, h, h})) < 1e-5);
    CHECK(max_diff(r.raw, T(c.raw, {h, h})) < 1e-5);
    if (!c.weights.empty()) CHECK(max_diff(r.channel_weights, T(c.weights, {K})) < 1e-6);
    if (c.m == Method::GradCam) CHECK(max_diff(r.gradient, T(g, {K, h, h})) < 1e-7);
    REQUIRE(r.map.sizes() == torch::IntArrayRef({S, S}));
    CHECK(max_diff(r.map, postprocess_cam(T(c.raw, {h, h}), S, S)) < 1e-5);
    CHECK(r.map.min().item<float>() >= 0.0f);
    CHECK(r.map.max().item<float>() <= 1.0f);
  }

  // An explicit target: the other class.
  Request other;
  other.layer = "relu";
  other.target = 1 - t;
  Result r = explain::explain(*model, input, other);
  CHECK(r.target == 1 - t);
  Vec w_other(K);
  for (int k = 0; k < K; ++k) w_other[k] = fc_w(1 - t, k) / (h * h);
  CHECK(max_diff(r.raw, T(combine(a, w_other), {h, h})) < 1e-5);
}

TEST_CASE("identities: CAM == Grad-CAM on GAP+linear, Guided Grad-CAM == guided BP x Grad-CAM") {
  if (!test::have_explain_fixtures()) return;
  for (const char* name : {"tiny", "small"}) {
    CAPTURE(name);
    auto model = load(name);
    const auto& spec = model->sidecar().input;
    auto input = torch::randn({1, 3, spec.height, spec.width}, at::detail::createCPUGenerator(5),
                              torch::TensorOptions());
    const std::string layer = std::string(name) == "tiny" ? "relu" : "act3";
    Request req;
    req.layer = layer;
    req.method = Method::Cam;
    Result cam = explain::explain(*model, input, req);
    req.method = Method::GradCam;
    Result grad = explain::explain(*model, input, req);
    CHECK(max_diff(cam.map, grad.map) < 1e-5);

    req.method = Method::GuidedBP;
    Result gbp = explain::explain(*model, input, req);
    req.method = Method::GuidedGradCam;
    Result ggc = explain::explain(*model, input, req);
    CHECK(max_diff(ggc.raw, gbp.raw * grad.map.unsqueeze(0)) < 1e-6);
    CHECK(max_diff(ggc.map, pixel_map(gbp.raw * grad.map.unsqueeze(0))) < 1e-6);
  }
}

TEST_CASE("pixel-space methods equal an independent PyTorch autograd reference") {
  if (!test::have_explain_fixtures()) return;
  const std::string dir = test::explain_fixture_dir();
  auto model = load("small");
  auto x = npy_tensor(dir + "/small_x.npy");
  int64_t target = std::stoll(test::run("cat '" + dir + "/small_target.txt'").output);
  for (Method m : {Method::Saliency, Method::GradXInput, Method::GuidedBP, Method::SmoothGrad,
                   Method::IntGrad}) {
    CAPTURE(method_name(m));
    Request req;
    req.method = m;
    req.layer = "act3";
    Result r = explain::explain(*model, x, req);
    CHECK(r.target == target);
    auto ref = npy_tensor(dir + "/small_" + method_name(m) + ".npy");
    double scale = ref.abs().max().item<double>();
    REQUIRE(scale > 0.05);  // attributions of order 1: the 1e-4 bound is meaningful
    CHECK(max_diff(r.raw, ref) < 1e-4);
    CHECK(max_diff(r.map, pixel_map(ref)) < 1e-4);
    // The channel view still gets the layer's activations.
    CHECK(r.activation.sizes() == torch::IntArrayRef({8, 8, 8}));
  }
  // Guided BP differs from plain gradients (the reference proves the masks are applied).
  CHECK(max_diff(npy_tensor(dir + "/small_guidedbp.npy"), npy_tensor(dir + "/small_saliency.npy")) >
        1e-3);
  // SmoothGrad depends on its seed.
  Request req;
  req.method = Method::SmoothGrad;
  req.seed = 1;
  CHECK(max_diff(explain::explain(*model, x, req).raw, npy_tensor(dir + "/small_smoothgrad.npy")) >
        1e-4);
}

TEST_CASE("explain refuses bad targets and unsuitable layers with one-line errors") {
  if (!test::have_explain_fixtures()) return;
  auto model = load("tiny");
  auto input = T(tiny_input(), {1, C, S, S});
  auto fails = [&](Method m, const std::string& layer, int64_t target, const std::string& needle) {
    Request req;
    req.method = m;
    req.layer = layer;
    req.target = target;
    try {
      explain::explain(*model, input, req);
      FAIL("no error for " << method_name(m) << " at '" << layer << "'");
    } catch (const Error& e) {
      std::string msg = e.what();
      CHECK_MESSAGE(msg.find(needle) != std::string::npos, msg);
      CHECK(msg.find('\n') == std::string::npos);
    }
  };
  fails(Method::GradCam, "relu", 2, "out of range");
  fails(Method::Saliency, "relu", 7, "out of range");
  fails(Method::GradCam, "fc", -1, "without spatial");
  fails(Method::ScoreCam, "pool", -1, "1x1");
  fails(Method::GuidedGradCam, "fc", -1, "without spatial");
  fails(Method::GradCam, "rleu", -1, "rleu");
  // `conv` is before the ReLU, so logits != W GAP(conv) + b: CAM must refuse.
  fails(Method::Cam, "conv", -1, "global-average-pool");
  // Pixel-space methods need no spatial layer.
  Request ok;
  ok.method = Method::Saliency;
  ok.layer = "fc";
  CHECK(explain::explain(*model, input, ok).map.sizes() == torch::IntArrayRef({S, S}));
  CHECK_THROWS_AS(explain::explain(*model, input.squeeze(0), ok), Error);
}

TEST_CASE("squeeze-excitation gates and first-layer filters") {
  if (!test::have_explain_fixtures()) return;
  const std::string dir = test::explain_fixture_dir();
  auto model = load("se");
  auto gates = find_channel_gates(*model);
  REQUIRE(gates == std::vector<std::string>{"gate"});
  auto values = channel_gates(*model, npy_tensor(dir + "/se_x.npy"), gates);
  REQUIRE(values.size() == 1);
  CHECK(max_diff(values[0], npy_tensor(dir + "/se_gate.npy")) < 1e-6);
  CHECK(find_channel_gates(*load("tiny")).empty());

  auto tiny = load("tiny");
  CHECK(first_conv_path(*tiny) == "conv");
  auto f = first_layer_filters(*tiny);
  REQUIRE(f.sizes() == torch::IntArrayRef({3, 3, 3, 3}));
  double wmax = 0;
  for (int o = 0; o < 3; ++o)
    for (int c = 0; c < 3; ++c)
      for (int i = 0; i < 3; ++i)
        for (int j = 0; j < 3; ++j) wmax = std::max(wmax, std::abs(conv_w(o, c, i, j)));
  for (int o = 0; o < 3; ++o)
    for (int c = 0; c < 3; ++c)
      CHECK(f[o][c][1][2].item<double>() ==
            doctest::Approx(0.5 + conv_w(o, c, 1, 2) / (2 * wmax)).epsilon(1e-6));
  auto atlas = make_grid(f);  // RGB tiles
  CHECK(atlas.sizes() == torch::IntArrayRef({3, 1 + 2 * 4, 1 + 2 * 4}));
}

TEST_CASE("sanity check: cascading randomization from the logits down") {
  if (!test::have_explain_fixtures()) return;
  const std::string dir = test::explain_fixture_dir();
  auto model = load("small");
  auto x = npy_tensor(dir + "/small_x.npy");
  CHECK(randomization_blocks(*model) == std::vector<std::string>{"fc", "conv3", "conv2", "conv1"});

  Request req;
  req.method = Method::GradCam;
  req.layer = "act2";
  Result before = explain::explain(*model, x, req);
  SanityReport rep = sanity_check(*model, x, req, 0);
  REQUIRE(rep.steps.size() == 4);
  CHECK(rep.target == before.target);
  for (const auto& s : rep.steps) {
    CHECK(s.spearman >= -1.0);
    CHECK(s.spearman <= 1.0);
  }
  // Grad-CAM depends on the head: randomizing fc alone already changes the map.
  CHECK(rep.steps[0].spearman < 0.999);
  // The original model is untouched (the check works on a clone).
  CHECK(max_diff(explain::explain(*model, x, req).raw, before.raw) == 0.0);

  // The activation at act2 does not depend on fc or conv3: rank correlation exactly 1 until
  // conv2 is randomized.
  req.method = Method::Activation;
  SanityReport act = sanity_check(*model, x, req, 0);
  CHECK(act.steps[0].spearman == doctest::Approx(1.0));
  CHECK(act.steps[1].spearman == doctest::Approx(1.0));
  CHECK(act.steps[2].spearman < 0.99);
  // Same seed, same report.
  SanityReport again = sanity_check(*model, x, req, 0);
  CHECK(again.steps[3].spearman == act.steps[3].spearman);
}
