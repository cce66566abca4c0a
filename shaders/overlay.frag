// Frame (RGB8) + colormapped heatmap laid over the crop box. The heatmap's weight is u_alpha where its normalized
// value reaches u_threshold and 0 below it, so alpha 0 (or a value under the threshold)
// reproduces the frame exactly.
out vec4 color;
in vec2 uv;
uniform sampler2D u_frame;  // RGB8
uniform sampler2D u_map;    // R32F, any resolution, covering the crop box
uniform vec4 u_crop;        // the crop box (the pixels the model saw) in frame uv: x0, y0, x1, y1
uniform float u_alpha;
uniform float u_threshold;
uniform float u_frame_gain;  // 1: the frame; 0: black (map-only view)

void main() {
#ifdef FRAME_TEXEL_EXACT
  // Target and frame have the same size: this fragment's own texel, what bilinear sampling at
  // its center returns, without the filter.
  vec3 frame = texelFetch(u_frame, ivec2(gl_FragCoord.xy), 0).rgb;
#else
  vec3 frame = texture(u_frame, uv).rgb;
#endif
#ifndef FRAME_ONLY
  frame *= u_frame_gain;
#endif
#ifdef FRAME_ONLY
  // Alpha 0: mix(frame, heat, 0.0) is the frame.
  color = vec4(frame, 1.0);
#else
  // Outside the crop box the model saw nothing: the frame as it is.
  bool inside = all(greaterThanEqual(uv, u_crop.xy)) && all(lessThan(uv, u_crop.zw));
  float t = normalized_value(texture(u_map, (uv - u_crop.xy) / (u_crop.zw - u_crop.xy)).r);
  float a = inside && t >= u_threshold ? u_alpha : 0.0;
  color = vec4(mix(frame, lut_color(t), a), 1.0);
#endif
}
