#pragma once
// Heatmap overlays on the CPU for export (PNG/MP4). The colours come from render/colormap.h's
// lookup tables, sampled the way its shaders sample them, so exported overlays match the window.
#include <torch/script.h>

#include <cstdint>

namespace camscope::explain {

// map [h, w] in [0, 1] (any device) -> [h, w, 3] uint8 on the CPU. lut_rgba: 256 RGBA8 entries
// (render::colormap_lut), sampled linearly between entries floor(v * 255) and the next.
torch::Tensor apply_lut(const torch::Tensor& map, const uint8_t* lut_rgba);

// frame [H, W, 3] uint8; map [h, w] in [0, 1]: the map is resized bilinearly (align_corners =
// false) to the frame, colour-mapped and blended: (1 - alpha) frame + alpha colour, rounded.
// Returns [H, W, 3] uint8 on the CPU. Throws camscope::Error for alpha outside [0, 1].
torch::Tensor overlay(const torch::Tensor& frame_hwc_u8, const torch::Tensor& map,
                      const uint8_t* lut_rgba, double alpha);

}  // namespace camscope::explain
