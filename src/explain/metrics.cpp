#include "explain/metrics.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "explain/sanity.h"
#include "util/error.h"

namespace camscope::explain {
namespace {

// Softmax probability of `target` for each row of logits [N, classes], in double.
std::vector<double> target_probs(const torch::Tensor& logits, int64_t target) {
  auto p = torch::softmax(logits.detach().to(torch::kCPU, torch::kDouble), 1).select(1, target);
  p = p.contiguous();
  return std::vector<double>(p.data_ptr<double>(), p.data_ptr<double>() + p.numel());
}

void check_map(const torch::Tensor& input, const torch::Tensor& map) {
  if (!input.defined() || input.dim() != 4 || input.size(0) != 1)
    throw Error("faithfulness expects one preprocessed image [1, C, H, W]");
  if (!map.defined() || map.dim() != 2 || map.size(0) != input.size(2) ||
      map.size(1) != input.size(3))
    throw Error("faithfulness expects a map of the input's size [H, W]");
}

}  // namespace

std::vector<int64_t> saliency_order(const torch::Tensor& map) {
  const auto m = map.detach().flatten().to(torch::kCPU, torch::kDouble).contiguous();
  const double* v = m.data_ptr<double>();
  std::vector<int64_t> idx(static_cast<size_t>(m.numel()));
  std::iota(idx.begin(), idx.end(), 0);
  auto key = [&](int64_t i) { return std::isnan(v[i]) ? -INFINITY : v[i]; };
  std::stable_sort(idx.begin(), idx.end(), [&](int64_t a, int64_t b) { return key(a) > key(b); });
  return idx;
}

torch::Tensor deletion_inputs(const torch::Tensor& input, const torch::Tensor& map, int steps,
                              bool insertion) {
  check_map(input, map);
  if (steps < 1) throw Error("deletion / insertion need at least one step");
  const int64_t H = map.size(0), W = map.size(1), P = H * W;
  const int64_t step = (P + steps - 1) / steps;
  const auto order = saliency_order(map);
  // mask[i, p] = pixel p is among the top min(i * step, P): built once on the CPU.
  auto mask = torch::zeros({steps + 1, P}, torch::TensorOptions().dtype(torch::kBool));
  auto acc = mask.accessor<bool, 2>();
  for (int64_t i = 0; i <= steps; ++i) {
    const int64_t n = std::min(i * step, P);
    for (int64_t r = 0; r < n; ++r) acc[i][order[r]] = true;
  }
  mask = mask.reshape({steps + 1, 1, H, W}).to(input.device());
  auto zero = torch::zeros({}, input.options());
  auto x = input.expand({steps + 1, -1, -1, -1});
  return insertion ? torch::where(mask, x, zero) : torch::where(mask, zero, x);
}

double trapezoid_auc(const std::vector<double>& curve) {
  if (curve.size() < 2) throw Error("an AUC needs at least two points");
  const double dx = 1.0 / static_cast<double>(curve.size() - 1);
  double area = 0;
  for (size_t i = 0; i + 1 < curve.size(); ++i) area += 0.5 * (curve[i] + curve[i + 1]) * dx;
  return area;
}

Faithfulness faithfulness(model::Model& model, const torch::Tensor& input_any,
                          const torch::Tensor& map_any, int64_t target, int steps) {
  const torch::Tensor input = input_any.to(model.device());
  const torch::Tensor map = map_any.to(model.device(), input.scalar_type());
  check_map(input, map);
  if (target < 0 || target >= model.num_classes())
    throw Error("target class " + std::to_string(target) + " out of range");
  torch::NoGradGuard no_grad;
  Faithfulness f;
  f.score = target_probs(model.forward(input, {}).logits, target)[0];
  f.masked = target_probs(model.forward(input * map, {}).logits, target)[0];
  f.drop = std::max(f.score - f.masked, 0.0) / (f.score + 1e-7);
  f.increase = f.score < f.masked;
  f.deletion_curve =
      target_probs(model.forward(deletion_inputs(input, map, steps, false), {}).logits, target);
  f.insertion_curve =
      target_probs(model.forward(deletion_inputs(input, map, steps, true), {}).logits, target);
  f.deletion = trapezoid_auc(f.deletion_curve);
  f.insertion = trapezoid_auc(f.insertion_curve);
  return f;
}

double stability(const torch::Tensor& previous_map, const torch::Tensor& map) {
  return spearman(previous_map, map);
}

}  // namespace camscope::explain
