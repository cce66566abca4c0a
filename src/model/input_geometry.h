#pragma once
// The geometry of preprocessing: which source pixels the model saw and where they landed in
// the model input. Computed once per frame size by plan_geometry(); the resizers (the CPU one
// and the LibTorch one) take their sizes and offsets from it, and every consumer that puts a
// map back on a frame (export overlays, the window's viewport and hover readout, recordings,
// screenshots) uses its crop box. Plain data, no LibTorch: ui/ and render/ code may include it.
#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>

namespace camscope::model {

struct InputGeometry {
  int src_w = 0, src_h = 0;          // the frame
  int in_w = 0, in_h = 0;            // the model input
  int resized_w = 0, resized_h = 0;  // the frame after resizing, before cropping
  int left = 0, top = 0;             // the crop window's offset in the resized frame
  // The crop box in source pixel coordinates (pixel edges: pixel i spans [i, i + 1)): the part
  // of the frame the model input covers, sub-pixel exact as the resizer maps coordinates. For
  // `stretch` it is the whole frame.
  double x0 = 0, y0 = 0, x1 = 0, y1 = 0;

  bool valid() const { return in_w > 0 && in_h > 0 && x1 > x0 && y1 > y0; }
  bool whole_frame() const { return x0 == 0 && y0 == 0 && x1 == src_w && y1 == src_h; }
  std::array<double, 4> crop_box() const { return {x0, y0, x1, y1}; }

  // A source coordinate (continuous, pixel edges) as a model input coordinate, and back.
  double to_input_x(double sx) const { return (sx - x0) * in_w / (x1 - x0); }
  double to_input_y(double sy) const { return (sy - y0) * in_h / (y1 - y0); }
  double to_source_x(double ix) const { return x0 + ix * (x1 - x0) / in_w; }
  double to_source_y(double iy) const { return y0 + iy * (y1 - y0) / in_h; }
  // Whether the source point lies inside the model's view (half-open box).
  bool contains(double sx, double sy) const { return sx >= x0 && sx < x1 && sy >= y0 && sy < y1; }
  // Where a map of the model input's size is sampled (bilinear, align_corners = false: texel
  // centres at i + 0.5) for the centre of source pixel (px, py).
  double map_x(int px) const { return to_input_x(px + 0.5) - 0.5; }
  double map_y(int py) const { return to_input_y(py + 0.5) - 0.5; }
};

// `center_crop`: the shorter side (relative to the target) is resized to the target and the
// central window cut out; sizes truncate and offsets round half to even, as torchvision's
// Resize + CenterCrop do. The resizer maps coordinates with scale = float(in) / float(out)
// (LibTorch's and PIL's align_corners = false convention: source = scale * resized), so the
// crop box's edges are the window's edges times that scale.
inline InputGeometry plan_geometry(int src_w, int src_h, int in_w, int in_h, bool center_crop) {
  InputGeometry g;
  g.src_w = src_w, g.src_h = src_h, g.in_w = in_w, g.in_h = in_h;
  g.resized_w = in_w, g.resized_h = in_h;
  if (src_w < 1 || src_h < 1 || in_w < 1 || in_h < 1) return g;
  if (!center_crop) {
    g.x1 = src_w, g.y1 = src_h;
    return g;
  }
  const double s = std::max(double(in_h) / src_h, double(in_w) / src_w);
  g.resized_h = static_cast<int>(std::max<int64_t>(in_h, static_cast<int64_t>(src_h * s)));
  g.resized_w = static_cast<int>(std::max<int64_t>(in_w, static_cast<int64_t>(src_w * s)));
  g.top = static_cast<int>(std::nearbyint((g.resized_h - in_h) / 2.0));
  g.left = static_cast<int>(std::nearbyint((g.resized_w - in_w) / 2.0));
  const double sx = static_cast<float>(src_w) / static_cast<float>(g.resized_w);
  const double sy = static_cast<float>(src_h) / static_cast<float>(g.resized_h);
  g.x0 = g.left * sx, g.x1 = (g.left + in_w) * sx;
  g.y0 = g.top * sy, g.y1 = (g.top + in_h) * sy;
  return g;
}

}  // namespace camscope::model
