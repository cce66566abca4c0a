#include "explain/pixel_math.h"

#include <cmath>

#include "explain/cam_math.h"
#include "util/error.h"

namespace camscope::explain {

torch::Tensor pixel_map(const torch::Tensor& attr) {
  if (attr.dim() != 3) throw Error("pixel attribution must be [C, H, W]");
  return minmax_normalize(attr.abs().sum(0));
}

Quadrature gauss_legendre(int n) {
  if (n < 1 || n > 1000)
    throw Error("integration steps must be in 1..1000, got " + std::to_string(n));
  Quadrature q;
  q.alphas.resize(n);
  q.weights.resize(n);
  // Roots of the Legendre polynomial P_n by Newton's method from the classic cosine guesses;
  // they come out descending, so fill from the back to get numpy's ascending order.
  for (int i = 0; i < n; ++i) {
    double x = std::cos(M_PI * (i + 0.75) / (n + 0.5));
    double dp = 1.0;
    for (int it = 0; it < 100; ++it) {
      double p0 = 1.0, p1 = x;  // P_0, P_1; the recurrence gives P_n in p1
      for (int k = 2; k <= n; ++k) {
        double pk = ((2.0 * k - 1.0) * x * p1 - (k - 1.0) * p0) / k;
        p0 = p1;
        p1 = pk;
      }
      dp = n * (x * p1 - p0) / (x * x - 1.0);
      double dx = p1 / dp;
      x -= dx;
      if (std::abs(dx) < 1e-15) break;
    }
    // Recompute the derivative at the converged root for the weight.
    double p0 = 1.0, p1 = x;
    for (int k = 2; k <= n; ++k) {
      double pk = ((2.0 * k - 1.0) * x * p1 - (k - 1.0) * p0) / k;
      p0 = p1;
      p1 = pk;
    }
    dp = n * (x * p1 - p0) / (x * x - 1.0);
    double w = 2.0 / ((1.0 - x * x) * dp * dp);
    q.alphas[n - 1 - i] = 0.5 * (1.0 + x);
    q.weights[n - 1 - i] = 0.5 * w;
  }
  return q;
}

double smoothgrad_stddev(const torch::Tensor& x, double sigma_fraction) {
  return sigma_fraction * (x.max().item<double>() - x.min().item<double>());
}

}  // namespace camscope::explain
