// Hostile input to everything read outside image/video decoding (issue 19): sidecars that are
// not what the schema says, files that never end, messages that hide their cause, option
// values that are options. Each case must end in one line naming the problem.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <vector>

#include "model/model.h"
#include "model/torchscript_archive.h"
#include "test_support.h"
#include "util/args.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/image_io.h"
#include "util/json.h"

using namespace camscope;

namespace {

template <class Fn>
std::string error_of(Fn&& fn) {
  try {
    fn();
  } catch (const Error& e) {
    std::string msg = e.what();
    INFO(msg);
    CHECK(msg.find('\n') == std::string::npos);
    return msg;
  } catch (const std::exception& e) {
    FAIL("not a camscope::Error: " << e.what());
  }
  FAIL("no error");
  return "";
}

bool has(const std::string& msg, const std::string& part) {
  INFO("message: " << msg << "\nwanted: " << part);
  return msg.find(part) != std::string::npos;
}

struct Sidecars {
  test::TempDir dir{"hostile_sidecar"};
  std::string write(const std::string& name, const std::string& text) {
    std::ofstream(dir.str(name)) << text;
    return dir.str(name);
  }
  std::string error(const std::string& text) {
    const std::string p = write("s.json", text);
    return error_of([&] { model::load_sidecar(p); });
  }
};

// Restores the default file limits after a case that lowers them.
struct LimitGuard {
  ~LimitGuard() { set_max_file_mb(0); }
};

}  // namespace

TEST_CASE("a sidecar that is not an object, or lacks input, is refused (not the defaults)") {
  Sidecars s;
  for (const char* text : {"null", "42", "\"x\"", "[]", "true"}) {
    INFO(text);
    CHECK(has(s.error(text), "must be a JSON object"));
  }
  CHECK(has(s.error("{}"), "input is required"));
  CHECK(has(s.error(R"({"input": [1, 2]})"), "input must be an object, got array"));
  CHECK(has(s.error(R"({"input": null})"), "input must be an object, got null"));
  CHECK(has(s.error(R"({"input": {}})"), "input.size is required"));
}

TEST_CASE("input.size: two integers within [1, 8192]") {
  Sidecars s;
  CHECK(has(s.error(R"({"input": {"size": [32]}})"), "input.size must be [H, W]"));
  CHECK(has(s.error(R"({"input": {"size": "32x32"}})"), "input.size must be [H, W]"));
  CHECK(has(s.error(R"({"input": {"size": [32, 0]}})"), "input.size[1] must be >= 1"));
  CHECK(has(s.error(R"({"input": {"size": [-3, 32]}})"), "input.size[0] must be >= 1"));
  CHECK(has(s.error(R"({"input": {"size": [32.5, 32]}})"), "input.size[0] must be an integer"));
  CHECK(has(s.error(R"({"input": {"size": [32, "32"]}})"), "input.size[1] must be an integer"));
  CHECK(has(s.error(R"({"input": {"size": [100000, 32]}})"), "input.size[0] must be <= 8192"));
  CHECK(has(s.error(R"({"input": {"size": [32, 18446744073709551615]}})"),
            "input.size[1] must be <= 8192"));
  auto sc = model::load_sidecar(s.write("ok.json", R"({"input": {"size": [8192, 1]}})"));
  CHECK(sc.input.height == 8192);
  CHECK(sc.input.width == 1);
}

TEST_CASE("input.color / resize / antialias: enums and types") {
  Sidecars s;
  CHECK(has(s.error(R"({"input": {"size": [8, 8], "color": "RGB"}})"),
            "input.color must be one of rgb, bgr, gray, got 'RGB'"));
  CHECK(has(s.error(R"({"input": {"size": [8, 8], "color": 3}})"), "input.color must be one of"));
  CHECK(has(s.error(R"({"input": {"size": [8, 8], "resize": "crop"}})"),
            "input.resize must be one of stretch, center_crop"));
  CHECK(has(s.error(R"({"input": {"size": [8, 8], "antialias": "no"}})"),
            "input.antialias must be true or false"));
}

TEST_CASE("input.mean / std: one finite, sane number per channel, std > 0") {
  Sidecars s;
  const std::string pre = R"({"input": {"size": [8, 8], )";
  CHECK(has(s.error(pre + R"("mean": [0.5, 0.5]}})"), "input.mean needs 3 values"));
  CHECK(has(s.error(pre + R"("mean": [0.5]}})"), "input.mean needs 3 values"));
  CHECK(has(s.error(pre + R"("color": "gray", "std": [0.5, 0.5, 0.5]}})"),
            "input.std needs 1 value"));
  CHECK(has(s.error(pre + R"("std": [0.2, 0, 0.2]}})"), "input.std[1] must be > 0"));
  CHECK(has(s.error(pre + R"("std": [0.2, -1, 0.2]}})"), "input.std[1] must be > 0"));
  CHECK(has(s.error(pre + R"("std": [0.2, 1e-30, 0.2]}})"), "input.std[1] must be within"));
  CHECK(has(s.error(pre + R"("mean": [1e308, 0, 0]}})"), "input.mean[0] must be within"));
  CHECK(has(s.error(pre + R"("mean": [0, 1e999, 0]}})"), "s.json"));  // overflow: invalid JSON
  CHECK(has(s.error(pre + R"("mean": [0, null, 0]}})"), "input.mean[1] must be a number"));
  CHECK(has(s.error(pre + R"("mean": "imagenet"}})"), "input.mean must be an array"));
  auto g = model::load_sidecar(
      s.write("g.json", R"({"input": {"size": [8, 8], "color": "gray", "mean": [0.5], "std": [0.5]}})"));
  CHECK(g.input.mean == std::vector<float>{0.5f});
}

TEST_CASE("labels, labels_file, default_layer and unknown fields") {
  Sidecars s;
  const std::string pre = R"({"input": {"size": [8, 8]}, )";
  CHECK(has(s.error(pre + R"("labels": "cat"})"), "labels must be an array of strings"));
  CHECK(has(s.error(pre + R"("labels": ["cat", 2]})"), "labels[1] must be a string"));
  CHECK(has(s.error(pre + R"("labels": []})"), "labels is empty"));
  CHECK(has(s.error(pre + R"("labels": ["a"], "labels_file": "l.txt"})"), "not both"));
  CHECK(has(s.error(pre + R"("labels_file": 7})"), "labels_file must be a file name"));
  CHECK(has(s.error(pre + R"("labels_file": "missing.txt"})"), "no such file"));
  CHECK(has(s.error(pre + R"("default_layer": ["x"]})"), "default_layer must be a module path"));
  s.write("l.txt", "cat\r\ndog\n\nowl\n");
  auto ok = model::load_sidecar(
      s.write("ok.json", pre + R"("labels_file": "l.txt", "name": "m", "comment": "extra"})"));
  CHECK(ok.labels == std::vector<std::string>{"cat", "dog", "owl"});
  s.write("bin.txt", std::string("cat\n\xff\xfe\x00\x01\n", 9));
  CHECK(has(s.error(pre + R"("labels_file": "bin.txt"})"), "line 2 is not UTF-8 text"));
}

TEST_CASE("labels_file on a device, a pipe or /proc is refused at once, not read forever") {
  Sidecars s;
  const std::string pre = R"({"input": {"size": [8, 8]}, "labels_file": )";
  CHECK(has(s.error(pre + R"("/dev/zero"})"), "/dev/zero: not a regular file (a character device)"));
  CHECK(has(s.error(pre + R"("/dev/urandom"})"), "not a regular file"));
  CHECK(has(s.error(pre + R"("/proc/self/mem"})"), "not a regular file (a /proc or /sys"));
  CHECK(has(s.error(pre + R"("/proc/self/environ"})"), "not a regular file"));
  CHECK(has(s.error(pre + R"("/tmp"})"), "is a directory"));
  CHECK(has(error_of([] { model::load_sidecar("/dev/zero"); }), "not a regular file"));
}

TEST_CASE("text files over the limit are refused with the limit named; --max-file-mb raises it") {
  LimitGuard guard;
  Sidecars s;
  // 3.6 MB of labels.
  {
    std::ofstream f(s.dir.str("big.txt"));
    for (int i = 0; i < 300000; ++i) f << "label_" << i << "\n";
  }
  const std::string side =
      s.write("big.json", R"({"input": {"size": [8, 8]}, "labels_file": "big.txt"})");
  CHECK(model::load_sidecar(side).labels.size() == 300000);  // default 64 MB
  set_max_file_mb(2);
  std::string msg = error_of([&] { model::load_sidecar(side); });
  CHECK(has(msg, "big.txt"));
  CHECK(has(msg, "over the 2 MB limit"));
  CHECK(has(msg, "--max-file-mb"));
  set_max_file_mb(4);
  CHECK(model::load_sidecar(side).labels.size() == 300000);
  // The JSON itself is bounded too.
  set_max_file_mb(1);
  std::string big_json = R"({"input": {"size": [8, 8]}, "labels": [)";
  for (int i = 0; i < 200000; ++i) big_json += (i ? ",\"l" : "\"l") + std::to_string(i) + "\"";
  big_json += "]}";
  CHECK(has(s.error(big_json), "over the 1 MB limit"));
  CHECK(max_file_bytes(FileKind::Model) == (int64_t{1} << 20));
  set_max_file_mb(0);
  CHECK(max_file_bytes(FileKind::Model) == (kDefaultMaxModelMb << 20));
  CHECK(max_file_bytes(FileKind::Text) == (kDefaultMaxTextMb << 20));
}

TEST_CASE("model files: not regular, empty, over the limit") {
  LimitGuard guard;
  auto load = [](const std::string& p) {
    return error_of([&] { model::Model::load({p, "", "cpu", 0}); });
  };
  CHECK(has(load("/proc/self/mem"), "not a regular file"));
  CHECK(!has(load("/proc/self/mem"), "empty"));
  CHECK(has(load("/dev/zero"), "not a regular file (a character device)"));
  const std::string person = test::shared_file("models/person_detect_mbv1_025.pt");
  if (!person.empty()) {
    set_max_file_mb(0);
    CHECK(model::Model::load({person, "", "cpu", 0}) != nullptr);
    // 0.9 MB model under a 1 MB limit loads; write a 2 MB file to exceed it.
    test::TempDir d("hostile_model");
    {
      std::ofstream f(d.str("big.pt"), std::ios::binary);
      f << std::string(2 << 20, 'x');
    }
    set_max_file_mb(1);
    std::string msg = load(d.str("big.pt"));
    CHECK(has(msg, "over the 1 MB limit for model files"));
  }
}

TEST_CASE("the person model's sidecar loads; bad values name the field") {
  const std::string side = test::shared_file("models/person_detect_mbv1_025.json");
  if (side.empty()) return;
  auto s = model::load_sidecar(side);
  CHECK(s.input.height == 96);
  CHECK(s.labels.size() == 2);
}

TEST_CASE("printable: control characters and invalid UTF-8 become escapes") {
  CHECK(printable("plain text") == "plain text");
  CHECK(printable("caf\xc3\xa9 \xe2\x9c\x93") == "caf\xc3\xa9 \xe2\x9c\x93");  // kept
  CHECK(printable("a\nb\tc\rd") == "a\\nb\\tc\\rd");
  CHECK(printable(std::string("x\0y", 3)) == "x\\x00y");
  CHECK(printable("\x1b[2J") == "\\x1B[2J");
  CHECK(printable("\xff\xfe") == "\\xFF\\xFE");
  CHECK(printable("\xc3") == "\\xC3");            // truncated sequence
  CHECK(printable("\xc0\xaf") == "\\xC0\\xAF");   // overlong
  CHECK(printable("\xed\xa0\x80") == "\\xED\\xA0\\x80");  // surrogate
  CHECK(printable("\xc2\x9b") == "\\xC2\\x9B");   // C1 control (CSI)
  CHECK(printable("\x7f") == "\\x7F");
  CHECK(printable(std::string(10000, 'a'), 100).size() == 103);
  CHECK(is_valid_utf8("caf\xc3\xa9"));
  CHECK(!is_valid_utf8("caf\xe9"));
}

TEST_CASE("error_summary: the cause of a TorchScript interpreter error on one line") {
  const std::string what =
      "The following operation failed in the TorchScript interpreter.\n"
      "Traceback of TorchScript, serialized code (most recent call last):\n"
      "  File \"code/__torch__.py\", line 14, in forward\n"
      "    x1 = (pool).forward(x0, )\n"
      "          ~~~~~~~~~~~~~ <--- HERE\n"
      "  File \"code/__torch__/torch/nn/modules/pooling.py\", line 14, in forward\n"
      "    _0 = torch.avg_pool2d(input, [3, 3], [2, 2], [0, 0])\n"
      "         ~~~~~~~~~~~~~~~~ <--- HERE\n"
      "    return _0\n"
      "\n"
      "Traceback of TorchScript, original code (most recent call last):\n"
      "  File \"/x/pooling.py\", line 627, in forward\n"
      "        return F.avg_pool2d(input, self.kernel_size, self.stride,\n"
      "               ~~~~~~~~~~~~ <--- HERE\n"
      "                            self.padding)\n"
      "RuntimeError: Given input size: (256x1x1). Calculated output size: (256x0x0). Output "
      "size is too small\n";
  const std::string s = error_summary(what);
  CHECK(s ==
        "RuntimeError: Given input size: (256x1x1). Calculated output size: (256x0x0). Output "
        "size is too small (at torch.avg_pool2d, code/__torch__/torch/nn/modules/pooling.py "
        "line 14)");
  const std::string raised =
      "The following operation failed in the TorchScript interpreter.\n"
      "Traceback of TorchScript (most recent call last):\n"
      "  File \"/tmp/mk.py\", line 15, in forward\n"
      "            raise ValueError(\"bad input\")\n"
      "            ~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~ <--- HERE\n"
      "builtins.ValueError: bad input\n";
  CHECK(error_summary(raised) ==
        "ValueError: bad input (at raise ValueError(\"bad input\"), /tmp/mk.py line 15)");
  CHECK(error_summary("\nshape mismatch\nException raised from foo at bar.cpp:12") ==
        "shape mismatch");
}

TEST_CASE("option values that are options are refused; negative numbers still pass") {
  auto parse = [](std::vector<const char*> argv) {
    return Args(static_cast<int>(argv.size()), argv.data(), {"method", "out", "alpha", "target"},
                {"force"});
  };
  CHECK(has(error_of([&] { parse({"--method", "--out", "d"}); }),
            "option --method needs a value, got the option --out"));
  CHECK(has(error_of([&] { parse({"--out", "--force"}); }), "needs a value"));
  auto a = parse({"--alpha", "-0.5", "--target", "-1", "--out", "-"});
  CHECK(a.get("alpha") == "-0.5");
  CHECK(a.get("target") == "-1");
  CHECK(a.get("out") == "-");
  CHECK(parse({"--method=--x"}).get("method") == "--x");  // explicit: taken as given
}

TEST_CASE("--max-file-mb is a global option taken out before the command's own") {
  LimitGuard guard;
  std::vector<const char*> argv = {"--input", "a.png", "--max-file-mb", "7", "--force"};
  auto rest = take_global_options(static_cast<int>(argv.size()), argv.data());
  REQUIRE(rest.size() == 3);
  CHECK(std::string(rest[2]) == "--force");
  CHECK(max_file_bytes(FileKind::Text) == (int64_t{7} << 20));
  std::vector<const char*> eq = {"--max-file-mb=9"};
  CHECK(take_global_options(1, eq.data()).empty());
  CHECK(max_file_bytes(FileKind::Model) == (int64_t{9} << 20));
  for (const char* bad : {"0", "-1", "x", "", "1e3", "99999999999999999999"}) {
    std::vector<const char*> b = {"--max-file-mb", bad};
    CHECK(has(error_of([&] { take_global_options(2, b.data()); }), "--max-file-mb expects"));
  }
  std::vector<const char*> missing = {"--max-file-mb"};
  CHECK(has(error_of([&] { take_global_options(1, missing.data()); }), "needs a value"));
}

TEST_CASE("JsonArrayWriter writes what write_json_file writes, holding no item in memory") {
  test::TempDir d("hostile_jsonarray");
  Json head;
  head["model"] = "m.pt";
  head["nested"] = {{"a", Json::array({1, 2})}, {"b", Json::object()}};
  Json tail;
  tail["stats"] = {{"seeks", 1}, {"names", Json::array({"x\ny", "caf\xc3\xa9"})}};
  for (int n : {0, 1, 3}) {
    Json whole = head;
    whole["frames"] = Json::array();
    JsonArrayWriter w(d.str("s.json"), "frames");
    for (int i = 0; i < n; ++i) {
      Json f = {{"index", i}, {"top", Json::array({{{"class", i}, {"score", 0.5}}})},
                {"empty", Json::array()}, {"skipped", i == 1}};
      w.add(f);
      whole["frames"].push_back(f);
    }
    whole["stats"] = tail["stats"];
    w.finish(head, tail);
    write_json_file(d.str("ref.json"), whole);
    CHECK(read_text_file(d.str("s.json")) == read_text_file(d.str("ref.json")));
    CHECK(read_json_file(d.str("s.json")) == whole);
  }
  CHECK_FALSE(std::filesystem::exists(d.str("s.json.items.tmp")));
}

// [SECTION] TorchScript container check (model/torchscript_archive.cpp) and fuzz findings

namespace {

void put16(std::string& s, uint32_t v) {
  s += static_cast<char>(v & 0xff);
  s += static_cast<char>((v >> 8) & 0xff);
}
void put32(std::string& s, uint32_t v) {
  put16(s, v & 0xffff);
  put16(s, v >> 16);
}

// A stored zip as torch.jit.save lays it out; `declared` overrides an entry's sizes.
struct Zip {
  struct Entry {
    std::string name, data;
    int64_t declared = -1;
    uint32_t method = 0;
  };
  std::vector<Entry> entries;
  std::string bytes() const {
    std::string out, cd;
    for (const Entry& e : entries) {
      const uint32_t offset = static_cast<uint32_t>(out.size());
      const uint32_t size = e.declared >= 0 ? static_cast<uint32_t>(e.declared) : e.data.size();
      out += "PK\x03\x04";
      put16(out, 20); put16(out, 0); put16(out, e.method); put16(out, 0); put16(out, 0);
      put32(out, 0); put32(out, size); put32(out, size);
      put16(out, e.name.size()); put16(out, 0);
      out += e.name + e.data;
      cd += "PK\x01\x02";
      put16(cd, 20); put16(cd, 20); put16(cd, 0); put16(cd, e.method); put16(cd, 0); put16(cd, 0);
      put32(cd, 0); put32(cd, size); put32(cd, size);
      put16(cd, e.name.size()); put16(cd, 0); put16(cd, 0); put16(cd, 0); put16(cd, 0);
      put32(cd, 0); put32(cd, offset);
      cd += e.name;
    }
    const uint32_t cd_offset = static_cast<uint32_t>(out.size());
    out += cd;
    out += "PK\x05\x06";
    put16(out, 0); put16(out, 0); put16(out, entries.size()); put16(out, entries.size());
    put32(out, cd.size()); put32(out, cd_offset); put16(out, 0);
    return out;
  }
};

Zip torchscript_zip() {
  return Zip{{{"m/data.pkl", "\x80\x02}q\x00."}, {"m/code/__torch__.py", "def forward(self):\n"},
              {"m/constants.pkl", "\x80\x02)."}, {"m/version", "3\n"}}};
}

std::string archive_error(const std::string& bytes, uint64_t limit = 64u << 20) {
  return error_of([&] {
    model::check_torchscript_archive(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(),
                                     limit);
  });
}

}  // namespace

TEST_CASE("TorchScript archive check: a well-formed archive passes, its folder and sizes known") {
  const std::string z = torchscript_zip().bytes();
  auto s = model::check_torchscript_archive(reinterpret_cast<const uint8_t*>(z.data()), z.size(),
                                            64u << 20);
  CHECK(s.prefix == "m/");
  CHECK(s.entries == 4);
}

TEST_CASE("TorchScript archive check: hostile or foreign containers end in one line") {
  CHECK(has(archive_error("definitely not a model\n"), "not a zip archive"));
  CHECK(has(archive_error(std::string("\x80\x02\x8a\x0a" "l\xfc\x9c" "F\xf9 j", 11)), "Python pickle"));
  const std::string good = torchscript_zip().bytes();
  CHECK(has(archive_error(good.substr(0, good.size() / 2)), "no zip end record"));
  {  // an entry declaring 3 GiB in a file of a few hundred bytes (LibTorch would allocate it)
    Zip z = torchscript_zip();
    z.entries[1].declared = 3u << 30;
    CHECK(has(archive_error(z.bytes(), 4ull << 30), "runs past the data"));
  }
  {  // declared sizes over the model limit
    Zip z = torchscript_zip();
    z.entries[0].method = 8;
    z.entries[0].declared = 200;
    CHECK(has(archive_error(z.bytes(), 100), "model limit"));
  }
  {  // compression LibTorch cannot read
    Zip z = torchscript_zip();
    z.entries[2].method = 12;
    CHECK(has(archive_error(z.bytes()), "compression method 12"));
  }
  {  // torch.save() checkpoint: data.pkl and tensors, no code
    Zip z{{{"ckpt/data.pkl", "\x80\x02}q\x00."}, {"ckpt/data/0", "abcd"}, {"ckpt/version", "3\n"}}};
    CHECK(has(archive_error(z.bytes()), "a torch.save() file"));
  }
  {  // entry count larger than the directory can hold
    std::string b = torchscript_zip().bytes();
    b[b.size() - 14] = '\x7f';  // entries on this disk
    b[b.size() - 12] = '\x7f';  // entries in total
    CHECK(has(archive_error(b), "cannot hold the 127 entries"));
  }
  {  // a file, through Model::load: the path and "not a loadable TorchScript model"
    test::TempDir d("hostile_zip");
    Zip z = torchscript_zip();
    z.entries[1].declared = 3u << 30;
    std::ofstream(d.str("bomb.pt"), std::ios::binary) << z.bytes();
    const std::string msg = error_of([&] { model::Model::load({d.str("bomb.pt"), "", "cpu", 0}); });
    CHECK(has(msg, "bomb.pt: not a loadable TorchScript model (m/code/__torch__.py"));
  }
}

// [SECTION] Image decoders: fuzz findings (fuzz/fuzz_image.cpp)

namespace {
std::string bmp_rle8(uint32_t width, uint32_t height, const std::string& rle) {
  std::string info;
  put32(info, 40); put32(info, width); put32(info, height); put16(info, 1); put16(info, 8);
  put32(info, 1); put32(info, rle.size()); put32(info, 0); put32(info, 0); put32(info, 2);
  put32(info, 0);
  const std::string pal("\x10\x20\x30\x00\x40\x50\x60\x00", 8);
  std::string b = "BM";
  put32(b, 14 + 40 + pal.size() + rle.size()); put32(b, 0); put32(b, 14 + 40 + pal.size());
  return b + info + pal + rle;
}
long max_rss_kib() {
  std::ifstream f("/proc/self/status");
  std::string line;
  while (std::getline(f, line))
    if (line.rfind("VmHWM:", 0) == 0) return std::stol(line.substr(6));
  return 0;
}
}  // namespace

TEST_CASE("BMP RLE: a delta escape asks for no more than the image still needs") {
  // 2^24 x 2 pixels (96 MiB decoded, within the default limit); one delta of 255 rows used to
  // append 255 * 2^24 zero indices (4 GiB) before the decoder noticed the image was full.
  const std::string rle("\x00\x02\x00\x00\xff\xff\x00\x01", 8);
  const std::string b = bmp_rle8(1u << 24, 2, rle);
  const long before = max_rss_kib();
  Image img = decode_image_rgb(reinterpret_cast<const uint8_t*>(b.data()), b.size(), "delta.bmp");
  CHECK(img.width == (1 << 24));
  CHECK(img.height == 2);
  CHECK(img.pixels[0] == 0x30);  // palette entry 0 (BGR 10 20 30)
  CHECK(img.pixels[img.pixels.size() - 1] == 0x10);
  // The pixels themselves are 96 MiB and the index buffer 32 MiB; nothing near 4 GiB.
  CHECK(max_rss_kib() - before < (600 << 10));
  // A delta within the image still lands where Pillow puts it: row 0 skipped, then pixels.
  const std::string small = bmp_rle8(4, 2, std::string("\x00\x02\x00\x00\x01\x00\x02\x01\x00\x00\x04\x00", 12));
  Image s = decode_image_rgb(reinterpret_cast<const uint8_t*>(small.data()), small.size(), "d.bmp");
  // File rows are bottom-up: file row 0 is the image's last row; its pixel 0 is index 0 (the
  // delta skipped it), pixels 1 and 2 index 1.
  CHECK(s.pixels[(4 + 0) * 3] == 0x30);
  CHECK(s.pixels[(4 + 1) * 3] == 0x60);
  CHECK(s.pixels[(4 + 2) * 3] == 0x60);
}

TEST_CASE("PNG: an ancillary chunk declaring more than the file holds is not allocated") {
  // fuzz finding: a 198-byte PNG whose eXIf chunk declares 0x1000001a bytes; libpng allocated
  // the 256 MiB before reading it (no chunk allocation limit in this build). Now the limit is
  // the file size (8 MiB for decompressed chunks): one line about the short file.
  const std::string png =
      std::string("\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR\x00\x00\x00\x07\x00\x00\x00\x05\x08\x02"
                  "\x00\x00\x00\x06\xf8\x61\x8f\x10\x00\x00\x1a\x65\x58\x49\x66\x4d\x4d\x00\x2a"
                  "\x00\x00\x00\x08\x00\x01\x01\x12\x00\x03\x00\x00\x00\x01\x00\x06\x00\x00\x00"
                  "\x00\x00\x00\xd6\x67\x4b\x69\x00\x00\x00\x24IDAT\x78\x9c\x63\x64\x60\x60", 85) +
      std::string(47, '\0') +
      std::string("\x50\xc1\x40\x2c\x0c\x46\x0c\xc9\x0c\xbc\x68\x08\x2e\x2a\x85\x8c\x90\x45\xd5"
                  "\xe1\x08", 21) +
      std::string(29, '\xff') + std::string("\x4d\xd4\x04\x82\x00\x00\x00\x00IEND\xae\xff\xd8\xff", 16);
  REQUIRE(png.size() == 198);
  const std::string msg = error_of([&] {
    decode_image_rgb(reinterpret_cast<const uint8_t*>(png.data()), png.size(), "exif.png");
  });
  CHECK(has(msg, "exif.png: PNG file is truncated (chunk 'eXIf' declares 268435482 bytes"));
  // The second finding: the same chunk declaring 0x7d00001a bytes (2 GiB).
  std::string png2 = png;
  png2[33] = '\x7d';
  CHECK(has(error_of([&] {
              decode_image_rgb(reinterpret_cast<const uint8_t*>(png2.data()), png2.size(), "x.png");
            }),
            "declares 2097152026 bytes"));
}
