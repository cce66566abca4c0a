#include "explain/sanity.h"

#include <algorithm>
#include <set>

#include "explain/cam_math.h"
#include "util/error.h"

namespace camscope::explain {
namespace {

// Ranks with ties averaged, as scipy.stats.rankdata does.
torch::Tensor ranks(const torch::Tensor& t) {
  auto x = t.detach().flatten().to(torch::kCPU, torch::kDouble).contiguous();
  const int64_t n = x.numel();
  auto order = std::get<1>(x.sort(/*stable=*/true, 0, false)).contiguous();
  const double* v = x.data_ptr<double>();
  const int64_t* o = order.data_ptr<int64_t>();
  auto r = torch::empty({n}, torch::kDouble);
  double* rp = r.data_ptr<double>();
  for (int64_t i = 0; i < n;) {
    int64_t j = i;
    while (j + 1 < n && v[o[j + 1]] == v[o[i]]) ++j;
    double avg = 0.5 * (i + j) + 1.0;
    for (int64_t k = i; k <= j; ++k) rp[o[k]] = avg;
    i = j + 1;
  }
  return r;
}

bool is_container(const std::string& type) {
  return type == "Sequential" || type == "ModuleList" || type == "ModuleDict";
}

// The map compared in the sanity check: signed, at input resolution.
torch::Tensor signed_map(const Result& r, int64_t H, int64_t W, Method m) {
  if (is_pixel_space(m)) return r.raw.sum(0);
  return resize_map(r.raw, H, W);
}

}  // namespace

double spearman(const torch::Tensor& a, const torch::Tensor& b) {
  if (a.numel() != b.numel() || a.numel() < 2) throw Error("spearman needs two equal-size tensors");
  auto ra = ranks(a), rb = ranks(b);
  ra -= ra.mean();
  rb -= rb.mean();
  double den = std::sqrt((ra * ra).sum().item<double>() * (rb * rb).sum().item<double>());
  // A constant map has no ranking; report 0 (no resemblance) rather than NaN.
  return den > 0 ? (ra * rb).sum().item<double>() / den : 0.0;
}

std::vector<std::string> randomization_blocks(model::Model& model) {
  std::set<std::string> with_params;
  for (const auto& p : model.module().named_parameters(/*recurse=*/true)) {
    auto dot = p.name.rfind('.');
    std::string owner = dot == std::string::npos ? "" : p.name.substr(0, dot);
    // Mark the owner and all its ancestors as parameter-owning.
    for (;;) {
      with_params.insert(owner);
      auto d = owner.rfind('.');
      if (owner.empty()) break;
      owner = d == std::string::npos ? "" : owner.substr(0, d);
    }
  }
  std::vector<std::string> blocks;
  for (const auto& info : model.layers()) {
    if (info.path.empty() || !with_params.count(info.path)) continue;
    auto dot = info.path.find('.');
    std::string parent = dot == std::string::npos ? "" : info.path.substr(0, info.path.rfind('.'));
    bool top = dot == std::string::npos;
    bool child_of_top_container = false;
    if (!top && parent.find('.') == std::string::npos) {
      for (const auto& p : model.layers())
        if (p.path == parent && is_container(p.type)) child_of_top_container = true;
    }
    if (top) {
      bool container = is_container(info.type);
      if (!container) blocks.push_back(info.path);
    } else if (child_of_top_container) {
      blocks.push_back(info.path);
    }
  }
  std::reverse(blocks.begin(), blocks.end());
  return blocks;
}

SanityReport sanity_check(model::Model& model, const torch::Tensor& input, const Request& req,
                          uint64_t seed) {
  SanityReport rep;
  rep.method = method_name(req.method);
  // Progress in blocks (the original map counts as one); the inner explanations check for a
  // stop at their own batch boundaries too, reporting the block being worked on.
  int64_t done = 0, total = 1;
  Request inner = req;
  if (req.progress)
    inner.progress = [&](int64_t, int64_t, const char*) {
      return req.progress(done, total, "blocks");
    };
  if (req.progress && !req.progress(0, total, "blocks")) throw Cancelled();
  Result base = explain(model, input, inner);
  rep.layer = base.layer;
  rep.target = base.target;
  rep.base_map = base.map;
  Request fixed = inner;
  fixed.target = base.target;  // the same class throughout, as in the paper
  fixed.layer = base.layer;
  const int64_t H = input.size(2), W = input.size(3);
  auto ref = signed_map(base, H, W, req.method);

  auto copy = model.clone();
  auto blocks = randomization_blocks(*copy);
  total = 1 + static_cast<int64_t>(blocks.size());
  done = 1;
  if (req.progress && !req.progress(done, total, "blocks")) throw Cancelled();
  auto params = copy->module().named_parameters(/*recurse=*/true);
  auto gen = at::detail::createCPUGenerator(seed);
  for (const auto& block : blocks) {
    {
      torch::NoGradGuard no_grad;
      for (const auto& p : params) {
        if (p.name.rfind(block + ".", 0) != 0) continue;
        auto t = p.value;
        auto cpu = t.detach().to(torch::kCPU, torch::kDouble);
        double mean = cpu.mean().item<double>();
        double sd = t.numel() > 1 ? cpu.std().item<double>() : 0.0;
        if (!(sd > 0)) sd = std::max(std::abs(mean), 1e-2);
        auto fresh = torch::randn(t.sizes(), gen, torch::TensorOptions().dtype(torch::kDouble));
        t.copy_((fresh * sd + mean).to(t.dtype()).to(t.device()));
      }
    }
    Result r = explain(*copy, input, fixed);
    auto cur = signed_map(r, H, W, req.method);
    rep.steps.push_back({block, spearman(ref, cur), spearman(ref.abs(), cur.abs()), r.map});
    ++done;
    if (req.progress && !req.progress(done, total, "blocks")) throw Cancelled();
  }
  return rep;
}

}  // namespace camscope::explain
