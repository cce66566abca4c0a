// explain() on real TorchScript models: every CAM-family method against values worked out by
// hand for a model with chosen weights, the method identities, the pixel-space methods against
// an independent PyTorch reference, SE gates, filters, the sanity check and the error paths.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <vector>

#include "explain/cam_math.h"
#include "explain/channels.h"
#include "explain/explain.h"
#include "explain/metrics.h"
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

// --- Round-2 CAM methods --------------------------------------------------------------------

namespace {

// Leading eigenvector of a symmetric n x n matrix by shifted power iteration (the shift makes
// every eigenvalue positive, so the largest one dominates), with its eigenvalue.
std::pair<Vec, double> hand_top_eigen(const Vec& m, int n) {
  double shift = 0;
  for (double e : m) shift += e * e;
  shift = std::sqrt(shift);
  Vec v(n);
  for (int i = 0; i < n; ++i) v[i] = 1.0 + 0.01 * i;
  for (int it = 0; it < 5000; ++it) {
    Vec nv(n, 0.0);
    for (int i = 0; i < n; ++i)
      for (int j = 0; j < n; ++j) nv[i] += (m[i * n + j] + (i == j ? shift : 0.0)) * v[j];
    double norm = 0;
    for (double e : nv) norm += e * e;
    for (int i = 0; i < n; ++i) v[i] = nv[i] / std::sqrt(norm);
  }
  double lambda = 0;
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < n; ++j) lambda += v[i] * m[i * n + j] * v[j];
  return {v, lambda};
}

// Eigen-CAM's projection of [K][hw] values m by hand, oriented to correlate with sum_k m_k.
Vec hand_projection(const Vec& m, int KK, int n) {
  Vec mu(KK, 0.0);
  for (int k = 0; k < KK; ++k)
    for (int p = 0; p < n; ++p) mu[k] += m[k * n + p] / n;
  Vec cov(KK * KK, 0.0);
  for (int a = 0; a < KK; ++a)
    for (int b = 0; b < KK; ++b)
      for (int p = 0; p < n; ++p)
        cov[a * KK + b] += (m[a * n + p] - mu[a]) * (m[b * n + p] - mu[b]);
  Vec v = hand_top_eigen(cov, KK).first;
  Vec proj(n, 0.0), tot(n, 0.0);
  for (int p = 0; p < n; ++p)
    for (int k = 0; k < KK; ++k) proj[p] += (m[k * n + p] - mu[k]) * v[k], tot[p] += m[k * n + p];
  double pm = 0, tm = 0, corr = 0;
  for (int p = 0; p < n; ++p) pm += proj[p] / n, tm += tot[p] / n;
  for (int p = 0; p < n; ++p) corr += (proj[p] - pm) * (tot[p] - tm);
  if (corr < 0)
    for (auto& e : proj) e = -e;
  return proj;
}

}  // namespace

TEST_CASE("round-2 CAM methods on the hand-built model match values computed by hand") {
  if (!test::have_explain_fixtures()) return;
  auto model = load("tiny");
  const Vec x = tiny_input();
  const auto input = T(x, {1, C, S, S});
  const Vec a = hand_activation(x);
  const Vec logits = hand_logits(a);
  const int t = logits[1] > logits[0] ? 1 : 0, o = 1 - t;
  const int n = h * h;
  REQUIRE(*std::min_element(a.begin(), a.end()) == 0.0);  // Ablation-CAM's value is then 0

  // After the tapped ReLU the score is linear in A: G_k = W[t, k] / (h w) at every position.
  Vec g(K), mean_a(K, 0.0), ga(K * n), w_abl(K), w_fem(K), w_finer(K), w_finer_half(K),
      w_sgpp(K), w_grad(K), elem(n, 0.0);
  for (int k = 0; k < K; ++k) {
    g[k] = fc_w(t, k) / n;
    w_grad[k] = g[k];
    for (int p = 0; p < n; ++p) mean_a[k] += a[k * n + p] / n;
  }
  double var_sum = 0;
  for (int k = 0; k < K; ++k) {
    double var = 0;
    for (int p = 0; p < n; ++p) {
      ga[k * n + p] = g[k] * a[k * n + p];
      elem[p] += std::max(ga[k * n + p], 0.0);
      var += (a[k * n + p] - mean_a[k]) * (a[k * n + p] - mean_a[k]) / n;
    }
    var_sum += var;
    int above = 0;
    for (int p = 0; p < n; ++p) above += a[k * n + p] > mean_a[k] + 2 * std::sqrt(var);
    w_fem[k] = double(above) / n;
    // Zeroing channel k removes W[t, k] mean(A_k) from the logit.
    w_abl[k] = fc_w(t, k) * mean_a[k] / logits[t];
    // Two classes: Finer-CAM compares with the other one; p_o / (p_o + 1e-9) is 1 to 1e-8.
    w_finer[k] = (fc_w(t, k) - fc_w(o, k)) / n;
    w_finer_half[k] = (fc_w(t, k) - 0.5 * fc_w(o, k)) / n;
    // The noise changes nothing after the ReLU: g2 = g^2, g3 = g^3 at every position.
    double sum_g3a = 0;
    for (int p = 0; p < n; ++p) sum_g3a += g[k] * g[k] * g[k] * a[k * n + p];
    double alpha = g[k] * g[k] / (2 * g[k] * g[k] + sum_g3a + 1e-8);
    w_sgpp[k] = n * alpha * std::max(g[k], 0.0);
  }
  REQUIRE(var_sum > 0);

  // Kernel PCA by hand: sigmoid kernel of the channel-centred positions, double-centred.
  Vec km(n * n);
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < n; ++j) {
      double dot = 0;
      for (int k = 0; k < K; ++k)
        dot += (a[k * n + i] - mean_a[k]) * (a[k * n + j] - mean_a[k]);
      km[i * n + j] = std::tanh(dot / K + 1.0);
    }
  Vec rm(n, 0.0);
  double all = 0;
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < n; ++j) rm[i] += km[i * n + j] / n, all += km[i * n + j] / (n * n);
  Vec kc(n * n);
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < n; ++j) kc[i * n + j] = km[i * n + j] - rm[i] - rm[j] + all;
  auto [v, lambda] = hand_top_eigen(kc, n);
  int big = 0;
  for (int i = 0; i < n; ++i)
    if (std::abs(v[i]) > std::abs(v[big])) big = i;
  Vec kpca(n);
  for (int i = 0; i < n; ++i) kpca[i] = (v[big] < 0 ? -v[i] : v[i]) * std::sqrt(lambda);

  struct Case {
    Method m;
    Vec raw, weights;
    double tol;
  };
  std::vector<Case> cases = {
      // G is spatially constant here, so HiResCAM is Grad-CAM.
      {Method::HiResCam, combine(a, w_grad), {}, 1e-5},
      {Method::GradCamElementWise, elem, {}, 1e-5},
      {Method::EigenGradCam, hand_projection(ga, K, n), {}, 1e-5},
      {Method::AblationCam, combine(a, w_abl), w_abl, 1e-5},
      {Method::Fem, combine(a, w_fem), w_fem, 1e-6},
      {Method::KpcaCam, kpca, {}, 1e-5},
      // Linear after the layer: Shapley-CAM is Grad-CAM.
      {Method::ShapleyCam, combine(a, w_grad), w_grad, 1e-6},
      {Method::FinerCam, combine(a, w_finer), w_finer, 1e-6},
      {Method::SmoothGradCamPP, combine(a, w_sgpp), w_sgpp, 1e-4},
  };
  for (const auto& c : cases) {
    CAPTURE(method_name(c.m));
    CHECK(is_cam_family(c.m));
    Request req;
    req.method = c.m;
    req.layer = "relu";
    Result r = explain::explain(*model, input, req);
    CHECK(r.target == t);
    CHECK(max_diff(r.raw, T(c.raw, {h, h})) < c.tol);
    if (!c.weights.empty()) CHECK(max_diff(r.channel_weights, T(c.weights, {K})) < c.tol);
    CHECK(max_diff(r.map, postprocess_cam(T(c.raw, {h, h}), S, S)) < 1e-4);
  }
  Request req;
  req.layer = "relu";
  req.method = Method::FinerCam;
  req.finer_alpha = 0.5f;
  CHECK(max_diff(explain::explain(*model, input, req).channel_weights, T(w_finer_half, {K})) <
        1e-6);
  // Ablation in batches of any size gives the same weights.
  req.method = Method::AblationCam;
  req.ablation_batch = 2;
  CHECK(max_diff(explain::explain(*model, input, req).channel_weights, T(w_abl, {K})) < 1e-5);

  // Random-CAM: weights in [-1, 1) from the seed; same seed, same map.
  req.method = Method::RandomCam;
  req.seed = 3;
  Result r1 = explain::explain(*model, input, req), r2 = explain::explain(*model, input, req);
  CHECK(torch::equal(r1.raw, r2.raw));
  CHECK(r1.channel_weights.min().item<float>() >= -1.0f);
  CHECK(r1.channel_weights.max().item<float>() < 1.0f);
  CHECK(max_diff(r1.raw, weighted_sum(r1.activation, r1.channel_weights)) < 1e-6);
  req.seed = 4;
  CHECK(max_diff(explain::explain(*model, input, req).channel_weights, r1.channel_weights) > 1e-3);
}

TEST_CASE("Shapley-CAM by hand on a quadratic head: H.A = G, so the weights are Grad-CAM's / 2") {
  if (!test::have_explain_fixtures()) return;
  auto model = load("quad");
  auto input =
      torch::randn({1, 3, 6, 6}, at::detail::createCPUGenerator(7), torch::TensorOptions());
  Request req;
  req.layer = "conv";
  req.method = Method::ShapleyCam;
  Result r = explain::explain(*model, input, req);
  // score = sum_k W[t, k] mean_ij(A_k^2): G = 2 W A / hw, H.A = 2 W A / hw,
  // mean(G - H.A / 2) = W[t, k] mean(A_k) / hw.
  const double fc[2][2] = {{1.5, -0.5}, {0.25, 2.0}};
  auto A = r.activation.to(torch::kDouble);
  REQUIRE(A.sizes() == torch::IntArrayRef({2, 6, 6}));
  Vec w(2);
  for (int k = 0; k < 2; ++k) w[k] = fc[r.target][k] * A[k].mean().item<double>() / 36.0;
  CHECK(max_diff(r.channel_weights, T(w, {2})) < 1e-6);
  req.method = Method::GradCam;
  Result gc = explain::explain(*model, input, req);
  CHECK(max_diff(gc.channel_weights, T(w, {2}) * 2) < 1e-6);
}

TEST_CASE("round-2 CAM methods equal an independent PyTorch reference (forward hooks)") {
  if (!test::have_explain_fixtures()) return;
  const std::string dir = test::explain_fixture_dir();
  auto model = load("small");
  auto x = npy_tensor(dir + "/small_x.npy");
  int64_t target = std::stoll(test::run("cat '" + dir + "/small_target.txt'").output);
  for (Method m : {Method::HiResCam, Method::GradCamElementWise, Method::EigenGradCam,
                   Method::AblationCam, Method::Fem, Method::KpcaCam, Method::ShapleyCam,
                   Method::FinerCam, Method::RandomCam, Method::SmoothGradCamPP}) {
    CAPTURE(method_name(m));
    Request req;
    req.method = m;
    req.layer = "act2";
    Result r = explain::explain(*model, x, req);
    CHECK(r.target == target);
    auto ref = npy_tensor(dir + "/small_cam_" + method_name(m) + ".npy");
    double scale = ref.abs().max().item<double>();
    REQUIRE(scale > 0.05);
    CHECK(max_diff(r.raw, ref) < 1e-5 * std::max(1.0, scale) * 10);
    CHECK(max_diff(r.map, postprocess_cam(ref, 16, 16)) < 1e-4);
  }
  // Piecewise linear after act2: Shapley-CAM is Grad-CAM. After a sigmoid gate it is not, and
  // still matches the reference's Hessian-vector product.
  CHECK(max_diff(npy_tensor(dir + "/small_cam_shapleycam.npy"),
                 npy_tensor(dir + "/small_cam_gradcam.npy")) == 0.0);
  auto se = load("se");
  auto xs = npy_tensor(dir + "/se_x.npy");
  Request req;
  req.method = Method::ShapleyCam;
  req.layer = "relu";
  auto ref = npy_tensor(dir + "/se_cam_shapleycam.npy");
  auto grad = npy_tensor(dir + "/se_cam_gradcam.npy");
  double scale = ref.abs().max().item<double>();
  CHECK(max_diff(ref, grad) > 1e-2 * scale);  // the second-order term matters here
  CHECK(max_diff(explain::explain(*se, xs, req).raw, ref) < 1e-4 * scale);
  req.method = Method::GradCam;
  CHECK(max_diff(explain::explain(*se, xs, req).raw, grad) < 1e-4 * scale);
}

TEST_CASE("explain_many: every method from shared passes equals its own explain() call") {
  if (!test::have_explain_fixtures()) return;
  const std::string dir = test::explain_fixture_dir();
  auto model = load("small");
  auto x = npy_tensor(dir + "/small_x.npy");
  std::vector<Method> methods;
  for (const auto& name : method_names()) methods.push_back(parse_method(name));
  std::reverse(methods.begin(), methods.end());  // no reliance on the table's order
  Request base;
  base.layer = "act3";  // feeds the GAP + linear head: plain CAM works there too
  auto many = explain_many(*model, x, methods, base);
  REQUIRE(many.size() == methods.size());
  for (size_t i = 0; i < methods.size(); ++i) {
    CAPTURE(method_name(methods[i]));
    Request req = base;
    req.method = methods[i];
    Result one = explain::explain(*model, x, req);
    CHECK(torch::equal(many[i].map, one.map));
    CHECK(torch::equal(many[i].raw, one.raw));
    CHECK(many[i].target == one.target);
    CHECK(many[i].layer == one.layer);
    CHECK(torch::equal(many[i].logits, one.logits));
    CHECK(many[i].channel_weights.defined() == one.channel_weights.defined());
    if (one.channel_weights.defined())
      CHECK(torch::equal(many[i].channel_weights, one.channel_weights));
  }
  // An explicit target reaches every method.
  base.target = 1;
  for (const auto& r : explain_many(*model, x, {Method::GradCam, Method::Fem}, base))
    CHECK(r.target == 1);
}

TEST_CASE("Ablation-CAM reports channel progress and stops when asked") {
  if (!test::have_explain_fixtures()) return;
  auto model = load("small");
  auto x = npy_tensor(test::explain_fixture_dir() + "/small_x.npy");
  Request req;
  req.method = Method::AblationCam;
  req.layer = "act2";
  req.ablation_batch = 3;
  std::vector<int64_t> seen;
  req.progress = [&](int64_t done, int64_t total, const char* unit) {
    CHECK(std::string(unit) == "channels");
    CHECK(total == 8);
    seen.push_back(done);
    return true;
  };
  explain::explain(*model, x, req);
  CHECK(seen == std::vector<int64_t>{0, 3, 6, 8});
  CHECK(is_slow(Method::AblationCam));
  CHECK(!is_slow(Method::HiResCam));
  req.progress = [](int64_t done, int64_t, const char*) { return done < 3; };
  CHECK_THROWS_AS(explain::explain(*model, x, req), Cancelled);
}

// --- Faithfulness metrics ----------------------------------------------------------------------
// linear.pt: logits_t = sum_{c,i,j} W[t,c,i,j] x[c,i,j] + b_t on a 3x4x4 input, weights from the
// formula in explain_fixtures.py. Every curve point is then a closed-form sigmoid.
namespace {
double lin_w(int t, int c, int i, int j) {
  return ((t * 5 + c * 7 + i * 3 + j) % 9 - 4) / 8.0;
}
double lin_p(const Vec& x, int t) {  // softmax probability of class t of the two logits
  double z[2];
  for (int u = 0; u < 2; ++u) {
    z[u] = 0.5 * u - 0.25;
    for (int c = 0; c < 3; ++c)
      for (int p = 0; p < 16; ++p) z[u] += lin_w(u, c, p / 4, p % 4) * x[c * 16 + p];
  }
  return 1.0 / (1.0 + std::exp(z[1 - t] - z[t]));
}
}  // namespace

TEST_CASE("faithfulness metrics on a linear model equal their closed forms") {
  if (!test::have_explain_fixtures()) return;
  auto model = load("linear");
  Vec x(3 * 16);
  for (int i = 0; i < 48; ++i) x[i] = ((i * 7) % 11 - 5) / 4.0;
  // A map with ties (0.5 three times): the lower flat index goes first.
  Vec map = {0.1, 0.5, 0.9, 0.0, 0.5, 0.3, 1.0, 0.2, 0.5, 0.7, 0.05, 0.6, 0.4, 0.8, 0.15, 0.25};
  const std::vector<int64_t> order = {6, 2, 13, 9, 11, 1, 4, 8, 12, 5, 15, 7, 14, 0, 10, 3};
  CHECK(saliency_order(T(map, {4, 4})) == order);
  const int t = 1;
  for (int steps : {20, 3}) {
    CAPTURE(steps);
    Faithfulness f = faithfulness(*model, T(x, {1, 3, 4, 4}), T(map, {4, 4}), t, steps);
    const int step = (16 + steps - 1) / steps;  // 1 for 20 steps, 6 for 3
    Vec del, ins;
    for (int i = 0; i <= steps; ++i) {
      Vec xd(x), xi(48, 0.0);
      for (int r = 0; r < std::min(i * step, 16); ++r)
        for (int c = 0; c < 3; ++c) {
          xd[c * 16 + order[r]] = 0.0;
          xi[c * 16 + order[r]] = x[c * 16 + order[r]];
        }
      del.push_back(lin_p(xd, t));
      ins.push_back(lin_p(xi, t));
    }
    REQUIRE(f.deletion_curve.size() == del.size());
    double auc_d = 0, auc_i = 0;
    for (int i = 0; i <= steps; ++i) {
      CHECK(f.deletion_curve[i] == doctest::Approx(del[i]).epsilon(1e-5));
      CHECK(f.insertion_curve[i] == doctest::Approx(ins[i]).epsilon(1e-5));
      if (i < steps) {
        auc_d += (del[i] + del[i + 1]) / (2.0 * steps);
        auc_i += (ins[i] + ins[i + 1]) / (2.0 * steps);
      }
    }
    CHECK(f.deletion == doctest::Approx(auc_d).epsilon(1e-5));
    CHECK(f.insertion == doctest::Approx(auc_i).epsilon(1e-5));
    Vec xm(x);
    for (int c = 0; c < 3; ++c)
      for (int p = 0; p < 16; ++p) xm[c * 16 + p] *= map[p];
    const double s = lin_p(x, t), sm = lin_p(xm, t);
    CHECK(f.score == doctest::Approx(s).epsilon(1e-5));
    CHECK(f.masked == doctest::Approx(sm).epsilon(1e-5));
    CHECK(f.drop == doctest::Approx(std::max(s - sm, 0.0) / (s + 1e-7)).epsilon(1e-5));
    CHECK(f.increase == (s < sm));
  }
  CHECK_THROWS_AS(faithfulness(*model, T(x, {1, 3, 4, 4}), T(map, {2, 8}), t), Error);
}

TEST_CASE("every method runs on the fast engine (frozen, folded graphs) and agrees with exact") {
  if (!test::have_explain_fixtures()) return;
  const std::string dir = test::explain_fixture_dir();
  auto exact = load("small");
  model::Model::Options o;
  o.path = dir + "/small.pt";
  o.device = "cpu";
  o.optimization = model::GraphOptimization::Fast;
  auto fast = model::Model::load(o);
  auto x = npy_tensor(dir + "/small_x.npy");
  for (const auto& name : method_names()) {
    CAPTURE(name);
    Request req;
    req.method = parse_method(name);
    req.layer = "act3";  // feeds GAP + linear: every method, plain CAM included, works here
    Result a = explain::explain(*exact, x, req), b = explain::explain(*fast, x, req);
    CHECK(b.target == a.target);
    CHECK(torch::isfinite(b.map).all().item<bool>());
    const double scale = std::max(1e-3, a.raw.abs().max().item<double>());
    // FEM's threshold is a strict comparison: rounding may move a unit across it.
    if (req.method != Method::Fem) CHECK(max_diff(a.raw, b.raw) < 1e-3 * scale);
  }
}
