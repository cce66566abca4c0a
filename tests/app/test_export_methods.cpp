// `camscope export --method a,b,c` and `--metrics`: per-method folders whose files equal
// single-method runs, summary.json's "methods" and per-frame entries, metric keys and ranges.
#include <doctest/doctest.h>

#include <filesystem>

#include "app/export_methods.h"
#include "core/explain_fixture.h"
#include "test_support.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/image_io.h"
#include "util/json.h"
#include "util/npy.h"

using namespace camscope;
namespace fs = std::filesystem;

namespace {

std::string make_png(const test::TempDir& dir, const std::string& name, int shift) {
  const int w = 20, h = 14;
  std::vector<uint8_t> px(w * h * 3);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      uint8_t* p = &px[(y * w + x) * 3];
      p[0] = static_cast<uint8_t>(x * 255 / (w - 1));
      p[1] = static_cast<uint8_t>(y * 255 / (h - 1));
      p[2] = x >= 4 + shift && x < 9 + shift && y >= 3 && y < 8 ? 255 : 30;
    }
  write_png(dir.str(name), px.data(), w, h, 3);
  return dir.str(name);
}

std::vector<float> npy(const std::string& path) {
  return read_npy(path).data;
}

}  // namespace

TEST_CASE("--method list parsing") {
  auto ms = app::parse_method_list("gradcam,hirescam,fem");
  REQUIRE(ms.size() == 3);
  CHECK(ms[1] == explain::Method::HiResCam);
  CHECK(app::parse_method_list("scorecam").size() == 1);
  CHECK_THROWS_AS(app::parse_method_list("gradcam,,fem"), Error);
  CHECK_THROWS_AS(app::parse_method_list("gradcam,gradcam"), Error);
  CHECK_THROWS_AS(app::parse_method_list("gradcam,hirescan"), Error);
}

TEST_CASE("export of several methods from one pass equals single-method runs; metrics") {
  if (!test::have_explain_fixtures()) return;
  const std::string fx = test::explain_fixture_dir();
  test::TempDir dir("export_methods");
  fs::create_directories(dir.str("frames"));
  for (int i = 0; i < 3; ++i) make_png(dir, "frames/f" + std::to_string(i) + ".png", i * 3);
  const std::string common = "export --model " + fx + "/small.pt --input " + dir.str("frames") +
                             " --layer act2 --device cpu --raw ";
  const std::vector<std::string> names = {"gradcam", "hirescam",    "eigencam",
                                          "fem",     "ablationcam", "saliency"};
  std::string list;
  for (const auto& n : names) list += (list.empty() ? "" : ",") + n;
  auto r = test::camscope(common + "--method " + list + " --metrics --out " + dir.str("many"));
  REQUIRE_MESSAGE(r.status == 0, r.output);
  CHECK(!fs::exists(dir.str("many/cam_000000.npy")));  // per-method folders only

  for (const auto& n : names) {
    CAPTURE(n);
    auto one =
        test::camscope(common + "--method " + n + " --batch 1 --overlay none --out " + dir.str("one_" + n));
    REQUIRE_MESSAGE(one.status == 0, one.output);
    for (int i = 0; i < 3; ++i) {
      const std::string f = format_index("cam_%06d.npy", i), raw = format_index("raw_%06d.npy", i);
      CHECK(npy(dir.str("many/" + n + "/" + f)) == npy(dir.str("one_" + n + "/" + f)));
      CHECK(npy(dir.str("many/" + n + "/" + raw)) == npy(dir.str("one_" + n + "/" + raw)));
      CHECK(fs::exists(dir.str("many/" + n + "/" + format_index("overlay_%06d.png", i))));
    }
    // The single-method layout and summary are as before: no "methods", no "metrics".
    Json s1 = read_json_file(dir.str("one_" + n + "/summary.json"));
    CHECK(s1["method"] == n);
    CHECK(!s1.contains("methods"));
    CHECK(!s1["frames"][0].contains("metrics"));
    CHECK(!s1.contains("metrics_mean"));
  }

  Json s = read_json_file(dir.str("many/summary.json"));
  REQUIRE(s["methods"].size() == names.size());
  for (size_t i = 0; i < names.size(); ++i) CHECK(s["methods"][i] == names[i]);
  REQUIRE(s["frames"].size() == 3);
  for (int i = 0; i < 3; ++i) {
    const Json& f = s["frames"][i];
    for (const auto& n : names) {
      CAPTURE(n);
      REQUIRE(f["methods"].contains(n));
      const Json& m = f["methods"][n]["metrics"];
      for (const char* k : {"drop", "increase", "deletion", "insertion"}) {
        CAPTURE(k);
        REQUIRE(m.contains(k));
        CHECK(m[k].get<double>() >= 0.0);
        CHECK(m[k].get<double>() <= 1.0);
      }
      if (i == 0) {
        CHECK(m["stability"].is_null());
      } else {
        CHECK(m["stability"].get<double>() >= -1.0);
        CHECK(m["stability"].get<double>() <= 1.0);
      }
      CHECK(f["methods"][n]["target"] == f["target"]);
    }
  }
  for (const auto& n : names) {
    const Json& mean = s["metrics_mean"][n];
    CHECK(mean["frames"] == 3);
    double d = 0;
    for (int i = 0; i < 3; ++i)
      d += s["frames"][i]["methods"][n]["metrics"]["deletion"].get<double>();
    CHECK(mean["deletion"].get<double>() == doctest::Approx(d / 3));
  }

  // One method with --metrics: the metrics sit in the frame entry itself.
  auto m1 =
      test::camscope(common + "--method gradcam --metrics --overlay none --out " + dir.str("m1"));
  REQUIRE_MESSAGE(m1.status == 0, m1.output);
  Json s1 = read_json_file(dir.str("m1/summary.json"));
  CHECK(s1["method"] == "gradcam");
  CHECK(s1["frames"][1]["metrics"]["insertion"].get<double>() >= 0.0);
  CHECK(s1["metrics_mean"]["frames"] == 3);
  CHECK(s1["metrics_mean"]["drop"] ==
        s["metrics_mean"]["gradcam"]["drop"]);  // the same maps, the same metrics

  // An unknown method in the list fails before anything is written.
  auto bad = test::camscope(common + "--method gradcam,hirescan --out " + dir.str("bad"));
  CHECK(bad.status != 0);
  CHECK(bad.output.find("did you mean hirescam?") != std::string::npos);
}
