// Image decoding equals Pillow's `Image.open(p).convert("RGB")` byte for byte (DESIGN.md
// "Decoding matches the Python ecosystem"), and hostile image files end in one printable line
// quickly and without big allocations (issue 19). References are made at test time by
// tests/app/image_refs.py with the machine's Pillow (python3-pil, on the same libjpeg-turbo).
#include <doctest/doctest.h>
#include <stb_image.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "test_support.h"
#include "util/error.h"
#include "util/image_io.h"
#include "util/json.h"

using namespace camscope;

namespace {

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), {});
}
void write_file(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
}

bool printable_line(const std::string& s) {
  for (unsigned char c : s)
    if (c < 0x20 || c >= 0x7f) return false;
  return !s.empty();
}

// The error message of load_image_rgb(path), or "" when it decoded.
std::string decode_error(const std::string& path, const DecodeOptions& opt = {}) {
  try {
    load_image_rgb(path, opt);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

int pillow_major() {
  static const int major = [] {
    auto r = test::run(test::python() + " -c 'import PIL; print(PIL.__version__.split(\".\")[0])'", 60);
    try {
      return std::stoi(r.output);
    } catch (...) {
      return -1;
    }
  }();
  return major;
}

long max_rss_kb() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_maxrss;
}

struct RefLine {
  std::string file, orient, ref, error;
  int width = 0, height = 0;
};

std::vector<RefLine> make_references(const test::TempDir& dir, const std::string& extra) {
  auto r = test::run("'" + test::python() + "' '" + test::source_dir() +
                         "/tests/app/image_refs.py' '" + dir.str() + "'" + extra,
                     600);
  REQUIRE_MESSAGE(r.status == 0, r.output);
  std::vector<RefLine> lines;
  std::ifstream in(dir.str("manifest.txt"));
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    std::vector<std::string> f;
    std::stringstream ss(line);
    std::string field;
    while (std::getline(ss, field, '\t')) f.push_back(field);
    REQUIRE(f.size() >= 4);
    RefLine l;
    l.file = f[0];
    l.orient = f[1];
    if (f[2] == "ERR") {
      l.error = f[3];
    } else {
      REQUIRE(f.size() == 5);
      l.width = std::stoi(f[2]);
      l.height = std::stoi(f[3]);
      l.ref = f[4];
    }
    lines.push_back(l);
  }
  return lines;
}

std::string ext_of(const std::string& f) { return std::filesystem::path(f).extension().string(); }

}  // namespace

TEST_CASE("every decoded image equals PIL's convert(\"RGB\") byte for byte") {
  test::TempDir dir("img_decode");
  // The project's shared photos too, when ../shared is here.
  std::string extra;
  const std::string shared = test::shared_dir() + "/images/person_detect";
  if (std::filesystem::is_directory(shared)) {
    for (const auto& e : std::filesystem::directory_iterator(shared)) {
      const std::string x = ext_of(e.path().string());
      if (x == ".jpg" || x == ".jpeg" || x == ".png" || x == ".bmp" || x == ".gif")
        extra += " '" + e.path().string() + "'";
    }
  } else {
    MESSAGE("SKIPPED (shared photos): " << shared << " not present");
  }
  const std::vector<RefLine> refs = make_references(dir, extra);
  REQUIRE(refs.size() > 90);

  int compared = 0, failed_as_pil = 0, jpegs = 0, stb_differs = 0;
  std::map<std::string, int> per_format;
  for (const RefLine& r : refs) {
    CAPTURE(r.file);
    CAPTURE(r.orient);
    DecodeOptions opt;
    opt.apply_exif_orientation = r.orient == "apply";
    if (!r.error.empty()) {  // Pillow refuses it: so do we, in one printable line
      const std::string err = decode_error(r.file, opt);
      CHECK_MESSAGE(!err.empty(), "decoded a file Pillow refuses (" << r.error << ")");
      CHECK(printable_line(err));
      ++failed_as_pil;
      continue;
    }
    // Pixels that index past a short palette: camscope follows Pillow 9.4 (Debian 12); Pillow
    // 11 (Debian 13) fills them differently. Compared only against Pillow 9.
    if ((r.file.find("short_plte") != std::string::npos ||
         r.file.find("short_palette") != std::string::npos) &&
        pillow_major() != 9) {
      MESSAGE("not compared on Pillow " << pillow_major() << " (camscope follows Pillow 9.4): "
                                        << r.file);
      continue;
    }
    Image img;
    try {
      img = load_image_rgb(r.file, opt);
    } catch (const Error& e) {
      FAIL_CHECK("not decoded: " << e.what());
      continue;
    }
    CHECK(img.channels == 3);
    CHECK(img.width == r.width);
    CHECK(img.height == r.height);
    const std::string ref = read_file(r.ref);
    REQUIRE(ref.size() == static_cast<size_t>(r.width) * r.height * 3);
    if (img.pixels.size() != ref.size()) continue;
    size_t diff = 0;
    int max_diff = 0;
    for (size_t i = 0; i < ref.size(); ++i) {
      const int d = std::abs(int(img.pixels[i]) - int(static_cast<uint8_t>(ref[i])));
      diff += d != 0;
      max_diff = std::max(max_diff, d);
    }
    CHECK_MESSAGE(diff == 0, diff << " of " << ref.size() << " samples differ, by up to " << max_diff);
    ++compared;
    ++per_format[ext_of(r.file)];

    // The test's teeth: stb_image (the old decoder) differs from Pillow on JPEG photos.
    if (ext_of(r.file) == ".jpg" && r.orient == "ignore" && r.width * r.height >= 640 * 480) {
      ++jpegs;
      const std::string bytes = read_file(r.file);
      int w = 0, h = 0, n = 0;
      unsigned char* px = stbi_load_from_memory(reinterpret_cast<const unsigned char*>(bytes.data()),
                                                static_cast<int>(bytes.size()), &w, &h, &n, 3);
      if (px) {
        stb_differs += std::memcmp(px, ref.data(), ref.size()) != 0;
        stbi_image_free(px);
      }
    }
  }
  MESSAGE(compared << " images equal to PIL (" << per_format[".jpg"] << " JPEG, "
                   << per_format[".png"] << " PNG, " << per_format[".bmp"] << " BMP, "
                   << per_format[".gif"] << " GIF); " << failed_as_pil
                   << " refused as PIL refuses them; stb_image differs from PIL on " << stb_differs
                   << " of " << jpegs << " photo-sized JPEGs");
  CHECK(per_format[".jpg"] >= 30);
  CHECK(per_format[".png"] >= 30);
  CHECK(per_format[".bmp"] >= 15);
  CHECK(per_format[".gif"] >= 8);
  CHECK(failed_as_pil >= 3);
  CHECK(stb_differs > 0);  // otherwise this test could not tell the decoders apart
}

TEST_CASE("EXIF orientation: ignored by default (PIL), applied on request (exif_transpose)") {
  test::TempDir dir("img_exif");
  const std::vector<RefLine> refs = make_references(dir, "");
  const std::string p = dir.str("orient6.jpg");
  Image raw = load_image_rgb(p);
  DecodeOptions apply;
  apply.apply_exif_orientation = true;
  Image turned = load_image_rgb(p, apply);
  CHECK(raw.width == 40);
  CHECK(raw.height == 24);
  CHECK(turned.width == 24);
  CHECK(turned.height == 40);
  // Orientation 6 = rotate 90 degrees clockwise: the raw bottom-left pixel ends top-left.
  CHECK(std::memcmp(&turned.pixels[0], &raw.pixels[(23 * 40 + 0) * 3], 3) == 0);
  // Every orientation 1..8 of a lossless PNG against exif_transpose (also in the first case).
  int checked = 0;
  for (const RefLine& r : refs) {
    if (r.file.find("/orient") == std::string::npos || r.file.find(".png") == std::string::npos)
      continue;
    DecodeOptions opt;
    opt.apply_exif_orientation = r.orient == "apply";
    Image img = load_image_rgb(r.file, opt);
    CAPTURE(r.file);
    CAPTURE(r.orient);
    CHECK(img.width == r.width);
    const std::string ref = read_file(r.ref);
    CHECK(img.pixels == std::vector<uint8_t>(ref.begin(), ref.end()));
    ++checked;
  }
  CHECK(checked == 16);
}

TEST_CASE("a BMP whose header claims 64 x 2,424,880 pixels is refused at once, naming the limit") {
  test::TempDir dir("img_liar");
  auto bmp = [](uint32_t w, uint32_t h, size_t total) {
    std::string b(total, '\0');
    auto put32 = [&](size_t at, uint32_t v) {
      for (int i = 0; i < 4; ++i) b[at + i] = static_cast<char>(v >> (8 * i));
    };
    b[0] = 'B';
    b[1] = 'M';
    put32(2, static_cast<uint32_t>(total));
    put32(10, 54);
    put32(14, 40);
    put32(18, w);
    put32(22, h);
    b[26] = 1;
    b[28] = 24;
    return b;
  };
  write_file(dir.str("liar.bmp"), bmp(64, 2424880, 9 * 1024));
  write_file(dir.str("small_liar.bmp"), bmp(64, 100000, 9 * 1024));
  const long rss0 = max_rss_kb();
  const auto t0 = std::chrono::steady_clock::now();
  const std::string err = decode_error(dir.str("liar.bmp"));
  const double ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  const long grew_kb = max_rss_kb() - rss0;
  MESSAGE(err << " (" << ms << " ms, peak RSS +" << grew_kb << " KB)");
  CHECK(printable_line(err));
  CHECK(err.find("liar.bmp") != std::string::npos);
  CHECK(err.find("64x2424880") != std::string::npos);
  CHECK(err.find("384 MiB limit") != std::string::npos);
  CHECK(err.find("--max-image-mb") != std::string::npos);
  CHECK(ms < 5000);  // refused before decoding (not a timing target: a hang guard)
  CHECK(grew_kb < 32 * 1024);
  // Within the limit, but the file cannot hold what its header declares.
  const std::string small = decode_error(dir.str("small_liar.bmp"));
  CHECK(small.find("64x100000") != std::string::npos);
  CHECK(small.find("file holds") != std::string::npos);
  // A raised limit lets the big one reach the same file-size check; a lowered one names itself.
  DecodeOptions big;
  big.max_decoded_mb = 1024;
  CHECK(decode_error(dir.str("liar.bmp"), big).find("file holds") != std::string::npos);
  DecodeOptions tiny;
  tiny.max_decoded_mb = 1;
  CHECK(decode_error(dir.str("small_liar.bmp"), tiny).find("over the 1 MiB limit") != std::string::npos);
  CHECK(max_rss_kb() - rss0 < 32 * 1024);
}

TEST_CASE("a PNG header of 1 x 2147483647 is reported as too large, not as an unknown type") {
  test::TempDir dir("img_tall");
  std::vector<uint8_t> px(3, 200);
  write_png(dir.str("ok.png"), px.data(), 1, 1, 3);
  std::string b = read_file(dir.str("ok.png"));
  REQUIRE(b.substr(12, 4) == "IHDR");
  const uint32_t h = 2147483647u;
  for (int i = 0; i < 4; ++i) b[20 + i] = static_cast<char>(h >> (24 - 8 * i));
  write_file(dir.str("tall.png"), b);  // (the IHDR CRC is now wrong too: the size comes first)
  const std::string err = decode_error(dir.str("tall.png"));
  CHECK(printable_line(err));
  CHECK_MESSAGE(err.find("1x2147483647") != std::string::npos, err);
  CHECK(err.find("limit") != std::string::npos);
  CHECK(err.find("unknown") == std::string::npos);
}

TEST_CASE("devices, pipes, folders and /proc files give one clear line, without hanging") {
  test::TempDir dir("img_special");
  const std::string fifo = dir.str("pipe.png");
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  struct Case {
    std::string path, needle;
  };
  const std::vector<Case> cases = {{"/dev/zero", "not a regular file"},
                                   {"/dev/null", "not a regular file"},
                                   {fifo, "not a regular file"},
                                   {dir.str(), "folder"},
                                   {"/proc/self/mem", "/proc/self/mem"},
                                   {"/proc/self/status", "/proc/self/status"},
                                   {dir.str("none.jpg"), "no such file"}};
  for (const Case& c : cases) {
    CAPTURE(c.path);
    const auto t0 = std::chrono::steady_clock::now();
    const std::string err = decode_error(c.path);
    CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(10));  // no hang
    CHECK(printable_line(err));
    CHECK_MESSAGE(err.find(c.needle) != std::string::npos, err);
  }
  // An empty file says so.
  write_file(dir.str("empty.png"), "");
  CHECK(decode_error(dir.str("empty.png")).find("empty") != std::string::npos);
}

TEST_CASE("damaged files of every format fail in one printable line or decode; never crash") {
  test::TempDir dir("img_fuzz");
  std::vector<uint8_t> px(48 * 32 * 3);
  std::mt19937 rng(19);
  for (auto& v : px) v = static_cast<uint8_t>(rng());
  write_png(dir.str("seed.png"), px.data(), 48, 32, 3);
  auto r = test::run("'" + test::python() + "' -c \"from PIL import Image; im = Image.open('" +
                     dir.str("seed.png") + "'); im.save('" + dir.str("seed.jpg") +
                     "', progressive=True); im.save('" + dir.str("seed.bmp") + "'); im.save('" +
                     dir.str("seed.gif") + "'); im.convert('P').save('" + dir.str("seed8.bmp") + "')\"");
  REQUIRE_MESSAGE(r.status == 0, r.output);
  int errors = 0, decoded = 0;
  for (const char* name : {"seed.png", "seed.jpg", "seed.bmp", "seed.gif", "seed8.bmp"}) {
    const std::string clean = read_file(dir.str(name));
    for (int trial = 0; trial < 60; ++trial) {
      std::string b = clean;
      const int mode = trial % 3;
      if (mode == 0) {  // random bytes anywhere after the magic
        for (int k = 0; k < 8; ++k) b[4 + rng() % (b.size() - 4)] = static_cast<char>(rng());
      } else if (mode == 1) {  // cut short
        b.resize(4 + rng() % (b.size() - 4));
      } else {  // header bytes only (sizes, depths, offsets)
        for (int k = 0; k < 3; ++k) b[4 + rng() % std::min<size_t>(60, b.size() - 4)] = static_cast<char>(rng());
      }
      const std::string path = dir.str("fuzz_" + std::string(name));
      write_file(path, b);
      const std::string err = decode_error(path);
      CAPTURE(name);
      CAPTURE(trial);
      if (err.empty()) {
        ++decoded;
      } else {
        ++errors;
        CHECK_MESSAGE(printable_line(err), err);
        CHECK(err.find("fuzz_") != std::string::npos);
      }
    }
  }
  MESSAGE(errors << " damaged files refused, " << decoded << " decoded");
}

TEST_CASE("camscope export/view: --exif-orientation apply|ignore and --max-image-mb") {
  test::TempDir dir("img_cli");
  auto r = test::run("'" + test::python() + "' -c \"from PIL import Image; import numpy as np; "
                     "e = Image.Exif(); e[0x0112] = 6; "
                     "Image.fromarray((np.arange(40*24*3) % 251).astype('uint8').reshape(24, 40, 3))"
                     ".save('" + dir.str("o6.jpg") + "', exif=e.tobytes())\"");
  REQUIRE_MESSAGE(r.status == 0, r.output);
  auto source_size = [&](const std::string& extra, const std::string& out) {
    auto e = test::camscope("export --input '" + dir.str("o6.jpg") + "' --overlay none --out '" +
                            dir.str(out) + "' " + extra);
    REQUIRE_MESSAGE(e.status == 0, e.output);
    return read_json_file(dir.str(out) + "/summary.json")["frames"][0]["source_size"];
  };
  CHECK(source_size("", "default") == Json::array({40, 24}));
  CHECK(source_size("--exif-orientation ignore", "ignore") == Json::array({40, 24}));
  CHECK(source_size("--exif-orientation apply", "apply") == Json::array({24, 40}));

  auto bad = test::camscope("export --input '" + dir.str("o6.jpg") + "' --out '" + dir.str("x") +
                            "' --exif-orientation sideways");
  CHECK(bad.status != 0);
  CHECK(bad.output.find("apply or ignore") != std::string::npos);
  CHECK(test::line_count(bad.output) == 1);
  auto view_bad = test::camscope("view --headless --exif-orientation sideways");
  CHECK(view_bad.status != 0);
  CHECK(view_bad.output.find("apply or ignore") != std::string::npos);
  auto limit = test::camscope("export --input '" + dir.str("o6.jpg") + "' --out '" +
                              dir.str("y") + "' --max-image-mb 0");
  CHECK(limit.status != 0);
  CHECK(limit.output.find("--max-image-mb") != std::string::npos);
  auto help = test::camscope("export --help");
  CHECK(help.output.find("--exif-orientation") != std::string::npos);
  CHECK(help.output.find("--max-image-mb") != std::string::npos);
}
