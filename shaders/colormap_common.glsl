// Value -> color through the 256-entry LUT, the same arithmetic as render::colormap_apply:
// t = clamp((v - lo) / (hi - lo)), u = t^gamma, linear blend of entries floor(u*255) and next.
uniform sampler2D u_lut;  // 256 x 1 RGBA8, fetched texel by texel
uniform float u_lo;
uniform float u_hi;
uniform float u_gamma;

float normalized_value(float v) {
  float span = u_hi - u_lo;
  if (!(abs(span) > 0.0)) return v >= u_hi ? 1.0 : 0.0;
  return clamp((v - u_lo) / span, 0.0, 1.0);
}

vec3 lut_color(float t) {
  // gamma 1 (the default) skips pow: t^1 is t exactly (llvmpipe's pow(t, 1) is not, and costs
  // ~0.6 ms per 640x360 overlay on the CPU).
  float u = (u_gamma == 1.0 ? t : (t > 0.0 ? pow(t, u_gamma) : 0.0)) * 255.0;
  float i = min(floor(u), 254.0);
  float f = u - i;
  vec3 a = texelFetch(u_lut, ivec2(int(i), 0), 0).rgb;
  vec3 b = texelFetch(u_lut, ivec2(int(i) + 1, 0), 0).rgb;
  return mix(a, b, f);
}
