// The pipelined `camscope export`: order and completeness with several writer threads, JPEG
// overlays, batched maps against unbatched ones, SIGINT mid-run (every file whole, summary.json
// exactly the files on disk) and --resume (byte-identical to an uninterrupted export).
#include <doctest/doctest.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <set>
#include <thread>

#include "core/explain_fixture.h"
#include "explain/explain.h"
#include "model/model.h"
#include "test_support.h"
#include "util/fs.h"
#include "util/image_encode.h"
#include "util/image_io.h"
#include "util/json.h"
#include "util/npy.h"

using namespace camscope;
namespace fs = std::filesystem;

namespace {

std::string bytes_of(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
}

// Names in `dir` matching prefix*suffix.
std::set<std::string> names(const std::string& dir, const std::string& prefix,
                            const std::string& suffix) {
  std::set<std::string> out;
  for (const auto& e : fs::directory_iterator(dir)) {
    const std::string n = e.path().filename().string();
    if (n.rfind(prefix, 0) == 0 && n.size() >= suffix.size() &&
        n.compare(n.size() - suffix.size(), suffix.size(), suffix) == 0)
      out.insert(n);
  }
  return out;
}

int count_partial(const std::string& dir) {
  int n = 0;
  for (const auto& e : fs::directory_iterator(dir))
    n += e.path().filename().string().find(".partial") != std::string::npos;
  return n;
}

torch::Tensor npy_tensor(const std::string& path) {
  NpyArray a = read_npy(path);
  return torch::tensor(a.data).reshape(a.shape);
}

}  // namespace

TEST_CASE("pipelined export: every frame, in source order, with several writers and batches") {
  if (!test::have_explain_fixtures()) return;
  const std::string fx = test::explain_fixture_dir();
  test::TempDir dir("export_pipe_order");
  const std::string out = dir.str("o");
  auto r = test::camscope("export --model " + fx + "/small.pt --input synthetic:3 --frames 5:47 "
                          "--writers 4 --batch 3 --raw --out " + out);
  REQUIRE_MESSAGE(r.status == 0, r.output);
  CHECK(r.output.find("42/42 frames") != std::string::npos);
  CHECK(r.output.find("ETA") != std::string::npos);
  const Json s = read_json_file(out + "/summary.json");
  REQUIRE(s["frames"].size() == 42);
  for (size_t i = 0; i < 42; ++i) {
    const Json& f = s["frames"][i];
    CHECK(f["index"] == 5 + static_cast<int64_t>(i));
    for (const char* stage : {"decode", "preprocess", "forward", "backward", "postprocess", "write"})
      CHECK_MESSAGE(f["timings_ms"].contains(stage), stage);
  }
  CHECK(s["export_options"]["method"] == "gradcam");
  CHECK_FALSE(s.contains("interrupted"));
  CHECK(names(out, "cam_", ".npy").size() == 42);
  CHECK(names(out, "raw_", ".npy").size() == 42);
  CHECK(names(out, "overlay_", ".png").size() == 42);
  CHECK(count_partial(out) == 0);
  CHECK_FALSE(fs::exists(out + "/summary.json.items.tmp"));
  Image ov = load_image_rgb(out + "/overlay_000017.png");
  CHECK(ov.width == 640);
  CHECK(ov.height == 360);
}

TEST_CASE("export --overlay jpg: JPEG overlays close to the PNG ones") {
  if (!test::have_explain_fixtures()) return;
  const std::string fx = test::explain_fixture_dir();
  test::TempDir dir("export_pipe_jpg");
  const std::string base =
      "export --model " + fx + "/small.pt --input synthetic:1 --frames 0:3 --out ";
  auto p = test::camscope(base + dir.str("png"));
  REQUIRE_MESSAGE(p.status == 0, p.output);
  auto j = test::camscope(base + dir.str("jpg") + " --overlay jpg --jpeg-quality 95");
  REQUIRE_MESSAGE(j.status == 0, j.output);
  CHECK(names(dir.str("jpg"), "overlay_", ".png").empty());
  REQUIRE(names(dir.str("jpg"), "overlay_", ".jpg").size() == 3);
  CHECK(bytes_of(dir.str("jpg/overlay_000001.jpg")).substr(0, 3) == "\xff\xd8\xff");
  Image a = load_image_rgb(dir.str("png/overlay_000001.png"));
  Image b = load_image_rgb(dir.str("jpg/overlay_000001.jpg"));
  REQUIRE(a.pixels.size() == b.pixels.size());
  double sum = 0;
  for (size_t i = 0; i < a.pixels.size(); ++i) sum += std::abs(int(a.pixels[i]) - int(b.pixels[i]));
  CHECK(sum / a.pixels.size() < 4.0);
  // The maps do not depend on the overlay format.
  CHECK(bytes_of(dir.str("png/cam_000002.npy")) == bytes_of(dir.str("jpg/cam_000002.npy")));
  auto bad = test::camscope(base + dir.str("q") + " --overlay jpg --jpeg-quality 101");
  CHECK(bad.status == 1);
  CHECK(bad.output.find("--jpeg-quality") != std::string::npos);
  CHECK(test::line_count(bad.output) == 1);
}

TEST_CASE("fast PNG encoder: lossless, decodes to the same pixels at every level") {
  std::vector<uint8_t> px(37 * 23 * 3);
  for (size_t i = 0; i < px.size(); ++i) px[i] = static_cast<uint8_t>((i * 7919) >> 3);
  test::TempDir dir("export_pipe_png");
  for (int level : {0, 1, 6, 9}) {
    std::vector<uint8_t> bytes;
    PngOptions o;
    o.level = level;
    encode_png(px.data(), 37, 23, 3, o, bytes);
    const std::string path = dir.str("l" + std::to_string(level) + ".png");
    write_file_atomic(path, bytes.data(), bytes.size());
    CHECK_FALSE(fs::exists(partial_path(path)));
    Image im = load_image_rgb(path);
    CHECK(im.width == 37);
    CHECK(im.height == 23);
    CHECK(im.pixels == px);
  }
}

TEST_CASE("explain_batch gives the unbatched maps") {
  if (!test::have_explain_fixtures()) return;
  const std::string fx = test::explain_fixture_dir();
  model::Model::Options o;
  o.path = fx + "/small.pt";
  o.device = "cpu";
  auto m = model::Model::load(o);
  torch::manual_seed(3);
  auto x = torch::rand({5, 3, 16, 16}) * 4 - 2;
  for (auto method : {explain::Method::Activation, explain::Method::GradCam,
                      explain::Method::GradCamPP, explain::Method::XGradCam,
                      explain::Method::LayerCam, explain::Method::Saliency}) {
    INFO(explain::method_name(method));
    for (int64_t target : {int64_t(-1), int64_t(2)}) {
      explain::Request req;
      req.method = method;
      req.target = target;
      auto batched = explain::explain_batch(*m, x, req);
      REQUIRE(batched.size() == 5);
      for (int64_t i = 0; i < 5; ++i) {
        auto one = explain::explain(*m, x.narrow(0, i, 1), req);
        CHECK(batched[i].target == one.target);
        CHECK(batched[i].layer == one.layer);
        CHECK((batched[i].map - one.map).abs().max().item<double>() < 1e-5);
        const double scale = std::max(1.0, one.raw.abs().max().item<double>());
        CHECK((batched[i].raw - one.raw).abs().max().item<double>() < 1e-5 * scale);
        CHECK((batched[i].logits - one.logits).abs().max().item<double>() < 1e-5);
      }
    }
  }
}

TEST_CASE("export --batch N gives the --batch 1 maps") {
  if (!test::have_explain_fixtures()) return;
  const std::string fx = test::explain_fixture_dir();
  test::TempDir dir("export_pipe_batch");
  for (const char* method : {"gradcam", "layercam", "scorecam"}) {
    INFO(method);
    const std::string base = std::string("export --model ") + fx +
                             "/small.pt --input synthetic:2 --frames 0:7 --overlay none --raw "
                             "--method " + method + " --out " + dir.str(method);
    auto a = test::camscope(base + "_1 --batch 1");
    REQUIRE_MESSAGE(a.status == 0, a.output);
    auto b = test::camscope(base + "_4 --batch 4");
    REQUIRE_MESSAGE(b.status == 0, b.output);
    for (int i = 0; i < 7; ++i) {
      const std::string n = format_index("cam_%06d.npy", i);
      auto m1 = npy_tensor(dir.str(std::string(method) + "_1/" + n));
      auto m4 = npy_tensor(dir.str(std::string(method) + "_4/" + n));
      CHECK((m1 - m4).abs().max().item<double>() < 1e-5);
    }
    const Json s1 = read_json_file(dir.str(std::string(method) + "_1/summary.json"));
    const Json s4 = read_json_file(dir.str(std::string(method) + "_4/summary.json"));
    for (int i = 0; i < 7; ++i) CHECK(s1["frames"][i]["target"] == s4["frames"][i]["target"]);
  }
}

TEST_CASE("SIGINT mid-export: whole files, an exact summary, exit 130; --resume finishes it") {
  if (!test::have_explain_fixtures()) return;
  const std::string fx = test::explain_fixture_dir();
  test::TempDir dir("export_pipe_sigint");
  const std::string out = dir.str("o"), ref = dir.str("ref");
  const std::string opts = " --model " + fx + "/small.pt --input synthetic:5 --frames 0:400 --raw";

  // Start it, wait for a few overlays, interrupt it.
  const std::string err_path = dir.str("stderr.txt");
  const std::string cmd = "exec '" + test::camscope_bin() + "' export" + opts + " --out " + out;
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    const int fd = ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ::dup2(fd, 2);
    ::dup2(fd, 1);
    ::execl("/bin/sh", "sh", "-c", cmd.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while (std::chrono::steady_clock::now() < deadline) {
    if (fs::exists(out + "/overlay_000012.png")) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  ::kill(pid, SIGINT);
  int st = 0;
  ::waitpid(pid, &st, 0);
  const std::string err = bytes_of(err_path);
  INFO(err);
  REQUIRE(WIFEXITED(st));
  REQUIRE(WEXITSTATUS(st) == 130);  // (a run that finished first would say 0: make it longer)
  CHECK(err.find("camscope: interrupted by SIGINT") != std::string::npos);
  CHECK(err.find("--resume") != std::string::npos);

  const Json s = read_json_file(out + "/summary.json");  // valid JSON
  CHECK(s["interrupted"] == true);
  std::set<std::string> listed_cam, listed_ov;
  for (const Json& f : s["frames"]) {
    listed_cam.insert(format_index("cam_%06d.npy", f["index"].get<int64_t>()));
    listed_ov.insert(format_index("overlay_%06d.png", f["index"].get<int64_t>()));
  }
  CHECK(listed_cam.size() >= 13);
  CHECK(listed_cam.size() < 400);
  CHECK(names(out, "cam_", ".npy") == listed_cam);
  CHECK(names(out, "overlay_", ".png") == listed_ov);
  CHECK(names(out, "raw_", ".npy").size() == listed_cam.size());
  CHECK(count_partial(out) == 0);
  for (const auto& n : listed_ov) {
    Image im = load_image_rgb(out + "/" + n);  // throws on a truncated file
    CHECK(im.width == 640);
  }
  for (const auto& n : listed_cam) CHECK(read_npy(out + "/" + n).data.size() == 16 * 16);

  // Options that differ are refused, in one line.
  auto differ = test::camscope("export" + opts + " --method layercam --resume --out " + out);
  CHECK(differ.status == 1);
  CHECK(test::line_count(differ.output) == 1);
  CHECK(differ.output.find("'method'") != std::string::npos);
  // Without --resume or --force the folder is not touched.
  auto again = test::camscope("export" + opts + " --out " + out);
  CHECK(again.status == 1);
  CHECK(again.output.find("--force") != std::string::npos);

  auto res = test::camscope("export" + opts + " --resume --out " + out);
  REQUIRE_MESSAGE(res.status == 0, res.output);
  auto full = test::camscope("export" + opts + " --out " + ref);
  REQUIRE_MESSAGE(full.status == 0, full.output);
  const Json a = read_json_file(out + "/summary.json"), b = read_json_file(ref + "/summary.json");
  CHECK_FALSE(a.contains("interrupted"));
  REQUIRE(a["frames"].size() == 400);
  REQUIRE(b["frames"].size() == 400);
  int differing = 0;
  for (int i = 0; i < 400; ++i) {
    CHECK(a["frames"][i]["index"] == i);
    CHECK(a["frames"][i]["target"] == b["frames"][i]["target"]);
    CHECK(a["frames"][i]["top"] == b["frames"][i]["top"]);
    for (const char* pat : {"cam_%06d.npy", "raw_%06d.npy", "overlay_%06d.png"}) {
      const std::string n = format_index(pat, i);
      differing += bytes_of(out + "/" + n) != bytes_of(ref + "/" + n);
    }
  }
  CHECK(differing == 0);
  CHECK(count_partial(out) == 0);
  // Resuming a finished export has nothing left to do and changes nothing.
  const std::string before = bytes_of(out + "/cam_000399.npy");
  auto noop = test::camscope("export" + opts + " --resume --out " + out);
  CHECK_MESSAGE(noop.status == 0, noop.output);
  CHECK(read_json_file(out + "/summary.json")["frames"].size() == 400);
  CHECK(bytes_of(out + "/cam_000399.npy") == before);
}
