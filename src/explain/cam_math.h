#pragma once
// The CAM family as pure functions of one image's activation A [K, h, w] and gradient
// G = d score / d A [K, h, w] (DESIGN.md "Numerical conventions"; pytorch-grad-cam's formulas).
// Every function runs on the tensors' device and dtype; nothing here needs a model.
#include <torch/script.h>

#include <cstdint>

namespace camscope::explain {

// Channel weights [K].
torch::Tensor gradcam_weights(const torch::Tensor& G);  // mean_ij G
torch::Tensor gradcampp_weights(const torch::Tensor& A, const torch::Tensor& G);
torch::Tensor xgradcam_weights(const torch::Tensor& A, const torch::Tensor& G);
// Score-CAM: softmax over channels of the target logit of (input x mask_k).
torch::Tensor scorecam_weights(const torch::Tensor& masked_target_logits);

// Raw maps [h, w] (before ReLU and normalization).
torch::Tensor weighted_sum(const torch::Tensor& A, const torch::Tensor& w);  // sum_k w_k A_k
torch::Tensor layercam_raw(const torch::Tensor& A, const torch::Tensor& G);  // sum_k relu(G_k) A_k
torch::Tensor activation_raw(const torch::Tensor& A);                        // mean_k A_k
// First principal component of the mean-centred (hw x K) activations, projected, oriented so
// it correlates positively with sum_k A_k.
torch::Tensor eigencam_raw(const torch::Tensor& A);
// Returns p or -p, whichever has a non-negative correlation with ref (same shape). This is what
// makes Eigen-CAM independent of the arbitrary sign an SVD gives its singular vectors.
torch::Tensor orient_like(const torch::Tensor& p, const torch::Tensor& ref);

// Round-2 methods (DESIGN.md "Round-2 CAM methods").
torch::Tensor hirescam_raw(const torch::Tensor& A, const torch::Tensor& G);  // sum_k G_k A_k
torch::Tensor elementwise_raw(const torch::Tensor& A, const torch::Tensor& G);  // sum_k relu(G_k A_k)
// eigencam_raw of G (.) A: oriented to correlate positively with sum_k G_k A_k.
torch::Tensor eigengradcam_raw(const torch::Tensor& A, const torch::Tensor& G);
// Fraction of positions where A_k > mean(A_k) + 2 std(A_k) (population std, strict).
torch::Tensor fem_weights(const torch::Tensor& A);
// Kernel PCA (sigmoid kernel tanh(<x_i, x_j> / K + 1), double-centred) of the channel-centred
// [hw, K] activations: leading eigenvector * sqrt(eigenvalue), largest-magnitude entry positive.
torch::Tensor kpcacam_raw(const torch::Tensor& A);
// Ablation-CAM: (y - y_k) / y from the clean target logit y and the ablated ones [K].
torch::Tensor ablation_weights(double y, const torch::Tensor& ablated_logits);
// The value an ablated channel is set to: 0 when min(A) == 0 (after a ReLU), else min(A) - 1e7.
double ablation_value(const torch::Tensor& A);
// Shapley-CAM: mean_ij (G - H.A / 2), hvp = the Hessian-vector product (undefined = 0).
torch::Tensor shapleycam_weights(const torch::Tensor& G, const torch::Tensor& hvp);
// SmoothGrad-CAM++ from the clean A and the noisy samples' gradients Gs [N, K, h, w]:
// alpha = g2 / (2 g2 + sum_ij g3 A + 1e-8); w_k = sum_ij alpha mean_m relu(G).
torch::Tensor smoothgradcampp_weights(const torch::Tensor& A, const torch::Tensor& Gs);

// Score-CAM masks: each A_k upsampled to [H, W] (bilinear, align_corners = true) and scaled to
// [0, 1] by (x - min) / (max - min + 1e-8). Returns [K, 1, H, W].
torch::Tensor scorecam_masks(const torch::Tensor& A, int64_t H, int64_t W);

// pytorch-grad-cam's scale: x - min, then / (max + 1e-7) (max of the shifted map).
torch::Tensor minmax_normalize(const torch::Tensor& x);
// Full CAM post-processing of a raw [h, w] map to [H, W] in [0, 1]: ReLU -> minmax ->
// bilinear upsample (align_corners = false) -> ReLU -> minmax.
torch::Tensor postprocess_cam(const torch::Tensor& raw, int64_t H, int64_t W);
// Bilinear resize of a 2-D map (align_corners = false), no normalization.
torch::Tensor resize_map(const torch::Tensor& map, int64_t H, int64_t W);

}  // namespace camscope::explain
