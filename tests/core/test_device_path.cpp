// The device path from a real model to GL textures, as the app's worker and ResultTextures run
// it: Grad-CAM's map and a reordered channel grid stay where the model computed them
// (explain/device_maps.h), one event on camscope's stream marks them written
// (model/device_stream.h), and the TextureBridge fills the textures from them. The textures
// must equal, bit for bit, what the host path uploads from host copies of the same tensors, and
// no map byte may come back to the host.
//
// Here (no GPU) the model runs on the CPU: the same code up to the CUDA boundary (DeviceBuffer
// with host memory, the host bridge). On a CUDA machine (scripts/gpu_check.sh) the model runs
// on the GPU and the bridge is the CUDA-GL interop one.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstring>
#include <numeric>
#include <vector>

#include "explain/channels.h"
#include "explain/device_maps.h"
#include "explain/explain.h"
#include "gpu/texture_bridge.h"
#include "model/device_stream.h"
#include "model/model.h"
#include "render/gl_context.h"
#include "render/texture.h"
#include "test_support.h"
#include "util/clip_levels.h"

using namespace camscope;

namespace {

std::vector<uint8_t> bars_frame(int w, int h) {
  std::vector<uint8_t> rgb(static_cast<size_t>(w) * h * 3);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      uint8_t* p = &rgb[(static_cast<size_t>(y) * w + x) * 3];
      const bool bar = (x / 16) % 3 == 0;
      p[0] = static_cast<uint8_t>(bar ? 230 : (x * 3) % 256);
      p[1] = static_cast<uint8_t>((y * 5 + x) % 256);
      p[2] = static_cast<uint8_t>(bar ? 20 : 140);
    }
  return rgb;
}

std::vector<float> read_texture(const gpu::BridgeTexture& t) {
  std::vector<float> v(static_cast<size_t>(t.width) * t.height);
  gl::FramebufferHandle fbo;
  render::read_r32f(fbo, t.id, 0, 0, t.width, t.height, v.data());
  return v;
}

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

}  // namespace

TEST_CASE("device path: maps reach GL from where they were computed, equal to the host path") {
  model::Model::Options mo;
  mo.path = test::source_dir() + "/assets/builtin.pt";
  mo.device = "auto";
  mo.threads = 2;
  auto m = model::Model::load(mo);
  const bool cuda = m->device().is_cuda();
  if (!cuda)
    MESSAGE("model on the CPU: the device path runs up to the CUDA boundary (host memory, host "
            "bridge); CUDA-GL interop is exercised on a GPU machine (scripts/gpu_check.sh)");
  auto stream = model::DeviceStream::create(cuda ? std::max<int>(0, m->device().index()) : -1);
  CHECK(stream->active() == cuda);

  auto ctx = gl::create_headless_context({8, 8});
  auto device_bridge = gpu::make_texture_bridge();
  auto host_bridge = gpu::make_host_bridge();
  INFO("bridge: " << device_bridge->name());
  if (cuda) CHECK(std::string(device_bridge->name()) == "CUDA-GL interop");

  std::shared_ptr<void> event = stream->make_event();
  CHECK((event != nullptr) == cuda);
  const int fw = 200, fh = 150;
  for (int round = 0; round < 3; ++round) {
    std::vector<uint8_t> rgb = bars_frame(fw + round * 8, fh);
    torch::Tensor map, channels;
    std::vector<int> order;
    {
      const model::DeviceStream::Scope on_stream(stream.get());
      torch::Tensor x = m->preprocess(rgb.data(), fw + round * 8, fh);
      CHECK(x.device() == m->device());
      explain::Request req;
      req.method = explain::Method::GradCam;
      explain::Result r = explain::explain(*m, x, req);
      map = explain::map_stack(r.map);
      REQUIRE(map.defined());
      CHECK(map.device() == m->device());
      torch::Tensor a = r.activation.detach().squeeze(0).to(torch::kFloat);
      channels = explain::normalize_channels(a).contiguous();
      // Display order: the most active channels first, top 6 (what the grid panel shows).
      for (int64_t c : explain::top_k(explain::channel_mean(a), 6)) order.push_back(static_cast<int>(c));
      stream->record(event.get());
    }
    const torch::Tensor grid = explain::grid_stack(channels, order);
    REQUIRE(grid.size(0) == static_cast<int64_t>(order.size()));
    // The gather is exact.
    for (size_t i = 0; i < order.size(); ++i)
      CHECK(torch::equal(grid[static_cast<int64_t>(i)], channels[order[i]]));

    const DeviceBuffer dmap = explain::keep(map, event.get());
    const DeviceBuffer dgrid = explain::keep(grid, event.get());
    CHECK(dmap.cuda == cuda);
    CHECK(explain::kept_tensor(dmap).data_ptr<float>() == map.data_ptr<float>());
    gpu::MapDesc dev[2] = {gpu::map_desc(dmap, false), gpu::map_desc(dgrid, true)};
    gpu::CudaSync sync;
    sync.ready_event = event.get();
    device_bridge->upload(dev, 2, sync);
    CHECK(device_bridge->last_frame().device_to_host == 0);
    if (cuda) {
      CHECK(device_bridge->last_frame().host_to_gl == 0);
      CHECK(device_bridge->last_frame().device_to_gl >= dmap.bytes() + dgrid.bytes());
    }

    // The host path: host copies of the same tensors.
    const torch::Tensor hmap = map.to(torch::kCPU).contiguous();
    const torch::Tensor hgrid = grid.to(torch::kCPU).contiguous();
    gpu::MapDesc host[2];
    host[0].data = hmap.data_ptr<float>();
    host[0].width = static_cast<int>(hmap.size(2));
    host[0].height = static_cast<int>(hmap.size(1));
    host[1].data = hgrid.data_ptr<float>();
    host[1].width = static_cast<int>(hgrid.size(2));
    host[1].height = static_cast<int>(hgrid.size(1));
    host[1].channels = static_cast<int>(hgrid.size(0));
    host[1].grid = render::GridLayout::make(host[1].channels, host[1].width, host[1].height, 1);
    host_bridge->upload(host, 2);

    for (size_t slot = 0; slot < 2; ++slot) {
      const gpu::BridgeTexture a = device_bridge->texture(slot), b = host_bridge->texture(slot);
      CHECK(a.width == b.width);
      CHECK(a.height == b.height);
      CHECK(same_bits(read_texture(a), read_texture(b)));
    }
    CHECK(device_bridge->texture(1).grid.count == static_cast<int>(order.size()));

    // Clip levels: computed next to the map on its device, equal to the host rule's value at
    // every listed percent.
    const std::vector<float> levels = explain::clip_levels(map);
    const std::vector<float>& percents = clip_level_percents();
    REQUIRE(levels.size() == percents.size());
    std::vector<float> values(hmap.data_ptr<float>(), hmap.data_ptr<float>() + hmap.numel());
    int bad = 0;
    for (size_t i = 0; i < percents.size(); i += 7) {
      std::vector<float> s = values;
      const size_t k = clip_rank(s.size(), percents[i]);
      std::nth_element(s.begin(), s.begin() + static_cast<std::ptrdiff_t>(k), s.end());
      bad += s[k] != levels[i];
    }
    CHECK(bad == 0);
    CHECK(clip_from_levels(levels, 2.f) == clip_saturation(levels[19]));
  }
  // The steady state allocates no texture storage after the first frame of each size.
  CHECK(device_bridge->allocations() <= host_bridge->allocations());
}

TEST_CASE("device path: helpers keep shapes and refuse bad layouts") {
  const torch::Tensor c = torch::arange(24, torch::kFloat).view({4, 2, 3});
  CHECK(explain::grid_stack(c, {0, 1, 2, 3}).data_ptr<float>() == c.data_ptr<float>());
  const torch::Tensor g = explain::grid_stack(c, {3, 0});
  CHECK(g.size(0) == 2);
  CHECK(g[0][1][2].item<float>() == 3 * 6 + 5);
  CHECK(!explain::grid_stack(c, {}).defined());
  CHECK(explain::map_stack(torch::ones({5, 7})).sizes() == torch::IntArrayRef({1, 5, 7}));
  CHECK(!explain::map_stack(torch::ones({2, 5, 7})).defined());
  CHECK(explain::keep(torch::Tensor()).empty());
  CHECK_THROWS_AS(explain::keep(c.transpose(1, 2)), Error);
  CHECK_THROWS_AS(explain::keep(c.to(torch::kDouble)), Error);
  const DeviceBuffer b = explain::keep(c);
  CHECK(b.channels == 4);
  CHECK(b.height == 2);
  CHECK(b.width == 3);
  CHECK(b.bytes() == 24 * sizeof(float));
  CHECK(!b.cuda);
  const gpu::MapDesc d = gpu::map_desc(b, true);
  CHECK(d.memory == gpu::Memory::Host);
  CHECK(d.grid.count == 4);
  CHECK(gpu::map_desc(b, false).channels == 0);
  // An inert stream (no CUDA device): no handle, no events, recording is a no-op.
  auto inert = model::DeviceStream::create(-1);
  CHECK(!inert->active());
  CHECK(inert->handle() == nullptr);
  CHECK(inert->make_event() == nullptr);
  inert->record(nullptr);
  const model::DeviceStream::Scope scope(inert.get());
  // clip levels of a known ramp: 0..999 / 999; top 1 % begins at rank round(0.99 * 999) = 989.
  const torch::Tensor ramp = torch::arange(1000, torch::kFloat) / 999.f;
  const std::vector<float> lv = explain::clip_levels(ramp.view({1, 1, 1000}));
  CHECK(clip_from_levels(lv, 1.f) == doctest::Approx(989.f / 999.f));
  CHECK(clip_from_levels(lv, 0.f) == 1.f);
  CHECK(clip_from_levels({}, 2.f) == 1.f);
}
