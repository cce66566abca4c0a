// Hostile input end to end (issue 19): damaged video costs what decoding it costs and every lost
// frame is reported; malformed sidecars, pseudo-files, options without values and models that
// raise all end in one printable line naming the cause.
#include <doctest/doctest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <random>

#include "capture/frame_source.h"
#include "test_support.h"
#include "util/error.h"
#include "util/json.h"

using namespace camscope;

namespace {

std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), {});
}
void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
}

std::string builtin_model() { return test::source_dir() + "/assets/builtin.pt"; }

// 75 frames of 320x240 at 25 fps, as the ffmpeg CLI makes them.
std::string make_clip(const test::TempDir& dir, const std::string& name, const std::string& codec) {
  const std::string out = dir.str(name);
  auto r = test::run("ffmpeg -hide_banner -loglevel error -y -f lavfi -i testsrc2=size=320x240:rate=25 "
                     "-t 3 " + codec + " '" + out + "'",
                     120);
  REQUIRE_MESSAGE(r.status == 0, r.output);
  return out;
}

// MJPEG in AVI with the JPEG data of the given frames wiped: those frames cannot be decoded.
std::string make_mjpeg_with_holes(const test::TempDir& dir, const std::string& name,
                                  const std::vector<int>& holes) {
  const std::string clean = make_clip(dir, "clean_" + name, "-c:v mjpeg -q:v 5");
  std::string bytes = read_bytes(clean);
  std::vector<size_t> soi;  // start of each frame's JPEG data
  for (size_t i = 0; i + 2 < bytes.size(); ++i)
    if (static_cast<uint8_t>(bytes[i]) == 0xFF && static_cast<uint8_t>(bytes[i + 1]) == 0xD8 &&
        static_cast<uint8_t>(bytes[i + 2]) == 0xFF)
      soi.push_back(i);
  REQUIRE(soi.size() == 75);
  for (int h : holes) {
    REQUIRE(h + 1 < 75);
    std::fill(bytes.begin() + soi[h], bytes.begin() + soi[h + 1] - 16, '\0');
  }
  const std::string out = dir.str(name);
  write_bytes(out, bytes);
  return out;
}

// H.264 (GOP 25) with bits flipped in the middle third of the file by a fixed-seed loop.
std::string make_bitflipped_h264(const test::TempDir& dir, const std::string& name, unsigned seed,
                                 int flips) {
  const std::string clean = make_clip(dir, "clean_" + name, "-c:v libx264 -g 25");
  std::string bytes = read_bytes(clean);
  std::mt19937 rng(seed);
  const size_t lo = bytes.size() / 3, span = bytes.size() / 3;
  for (int i = 0; i < flips; ++i) bytes[lo + rng() % span] ^= static_cast<char>(1u << (rng() % 8));
  const std::string out = dir.str(name);
  write_bytes(out, bytes);
  return out;
}

struct Walk {
  int64_t decoded = 0, skipped = 0;
  capture::DecoderStats stats;
};
Walk walk(const std::string& path) {
  Walk w;
  auto src = capture::open_source(path);
  capture::Frame f;
  while (src->next(f)) ++w.decoded;
  w.skipped = src->skipped();
  w.stats = src->decoder_stats();
  return w;
}

bool has(const std::string& text, const std::string& part) {
  INFO("text: " << text << "\nwanted: " << part);
  return text.find(part) != std::string::npos;
}

// The run failed with exactly one non-empty output line, "camscope: error: ...".
void check_one_error_line(const test::RunResult& r) {
  INFO(r.output);
  CHECK(r.status != 0);
  CHECK(test::line_count(r.output) == 1);
  CHECK(has(r.output, "camscope: error: "));
}

}  // namespace

TEST_CASE("damaged frames are written off where they are met: no seek per damaged frame") {
  test::TempDir dir("hostile_seeks");
  // Every third frame from 9 on is undecodable (21 frames).
  std::vector<int> holes;
  for (int k = 9; k < 70; k += 3) holes.push_back(k);
  const Walk m = walk(make_mjpeg_with_holes(dir, "holes.avi", holes));
  CHECK(m.decoded == 54);
  CHECK(m.skipped == 21);
  CHECK(m.stats.opens == 1);
  CHECK(m.stats.seeks <= 2);  // was one (or three) per damaged frame
  for (unsigned seed : {1u, 2u, 3u}) {
    const Walk w = walk(make_bitflipped_h264(dir, "flip" + std::to_string(seed) + ".mp4", seed, 2000));
    INFO("seed " << seed << ": " << w.decoded << " decoded, " << w.skipped << " skipped");
    CHECK(w.decoded + w.skipped == 75);
    CHECK(w.stats.opens == 1);
    CHECK(w.stats.seeks <= 2);
  }
}

TEST_CASE("export reports an undecodable frame (warning + summary entry) and does not seek per frame") {
  test::TempDir dir("hostile_export_skip");
  const std::string clip = make_mjpeg_with_holes(dir, "frame9.avi", {9});
  auto r = test::camscope("export --input '" + clip + "' --overlay none --out '" + dir.str("o") + "'");
  INFO(r.output);
  REQUIRE(r.status == 0);
  CHECK(has(r.output, "warning: " + clip + ": frame 9 could not be decoded; skipped"));
  const Json s = read_json_file(dir.str("o/summary.json"));
  REQUIRE(s["frames"].size() == 75);  // 74 decoded + the skipped one, in index order
  for (size_t i = 0; i < 75; ++i) CHECK(s["frames"][i]["index"] == i);
  const Json& f9 = s["frames"][9];
  CHECK(f9["skipped"] == true);
  REQUIRE(f9["warnings"].is_array());
  CHECK(has(f9["warnings"][0].get<std::string>(), "could not be decoded"));
  CHECK_FALSE(s["frames"][8].contains("skipped"));
  CHECK_FALSE(std::filesystem::exists(dir.str("o/cam_000009.npy")));
  CHECK(std::filesystem::exists(dir.str("o/cam_000010.npy")));
  CHECK(s["source_stats"]["skipped"] == 1);
  CHECK(s["source_stats"]["decoder_seeks"].get<int64_t>() <= 2);

  // Bit-flipped H.264 on the built-in model: a handful of seeks at most, not one per frame.
  const std::string flipped = make_bitflipped_h264(dir, "flipped.mp4", 1, 2000);
  r = test::camscope("export --input '" + flipped + "' --overlay none --out '" + dir.str("f") + "'");
  REQUIRE_MESSAGE(r.status == 0, r.output);
  const Json fs = read_json_file(dir.str("f/summary.json"));
  CHECK(fs["frames"].size() == 75);
  CHECK(fs["source_stats"]["decoder_seeks"].get<int64_t>() <= 3);
  CHECK(fs["source_stats"]["decoder_opens"] == 1);
  int64_t skipped = 0;
  for (const auto& f : fs["frames"]) skipped += f.value("skipped", false);
  CHECK(skipped == fs["source_stats"]["skipped"].get<int64_t>());
}

TEST_CASE("malformed sidecars are refused, never replaced by the defaults") {
  test::TempDir dir("hostile_sidecar_cli");
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"null", "must be a JSON object"},
      {"42", "must be a JSON object"},
      {"\"x\"", "must be a JSON object"},
      {"[]", "must be a JSON object"},
      {"{}", "input is required"},
      {R"({"input": [1, 2]})", "input must be an object"},
      {R"({"input": {"size": [112, 112], "mean": [1e308, 0, 0]}})", "input.mean[0] must be within"},
      {R"({"input": {"size": [112, 112], "std": [0.2, 0, 0.2]}})", "input.std[1] must be > 0"},
      {R"({"input": {"size": [112, 112]}, "labels": ["a", "b"]})", "lists 2 labels"},
  };
  int k = 0;
  for (const auto& [text, want] : cases) {
    const std::string side = dir.str("s" + std::to_string(k++) + ".json");
    write_bytes(side, text);
    auto r = test::camscope("info --model '" + builtin_model() + "' --model-config '" + side + "'");
    INFO("sidecar: " << text);
    check_one_error_line(r);
    CHECK(has(r.output, want));
    CHECK(has(r.output, side));
  }
}

TEST_CASE("a labels_file of /dev/zero fails at once, naming why") {
  test::TempDir dir("hostile_devzero");
  write_bytes(dir.str("z.json"), R"({"input": {"size": [112, 112]}, "labels_file": "/dev/zero"})");
  const auto t0 = std::chrono::steady_clock::now();
  auto r = test::camscope("info --model '" + builtin_model() + "' --model-config '" + dir.str("z.json") + "'", 60);
  check_one_error_line(r);
  CHECK(has(r.output, "/dev/zero: not a regular file"));
  CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(30));
}

TEST_CASE("--max-file-mb bounds the sidecar and its labels, and raises the limit") {
  test::TempDir dir("hostile_maxfile");
  {
    std::ofstream f(dir.str("labels.txt"));
    for (int i = 0; i < 200000; ++i) f << "label_number_" << i << "\n";  // ~3.7 MB
  }
  write_bytes(dir.str("m.json"), R"({"input": {"size": [112, 112]}, "labels_file": "labels.txt"})");
  auto r = test::camscope("info --max-file-mb 1 --model '" + builtin_model() + "' --model-config '" +
                          dir.str("m.json") + "'");
  check_one_error_line(r);
  CHECK(has(r.output, "labels.txt"));
  CHECK(has(r.output, "over the 1 MB limit"));
  CHECK(has(r.output, "--max-file-mb"));
  // Within the limit it reads them (and then finds 200000 labels for 6 classes).
  r = test::camscope("info --max-file-mb=8 --model '" + builtin_model() + "' --model-config '" +
                     dir.str("m.json") + "'");
  check_one_error_line(r);
  CHECK(has(r.output, "lists 200000 labels"));
  r = test::camscope("info --max-file-mb 0 --model '" + builtin_model() + "'");
  check_one_error_line(r);
  CHECK(has(r.output, "--max-file-mb expects"));
}

TEST_CASE("/proc and device files as --model or --input are not regular files (not 'empty')") {
  test::TempDir dir("hostile_proc");
  for (const std::string& args :
       {std::string("export --model /proc/self/mem --input synthetic --frames 0:1 --out '") +
            dir.str("o") + "'",
        std::string("export --input /proc/self/mem --out '") + dir.str("o") + "'",
        std::string("export --input /dev/zero --out '") + dir.str("o") + "'",
        std::string("info --model /dev/zero")}) {
    auto r = test::camscope(args, 60);
    INFO(args);
    check_one_error_line(r);
    CHECK(has(r.output, "not a regular file"));
    CHECK_FALSE(has(r.output, "empty"));
  }
}

TEST_CASE("an option given where a value belongs is refused; negative numbers reach validation") {
  test::TempDir dir("hostile_args");
  auto r = test::camscope("export --method --out '" + dir.str("o") + "' --input synthetic");
  check_one_error_line(r);
  CHECK(has(r.output, "option --method needs a value, got the option --out"));
  CHECK_FALSE(std::filesystem::exists(dir.str("o")));
  r = test::camscope("export --alpha -0.5 --input synthetic --frames 0:1 --out '" + dir.str("o") + "'");
  check_one_error_line(r);
  CHECK(has(r.output, "--alpha expects a number in [0, 1], got '-0.5'"));
  r = test::camscope("export --target -1 --input synthetic --frames 0:1 --out '" + dir.str("o") + "'");
  check_one_error_line(r);
  // The value reaches --target's own validation (not taken for an option).
  CHECK(has(r.output, "--target '-1' is not a class of the model"));
}

TEST_CASE("a model that fails inside TorchScript: the cause on one line, not the interpreter's header") {
  const std::string person = test::shared_file("models/person_detect_mbv1_025.pt");
  test::TempDir dir("hostile_torch");
  if (!person.empty()) {
    write_bytes(dir.str("p32.json"),
                R"({"input": {"size": [32, 32], "color": "gray", "mean": [0.5], "std": [0.5]}})");
    auto r = test::camscope("export --model '" + person + "' --model-config '" + dir.str("p32.json") +
                            "' --input synthetic --frames 0:1 --overlay none --out '" + dir.str("p") + "'");
    check_one_error_line(r);
    CHECK_FALSE(has(r.output, "The following operation failed"));
    CHECK(has(r.output, "RuntimeError: "));
    CHECK(has(r.output, "Output size is too small"));
    CHECK(has(r.output, "avg_pool2d"));
  }
  // A scripted model that loads (its probe input is all zeros) and raises on real frames.
  const std::string py = dir.str("raise.py");
  write_bytes(py,
              "import sys, torch\n"
              "class M(torch.nn.Module):\n"
              "    def __init__(self):\n"
              "        super().__init__()\n"
              "        self.conv = torch.nn.Conv2d(3, 4, 3)\n"
              "        self.fc = torch.nn.Linear(4, 2)\n"
              "    def forward(self, x):\n"
              "        y = torch.relu(self.conv(x))\n"
              "        if bool(x.abs().sum() > 0):\n"
              "            raise ValueError('frames with content are not supported')\n"
              "        return self.fc(y.mean([2, 3]))\n"
              "torch.jit.script(M().eval()).save(sys.argv[1])\n");
  auto made = test::run(test::python() + " '" + py + "' '" + dir.str("raise.pt") + "'");
  REQUIRE_MESSAGE(made.status == 0, made.output);
  write_bytes(dir.str("raise.json"),
              R"({"input": {"size": [32, 32], "mean": [0.5, 0.5, 0.5], "std": [0.25, 0.25, 0.25]}})");
  auto r = test::camscope("export --model '" + dir.str("raise.pt") +
                          "' --input synthetic --frames 0:1 --overlay none --out '" + dir.str("r") + "'");
  check_one_error_line(r);
  CHECK_FALSE(has(r.output, "The following operation failed"));
  CHECK(has(r.output, "ValueError: frames with content are not supported"));
}

TEST_CASE("error text is printable: control characters and non-UTF-8 bytes are escaped") {
  // A file name with an ANSI escape sequence and an invalid byte.
  auto r = test::run("'" + test::camscope_bin() + "' info --model \"$(printf '/tmp/\\033[31mred\\377')\"");
  check_one_error_line(r);
  CHECK(r.output.find('\x1b') == std::string::npos);
  CHECK(r.output.find('\xff') == std::string::npos);
  CHECK(has(r.output, "/tmp/\\x1B[31mred\\xFF"));
  r = test::run("'" + test::camscope_bin() + "' \"$(printf 'bad\\033cmd')\"");
  CHECK(r.status != 0);
  CHECK(r.output.find('\x1b') == std::string::npos);
}
