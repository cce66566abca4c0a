// The explain/ maths without a model: CAM weights, post-processing, Eigen-CAM, Score-CAM masks,
// channel grids, statistics, quadrature, rank correlation and colormaps, each checked against
// values worked out independently here (plain loops over doubles, not the same tensor ops).
#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "explain/cam_math.h"
#include "explain/channels.h"
#include "explain/explain.h"
#include "explain/host_stats.h"
#include "explain/metrics.h"
#include "explain/overlay.h"
#include "explain/pixel_math.h"
#include "explain/sanity.h"
#include "render/colormap.h"
#include "test_support.h"
#include "util/error.h"

using namespace camscope;
using namespace camscope::explain;

namespace {

// Deterministic pseudo-random doubles in [-1, 1] (no torch generator involved).
std::vector<double> pseudo(size_t n, uint32_t seed) {
  std::vector<double> v(n);
  uint32_t s = seed * 2654435761u + 12345u;
  for (auto& x : v) {
    s = s * 1664525u + 1013904223u;
    x = (s >> 8) / double(1 << 24) * 2.0 - 1.0;
  }
  return v;
}

torch::Tensor to_tensor(const std::vector<double>& v, std::vector<int64_t> shape) {
  return torch::tensor(v, torch::kDouble).reshape(shape).to(torch::kFloat);
}

double at3(const std::vector<double>& v, int k, int i, int j, int h, int w) {
  return v[(k * h + i) * w + j];
}

// Reference bilinear resize with align_corners = false (OpenCV INTER_LINEAR for upscaling).
std::vector<double> ref_resize(const std::vector<double>& src, int h, int w, int H, int W,
                               bool align_corners = false) {
  std::vector<double> out(H * W);
  for (int y = 0; y < H; ++y)
    for (int x = 0; x < W; ++x) {
      double sy, sx;
      if (align_corners) {
        sy = H > 1 ? y * double(h - 1) / (H - 1) : 0;
        sx = W > 1 ? x * double(w - 1) / (W - 1) : 0;
      } else {
        sy = std::max(0.0, (y + 0.5) * h / H - 0.5);
        sx = std::max(0.0, (x + 0.5) * w / W - 0.5);
      }
      int y0 = std::min(int(sy), h - 1), x0 = std::min(int(sx), w - 1);
      int y1 = std::min(y0 + 1, h - 1), x1 = std::min(x0 + 1, w - 1);
      double fy = sy - y0, fx = sx - x0;
      out[y * W + x] = (1 - fy) * ((1 - fx) * src[y0 * w + x0] + fx * src[y0 * w + x1]) +
                       fy * ((1 - fx) * src[y1 * w + x0] + fx * src[y1 * w + x1]);
    }
  return out;
}

std::vector<double> ref_minmax(std::vector<double> v) {
  double mn = *std::min_element(v.begin(), v.end());
  for (auto& x : v) x -= mn;
  double mx = *std::max_element(v.begin(), v.end());
  for (auto& x : v) x /= (mx + 1e-7);
  return v;
}

void check_close(const torch::Tensor& t, const std::vector<double>& ref, double tol) {
  auto c = t.detach().to(torch::kCPU, torch::kDouble).contiguous().flatten();
  REQUIRE(c.numel() == static_cast<int64_t>(ref.size()));
  auto a = c.accessor<double, 1>();
  double worst = 0;
  for (size_t i = 0; i < ref.size(); ++i) worst = std::max(worst, std::abs(a[i] - ref[i]));
  CHECK_MESSAGE(worst <= tol, "max abs diff " << worst);
}

constexpr int K = 4, h = 3, w = 5;

}  // namespace

TEST_CASE("Grad-CAM, Grad-CAM++, XGrad-CAM and LayerCAM match the formulas computed by hand") {
  auto a = pseudo(K * h * w, 1), g = pseudo(K * h * w, 2);
  for (auto& x : a) x = std::abs(x) * 3;  // activations after a ReLU
  g[5] = 0.0;                             // a zero gradient exercises Grad-CAM++'s mask
  auto A = to_tensor(a, {K, h, w}), G = to_tensor(g, {K, h, w});

  std::vector<double> wg(K), wpp(K), wx(K), layer(h * w, 0.0);
  for (int k = 0; k < K; ++k) {
    double sum_a = 0, sum_g = 0, pp = 0, xg = 0;
    for (int i = 0; i < h; ++i)
      for (int j = 0; j < w; ++j) sum_a += at3(a, k, i, j, h, w), sum_g += at3(g, k, i, j, h, w);
    for (int i = 0; i < h; ++i)
      for (int j = 0; j < w; ++j) {
        double gg = at3(g, k, i, j, h, w), aa = at3(a, k, i, j, h, w);
        double alpha = gg == 0 ? 0 : gg * gg / (2 * gg * gg + sum_a * gg * gg * gg + 1e-6);
        pp += std::max(gg, 0.0) * alpha;
        xg += gg * aa / (sum_a + 1e-7);
        layer[i * w + j] += std::max(gg, 0.0) * aa;
      }
    wg[k] = sum_g / (h * w);
    wpp[k] = pp;
    wx[k] = xg;
  }
  check_close(gradcam_weights(G), wg, 1e-6);
  check_close(gradcampp_weights(A, G), wpp, 1e-5);
  check_close(xgradcam_weights(A, G), wx, 1e-6);
  check_close(layercam_raw(A, G), layer, 1e-5);

  std::vector<double> cam(h * w, 0.0);
  for (int k = 0; k < K; ++k)
    for (int p = 0; p < h * w; ++p) cam[p] += wg[k] * a[k * h * w + p];
  check_close(weighted_sum(A, gradcam_weights(G)), cam, 1e-5);

  std::vector<double> mean(h * w, 0.0);
  for (int k = 0; k < K; ++k)
    for (int p = 0; p < h * w; ++p) mean[p] += a[k * h * w + p] / K;
  check_close(activation_raw(A), mean, 1e-6);

  CHECK_THROWS_AS(gradcam_weights(G[0]), Error);
  CHECK_THROWS_AS(layercam_raw(A, G.narrow(0, 0, 2)), Error);
}

TEST_CASE("CAM post-processing: ReLU, min-max, bilinear (align_corners=false), ReLU, min-max") {
  std::vector<double> raw = {-2.0, 1.0, 3.0, 0.5, -1.0, 2.0};  // 2 x 3
  const int H = 7, W = 11;
  std::vector<double> r = raw;
  for (auto& x : r) x = std::max(x, 0.0);
  r = ref_minmax(r);
  auto up = ref_resize(r, 2, 3, H, W);
  for (auto& x : up) x = std::max(x, 0.0);
  up = ref_minmax(up);
  auto out = postprocess_cam(to_tensor(raw, {2, 3}), H, W);
  CHECK(out.sizes() == torch::IntArrayRef({H, W}));
  check_close(out, up, 1e-6);
  CHECK(out.min().item<float>() >= 0.0f);
  CHECK(out.max().item<float>() <= 1.0f);
  CHECK(out.max().item<float>() > 0.999f);

  // The epsilon convention: a constant map becomes 0, not NaN.
  auto flat = postprocess_cam(torch::full({3, 3}, 2.5f), 6, 6);
  CHECK(flat.abs().max().item<float>() == 0.0f);
  // minmax divides by (max + 1e-7) of the shifted map.
  check_close(minmax_normalize(torch::tensor({1.0f, 2.0f, 3.0f})),
              {0.0, 1.0 / (2 + 1e-7), 2.0 / (2 + 1e-7)}, 1e-7);
}

TEST_CASE("Score-CAM masks and weights") {
  auto a = pseudo(K * 2 * 3, 3);
  auto A = to_tensor(a, {K, 2, 3});
  const int H = 5, W = 8;
  auto masks = scorecam_masks(A, H, W);
  REQUIRE(masks.sizes() == torch::IntArrayRef({K, 1, H, W}));
  std::vector<double> ref;
  for (int k = 0; k < K; ++k) {
    std::vector<double> ch(a.begin() + k * 6, a.begin() + (k + 1) * 6);
    auto up = ref_resize(ch, 2, 3, H, W, /*align_corners=*/true);
    double mn = *std::min_element(up.begin(), up.end()),
           mx = *std::max_element(up.begin(), up.end());
    for (auto& x : up) ref.push_back((x - mn) / (mx - mn + 1e-8));
  }
  check_close(masks, ref, 1e-6);

  auto wts = scorecam_weights(torch::tensor({1.0f, 2.0f, 3.0f}));
  double z = std::exp(1.0) + std::exp(2.0) + std::exp(3.0);
  check_close(wts, {std::exp(1.0) / z, std::exp(2.0) / z, std::exp(3.0) / z}, 1e-6);
}

TEST_CASE("Eigen-CAM recovers the dominant spatial pattern with a data-fixed sign") {
  // Rank-one activations A_k = c_k * P + o_k: the first principal component is P - mean(P).
  const int hh = 4, ww = 6, KK = 5;
  auto P = pseudo(hh * ww, 7);
  std::vector<double> c = {1.0, 0.5, -0.3, 2.0, 0.8}, o = {0.1, -2.0, 3.0, 0.0, 1.0};
  std::vector<double> a(KK * hh * ww);
  for (int k = 0; k < KK; ++k)
    for (int p = 0; p < hh * ww; ++p) a[k * hh * ww + p] = c[k] * P[p] + o[k];
  auto A = to_tensor(a, {KK, hh, ww});
  auto e = eigencam_raw(A).to(torch::kDouble).flatten();
  double pm = 0;
  for (double x : P) pm += x / P.size();
  auto Pc = torch::tensor(P, torch::kDouble) - pm;
  // e = s * Pc with s > 0 (sum_k c_k > 0, so the positive orientation is +Pc).
  double s = (e * Pc).sum().item<double>() / (Pc * Pc).sum().item<double>();
  CHECK(s > 0);
  CHECK((e - s * Pc).abs().max().item<double>() <
        1e-4 * std::abs(s) * Pc.abs().max().item<double>());

  // Per-channel offsets and flipping the sign of a channel change nothing.
  auto A2 = A.clone();
  A2[2] = -A2[2] + 5.0;
  auto e2 = eigencam_raw(A2).to(torch::kDouble).flatten();
  CHECK((e2 - e).abs().max().item<double>() < 1e-4 * e.abs().max().item<double>());

  // Whichever sign the SVD hands back, the orientation is fixed by the data.
  auto ref = A.sum(0);
  auto p = e.to(torch::kFloat).reshape({hh, ww});
  CHECK(torch::equal(orient_like(p, ref), orient_like(-p, ref)));
  CHECK(torch::equal(orient_like(p, ref), p));
  CHECK(torch::equal(orient_like(p, -ref), -p));
}

TEST_CASE("pixel maps and Gauss-Legendre quadrature") {
  auto attr = to_tensor({1, -2, 0, 3, -1, 1, 2, 0}, {2, 2, 2});
  // sum_c |attr|: [1+1, 2+1, 0+2, 3+0] = [2, 3, 2, 3] -> min-max [0, 1, 0, 1]
  check_close(pixel_map(attr), {0, 1 / (1 + 1e-7), 0, 1 / (1 + 1e-7)}, 1e-7);

  for (int n : {1, 2, 5, 50}) {
    Quadrature q = gauss_legendre(n);
    REQUIRE(q.alphas.size() == size_t(n));
    double sw = 0;
    for (int i = 0; i < n; ++i) {
      sw += q.weights[i];
      CHECK(q.alphas[i] > 0);
      CHECK(q.alphas[i] < 1);
      if (i) CHECK(q.alphas[i] > q.alphas[i - 1]);  // ascending, like numpy.leggauss
    }
    CHECK(sw == doctest::Approx(1.0).epsilon(1e-12));
    // Exact for polynomials of degree < 2n on [0, 1]: integral of x^d is 1 / (d + 1).
    for (int d = 0; d < 2 * n; d += std::max(1, n / 3)) {
      double s = 0;
      for (int i = 0; i < n; ++i) s += q.weights[i] * std::pow(q.alphas[i], d);
      CHECK(s == doctest::Approx(1.0 / (d + 1)).epsilon(1e-10));
    }
  }
  Quadrature two = gauss_legendre(2);  // nodes (1 -+ 1/sqrt(3)) / 2, weights 1/2
  CHECK(two.alphas[0] == doctest::Approx(0.5 - 0.5 / std::sqrt(3.0)).epsilon(1e-14));
  CHECK(two.weights[1] == doctest::Approx(0.5).epsilon(1e-14));
  CHECK_THROWS_AS(gauss_legendre(0), Error);
  CHECK(smoothgrad_stddev(torch::tensor({-1.0f, 3.0f}), 0.15) == doctest::Approx(0.6));
}

TEST_CASE("Gauss-Legendre nodes and weights equal numpy.polynomial.legendre.leggauss") {
  auto r = test::run(test::python() +
                     " -c \"import numpy as np; x,w=np.polynomial.legendre.leggauss(50); "
                     "print(' '.join(repr(float(v)) for v in list((1+x)/2)+list(w/2)))\"");
  if (r.status != 0) {
    MESSAGE("SKIPPED: numpy not available: " << r.output);
    return;
  }
  std::istringstream in(r.output);
  std::vector<double> ref;
  double v;
  while (in >> v) ref.push_back(v);
  REQUIRE(ref.size() == 100);
  Quadrature q = gauss_legendre(50);
  for (int i = 0; i < 50; ++i) {
    CHECK(q.alphas[i] == doctest::Approx(ref[i]).epsilon(1e-12));
    CHECK(q.weights[i] == doctest::Approx(ref[50 + i]).epsilon(1e-10));
  }
}

TEST_CASE("channel grid follows the shared GridLayout convention") {
  const int64_t KK = 5, th = 2, tw = 3, b = 1;
  auto A = torch::arange(KK * th * tw, torch::kFloat).reshape({KK, th, tw}) + 1.0;
  auto grid = make_grid(A, 0, b, -1.0);
  // cols = ceil(sqrt(5)) = 3, rows = 2: W = 1 + 3 * 4 = 13, H = 1 + 2 * 3 = 7
  REQUIRE(grid.sizes() == torch::IntArrayRef({7, 13}));
  auto g = grid.accessor<float, 2>();
  for (int64_t y = 0; y < 7; ++y)
    for (int64_t x = 0; x < 13; ++x) {
      double expect = -1.0;
      for (int64_t i = 0; i < KK; ++i) {
        int64_t tx = b + (i % 3) * (tw + b), ty = b + (i / 3) * (th + b);
        if (x >= tx && x < tx + tw && y >= ty && y < ty + th)
          expect = 1.0 + i * th * tw + (y - ty) * tw + (x - tx);
      }
      CHECK_MESSAGE(g[y][x] == expect, "pixel " << x << "," << y);
    }
  GridLayout L = grid_layout(KK, th, tw, 0, b);
  CHECK(L.cols == 3);
  CHECK(L.rows == 2);
  CHECK(L.tile_at(1, 1) == 0);
  CHECK(L.tile_at(5, 2) == 1);
  CHECK(L.tile_at(4, 1) == -1);  // border column
  CHECK(L.tile_at(5, 5) == 4);
  CHECK(L.tile_at(9, 4) == -1);  // the unused sixth tile
  CHECK(grid_layout(16, 1, 1).cols == 4);
  CHECK(grid_layout(17, 1, 1).cols == 5);
  CHECK(grid_layout(1, 1, 1).cols == 1);
  auto two_cols = make_grid(A, 2, 0);
  CHECK(two_cols.sizes() == torch::IntArrayRef({3 * th, 2 * tw}));  // rows = ceil(5 / 2)

  // [K, C, h, w] (RGB filters) -> [C, H, W]
  auto rgb = make_grid(torch::ones({4, 3, 2, 2}), 0, 1, 0.0);
  CHECK(rgb.sizes() == torch::IntArrayRef({3, 7, 7}));
  CHECK(rgb.sum().item<float>() == 4 * 3 * 4);
}

TEST_CASE("per-channel normalization, ranking and statistics") {
  auto A = torch::tensor({0.f, 2.f, 4.f, 6.f, /**/ -1.f, -1.f, -1.f, -1.f, /**/ 5.f, 1.f, 3.f, 1.f})
               .reshape({3, 2, 2});
  auto N = normalize_channels(A);
  check_close(N, {0, 1 / 3.0, 2 / 3.0, 1, 0, 0, 0, 0, 1, 0, 0.5, 0}, 1e-6);
  auto means = channel_mean(A);
  check_close(means, {3, -1, 2.5}, 1e-6);
  CHECK(top_k(means, 2) == std::vector<int64_t>{0, 2});
  CHECK(top_k(means, 10) == std::vector<int64_t>{0, 2, 1});

  Stats s = tensor_stats(A, 4);
  CHECK(s.mean == doctest::Approx(4.5 / 3));
  CHECK(s.min == -1.0);
  CHECK(s.max == 6.0);
  double var = 0;
  for (float v : {0.f, 2.f, 4.f, 6.f, -1.f, -1.f, -1.f, -1.f, 5.f, 1.f, 3.f, 1.f})
    var += (v - 1.5) * (v - 1.5) / 12;
  CHECK(s.std == doctest::Approx(std::sqrt(var)).epsilon(1e-5));
  CHECK(s.dead_fraction == doctest::Approx(1.0 / 3));  // channel 1 is <= 0 everywhere
  REQUIRE(s.histogram.size() == 4);
  // bins over [-1, 6] of width 1.75: [-1,0.75) 5, [0.75,2.5) 3, [2.5,4.25) 2, [4.25,6] 2
  CHECK(s.histogram == std::vector<int64_t>{5, 3, 2, 2});
  Stats gs = tensor_stats(torch::tensor({0.f, 0.f, 1.f, -1.f}).reshape({2, 2}), 2, true);
  CHECK(gs.dead_fraction == doctest::Approx(0.5));
}

TEST_CASE("host channel statistics agree with the LibTorch functions they stand in for") {
  // The viewer's CPU grid stage (explain/host_stats.h) against normalize_channels,
  // channel_mean and tensor_stats, on shapes like a real layer's and on awkward values.
  torch::manual_seed(5);
  std::vector<torch::Tensor> cases;
  cases.push_back(torch::randn({64, 7, 7}));                     // resnet18 layer4-like
  cases.push_back(torch::relu(torch::randn({32, 14, 14}) * 3));  // many exact zeros
  cases.push_back(torch::randint(-3, 4, {16, 5, 5}).to(torch::kFloat));  // values on bin edges
  torch::Tensor constant = torch::randn({8, 3, 3});
  constant[2].fill_(1.5f);  // a constant channel normalizes to 0
  constant[5].fill_(-2.f);  // and a dead one
  cases.push_back(constant);
  cases.push_back(torch::full({4, 2, 2}, 0.25f));  // a constant tensor: histogram range +1
  for (const torch::Tensor& A : cases) {
    CAPTURE(A.sizes());
    const int64_t K = A.size(0), hw = A.numel() / K;
    std::vector<float> mean(static_cast<size_t>(K)), norm(static_cast<size_t>(A.numel()));
    REQUIRE(channel_summary_host(A.data_ptr<float>(), K, hw, mean.data(), norm.data()));
    const torch::Tensor ref_norm = normalize_channels(A).contiguous();
    // Same float arithmetic: equal, not merely close.
    CHECK(std::equal(norm.begin(), norm.end(), ref_norm.data_ptr<float>()));
    const torch::Tensor ref_mean = channel_mean(A);
    for (int64_t k = 0; k < K; ++k)
      CHECK(mean[static_cast<size_t>(k)] == doctest::Approx(ref_mean[k].item<float>()).epsilon(1e-6));
    for (int bins : {1, 4, 48}) {
      for (bool gradient : {false, true}) {
        HostStats h;
        REQUIRE(tensor_stats_host(A.data_ptr<float>(), K, hw, bins, gradient, h));
        const Stats t = tensor_stats(A, bins, gradient);
        CHECK(h.histogram == t.histogram);
        CHECK(h.min == t.min);
        CHECK(h.max == t.max);
        CHECK(h.lo == t.lo);
        CHECK(h.hi == t.hi);
        CHECK(h.mean == doctest::Approx(t.mean).epsilon(1e-5));
        CHECK(h.std == doctest::Approx(t.std).epsilon(1e-5));
        CHECK(h.dead_fraction == t.dead_fraction);
      }
    }
  }
  // A value that is not finite: refused, so the caller takes the LibTorch path.
  std::vector<float> bad = {1.f, NAN, 2.f, 3.f};
  std::vector<float> m(2), n(4);
  CHECK_FALSE(channel_summary_host(bad.data(), 2, 2, m.data(), n.data()));
  HostStats h;
  CHECK_FALSE(tensor_stats_host(bad.data(), 2, 2, 8, false, h));
  bad[1] = INFINITY;
  CHECK_FALSE(tensor_stats_host(bad.data(), 2, 2, 8, false, h));
}

TEST_CASE("top classes: softmax probabilities, largest first, ties by index, NaN last") {
  const torch::Tensor l = torch::tensor({1.f, 3.f, 3.f, NAN, -2.f, 0.5f});
  const auto top = top_classes(l, 4);
  REQUIRE(top.size() == 4);
  CHECK(top[0].first == 1);
  CHECK(top[1].first == 2);
  CHECK(top[2].first == 0);
  CHECK(top[3].first == 5);
  const torch::Tensor clean = torch::tensor({1.f, 3.f, 3.f, -2.f, 0.5f});
  const auto p = torch::softmax(clean.to(torch::kDouble), 0);
  const auto tc = top_classes(clean, 5);
  REQUIRE(tc.size() == 5);
  CHECK(tc[0].second == doctest::Approx(p[1].item<double>()).epsilon(1e-12));
  CHECK(tc[2].second == doctest::Approx(p[0].item<double>()).epsilon(1e-12));
  CHECK(tc[4].first == 3);
  CHECK(tc[4].second == doctest::Approx(p[3].item<double>()).epsilon(1e-12));
  CHECK(top_classes(clean, 0).empty());
}

TEST_CASE("Spearman rank correlation with ties") {
  auto a = torch::tensor({1.f, 2.f, 3.f, 4.f, 5.f});
  CHECK(spearman(a, a * 10 + 3) == doctest::Approx(1.0));
  CHECK(spearman(a, -a) == doctest::Approx(-1.0));
  // No ties: 1 - 6 sum d^2 / (n (n^2 - 1)); ranks of b = [2, 1, 4, 3, 5], d^2 sum = 4
  CHECK(spearman(a, torch::tensor({20.f, 10.f, 40.f, 30.f, 50.f})) ==
        doctest::Approx(1.0 - 6.0 * 4 / (5 * 24)));
  // Ties get averaged ranks: b ranks = [1.5, 1.5, 3, 4, 5]; Pearson of the rank vectors.
  std::vector<double> ra = {1, 2, 3, 4, 5}, rb = {1.5, 1.5, 3, 4, 5};
  double ma = 3, mb = 3, sab = 0, saa = 0, sbb = 0;
  for (int i = 0; i < 5; ++i)
    sab += (ra[i] - ma) * (rb[i] - mb), saa += (ra[i] - ma) * (ra[i] - ma),
        sbb += (rb[i] - mb) * (rb[i] - mb);
  CHECK(spearman(a, torch::tensor({7.f, 7.f, 8.f, 9.f, 10.f})) ==
        doctest::Approx(sab / std::sqrt(saa * sbb)));
  CHECK(spearman(a, torch::ones({5})) == 0.0);
}

TEST_CASE("method names and top classes") {
  for (const auto& n : method_names()) CHECK(std::string(method_name(parse_method(n))) == n);
  CHECK(method_names().size() == 24);
  CHECK(method_names()[14] == "hirescam");  // round 2 after the first 14, UI order kept
  try {
    parse_method("gradcan");
    FAIL("no throw");
  } catch (const Error& e) {
    CHECK(std::string(e.what()).find("did you mean gradcam?") != std::string::npos);
  }
  CHECK(is_cam_family(Method::ScoreCam));
  CHECK(!is_cam_family(Method::GuidedGradCam));
  CHECK(needs_layer(Method::GuidedGradCam));
  CHECK(is_pixel_space(Method::IntGrad));
  CHECK(top_classes(torch::tensor({0.0f, 2.0f, 1.0f}), 5).size() == 3);
  auto top = top_classes(torch::tensor({0.0f, 2.0f, 1.0f}), 2);
  CHECK(top[0].first == 1);
  CHECK(top[1].first == 2);
  double z = 1 + std::exp(2.0) + std::exp(1.0);
  CHECK(top[0].second == doctest::Approx(std::exp(2.0) / z));
}

TEST_CASE("overlays use render's colormap tables the way the shader samples them") {
  const render::Lut jet = render::colormap_lut(render::Colormap::Jet);
  const render::Lut gray = render::colormap_lut(render::Colormap::Gray);
  // Values between LUT entries interpolate: 0.3 sits at 76.5, between entries 76 and 77.
  auto vals = torch::tensor({0.0f, 0.3f, 0.5f, 1.0f}).reshape({1, 4});
  auto c = apply_lut(vals, jet.data()).to(torch::kInt);
  for (int k = 0; k < 4; ++k) {
    float v = vals[0][k].item<float>();
    auto ref = render::colormap_apply(jet, v, render::ValueRange{});
    for (int ch = 0; ch < 3; ++ch)
      CHECK(std::abs(c[0][k][ch].item<int>() - std::lround(ref[ch])) <= 0);
  }
  CHECK(c[0][0][2].item<int>() > 100);  // jet starts blue
  CHECK(c[0][3][0].item<int>() > 100);  // and ends red

  // Overlay: alpha 0 gives the frame, alpha 1 the colormapped map resized to the frame.
  auto frame = torch::randint(0, 256, {6, 9, 3}, torch::kUInt8);
  auto map = torch::rand({3, 3});
  CHECK(torch::equal(overlay(frame, map, jet.data(), 0.0), frame));
  auto full = overlay(frame, map, gray.data(), 1.0).to(torch::kInt);
  auto up = resize_map(map, 6, 9);
  auto expect = (up * 255).round().to(torch::kInt);
  CHECK((full.select(2, 0) - expect).abs().max().item<int>() <= 1);
  auto half = overlay(frame, torch::zeros({2, 2}), gray.data(), 0.5).to(torch::kInt);
  CHECK((half - (frame.to(torch::kFloat) * 0.5).round().to(torch::kInt)).abs().max().item<int>() ==
        0);
  CHECK_THROWS_AS(overlay(frame, map, jet.data(), 1.5), Error);
}

TEST_CASE("round-2 CAM maths match the formulas computed by hand") {
  auto a = pseudo(K * h * w, 11), g = pseudo(K * h * w, 12);
  for (auto& x : a) x = std::abs(x) * 2;
  auto A = to_tensor(a, {K, h, w}), G = to_tensor(g, {K, h, w});
  const int n = h * w;
  std::vector<double> hires(n, 0.0), elem(n, 0.0), fem(K), shap(K), hv = pseudo(K * n, 13);
  for (int k = 0; k < K; ++k) {
    double mean = 0, var = 0, sg = 0;
    for (int p = 0; p < n; ++p) mean += a[k * n + p] / n;
    for (int p = 0; p < n; ++p) var += (a[k * n + p] - mean) * (a[k * n + p] - mean) / n;
    int above = 0;
    for (int p = 0; p < n; ++p) {
      hires[p] += g[k * n + p] * a[k * n + p];
      elem[p] += std::max(g[k * n + p] * a[k * n + p], 0.0);
      above += a[k * n + p] > mean + 2 * std::sqrt(var);
      sg += (g[k * n + p] - 0.5 * hv[k * n + p]) / n;
    }
    fem[k] = double(above) / n;
    shap[k] = sg;
  }
  check_close(hirescam_raw(A, G), hires, 1e-5);
  check_close(elementwise_raw(A, G), elem, 1e-5);
  check_close(fem_weights(A), fem, 0);
  check_close(shapleycam_weights(G, to_tensor(hv, {K, h, w})), shap, 1e-6);
  check_close(shapleycam_weights(G, torch::Tensor()), [&] {
    std::vector<double> m(K, 0.0);
    for (int k = 0; k < K; ++k)
      for (int p = 0; p < n; ++p) m[k] += g[k * n + p] / n;
    return m;
  }(), 1e-6);
  // A channel with one spike: FEM marks just it (mean + 2 std is below a lone spike of 15 zeros).
  auto spike = torch::zeros({1, 4, 4});
  spike[0][1][2] = 5.0f;
  CHECK(fem_weights(spike).item<float>() == doctest::Approx(1.0 / 16));
  CHECK(ablation_value(torch::tensor({0.0f, 2.0f})) == 0.0);
  CHECK(ablation_value(torch::tensor({-1.5f, 2.0f})) == doctest::Approx(-1.5 - 1e7));
  check_close(ablation_weights(2.0, torch::tensor({1.0f, 3.0f})), {0.5, -0.5}, 1e-12);

  // SmoothGrad-CAM++ with two samples by hand.
  auto g2nd = pseudo(K * n, 14);
  auto Gs = torch::stack({G, to_tensor(g2nd, {K, h, w})});
  std::vector<double> sgpp(K, 0.0);
  for (int k = 0; k < K; ++k) {
    double s3a = 0;
    for (int p = 0; p < n; ++p) {
      double g1 = g[k * n + p], g2 = g2nd[k * n + p];
      s3a += (g1 * g1 * g1 + g2 * g2 * g2) / 2 * a[k * n + p];
    }
    for (int p = 0; p < n; ++p) {
      double g1 = g[k * n + p], g2 = g2nd[k * n + p];
      double m2 = (g1 * g1 + g2 * g2) / 2;
      sgpp[k] += m2 / (2 * m2 + s3a + 1e-8) * (std::max(g1, 0.0) + std::max(g2, 0.0)) / 2;
    }
  }
  check_close(smoothgradcampp_weights(A, Gs), sgpp, 1e-4);
  CHECK_THROWS_AS(smoothgradcampp_weights(A, G), Error);

  // Eigen-Grad-CAM is Eigen-CAM of G (.) A.
  CHECK(torch::equal(eigengradcam_raw(A, G), eigencam_raw(G * A)));
  // Kernel PCA: the sign convention (largest |entry| positive) and invariance to channel offsets.
  auto kp = kpcacam_raw(A).flatten();
  auto big = kp[kp.abs().argmax()].item<float>();
  CHECK(big > 0);
  CHECK((kpcacam_raw(A + 3.0) - kpcacam_raw(A)).abs().max().item<float>() < 1e-5);
}

TEST_CASE("faithfulness helpers: saliency order, trapezoid AUC, stability") {
  CHECK(saliency_order(torch::tensor({0.2f, 0.9f, 0.2f, 0.5f}).reshape({2, 2})) ==
        std::vector<int64_t>{1, 3, 0, 2});
  CHECK(trapezoid_auc({1.0, 0.0}) == doctest::Approx(0.5));
  CHECK(trapezoid_auc({1.0, 1.0, 1.0}) == doctest::Approx(1.0));
  CHECK(trapezoid_auc({0.0, 1.0, 0.0, 1.0, 0.0}) == doctest::Approx(0.5));
  auto m = torch::tensor({1.0f, 2.0f, 3.0f, 4.0f}).reshape({2, 2});
  CHECK(stability(m, m) == doctest::Approx(1.0));
  CHECK(stability(m, -m) == doctest::Approx(-1.0));
  // d = (0, 1, -1, 0): 1 - 6 * 2 / (4 * 15) = 0.8.
  CHECK(stability(m, torch::tensor({1.0f, 3.0f, 2.0f, 4.0f}).reshape({2, 2})) ==
        doctest::Approx(0.8));
  // Deletion inputs: 4 pixels, 2 steps -> 2 pixels per step.
  auto x = torch::ones({1, 1, 2, 2});
  auto del = deletion_inputs(x, m, 2, false), ins = deletion_inputs(x, m, 2, true);
  REQUIRE(del.sizes() == torch::IntArrayRef({3, 1, 2, 2}));
  check_close(del, {1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0}, 0);
  check_close(ins, {0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1}, 0);
}
