// Host-upload TextureBridge: contents read back from GL, storage reused in the steady state,
// no GL objects leaked across hundreds of size changes, byte accounting, bad input. The CUDA
// interop bridge is compiled in CUDA builds but needs a GPU: not exercised here.
#include <doctest/doctest.h>

#include <cstdlib>
#include <set>
#include <vector>

#include "gpu/texture_bridge.h"
#include "gpu/upload_bench.h"
#include "render/colormap_pass.h"
#include "render/gl_context.h"
#include "render_helpers.h"
#include "test_support.h"
#include "util/error.h"

using namespace camscope;

namespace {

std::vector<float> ramp(int w, int h, float seed) {
  std::vector<float> v(static_cast<size_t>(w) * h);
  for (size_t i = 0; i < v.size(); ++i) v[i] = seed + static_cast<float>(i) * 0.25f;
  return v;
}

}  // namespace

TEST_CASE("host upload: contents, pitch, several slots, PBO and direct") {
  auto ctx = gl::create_headless_context({8, 8});
  for (bool pbo : {false, true}) {
    INFO("pbo=" << pbo);
    auto bridge = gpu::make_host_bridge(pbo);
    // Slot 0: a pitched 5x3 map (rows 8 floats apart); slot 1: a tight 4x2 map.
    std::vector<float> pitched(8 * 3, -99.f);
    for (int y = 0; y < 3; ++y)
      for (int x = 0; x < 5; ++x) pitched[y * 8 + x] = static_cast<float>(10 * y + x);
    const auto tight = ramp(4, 2, 3.f);
    gpu::MapDesc maps[2];
    maps[0].data = pitched.data();
    maps[0].width = 5;
    maps[0].height = 3;
    maps[0].pitch_bytes = 8 * sizeof(float);
    maps[1].data = tight.data();
    maps[1].width = 4;
    maps[1].height = 2;
    bridge->upload(maps, 2);
    REQUIRE(bridge->slot_count() == 2);
    const auto a = test::read_r32f(bridge->texture(0).id, 5, 3);
    for (int y = 0; y < 3; ++y)
      for (int x = 0; x < 5; ++x) CHECK(a[y * 5 + x] == static_cast<float>(10 * y + x));
    CHECK(test::read_r32f(bridge->texture(1).id, 4, 2) == tight);
    CHECK(bridge->last_frame().host_to_gl == (15 + 8) * 4u);
    CHECK(bridge->last_frame().device_to_gl == 0u);
    CHECK(bridge->last_frame().device_to_host == 0u);

    // Steady state: same sizes, new contents, no new storage, totals accumulate.
    const long allocs = bridge->allocations();
    const GLuint id0 = bridge->texture(0).id;
    for (int i = 0; i < 20; ++i) {
      const auto next = ramp(4, 2, static_cast<float>(i));
      maps[1].data = next.data();
      bridge->upload(maps, 2);
      CHECK(test::read_r32f(bridge->texture(1).id, 4, 2) == next);
    }
    CHECK(bridge->allocations() == allocs);
    CHECK(bridge->texture(0).id == id0);
    CHECK(bridge->total().host_to_gl == 21u * (15 + 8) * 4u);
  }
}

TEST_CASE("200 size changes leak no GL objects") {
  auto ctx = gl::create_headless_context({8, 8});
  const gl::ObjectCounts before = gl::object_counts();
  std::set<GLuint> seen;
  for (bool pbo : {false, true}) {
    auto bridge = gpu::make_host_bridge(pbo);
    std::vector<float> buf(64 * 64 * 9);
    for (int i = 0; i < 200; ++i) {
      gpu::MapDesc maps[2];
      maps[0].data = buf.data();
      maps[0].width = 3 + (i * 7) % 61;
      maps[0].height = 2 + (i * 13) % 59;
      maps[1] = maps[0];
      maps[1].width = 2 + i % 5;
      maps[1].height = 2;
      maps[1].channels = 1 + i % 9;  // atlas size changes with the channel count
      bridge->upload(maps, 2);
      seen.insert(bridge->texture(0).id);
      seen.insert(bridge->texture(1).id);
      // Live objects: the two slot textures (+ their two PBOs).
      CHECK(gl::object_counts().textures == before.textures + 2);
      CHECK(gl::object_counts().buffers == before.buffers + (pbo ? 2 : 0));
    }
    CHECK(bridge->allocations() > 200);
    const GLuint live0 = bridge->texture(0).id, live1 = bridge->texture(1).id;
    int still_textures = 0;
    for (GLuint id : seen)
      if (id != live0 && id != live1) still_textures += glIsTexture(id) == GL_TRUE;
    CHECK(still_textures == 0);
  }
  CHECK(gl::object_counts().total() == before.total());
  for (GLuint id : seen) CHECK(glIsTexture(id) == GL_FALSE);

  // Render targets and passes: one texture + one FBO per target however often it resizes;
  // everything returns on destruction.
  {
    render::ColormapPass colormap;
    render::OverlayPass overlay;
    render::RenderTarget target;
    const gl::ObjectCounts with_passes = gl::object_counts();
    for (int i = 0; i < 200; ++i) {
      target.resize(1 + (i * 17) % 97, 1 + (i * 5) % 41);
      CHECK(gl::object_counts().textures == with_passes.textures + 1);
      CHECK(gl::object_counts().framebuffers == with_passes.framebuffers + 1);
    }
  }
  CHECK(gl::object_counts().total() == before.total());
}

TEST_CASE("bad descriptors are refused with a clear error") {
  auto ctx = gl::create_headless_context({8, 8});
  auto bridge = gpu::make_host_bridge();
  std::vector<float> buf(64);
  gpu::MapDesc d;
  d.data = buf.data();
  d.width = 4;
  d.height = 4;
  d.memory = gpu::Memory::Cuda;
  CHECK_THROWS_WITH_AS(bridge->upload(d), doctest::Contains("CUDA device map"), Error);
  d.memory = gpu::Memory::Host;
  d.pitch_bytes = 10;  // not a multiple of 4, and less than a row
  CHECK_THROWS_AS(bridge->upload(d), Error);
  d.pitch_bytes = 0;
  d.width = 0;
  CHECK_THROWS_AS(bridge->upload(d), Error);
  d.width = 4;
  d.data = nullptr;
  CHECK_THROWS_AS(bridge->upload(d), Error);
  d.data = buf.data();
  d.channels = 4;
  d.grid = render::GridLayout::make(5, 4, 4);  // says 5 channels
  CHECK_THROWS_AS(bridge->upload(d), Error);
  // Without CUDA in the build the factory gives the host bridge.
  if (!gpu::cuda_interop_built()) {
    auto b = gpu::make_texture_bridge();
    CHECK(std::string(b->name()).find("host") != std::string::npos);
  }
}

TEST_CASE("host upload bench: 64x56x56 grid and a 1080p map") {
  auto ctx = gl::create_headless_context({8, 8});
  const char* env = std::getenv("CAMSCOPE_BENCH_FRAMES");
  const int frames = env ? std::atoi(env) : 3;
  const auto results = gpu::bench_host_upload(frames);
  REQUIRE(results.size() == 4);
  for (const auto& r : results) {
    MESSAGE(r.name << ": " << r.width << "x" << r.height << ", " << r.bytes_per_frame
                   << " B/frame, " << r.ms_per_frame << " ms/frame, " << r.gb_per_s() << " GB/s");
    const bool grid = r.name.rfind("grid", 0) == 0;
    // 64 channels of 56x56 with border 1: 8x8 tiles, 1 + 8*57 = 457 pixels a side.
    CHECK(r.width == (grid ? 457 : 1920));
    CHECK(r.height == (grid ? 457 : 1080));
    CHECK(r.bytes_per_frame == static_cast<uint64_t>(r.width) * r.height * 4);
  }
}
