#pragma once
// Faithfulness of a map to the model (DESIGN.md "Faithfulness metrics"): Average Drop /
// Increase in Confidence, deletion / insertion AUC, and frame-to-frame stability. Scores are the
// target's softmax probability; the map is the normalized map at input size [H, W] and masks
// apply to the model's input tensor (normalized input space, baseline zeros).
// This header includes LibTorch: include it only from model/, explain/ and app/ code.
#include <torch/script.h>

#include <cstdint>
#include <vector>

#include "model/model.h"

namespace camscope::explain {

struct Faithfulness {
  double score = 0;       // s: the clean input's target probability
  double masked = 0;      // s': that of input x map
  double drop = 0;        // relu(s - s') / (s + 1e-7)
  bool increase = false;  // s < s'
  double deletion = 0;    // AUC of the deletion curve (lower = more faithful)
  double insertion = 0;   // AUC of the insertion curve (higher = more faithful)
  std::vector<double> deletion_curve, insertion_curve;  // steps + 1 scores each
};

// Flat pixel indices of map [H, W], most salient first: a stable descending sort, so equal
// values keep the lower index first. NaN ranks last.
std::vector<int64_t> saliency_order(const torch::Tensor& map);

// The steps + 1 inputs [steps + 1, C, H, W] of a deletion (insertion = false) or insertion
// curve: input i has the ceil(P / steps) * i top-ranked pixels (all channels; capped at P)
// replaced by zeros (deletion) or only those kept, the rest zeros (insertion).
torch::Tensor deletion_inputs(const torch::Tensor& input, const torch::Tensor& map, int steps,
                              bool insertion);

// Trapezoid rule over the fractions 0, 1/n, ..., 1 of a curve of n + 1 values.
double trapezoid_auc(const std::vector<double>& curve);

// All of the above for one image: input [1, C, H, W] (preprocessed), map [H, W], the target
// class. Three forward passes without autograd: x * map, and one batch each for the curves.
Faithfulness faithfulness(model::Model& model, const torch::Tensor& input, const torch::Tensor& map,
                          int64_t target, int steps = 20);

// Spearman rank correlation of this map with the previous one (same size; ties averaged).
double stability(const torch::Tensor& previous_map, const torch::Tensor& map);

}  // namespace camscope::explain
