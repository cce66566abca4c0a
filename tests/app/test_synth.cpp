// The synthetic world: determinism, ground truth that matches the pixels, the moving source's
// seeking, and the `camscope synth` command's files and error paths.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <set>

#include "capture/frame_source.h"
#include "capture/synthetic_world.h"
#include "test_support.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/image_io.h"
#include "util/json.h"

using namespace camscope;
using capture::SceneMode;
using capture::Shape;

namespace {

void check_one_line_error(const test::RunResult& r, const std::string& needle) {
  CHECK(r.status != 0);
  CHECK(r.status < 124);  // neither a crash nor a hang
  CHECK(test::line_count(r.output) == 1);
  CHECK_MESSAGE(r.output.find("camscope: error:") != std::string::npos, r.output);
  CHECK_MESSAGE(r.output.find(needle) != std::string::npos, r.output);
}

void check_object_in_image(const capture::SceneObject& o, int w, int h) {
  CHECK(o.x0 >= 0);
  CHECK(o.y0 >= 0);
  CHECK(o.x1 <= w);
  CHECK(o.y1 <= h);
  CHECK(o.x1 - o.x0 >= 4);
  CHECK(o.y1 - o.y0 >= 4);
  CHECK(o.contains(static_cast<int>(o.cx), static_cast<int>(o.cy)));
  CHECK(static_cast<int>(o.shape) >= 0);
  CHECK(static_cast<int>(o.shape) < capture::kShapeCount);
}

// Rotated vertex extents of the regular polygons the generator draws (circumscribed radius r):
// an independent statement of the geometry the boxes must match.
void polygon_extent(const capture::SceneObject& o, int verts, float phase, float& x0, float& x1,
                    float& y0, float& y1) {
  x0 = y0 = 1e9f;
  x1 = y1 = -1e9f;
  for (int i = 0; i < verts; ++i) {
    const float a = phase + 2 * 3.14159265f * i / verts;
    const float lx = o.radius * std::cos(a), ly = o.radius * std::sin(a);
    const float x = o.cx + std::cos(o.angle) * lx - std::sin(o.angle) * ly;
    const float y = o.cy + std::sin(o.angle) * lx + std::cos(o.angle) * ly;
    x0 = std::min(x0, x), x1 = std::max(x1, x), y0 = std::min(y0, y), y1 = std::max(y1, y);
  }
}

}  // namespace

TEST_CASE("scenes are a pure function of (mode, seed, index, size)") {
  for (SceneMode mode : {SceneMode::Single, SceneMode::Pair, SceneMode::Moving}) {
    CAPTURE(capture::scene_mode_name(mode));
    const auto a = capture::make_scene(mode, 424242, 7, 96, 80);
    const auto b = capture::make_scene(mode, 424242, 7, 96, 80);
    REQUIRE(a.rgb.size() == 96u * 80u * 3u);
    CHECK(a.rgb == b.rgb);
    REQUIRE(a.objects.size() == b.objects.size());
    for (size_t i = 0; i < a.objects.size(); ++i) {
      CHECK(a.objects[i].shape == b.objects[i].shape);
      CHECK(a.objects[i].x0 == b.objects[i].x0);
      CHECK(a.objects[i].cx == b.objects[i].cx);
    }
    const auto other_seed = capture::make_scene(mode, 424243, 7, 96, 80);
    CHECK(other_seed.rgb != a.rgb);
    const auto other_index = capture::make_scene(mode, 424242, 8, 96, 80);
    CHECK(other_index.rgb != a.rgb);
  }
  // The three modes draw from separate streams: same seed and index, different pictures.
  CHECK(capture::make_scene(SceneMode::Single, 5, 0, 64, 64).rgb !=
        capture::make_scene(SceneMode::Pair, 5, 0, 64, 64).rgb);
}

TEST_CASE("ground truth: classes, boxes inside the image, boxes fit the drawn shape") {
  std::set<int> classes_seen;
  int fitted = 0;
  for (uint64_t i = 0; i < 300; ++i) {
    const auto sc = capture::make_scene(SceneMode::Single, 1000001, i, 112, 112);
    REQUIRE(sc.objects.size() == 1);
    const auto& o = sc.objects[0];
    check_object_in_image(o, 112, 112);
    classes_seen.insert(static_cast<int>(o.shape));
    // A pixel belongs to the box when its center is inside the shape: the box edge lies at
    // most half a pixel outside the analytic extent, and (at the sharpest tip, the
    // triangle's) at most 1.6 pixels inside it.
    float ex0, ex1, ey0, ey1;
    if (o.shape == Shape::Circle || o.shape == Shape::Ring) {
      ex0 = o.cx - o.radius, ex1 = o.cx + o.radius, ey0 = o.cy - o.radius, ey1 = o.cy + o.radius;
    } else if (o.shape == Shape::Square) {
      polygon_extent(o, 4, 3.14159265f / 4, ex0, ex1, ey0, ey1);
    } else if (o.shape == Shape::Triangle) {
      polygon_extent(o, 3, -3.14159265f / 2, ex0, ex1, ey0, ey1);
    } else {
      continue;
    }
    ++fitted;
    CHECK(o.x0 >= ex0 - 0.51f);
    CHECK(o.x0 <= ex0 + 1.6f);
    CHECK(o.y0 >= ey0 - 0.51f);
    CHECK(o.y0 <= ey0 + 1.6f);
    CHECK(o.x1 <= ex1 + 0.51f);
    CHECK(o.x1 >= ex1 - 1.6f);
    CHECK(o.y1 <= ey1 + 0.51f);
    CHECK(o.y1 >= ey1 - 1.6f);
  }
  CHECK(classes_seen.size() == capture::kShapeCount);
  CHECK(fitted > 100);

  for (uint64_t i = 0; i < 100; ++i) {
    const auto sc = capture::make_scene(SceneMode::Pair, 1000002, i, 112, 112);
    REQUIRE(sc.objects.size() == 2);
    const auto &a = sc.objects[0], &b = sc.objects[1];
    check_object_in_image(a, 112, 112);
    check_object_in_image(b, 112, 112);
    CHECK(a.shape != b.shape);
    // Objects do not overlap: each center lies outside the other's box.
    CHECK_FALSE(a.contains(static_cast<int>(b.cx), static_cast<int>(b.cy)));
    CHECK_FALSE(b.contains(static_cast<int>(a.cx), static_cast<int>(a.cy)));
  }
}

TEST_CASE("the object stands out: pixels at its center differ from the background around it") {
  // Same scene drawn twice cannot give the background alone, so compare the object's center
  // pixel with the mean of the pixels just outside its box: the generator promises contrast.
  int contrasted = 0, total = 0;
  for (uint64_t i = 0; i < 200; ++i) {
    const auto sc = capture::make_scene(SceneMode::Single, 1000003, i, 112, 112);
    const auto& o = sc.objects[0];
    if (o.shape == Shape::Ring) continue;  // its center is a hole
    auto px = [&](int x, int y) { return &sc.rgb[(static_cast<size_t>(y) * 112 + x) * 3]; };
    const uint8_t* c = px(static_cast<int>(o.cx), static_cast<int>(o.cy));
    double outside[3] = {0, 0, 0};
    int n = 0;
    for (int y = std::max(0, o.y0 - 3); y < std::min(112, o.y1 + 3); ++y)
      for (int x = std::max(0, o.x0 - 3); x < std::min(112, o.x1 + 3); ++x)
        if (!o.contains(x, y)) {
          for (int k = 0; k < 3; ++k) outside[k] += px(x, y)[k];
          ++n;
        }
    if (n == 0) continue;
    const double d = std::fabs(0.299 * (c[0] - outside[0] / n) + 0.587 * (c[1] - outside[1] / n) +
                               0.114 * (c[2] - outside[2] / n));
    contrasted += d > 25;
    ++total;
  }
  CHECK(contrasted >= total * 9 / 10);
}

TEST_CASE("synthetic source: endless, seekable, frames follow smooth trajectories") {
  auto src = capture::make_synthetic_source(77, 320, 180);
  const auto& info = src->info();
  CHECK(info.kind == "synthetic");
  CHECK(info.width == 320);
  CHECK(info.height == 180);
  CHECK(info.seekable);
  CHECK(info.frame_count == -1);
  CHECK(info.fps > 0);

  std::vector<capture::Frame> seq(5);
  for (auto& f : seq) REQUIRE(src->next(f));
  for (int i = 0; i < 5; ++i) {
    CHECK(seq[i].index == i);
    CHECK(seq[i].width == 320);
    CHECK(seq[i].rgb.size() == 320u * 180u * 3u);
  }
  CHECK(seq[0].rgb != seq[1].rgb);  // things move

  // Seeking lands on the same pixels as reading in order; next() continues from there.
  capture::Frame f;
  REQUIRE(src->seek(3, f));
  CHECK(f.index == 3);
  CHECK(f.rgb == seq[3].rgb);
  REQUIRE(src->next(f));
  CHECK(f.index == 4);
  CHECK(f.rgb == seq[4].rgb);
  REQUIRE(src->seek(1000000, f));  // far frames are as cheap and as valid as near ones
  CHECK(f.valid());
  CHECK_THROWS_AS(src->seek(-1, f), Error);

  // A second source with the same seed is the same world; another seed is another world.
  auto twin = capture::make_synthetic_source(77, 320, 180);
  capture::Frame g;
  REQUIRE(twin->seek(4, g));
  CHECK(g.rgb == seq[4].rgb);
  auto other = capture::make_synthetic_source(78, 320, 180);
  REQUIRE(other->seek(4, g));
  CHECK(g.rgb != seq[4].rgb);

  // Ground truth of the moving world: three distinct classes, inside the frame, moving a few
  // pixels per frame (no jumps), so a tracker or a map can follow them.
  capture::MovingWorld world(77, 320, 180);
  std::vector<uint8_t> px;
  std::vector<capture::SceneObject> prev, cur;
  world.render(0, px, &prev);
  CHECK(px == seq[0].rgb);
  REQUIRE(prev.size() == 3);
  std::set<int> classes;
  for (const auto& o : prev) classes.insert(static_cast<int>(o.shape));
  CHECK(classes.size() == 3);
  for (uint64_t t = 1; t < 120; ++t) {
    world.render(t, px, &cur);
    REQUIRE(cur.size() == prev.size());
    for (size_t k = 0; k < cur.size(); ++k) {
      check_object_in_image(cur[k], 320, 180);
      CHECK(cur[k].shape == prev[k].shape);
      CHECK(std::hypot(cur[k].cx - prev[k].cx, cur[k].cy - prev[k].cy) < 0.03f * 180);
    }
    prev = cur;
  }
  CHECK_THROWS_AS(capture::make_synthetic_source(1, 8, 8), Error);
}

TEST_CASE("camscope synth writes scenes and labels.json matching the generator") {
  test::TempDir dir("synth_cli");
  const std::string out = dir.str("scenes");
  auto r = test::camscope("synth --out " + out + " --count 5 --seed 1000004 --size 96x64 --mode pair");
  REQUIRE_MESSAGE(r.status == 0, r.output);
  const Json labels = read_json_file(out + "/labels.json");
  CHECK(labels["mode"] == "pair");
  CHECK(labels["seed"] == 1000004);
  CHECK(labels["size"] == Json::array({96, 64}));
  REQUIRE(labels["labels"].size() == capture::kShapeCount);
  for (int c = 0; c < capture::kShapeCount; ++c)
    CHECK(labels["labels"][c] == capture::shape_name(static_cast<Shape>(c)));
  REQUIRE(labels["images"].size() == 5);
  for (int i = 0; i < 5; ++i) {
    const Json& img = labels["images"][i];
    char name[32];
    std::snprintf(name, sizeof name, "scene_%06d.png", i);
    CHECK(img["file"] == name);
    const Image png = load_image_rgb(out + "/" + name);
    REQUIRE(png.width == 96);
    REQUIRE(png.height == 64);
    const auto sc = capture::make_scene(SceneMode::Pair, 1000004, i, 96, 64);
    CHECK(png.pixels == sc.rgb);
    REQUIRE(img["classes"].size() == 2);
    REQUIRE(img["boxes"].size() == 2);
    REQUIRE(img["centers"].size() == 2);
    for (int k = 0; k < 2; ++k) {
      const auto& o = sc.objects[k];
      CHECK(img["classes"][k] == static_cast<int>(o.shape));
      CHECK(img["names"][k] == capture::shape_name(o.shape));
      CHECK(img["boxes"][k] == Json::array({o.x0, o.y0, o.x1, o.y1}));
      CHECK(img["centers"][k][0].get<double>() == doctest::Approx(o.cx));
      CHECK(img["centers"][k][1].get<double>() == doctest::Approx(o.cy));
    }
  }

  // Moving mode: frames 0..N-1 of the world the live source shows.
  auto m = test::camscope("synth --out " + dir.str("moving") + " --count 3 --seed 9 --mode moving --size 160x90");
  REQUIRE_MESSAGE(m.status == 0, m.output);
  auto src = capture::make_synthetic_source(9, 160, 90);
  capture::Frame f;
  src->seek(2, f);
  CHECK(load_image_rgb(dir.str("moving/scene_000002.png")).pixels == f.rgb);
  CHECK(read_json_file(dir.str("moving/labels.json"))["images"][2]["boxes"].size() == 3);
}

TEST_CASE("camscope synth refuses to overwrite and rejects bad arguments with one line") {
  test::TempDir dir("synth_err");
  const std::string out = dir.str("s");
  REQUIRE(test::camscope("synth --out " + out + " --count 2").status == 0);
  const std::string before = read_text_file(out + "/labels.json");

  // Existing files need --force; a refusal leaves them untouched.
  check_one_line_error(test::camscope("synth --out " + out + " --count 2 --seed 3"), "--force");
  CHECK(read_text_file(out + "/labels.json") == before);
  REQUIRE(test::camscope("synth --out " + out + " --count 2 --seed 3 --force").status == 0);
  CHECK(read_text_file(out + "/labels.json") != before);

  check_one_line_error(test::camscope("synth --count 2"), "--out");
  check_one_line_error(test::camscope("synth --out " + dir.str("x")), "--count");
  const std::string o = " --out " + dir.str("y");
  check_one_line_error(test::camscope("synth --count 0" + o), "--count");
  check_one_line_error(test::camscope("synth --count 2 --seed -4" + o), "--seed");
  check_one_line_error(test::camscope("synth --count 2 --size 112" + o), "--size");
  check_one_line_error(test::camscope("synth --count 2 --size 8x8" + o), "--size");
  check_one_line_error(test::camscope("synth --count 2 --mode triple" + o), "mode");
  check_one_line_error(test::camscope("synth --count 2 --sed 4" + o), "--seed");
  CHECK_FALSE(std::filesystem::exists(dir.str("y/labels.json")));
  std::ofstream(dir.str("file.txt")) << "x";
  check_one_line_error(test::camscope("synth --count 1 --out " + dir.str("file.txt")),
                       "not a directory");
}
