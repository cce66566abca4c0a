#pragma once
// Model-parameter randomization test (Adebayo et al. 2018, "Sanity Checks for Saliency Maps"):
// re-initialize parameters cascading from the logits layer down, block by block, and measure how
// much the explanation still resembles the trained model's.
#include <torch/script.h>

#include <cstdint>
#include <string>
#include <vector>

#include "explain/explain.h"
#include "model/model.h"

namespace camscope::explain {

// Spearman rank correlation of two same-size tensors (ties get average ranks).
double spearman(const torch::Tensor& a, const torch::Tensor& b);

// Parameter-owning blocks from the logits layer down: top-level children, with containers
// (Sequential, ModuleList, ModuleDict) expanded one level, reversed.
std::vector<std::string> randomization_blocks(model::Model& model);

struct SanityStep {
  std::string block;        // the block randomized at this step (cumulative with the above)
  double spearman = 0;      // rank correlation of the signed maps
  double spearman_abs = 0;  // of their absolute values
  torch::Tensor map;        // this step's normalized map [H_in, W_in] in [0, 1] (for display)
};
struct SanityReport {
  std::string method, layer;
  int64_t target = -1;
  torch::Tensor base_map;  // the original model's normalized map [H_in, W_in]
  std::vector<SanityStep> steps;
};

// Clones the model, randomizes blocks cumulatively (each parameter re-drawn as
// mean + std * N(0, 1) with the original tensor's mean and std, generator seeded with `seed`),
// and compares the explanation of `input` for the fixed target with the original one.
// The signed map is the raw CAM upsampled (CAM family) or sum_c attr_c (pixel space).
// req.progress (optional) counts blocks (the original map is the first) and may stop the check
// at any batch boundary: Cancelled is thrown then.
SanityReport sanity_check(model::Model& model, const torch::Tensor& input, const Request& req,
                          uint64_t seed = 0);

}  // namespace camscope::explain
