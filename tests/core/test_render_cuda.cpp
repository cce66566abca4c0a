// CUDA-GL interop bridge against the host bridge, on a machine with a GPU: device maps (plain,
// pitched, channel grids tiled on the device) must land in GL exactly as the host path puts
// them, synchronised through a producer event, with no reallocation in the steady state.
// Builds without CUDA skip with a message (the interop sources are still compiled there).
#include <doctest/doctest.h>

#include <vector>

#include "gpu/texture_bridge.h"
#include "render/gl_context.h"
#include "render_helpers.h"
#include "test_support.h"

#ifdef CAMSCOPE_HAVE_CUDA
#include <cuda_runtime.h>

#include "gpu/cuda_event.h"
#endif

using namespace camscope;

#ifndef CAMSCOPE_HAVE_CUDA
TEST_CASE("CUDA-GL interop bridge") {
  MESSAGE("SKIPPED: this build has no CUDA interop (needs nvcc and a CUDA LibTorch)");
  CHECK(!gpu::cuda_interop_built());
}
#else
namespace {

// Device copy of host data, freed at scope exit.
struct DeviceMaps {
  float* ptr = nullptr;
  explicit DeviceMaps(const std::vector<float>& host) {
    REQUIRE(cudaMalloc(&ptr, host.size() * sizeof(float)) == cudaSuccess);
    REQUIRE(cudaMemcpy(ptr, host.data(), host.size() * sizeof(float), cudaMemcpyHostToDevice) ==
            cudaSuccess);
  }
  ~DeviceMaps() { cudaFree(ptr); }
};

}  // namespace

TEST_CASE("CUDA-GL interop bridge matches the host bridge") {
  int devices = 0;
  if (cudaGetDeviceCount(&devices) != cudaSuccess || devices == 0) {
    MESSAGE("SKIPPED: no CUDA device");
    return;
  }
  auto ctx = gl::create_headless_context({8, 8});
  auto cuda = gpu::make_texture_bridge();
  INFO("bridge: " << cuda->name());
  CHECK(std::string(cuda->name()) == "CUDA-GL interop");
  auto host = gpu::make_host_bridge();

  // Slot 0: pitched 37x23 map; slot 1: 64 channels of 9x7 tiled on the device.
  const int pw = 40, w = 37, h = 23, n = 64, cw = 9, ch = 7;
  std::vector<float> map(pw * h), chans(n * cw * ch);
  for (size_t i = 0; i < map.size(); ++i) map[i] = static_cast<float>(i % 101) * 0.5f;
  for (size_t i = 0; i < chans.size(); ++i) chans[i] = static_cast<float>(i) * 0.01f;
  DeviceMaps dmap(map), dchans(chans);

  gpu::MapDesc hd[2];
  hd[0].data = map.data();
  hd[0].width = w;
  hd[0].height = h;
  hd[0].pitch_bytes = pw * sizeof(float);
  hd[1].data = chans.data();
  hd[1].width = cw;
  hd[1].height = ch;
  hd[1].channels = n;
  hd[1].border_value = -2.f;
  gpu::MapDesc dd[2] = {hd[0], hd[1]};
  dd[0].data = dmap.ptr;
  dd[0].memory = gpu::Memory::Cuda;
  dd[1].data = dchans.ptr;
  dd[1].memory = gpu::Memory::Cuda;

  cudaStream_t producer = nullptr;
  REQUIRE(cudaStreamCreate(&producer) == cudaSuccess);
  auto ready = gpu::CudaEvent::create();
  host->upload(hd, 2);
  long allocs = 0;
  for (int frame = 0; frame < 5; ++frame) {
    ready.record(producer);
    cuda->upload(dd, 2, gpu::CudaSync{producer, ready.handle()});
    if (frame == 0) allocs = cuda->allocations();
    for (int s = 0; s < 2; ++s) {
      const auto a = cuda->texture(s), b = host->texture(s);
      REQUIRE(a.width == b.width);
      REQUIRE(a.height == b.height);
      CHECK(test::read_r32f(a.id, a.width, a.height) == test::read_r32f(b.id, b.width, b.height));
    }
  }
  CHECK(cuda->allocations() == allocs);
  const uint64_t want = static_cast<uint64_t>(w) * h * 4 +
                        static_cast<uint64_t>(cuda->texture(1).width) * cuda->texture(1).height * 4;
  CHECK(cuda->last_frame().device_to_gl == want);
  CHECK(cuda->last_frame().host_to_gl == 0u);
  CHECK(cuda->last_frame().device_to_host == 0u);

  // Resizing re-registers; the old textures are gone.
  const GLuint old = cuda->texture(0).id;
  dd[0].width = 20;
  cuda->upload(dd, 2, gpu::CudaSync{producer, nullptr});
  CHECK(cuda->texture(0).width == 20);
  CHECK(glIsTexture(old) == GL_FALSE);
  cudaStreamSynchronize(producer);
  cudaStreamDestroy(producer);
}
#endif
