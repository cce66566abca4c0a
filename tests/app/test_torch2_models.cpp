// TorchScript files saved by today's PyTorch (Debian 13's 2.6) load in this build — LibTorch
// 1.13 on Debian 12 or 2.x on Debian 13 — and give the Grad-CAM maps eager PyTorch 2.x gives
// (torchvision resnet18 and mobilenet_v2, traced and scripted). The files are made by a Python
// with torch >= 2: this machine's own, or, on Debian 12, the one inside the Debian 13 root that
// scripts/debian13.sh keeps (CAMSCOPE_TRIXIE_ROOT, default /var/cache/camscope/trixie).
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <string>

#include "test_support.h"
#include "util/fs.h"
#include "util/json.h"
#include "util/npy.h"

using namespace camscope;
using namespace camscope::test;

namespace {

int torch_major(const std::string& python) {
  auto r = run(python + " -c 'import torch; print(torch.__version__.split(\".\")[0])'", 120);
  if (r.status != 0) return -1;
  try {
    return std::stoi(r.output);
  } catch (...) {
    return -1;
  }
}

}  // namespace

TEST_CASE("TorchScript files saved by torch 2.x load and match eager PyTorch's Grad-CAM") {
  // Where the files are made (`host` path) and the Python that makes them (`inner` path).
  std::string maker, inner_dir;
  TempDir dir("torch2_models");
  std::string host_dir = dir.str();
  const std::string local = python();
  if (torch_major(local) >= 2) {
    maker = local;
    inner_dir = host_dir;
  } else {
    const std::string root = env_or("CAMSCOPE_TRIXIE_ROOT", "/var/cache/camscope/trixie");
    if (!std::filesystem::exists(root + "/usr/bin/python3") ||
        !std::filesystem::exists(root + "/.camscope-root-ok") || ::geteuid() != 0) {
      MESSAGE("SKIPPED: this Python's torch is 1.x and no Debian 13 root is at "
              << root << " (scripts/debian13.sh --setup makes one; needs root)");
      return;
    }
    maker = "chroot '" + root + "' /usr/bin/python3";
    inner_dir = "/tmp/camscope_torch2_" + std::to_string(::getpid());
    host_dir = root + inner_dir;
    std::filesystem::remove_all(host_dir);
    std::filesystem::create_directories(host_dir);
  }
  struct Cleanup {
    std::string path;
    ~Cleanup() {
      std::error_code ec;
      if (path.find("/tmp/camscope_torch2_") != std::string::npos)
        std::filesystem::remove_all(path, ec);
    }
  } cleanup{host_dir};
  const std::string script = source_dir() + "/tests/app/torch2_models.py";
  std::filesystem::copy_file(script, host_dir + "/make.py",
                             std::filesystem::copy_options::overwrite_existing);
  auto made = run(maker + " '" + inner_dir + "/make.py' '" + inner_dir + "'", 600);
  REQUIRE_MESSAGE(made.status == 0, made.output);
  const Json info = Json::parse(read_text_file(host_dir + "/models.json"));
  MESSAGE("models saved by torch " << info.at("torch").get<std::string>());
  CHECK(info.at("torch").get<std::string>().rfind("2.", 0) == 0);
  for (const Json& m : info.at("models")) {
    const std::string name = m.at("file").get<std::string>();
    INFO(name);
    const std::string out = dir.str("out_" + name);
    auto r = test::camscope("export --model '" + host_dir + "/" + name + ".pt' --input '" + host_dir +
                      "/input.png' --method gradcam --overlay none --out '" + out + "'");
    REQUIRE_MESSAGE(r.status == 0, r.output);
    const Json summary = Json::parse(read_text_file(out + "/summary.json"));
    CHECK(summary.at("frames").at(0).at("target").get<int>() == m.at("target").get<int>());
    const NpyArray got = read_npy(out + "/cam_000000.npy");
    const NpyArray ref = read_npy(host_dir + "/" + name + "_ref.npy");
    REQUIRE(got.shape == ref.shape);
    double worst = 0;
    for (size_t i = 0; i < got.data.size(); ++i)
      worst = std::max(worst, std::abs(double(got.data[i]) - double(ref.data[i])));
    MESSAGE(name << ": max |camscope - eager torch 2.x| = " << worst);
    CHECK(worst <= 1e-4);
  }
}
