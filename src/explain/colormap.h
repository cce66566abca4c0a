#pragma once
// CPU colormaps for PNG/MP4 overlays (the GL path has its own shader version).
#include <torch/script.h>

#include <string>
#include <vector>

namespace camscope::explain {

enum class Colormap { Jet, Turbo, Viridis, Inferno, Gray };
Colormap parse_colormap(const std::string& name);  // camscope::Error with "did you mean"
const char* colormap_name(Colormap c);
std::vector<std::string> colormap_names();

// map [H, W] in [0, 1] (any device) -> [H, W, 3] uint8 on the CPU.
torch::Tensor apply_colormap(const torch::Tensor& map, Colormap c);
// frame [H, W, 3] uint8, map [h, w] in [0, 1]: the map is resized bilinearly
// (align_corners = false) to the frame, colormapped and blended: (1 - alpha) frame + alpha color.
// Returns [H, W, 3] uint8 on the CPU.
torch::Tensor overlay(const torch::Tensor& frame_hwc_u8, const torch::Tensor& map, Colormap c,
                      double alpha);

}  // namespace camscope::explain
