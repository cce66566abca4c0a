#pragma once
// The classifier head that plain CAM (Zhou et al. 2016) needs: logits = W · GAP(A) + b, with W
// from the model's last Linear (or 1x1 Conv2d) mapping K channels to the classes.
#include <torch/script.h>

#include <string>
#include <vector>

#include "model/model.h"

namespace camscope::explain {

struct CamHead {
  std::string path;      // module path of the head
  torch::Tensor weight;  // [classes, K]
  torch::Tensor bias;    // [classes] or undefined
};

// Finds the head for layer activations A [K, h, w] and checks numerically that the layer feeds
// it through a global average pool only (logits == W · mean_ij(A) + b): anything else between
// them (another block, a nonlinearity) makes CAM meaningless. Throws camscope::Error otherwise,
// naming the layers where CAM works when `input` (the preprocessed image) is given.
CamHead find_cam_head(model::Model& model, const std::string& layer, const torch::Tensor& A,
                      const torch::Tensor& logits, const torch::Tensor& input = {});

// The layers (spatial outputs) whose global average pool feeds a Linear / 1x1 Conv2d head
// directly, checked numerically on `input` [1, C, H, W] with one forward pass.
std::vector<std::string> cam_layers(model::Model& model, const torch::Tensor& input);

}  // namespace camscope::explain
