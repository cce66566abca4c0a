#include "explain/device_maps.h"

#include <memory>
#include <numeric>

#include "util/clip_levels.h"
#include "util/error.h"

namespace camscope::explain {

torch::Tensor map_stack(const torch::Tensor& map) {
  if (!map.defined()) return {};
  torch::Tensor m = map.detach();
  if (m.scalar_type() != torch::kFloat) m = m.to(torch::kFloat);
  if (m.dim() == 2) m = m.unsqueeze(0);
  if (m.dim() != 3 || m.size(0) != 1) return {};
  return m.contiguous();
}

torch::Tensor grid_stack(const torch::Tensor& channels, const std::vector<int>& order) {
  if (!channels.defined() || order.empty()) return {};
  bool identity = static_cast<int64_t>(order.size()) == channels.size(0);
  for (size_t i = 0; identity && i < order.size(); ++i) identity = order[i] == static_cast<int>(i);
  if (identity) return channels.contiguous();
  std::vector<int64_t> idx(order.begin(), order.end());
  torch::Tensor index = torch::tensor(idx, torch::kLong);
  if (!channels.device().is_cpu()) index = index.to(channels.device(), /*non_blocking=*/true);
  return channels.index_select(0, index).contiguous();
}

DeviceBuffer keep(const torch::Tensor& stack, void* ready_event) {
  DeviceBuffer b;
  if (!stack.defined()) return b;
  if (stack.dim() != 3 || stack.scalar_type() != torch::kFloat || !stack.is_contiguous())
    throw Error("device maps: expected a contiguous float [C, H, W] tensor");
  auto owner = std::make_shared<const torch::Tensor>(stack);
  b.data = owner->data_ptr<float>();
  b.cuda = owner->is_cuda();
  b.channels = static_cast<int>(stack.size(0));
  b.height = static_cast<int>(stack.size(1));
  b.width = static_cast<int>(stack.size(2));
  b.ready_event = ready_event;
  b.owner = std::move(owner);
  return b;
}

torch::Tensor kept_tensor(const DeviceBuffer& b) {
  if (!b.owner) return {};
  const auto* t = static_cast<const torch::Tensor*>(b.owner.get());
  return t->defined() && t->numel() > 0 && t->data_ptr<float>() == b.data
             ? *t
             : torch::Tensor();
}

std::vector<float> clip_levels(const torch::Tensor& map) {
  std::vector<float> out;
  if (!map.defined() || map.numel() == 0) return out;
  torch::NoGradGuard no_grad;
  const torch::Tensor sorted = std::get<0>(map.detach().to(torch::kFloat).flatten().sort());
  const size_t n = static_cast<size_t>(sorted.numel());
  const std::vector<float>& percents = clip_level_percents();
  std::vector<int64_t> ranks(percents.size());
  for (size_t i = 0; i < percents.size(); ++i)
    ranks[i] = static_cast<int64_t>(clip_rank(n, percents[i]));
  torch::Tensor index = torch::tensor(ranks, torch::kLong);
  if (!sorted.device().is_cpu()) index = index.to(sorted.device(), /*non_blocking=*/true);
  const torch::Tensor levels = sorted.index_select(0, index).to(torch::kCPU).contiguous();
  out.assign(levels.data_ptr<float>(), levels.data_ptr<float>() + levels.numel());
  return out;
}

}  // namespace camscope::explain
