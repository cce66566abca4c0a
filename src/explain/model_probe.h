#pragma once
// What a model's weights say directly: squeeze-excitation channel gates and first-layer filters.
#include <torch/script.h>

#include <string>
#include <vector>

#include "model/model.h"

namespace camscope::explain {

// Layers whose output is a sigmoid gate [1, K, 1, 1] that multiplies K channels (the Sigmoid /
// Hardsigmoid inside squeeze-excitation blocks), in layer-table order.
std::vector<std::string> find_channel_gates(const model::Model& model);
// Gate values [K] in [0, 1] per path (one forward pass, no gradient).
std::vector<torch::Tensor> channel_gates(model::Model& model, const torch::Tensor& input,
                                         const std::vector<std::string>& paths);

// The first convolution's weights [O, C, kh, kw] scaled symmetrically to [0, 1]
// (0.5 + w / (2 max|w|), so 0.5 = zero weight), ready for make_grid. Throws camscope::Error
// when the model has no Conv2d.
torch::Tensor first_layer_filters(model::Model& model);
std::string first_conv_path(const model::Model& model);

}  // namespace camscope::explain
