#pragma once
// Input-space attribution helpers (saliency family) that need no model.
#include <torch/script.h>

#include <utility>
#include <vector>

namespace camscope::explain {

// Attribution [C, H, W] -> map [H, W] in [0, 1]: sum_c |attr_c|, then minmax_normalize.
torch::Tensor pixel_map(const torch::Tensor& attr);

// Gauss-Legendre rule mapped to [0, 1] as Captum's "gausslegendre" method uses it:
// alphas = (1 + x_i) / 2 and step sizes = w_i / 2 with x_i ascending (numpy.leggauss order).
struct Quadrature {
  std::vector<double> alphas, weights;
};
Quadrature gauss_legendre(int n);

// SmoothGrad noise std: sigma_fraction * (max x - min x).
double smoothgrad_stddev(const torch::Tensor& x, double sigma_fraction);

}  // namespace camscope::explain
