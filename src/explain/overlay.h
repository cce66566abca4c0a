#pragma once
// Heatmap overlays on the CPU for export (PNG/MP4). The colours come from render/colormap.h's
// lookup tables, sampled the way its shaders sample them, so exported overlays match the window.
#include <torch/script.h>

#include <cstdint>

#include "model/input_geometry.h"

namespace camscope::explain {

// map [h, w] in [0, 1] (any device) -> [h, w, 3] uint8 on the CPU. lut_rgba: 256 RGBA8 entries
// (render::colormap_lut), sampled linearly between entries floor(v * 255) and the next.
torch::Tensor apply_lut(const torch::Tensor& map, const uint8_t* lut_rgba);

// frame [H, W, 3] uint8; map [h, w] in [0, 1]: the map is resized bilinearly (align_corners =
// false) to the frame, colour-mapped and blended: (1 - alpha) frame + alpha colour, rounded.
// Returns [H, W, 3] uint8 on the CPU. Throws camscope::Error for alpha outside [0, 1].
torch::Tensor overlay(const torch::Tensor& frame_hwc_u8, const torch::Tensor& map,
                      const uint8_t* lut_rgba, double alpha);

// The same with the preprocessing geometry of the frame (model::input_geometry): the map, which
// covers the model input, is laid exactly over the source pixels the model saw — each source
// pixel centre inside the crop box samples the map bilinearly (align_corners = false, clamped at
// the map's edges, as GL's GL_LINEAR + CLAMP_TO_EDGE does); pixels outside keep the frame.
// For `stretch` this is the plain overlay above. geometry.src_w/src_h must be the frame's size.
torch::Tensor overlay(const torch::Tensor& frame_hwc_u8, const torch::Tensor& map,
                      const uint8_t* lut_rgba, double alpha, const model::InputGeometry& geometry);

}  // namespace camscope::explain
