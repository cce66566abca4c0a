#pragma once
// GLSL program building. Compile and link failures throw camscope::Error carrying the
// stage name and the driver's info log, so a broken shader is reported, never drawn black.
#include <string>

#include "render/gl.h"

namespace camscope::gl {

ProgramHandle build_program(const std::string& vertex_src, const std::string& fragment_src,
                            const std::string& name = "program");
// Loads shaders/<name>.vert and shaders/<name>.frag (CAMSCOPE_SHADER_DIR, or $CAMSCOPE_SHADERS).
ProgramHandle load_program(const std::string& name);
std::string shader_dir();

// The fullscreen-triangle vertex shader most passes use: emits `uv` in [0,1], v=0 at the bottom.
const char* fullscreen_vertex_shader();

}  // namespace camscope::gl
