#pragma once
// The overlay blend of explain/overlay.h on plain buffers, without LibTorch: export's writer
// threads call it (no ATen op there, so no second OpenMP team competes with the model).
#include <cstdint>

#include "model/input_geometry.h"

namespace camscope::explain {

// frame: H x W x 3 RGB8 (rows top first); map: mh x mw floats (row-major) in [0, 1] covering the
// model input; geometry as in overlay(). Writes H x W x 3 RGB8 into `out` (may be `frame`).
// Same pixels as overlay(frame, map, lut, alpha, geometry). Throws camscope::Error on bad
// arguments.
void blend_overlay(const uint8_t* frame, int W, int H, const float* map, int mw, int mh,
                   const uint8_t* lut_rgba, double alpha, const model::InputGeometry& geometry,
                   uint8_t* out);

}  // namespace camscope::explain
