// The Python baseline that bench/compare.sh measures camscope against must compute the same
// Grad-CAM map as camscope does, or the speed ratio compares different work. A seeded resnet18
// (scripts/export_torchvision.py, as the benchmark uses; 64x64 input to keep it quick, so the
// sidecar says resize-256-style center crop) on one frame of a generated clip:
// bench/python_baseline.py --save-first against `camscope export`'s cam_000000.npy.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>

#include "test_support.h"
#include "util/npy.h"

using namespace camscope;

TEST_CASE("python_baseline.py computes camscope's Grad-CAM map on the same frame") {
  test::TempDir dir("bench_python");
  const std::string bench = test::source_dir() + "/bench";
  const std::string model = dir.str("r18.pt");
  auto r = test::run(test::python() + " " + test::source_dir() +
                         "/scripts/export_torchvision.py resnet18 " + model + " --size 64",
                     300);
  REQUIRE_MESSAGE(r.status == 0, r.output);
  const std::string clip = dir.str("clip.mp4");
  r = test::run(
      "ffmpeg -nostdin -v error -f lavfi -i testsrc2=size=96x64:rate=10 -frames:v 3 "
      "-c:v libx264 -pix_fmt yuv420p " +
      clip);
  REQUIRE_MESSAGE(r.status == 0, r.output);

  const std::string py_map = dir.str("py.npy");
  r = test::run(test::python() + " " + bench + "/python_baseline.py --model " + model +
                    " --input " + clip + " --frames 1 --warmup 0 --threads 1 --save-first " +
                    py_map,
                300);
  REQUIRE_MESSAGE(r.status == 0, r.output);
  // The eager twin must reproduce the TorchScript module exactly.
  CHECK(r.output.find("max |diff| 0.00e+00") != std::string::npos);

  r = test::camscope("export --model " + model + " --input " + clip +
                     " --frames 0:1 --method gradcam --overlay none --out " + dir.str("exp"));
  REQUIRE_MESSAGE(r.status == 0, r.output);

  NpyArray a = read_npy(py_map);
  NpyArray b = read_npy(dir.str("exp/cam_000000.npy"));
  REQUIRE(a.shape == std::vector<int64_t>{64, 64});
  REQUIRE(b.shape == a.shape);
  float max_diff = 0.f, max_a = 0.f;
  for (size_t i = 0; i < a.data.size(); ++i) {
    max_diff = std::max(max_diff, std::fabs(a.data[i] - b.data[i]));
    max_a = std::max(max_a, a.data[i]);
  }
  CHECK(max_a == doctest::Approx(1.0f));  // a normalized map, not all zeros
  CHECK(max_diff < 1e-4f);
}
