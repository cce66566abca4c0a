// Float map -> color. With a channel grid, border and empty-cell texels get u_border_color
// (same layout math as render::GridLayout::pick).
out vec4 color;
in vec2 uv;
uniform sampler2D u_map;  // R32F, memory row 0 = top, sampled without flip
uniform int u_grid_on;
uniform ivec4 u_grid;  // tile_w, tile_h, cols, count
uniform int u_grid_border;
uniform vec4 u_border_color;

bool grid_background(vec2 coord) {
  ivec2 p = ivec2(floor(coord * vec2(textureSize(u_map, 0))));
  int b = u_grid_border;
  ivec2 s = p - ivec2(b);
  if (s.x < 0 || s.y < 0) return true;
  ivec2 cell = s / (u_grid.xy + ivec2(b));
  ivec2 in_cell = s - cell * (u_grid.xy + ivec2(b));
  if (in_cell.x >= u_grid.x || in_cell.y >= u_grid.y || cell.x >= u_grid.z) return true;
  return cell.y * u_grid.z + cell.x >= u_grid.w;
}

void main() {
  if (u_grid_on != 0 && grid_background(uv)) {
    color = u_border_color;
    return;
  }
  color = vec4(lut_color(normalized_value(texture(u_map, uv).r)), 1.0);
}
