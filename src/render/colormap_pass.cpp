#include "render/colormap_pass.h"

#include <algorithm>

#include <cmath>
#include <utility>

#include "render/shader.h"
#include "util/error.h"
#include "util/fs.h"

namespace camscope::render {
namespace {

gl::ProgramHandle load_map_program(const std::string& name, const std::string& defines = "") {
  const std::string dir = gl::shader_dir();
  const std::string fs = "#version 330 core\n" + defines +
                         read_text_file(dir + "/colormap_common.glsl") +
                         read_text_file(dir + "/" + name + ".frag");
  return gl::build_program(gl::fullscreen_vertex_shader(), fs, name);
}

void bind_map(GLuint tex, GLenum unit, GLenum filter) {
  glActiveTexture(unit);
  glBindTexture(GL_TEXTURE_2D, tex);
  glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MIN_FILTER, static_cast<GLint>(filter));
  glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MAG_FILTER, static_cast<GLint>(filter));
}

// The bound program over all of `target` (one full-screen triangle), then the state back to
// defaults: texture unit 0, no program.
void draw_fullscreen(RenderTarget& target, GLuint vao) {
  target.bind();
  glDisable(GL_BLEND);
  glBindVertexArray(vao);
  glDrawArrays(GL_TRIANGLES, 0, 3);
  glBindVertexArray(0);
  glActiveTexture(GL_TEXTURE0);
  glUseProgram(0);
}

}  // namespace

RangeUniforms::RangeUniforms(GLuint prog)
    : lo(glGetUniformLocation(prog, "u_lo")),
      hi(glGetUniformLocation(prog, "u_hi")),
      gamma(glGetUniformLocation(prog, "u_gamma")) {}

void RangeUniforms::set(const ValueRange& r) const {
  if (!(r.gamma > 0.f)) throw Error("colormap gamma must be > 0");
  if (!std::isfinite(r.lo) || !std::isfinite(r.hi)) throw Error("colormap range must be finite");
  glUniform1f(lo, r.lo);
  glUniform1f(hi, r.hi);
  glUniform1f(gamma, r.gamma);
}

void LutTexture::bind(Colormap map, GLenum unit) {
  glActiveTexture(unit);
  if (m_current != map) {
    m_tex.set_filter(GL_NEAREST);
    m_tex.ensure(kLutSize, 1, GL_RGBA8);
    const Lut lut = colormap_lut(map);
    m_tex.upload_rgba8(lut.data());
    m_current = map;
  }
  glBindTexture(GL_TEXTURE_2D, m_tex.id());
}

ColormapPass::ColormapPass()
    : m_prog(load_map_program("colormap")),
      m_vao(gl::VertexArrayHandle::create()),
      m_range(m_prog.id()) {
  const GLuint prog = m_prog.id();
  m_grid_on = glGetUniformLocation(prog, "u_grid_on");
  m_grid = glGetUniformLocation(prog, "u_grid");
  m_grid_border = glGetUniformLocation(prog, "u_grid_border");
  m_border_color = glGetUniformLocation(prog, "u_border_color");
  glUseProgram(m_prog.id());
  glUniform1i(glGetUniformLocation(m_prog.id(), "u_map"), 0);
  glUniform1i(glGetUniformLocation(m_prog.id(), "u_lut"), 1);
  glUseProgram(0);
}

void ColormapPass::render(const MapTexture& map, const ColormapParams& p, RenderTarget& target) {
  if (!map.id) throw Error("colormap pass: no map texture");
  glUseProgram(m_prog.id());
  m_range.set(p.range);
  const bool grid = p.grid && p.grid->valid();
  glUniform1i(m_grid_on, grid ? 1 : 0);
  if (grid) {
    glUniform4i(m_grid, p.grid->tile_w, p.grid->tile_h, p.grid->cols, p.grid->count);
    glUniform1i(m_grid_border, p.grid->border);
    glUniform4fv(m_border_color, 1, p.border_color.data());
  }
  bind_map(map.id, GL_TEXTURE0, p.smooth && !grid ? GL_LINEAR : GL_NEAREST);
  m_lut.bind(p.colormap, GL_TEXTURE1);
  draw_fullscreen(target, m_vao.id());
}

OverlayPass::Program::Program(gl::ProgramHandle p)
    : prog(std::move(p)),
      range(prog.id()),
      alpha(glGetUniformLocation(prog.id(), "u_alpha")),
      threshold(glGetUniformLocation(prog.id(), "u_threshold")),
      crop(glGetUniformLocation(prog.id(), "u_crop")),
      frame_gain(glGetUniformLocation(prog.id(), "u_frame_gain")) {
  glUseProgram(prog.id());
  glUniform1i(glGetUniformLocation(prog.id(), "u_frame"), 0);
  glUniform1i(glGetUniformLocation(prog.id(), "u_map"), 1);
  glUniform1i(glGetUniformLocation(prog.id(), "u_lut"), 2);
  glUseProgram(0);
}

OverlayPass::OverlayPass()
    : m_programs{Program(load_map_program("overlay")),
                 Program(load_map_program("overlay", "#define FRAME_TEXEL_EXACT\n")),
                 Program(load_map_program("overlay", "#define FRAME_ONLY\n")),
                 Program(load_map_program("overlay",
                                          "#define FRAME_TEXEL_EXACT\n#define FRAME_ONLY\n"))},
      m_vao(gl::VertexArrayHandle::create()) {}

void OverlayPass::render(const FrameTexture& frame, const MapTexture& map, const OverlayParams& p,
                         RenderTarget& target) {
  if (!frame.id || !map.id) throw Error("overlay pass: missing frame or map texture");
  if (!(p.alpha >= 0.f && p.alpha <= 1.f)) throw Error("overlay alpha must be in [0, 1]");
  const bool exact = frame.width == target.width() && frame.height == target.height();
  const Program& prog = m_programs[(exact ? 1 : 0) | (p.alpha == 0.f && p.frame_gain >= 1.f ? 2 : 0)];
  glUseProgram(prog.prog.id());
  prog.range.set(p.range);
  glUniform1f(prog.alpha, p.alpha);
  glUniform1f(prog.threshold, p.threshold);
  if (prog.crop >= 0) glUniform4f(prog.crop, p.crop[0], p.crop[1], p.crop[2], p.crop[3]);
  if (prog.frame_gain >= 0) glUniform1f(prog.frame_gain, std::clamp(p.frame_gain, 0.f, 1.f));
  bind_map(frame.id, GL_TEXTURE0, GL_LINEAR);
  bind_map(map.id, GL_TEXTURE1, GL_LINEAR);
  m_lut.bind(p.colormap, GL_TEXTURE2);
  draw_fullscreen(target, m_vao.id());
}

}  // namespace camscope::render
