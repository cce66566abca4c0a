#include "gpu/upload_bench.h"

#include <chrono>

namespace camscope::gpu {
namespace {

UploadBenchResult run_case(const std::string& name, TextureBridge& bridge, const MapDesc& map,
                           int frames) {
  bridge.upload(map);  // warm-up: allocation happens here, not in the timed frames
  glFinish();
  const auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < frames; ++i) {
    bridge.upload(map);
    glFinish();  // the copy must have landed for the time to mean anything
  }
  const auto t1 = std::chrono::steady_clock::now();
  UploadBenchResult r;
  r.name = name + " (" + bridge.name() + ")";
  r.width = bridge.texture(0).width;
  r.height = bridge.texture(0).height;
  r.bytes_per_frame = bridge.last_frame().total();
  r.ms_per_frame = std::chrono::duration<double, std::milli>(t1 - t0).count() / frames;
  return r;
}

}  // namespace

std::vector<UploadBenchResult> bench_host_upload(int frames) {
  if (frames < 1) frames = 1;
  std::vector<float> grid(64 * 56 * 56), full(1920 * 1080);
  for (size_t i = 0; i < grid.size(); ++i) grid[i] = static_cast<float>(i % 997) / 997.f;
  for (size_t i = 0; i < full.size(); ++i) full[i] = static_cast<float>(i % 1013) / 1013.f;
  MapDesc grid_map;
  grid_map.data = grid.data();
  grid_map.width = grid_map.height = 56;
  grid_map.channels = 64;
  MapDesc full_map;
  full_map.data = full.data();
  full_map.width = 1920;
  full_map.height = 1080;

  std::vector<UploadBenchResult> out;
  for (bool pbo : {false, true}) {
    auto a = make_host_bridge(pbo);
    out.push_back(run_case("grid 64x56x56", *a, grid_map, frames));
    auto b = make_host_bridge(pbo);
    out.push_back(run_case("map 1920x1080", *b, full_map, frames));
  }
  return out;
}

}  // namespace camscope::gpu
