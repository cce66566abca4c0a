#pragma once
// Frame -> model input per the sidecar (DESIGN.md "Model sidecar"), computed in float on the
// model's device: color, resize (bilinear, align_corners = false, antialiased when shrinking),
// crop, mean/std.
#include <torch/script.h>

#include "model/model.h"

namespace camscope::model {

// hwc_u8: [H, W, 3] uint8 RGB (any device). Returns [1, C, spec.height, spec.width] float32.
torch::Tensor preprocess_frame(const torch::Tensor& hwc_u8, const InputSpec& spec,
                               const torch::Device& device);

}  // namespace camscope::model
