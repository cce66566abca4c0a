// Headless GL harness: context creation, shader error reporting, readback orientation, and
// GL object ownership.
#include <doctest/doctest.h>

#include <string>

#include "render/gl.h"
#include "render/gl_context.h"
#include "render/shader.h"
#include "test_support.h"
#include "util/error.h"
#include "util/image_io.h"

using namespace camscope;

TEST_CASE("headless EGL context is GL 3.3+ core with a readable target") {
  auto ctx = gl::create_headless_context({64, 32});
  CHECK(ctx->headless());
  CHECK(ctx->width() == 64);
  CHECK(ctx->height() == 32);
  GLint major = 0, minor = 0;
  glGetIntegerv(GL_MAJOR_VERSION, &major);
  glGetIntegerv(GL_MINOR_VERSION, &minor);
  CHECK(major * 10 + minor >= 33);
  CHECK(!ctx->renderer().empty());
  ctx->bind_default_target();
  glClearColor(1.f, 0.f, 0.f, 1.f);
  glClear(GL_COLOR_BUFFER_BIT);
  auto px = ctx->read_pixels_rgba();
  REQUIRE(px.size() == 64u * 32u * 4u);
  CHECK(px[0] == 255);
  CHECK(px[1] == 0);
  CHECK(px[3] == 255);
  ctx->resize(40, 20);
  CHECK(ctx->read_pixels_rgba().size() == 40u * 20u * 4u);
}

TEST_CASE("a shader compile error is reported with the driver's log") {
  auto ctx = gl::create_headless_context({16, 16});
  const std::string bad_fs = "#version 330 core\nout vec4 c;\nvoid main() { c = vec4(undefined_symbol); }\n";
  try {
    gl::build_program(gl::fullscreen_vertex_shader(), bad_fs, "broken");
    FAIL("build_program accepted a broken shader");
  } catch (const Error& e) {
    std::string msg = e.what();
    CHECK(msg.find("broken") != std::string::npos);
    CHECK(msg.find("fragment shader failed to compile") != std::string::npos);
    CHECK(msg.find("undefined_symbol") != std::string::npos);  // the log names the culprit
    CHECK(msg.find('\n') == std::string::npos);                // one line
  }
  // A failed build leaks nothing.
  CHECK(gl::object_counts().programs == 0);
}

// Draws a pattern that tells top from bottom and left from right: the upper-left quadrant red,
// the upper-right green, the bottom half blue, using a shader that works in window coordinates.
TEST_CASE("readback is top row first: PNG orientation matches the screen") {
  auto ctx = gl::create_headless_context({64, 48});
  const std::string fs = R"(#version 330 core
in vec2 uv;
out vec4 color;
void main() {
  // uv.y = 1 at the top of the target.
  if (uv.y > 0.5) color = uv.x < 0.5 ? vec4(1,0,0,1) : vec4(0,1,0,1);
  else color = vec4(0,0,1,1);
}
)";
  auto prog = gl::build_program(gl::fullscreen_vertex_shader(), fs, "pattern");
  auto vao = gl::VertexArrayHandle::create();
  ctx->bind_default_target();
  glUseProgram(prog.id());
  glBindVertexArray(vao.id());
  glDrawArrays(GL_TRIANGLES, 0, 3);
  auto px = ctx->read_pixels_rgba();
  auto at = [&](int x, int y) { return &px[(static_cast<size_t>(y) * 64 + x) * 4]; };
  // top-left red, top-right green, bottom-left and bottom-right blue
  CHECK(at(2, 2)[0] == 255);
  CHECK(at(2, 2)[1] == 0);
  CHECK(at(61, 2)[1] == 255);
  CHECK(at(61, 2)[0] == 0);
  CHECK(at(2, 45)[2] == 255);
  CHECK(at(61, 45)[2] == 255);

  // The PNG written from it decodes with the same orientation.
  test::TempDir dir("gl_png");
  ctx->save_png(dir.str("p.png"));
  Image img = load_image_rgb(dir.str("p.png"));
  REQUIRE(img.width == 64);
  REQUIRE(img.height == 48);
  CHECK(img.pixels[(2 * 64 + 2) * 3 + 0] == 255);
  CHECK(img.pixels[(2 * 64 + 61) * 3 + 1] == 255);
  CHECK(img.pixels[(45 * 64 + 2) * 3 + 2] == 255);
}

TEST_CASE("GL handles: one owner, released on destruction and move-assignment") {
  auto ctx = gl::create_headless_context({8, 8});
  const long before = gl::object_counts().textures;
  {
    auto a = gl::TextureHandle::create();
    auto b = gl::TextureHandle::create();
    CHECK(gl::object_counts().textures == before + 2);
    CHECK(glIsTexture(a.id()) == GL_FALSE);  // generated but never bound: not yet a texture
    GLuint old_b = b.id();
    b = std::move(a);  // b's old texture is deleted, a is empty
    CHECK(!a);
    CHECK(b.id() != old_b);
    CHECK(gl::object_counts().textures == before + 1);
  }
  CHECK(gl::object_counts().textures == before);
}
