#include "explain/cam_math.h"

#include "util/error.h"

namespace camscope::explain {
namespace {

// Bilinear resize of [N, C, h, w] to [N, C, H, W] with size (not scale) semantics, like
// interpolate(size=...).
torch::Tensor bilinear(const torch::Tensor& x, int64_t H, int64_t W, bool align_corners) {
  return at::upsample_bilinear2d(x, {H, W}, align_corners, c10::nullopt, c10::nullopt);
}

void check_kHW(const torch::Tensor& t, const char* what) {
  if (!t.defined() || t.dim() != 3) throw Error(std::string(what) + " must be a [K, h, w] tensor");
}

void check_same(const torch::Tensor& A, const torch::Tensor& G) {
  check_kHW(A, "activation");
  check_kHW(G, "gradient");
  if (A.sizes() != G.sizes()) throw Error("activation and gradient shapes differ");
}

}  // namespace

torch::Tensor gradcam_weights(const torch::Tensor& G) {
  check_kHW(G, "gradient");
  return G.mean({1, 2});
}

torch::Tensor gradcampp_weights(const torch::Tensor& A, const torch::Tensor& G) {
  check_same(A, G);
  auto g2 = G * G;
  auto g3 = g2 * G;
  auto sum_a = A.sum({1, 2}, /*keepdim=*/true);
  auto alpha = g2 / (2 * g2 + sum_a * g3 + 1e-6);
  // Where G == 0 the formula gives 0/1e-6 = 0 anyway, but pytorch-grad-cam masks explicitly and
  // so do we, so that a G of exactly 0 with a huge sum_a can never produce NaN/inf.
  alpha = torch::where(G != 0, alpha, torch::zeros_like(alpha));
  return (torch::relu(G) * alpha).sum({1, 2});
}

torch::Tensor xgradcam_weights(const torch::Tensor& A, const torch::Tensor& G) {
  check_same(A, G);
  auto sum_a = A.sum({1, 2}, /*keepdim=*/true);
  return (G * A / (sum_a + 1e-7)).sum({1, 2});
}

torch::Tensor scorecam_weights(const torch::Tensor& masked_target_logits) {
  return torch::softmax(masked_target_logits.flatten(), 0);
}

torch::Tensor weighted_sum(const torch::Tensor& A, const torch::Tensor& w) {
  check_kHW(A, "activation");
  if (w.dim() != 1 || w.size(0) != A.size(0))
    throw Error("channel weights must be [K] with K = " + std::to_string(A.size(0)));
  // [K] x [K, hw] as one matrix product: a single kernel instead of K multiply-adds.
  return w.to(A.dtype()).matmul(A.reshape({A.size(0), -1})).reshape({A.size(1), A.size(2)});
}

torch::Tensor layercam_raw(const torch::Tensor& A, const torch::Tensor& G) {
  check_same(A, G);
  return (torch::relu(G) * A).sum(0);
}

torch::Tensor activation_raw(const torch::Tensor& A) {
  check_kHW(A, "activation");
  return A.mean(0);
}

torch::Tensor orient_like(const torch::Tensor& p, const torch::Tensor& ref) {
  auto pc = p - p.mean();
  auto rc = ref.to(p.dtype()) - ref.to(p.dtype()).mean();
  auto corr = (pc * rc).sum();
  // Stays on the device (no .item()): multiply by +1 or -1.
  auto sign = torch::where(corr < 0, -torch::ones_like(corr), torch::ones_like(corr));
  return p * sign;
}

torch::Tensor eigencam_raw(const torch::Tensor& A) {
  check_kHW(A, "activation");
  const int64_t K = A.size(0), h = A.size(1), w = A.size(2);
  auto X = A.reshape({K, h * w}).t();  // hw x K
  X = X - X.mean(0, /*keepdim=*/true);
  // SVD in double on small matrices is cheap and keeps the leading vector stable when the top
  // two singular values are close.
  auto Xd = X.to(torch::kDouble);
  auto svd = torch::linalg_svd(Xd, /*full_matrices=*/false);
  auto v = std::get<2>(svd)[0];  // first right-singular vector [K]
  auto proj = Xd.matmul(v).to(A.dtype()).reshape({h, w});
  return orient_like(proj, A.sum(0));
}

torch::Tensor scorecam_masks(const torch::Tensor& A, int64_t H, int64_t W) {
  check_kHW(A, "activation");
  auto up = bilinear(A.unsqueeze(0), H, W, /*align_corners=*/true)[0];  // [K, H, W]
  auto mn = up.amin({1, 2}, /*keepdim=*/true);
  auto mx = up.amax({1, 2}, /*keepdim=*/true);
  return ((up - mn) / (mx - mn + 1e-8)).unsqueeze(1);
}

torch::Tensor minmax_normalize(const torch::Tensor& x) {
  auto s = x - x.min();
  return s / (s.max() + 1e-7);
}

torch::Tensor resize_map(const torch::Tensor& map, int64_t H, int64_t W) {
  if (map.dim() != 2) throw Error("resize_map expects a 2-D map");
  if (map.size(0) == H && map.size(1) == W) return map;
  return bilinear(map.unsqueeze(0).unsqueeze(0), H, W, /*align_corners=*/false)[0][0];
}

torch::Tensor postprocess_cam(const torch::Tensor& raw, int64_t H, int64_t W) {
  auto m = minmax_normalize(torch::relu(raw));
  m = resize_map(m, H, W);
  return minmax_normalize(torch::relu(m));
}

torch::Tensor hirescam_raw(const torch::Tensor& A, const torch::Tensor& G) {
  check_same(A, G);
  return (G * A).sum(0);
}

torch::Tensor elementwise_raw(const torch::Tensor& A, const torch::Tensor& G) {
  check_same(A, G);
  return torch::relu(G * A).sum(0);
}

torch::Tensor eigengradcam_raw(const torch::Tensor& A, const torch::Tensor& G) {
  check_same(A, G);
  // eigencam_raw orients against the sum over channels of its input: here sum_k G_k A_k.
  return eigencam_raw(G * A);
}

torch::Tensor fem_weights(const torch::Tensor& A) {
  check_kHW(A, "activation");
  auto mean = A.mean({1, 2}, /*keepdim=*/true);
  auto sd = A.std({1, 2}, /*unbiased=*/false, /*keepdim=*/true);
  return (A > mean + 2 * sd).to(A.dtype()).mean({1, 2});
}

torch::Tensor kpcacam_raw(const torch::Tensor& A) {
  check_kHW(A, "activation");
  const int64_t K = A.size(0), h = A.size(1), w = A.size(2), n = h * w;
  // Double precision: the eigenvector of an [hw, hw] kernel matrix, small enough at CAM layers.
  auto X = A.reshape({K, n}).t().to(torch::kDouble);
  X = X - X.mean(0, /*keepdim=*/true);
  auto Km = torch::tanh(X.matmul(X.t()) / static_cast<double>(K) + 1.0);
  // Double centring (centring the implicit feature vectors): K - 1K - K1 + 1K1.
  auto row = Km.mean(0, /*keepdim=*/true), col = Km.mean(1, /*keepdim=*/true);
  Km = Km - row - col + Km.mean();
  auto eig = torch::linalg_eigh(Km);  // ascending eigenvalues
  auto lambda = std::get<0>(eig)[n - 1];
  auto v = std::get<1>(eig).select(1, n - 1);
  // Sign fixed by the data, as scikit-learn's svd_flip does: the largest |entry| is positive.
  auto big = v[v.abs().argmax()];
  v = torch::where(big < 0, -v, v);
  return (v * torch::sqrt(torch::clamp_min(lambda, 0.0))).to(A.dtype()).reshape({h, w});
}

torch::Tensor ablation_weights(double y, const torch::Tensor& ablated_logits) {
  return (y - ablated_logits.flatten().to(torch::kDouble)) / y;
}

double ablation_value(const torch::Tensor& A) {
  const double mn = A.min().item<double>();
  return mn == 0.0 ? 0.0 : mn - 1e7;
}

torch::Tensor shapleycam_weights(const torch::Tensor& G, const torch::Tensor& hvp) {
  check_kHW(G, "gradient");
  if (!hvp.defined()) return G.mean({1, 2});
  if (hvp.sizes() != G.sizes()) throw Error("Hessian-vector product and gradient shapes differ");
  return (G - 0.5 * hvp).mean({1, 2});
}

torch::Tensor smoothgradcampp_weights(const torch::Tensor& A, const torch::Tensor& Gs) {
  check_kHW(A, "activation");
  if (Gs.dim() != 4 || Gs.sizes().slice(1) != A.sizes())
    throw Error("SmoothGrad-CAM++ gradients must be [N, K, h, w] matching the activation");
  auto g2 = (Gs * Gs).mean(0);
  auto g3 = (Gs * Gs * Gs).mean(0);
  auto alpha = g2 / (2 * g2 + (g3 * A).sum({1, 2}, /*keepdim=*/true) + 1e-8);
  return (alpha * torch::relu(Gs).mean(0)).sum({1, 2});
}

}  // namespace camscope::explain
