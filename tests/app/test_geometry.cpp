// Maps sit exactly over the pixels the model saw (issue 13): a bar image whose answer is known
// goes through a hand-built model whose tapped layer passes luminance through, for a
// center-crop model on 16:9 and 9:16 frames and for a stretch model. The heat's maxima must
// sit on the bars (within 2 px) in the export PNG and in the window's overlay texture read back
// from GL; outside the crop box the frame is untouched; summary.json's crop_box is the box an
// independent computation (torchvision's Resize + CenterCrop arithmetic) gives.
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "test_support.h"
#include "util/fs.h"
#include "util/image_io.h"
#include "util/json.h"
#include "view_session.h"

using namespace camscope;
using namespace camscope::test;

namespace {

// luminance.pt: conv (1x1, luma weights, no bias) -> global average pool -> linear; the
// `activation` map at `conv` is the preprocessed frame's luminance.
const char* kMakeModel = R"PY(
import json, sys, torch, torch.nn as nn
out, resize, size = sys.argv[1], sys.argv[2], int(sys.argv[3])
class Lum(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 1, 1, bias=False)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(1, 2)
    def forward(self, x):
        return self.fc(self.pool(self.conv(x)).flatten(1))
m = Lum().eval()
with torch.no_grad():
    m.conv.weight.copy_(torch.tensor([0.299, 0.587, 0.114]).view(1, 3, 1, 1))
    m.fc.weight.copy_(torch.tensor([[1.0], [-1.0]]))
    m.fc.bias.zero_()
torch.jit.trace(m, torch.zeros(1, 3, size, size)).save(out + ".pt")
json.dump({"input": {"size": [size, size], "color": "rgb", "resize": resize,
                     "mean": [0, 0, 0], "std": [1, 1, 1]},
           "labels": ["bright", "dark"], "default_layer": "conv"}, open(out + ".json", "w"))
)PY";

const int kBars[] = {330, 620, 1100};  // bar centres (pixel edges), 16 px wide
const int kBarHalf = 8;

// Black frame, white bars across it: vertical bars at kBars when `vertical`, else horizontal.
void write_bars(const std::string& path, int w, int h, bool vertical) {
  std::vector<uint8_t> px(static_cast<size_t>(w) * h * 3, 0);
  for (int c : kBars)
    for (int y = 0; y < h; ++y)
      for (int x = 0; x < w; ++x) {
        const int along = vertical ? x : y;
        if (along >= c - kBarHalf && along < c + kBarHalf)
          for (int k = 0; k < 3; ++k) px[(static_cast<size_t>(y) * w + x) * 3 + k] = 255;
      }
  write_png(path, px.data(), w, h, 3);
}

// Mean of the red channel across the bars' direction, per position along the axis.
std::vector<double> profile(const Image& img, bool vertical) {
  const int n = vertical ? img.width : img.height, m = vertical ? img.height : img.width;
  std::vector<double> p(n, 0.0);
  for (int i = 0; i < n; ++i) {
    double s = 0;
    for (int j = 0; j < m; ++j) {
      const int x = vertical ? i : j, y = vertical ? j : i;
      s += img.pixels[(static_cast<size_t>(y) * img.width + x) * 3];
    }
    p[i] = s / m;
  }
  return p;
}

// Centre (pixel edges) of the heat around `c`: centroid of the positions within 40 px whose
// value is at least half the local maximum.
double heat_centre(const std::vector<double>& p, int c) {
  const int lo = std::max(0, c - 40), hi = std::min<int>(static_cast<int>(p.size()), c + 40);
  double mx = 0;
  for (int i = lo; i < hi; ++i) mx = std::max(mx, p[i]);
  double s = 0, n = 0;
  for (int i = lo; i < hi; ++i)
    if (p[i] >= 0.5 * mx) s += i + 0.5, n += 1;
  return n > 0 ? s / n : -1;
}

struct Expect {
  double x0, y0, x1, y1;
};

// torchvision: Resize(size) scales the shorter side to `size` (the other truncated), then
// CenterCrop rounds the offset; the box in source pixels is the offset and size over the scale
// the resizer uses (source / resized).
Expect expected_box(int w, int h, int size, bool crop) {
  if (!crop) return {0, 0, double(w), double(h)};
  int rw, rh;
  if (w < h) {
    rw = size, rh = static_cast<int>(double(size) * h / w);
  } else {
    rh = size, rw = static_cast<int>(double(size) * w / h);
  }
  const double left = std::nearbyint((rw - size) / 2.0), top = std::nearbyint((rh - size) / 2.0);
  const double sx = double(w) / rw, sy = double(h) / rh;
  return {left * sx, top * sy, (left + size) * sx, (top + size) * sy};
}

// Every check on one overlay picture (gray colormap, alpha 1).
void check_overlay(const Image& ov, const Image& src, const Expect& box, bool vertical,
                   const std::string& what) {
  INFO(what);
  REQUIRE(ov.width == src.width);
  REQUIRE(ov.height == src.height);
  const std::vector<double> p = profile(ov, vertical);
  const double lo = vertical ? box.x0 : box.y0, hi = vertical ? box.x1 : box.y1;
  int inside_bars = 0;
  for (int c : kBars) {
    if (c - kBarHalf - 4 < lo || c + kBarHalf + 4 > hi) continue;  // not (wholly) seen
    ++inside_bars;
    const double centre = heat_centre(p, c);
    INFO("bar at " << c << ": heat centred at " << centre);
    CHECK(std::abs(centre - c) <= 2.0);
    // The heat is the map (luminance 1 on the bar), not the frame.
    CHECK(p[c] > 200);
  }
  CHECK(inside_bars >= 2);
  // Outside the crop box: the frame itself, pixel for pixel (pixels wholly outside).
  long outside = 0, differ = 0;
  for (int y = 0; y < ov.height; ++y)
    for (int x = 0; x < ov.width; ++x) {
      const bool out = x + 1 <= box.x0 || x >= box.x1 || y + 1 <= box.y0 || y >= box.y1;
      if (!out) continue;
      ++outside;
      for (int k = 0; k < 3; ++k) {
        const size_t i = (static_cast<size_t>(y) * ov.width + x) * 3 + k;
        differ += ov.pixels[i] != src.pixels[i];
      }
    }
  CHECK(differ == 0);
  if (box.x0 > 1 || box.y0 > 1) CHECK(outside > 0);
  // Inside, the background is black heat (map 0) and there is no heat outside the bars.
  const int mid_gap = (kBars[0] + kBars[1]) / 2;
  CHECK(p[mid_gap] < 10);
}

struct Case {
  const char* name;
  int w, h;
  const char* resize;
  bool vertical;
};

}  // namespace

TEST_CASE("maps sit over the pixels the model saw: export PNG and window overlay") {
  TempDir dir("geometry");
  const int size = 224;
  for (const char* resize : {"center_crop", "stretch"}) {
    const std::string model = dir.str(std::string("lum_") + resize);
    std::ofstream(dir.str("make.py")) << kMakeModel;
    auto mk = run(python() + " '" + dir.str("make.py") + "' '" + model + "' " + resize + " " +
                  std::to_string(size));
    REQUIRE_MESSAGE(mk.status == 0, mk.output);
  }
  const Case cases[] = {{"16:9 center_crop", 1280, 720, "center_crop", true},
                        {"9:16 center_crop", 720, 1280, "center_crop", false},
                        {"16:9 stretch", 1280, 720, "stretch", true}};
  int k = 0;
  for (const Case& c : cases) {
    INFO(c.name);
    const std::string tag = std::to_string(k++);
    const std::string img = dir.str("bars" + tag + ".png");
    write_bars(img, c.w, c.h, c.vertical);
    const Image src = load_image_rgb(img);
    const std::string model = dir.str(std::string("lum_") + c.resize + ".pt");
    const Expect box = expected_box(c.w, c.h, size, std::string(c.resize) == "center_crop");

    // Export.
    const std::string out = dir.str("out" + tag);
    auto r = test::camscope("export --model '" + model + "' --input '" + img +
                      "' --method activation --layer conv --colormap gray --alpha 1 --out '" +
                      out + "'");
    REQUIRE_MESSAGE(r.status == 0, r.output);
    const Json summary = Json::parse(read_text_file(out + "/summary.json"));
    const Json& f = summary.at("frames").at(0);
    CHECK(f.at("source_size")[0].get<int>() == c.w);
    CHECK(f.at("source_size")[1].get<int>() == c.h);
    const Json& cb = f.at("crop_box");
    CHECK(cb[0].get<double>() == doctest::Approx(box.x0).epsilon(1e-6));
    CHECK(cb[1].get<double>() == doctest::Approx(box.y0).epsilon(1e-6));
    CHECK(cb[2].get<double>() == doctest::Approx(box.x1).epsilon(1e-6));
    CHECK(cb[3].get<double>() == doctest::Approx(box.y1).epsilon(1e-6));
    const Image exported = load_image_rgb(out + "/overlay_000000.png");
    check_overlay(exported, src, box, c.vertical, std::string(c.name) + ": export PNG");

    // The window: the overlay texture the viewport shows, read back from GL.
    const std::string ov = dir.str("window" + tag + ".png");
    Session s = view_script(dir, "geo" + tag,
                            "wait_result\ncolormap gray\nalpha 1\nthreshold 0\nsave_overlay " + ov +
                                "\nquit\n",
                            "--model '" + model + "' --input '" + img +
                                "' --method activation --layer conv");
    REQUIRE_MESSAGE(s.run.status == 0, s.run.output);
    const Image window = load_image_rgb(ov);
    check_overlay(window, src, box, c.vertical, std::string(c.name) + ": window overlay");
    // And the two agree (GL's sampling vs the CPU's, 1 LSB; a column at the box's edge may
    // fall either side).
    long off = 0;
    for (size_t i = 0; i < window.pixels.size(); ++i)
      off += std::abs(int(window.pixels[i]) - int(exported.pixels[i])) > 1;
    CHECK(off <= 3L * 2 * (c.w + c.h));
  }
}

TEST_CASE("folder inputs say which file: summary.json and the window's timeline") {
  TempDir dir("geometry_folder");
  const std::string folder = dir.str("photos");
  std::filesystem::create_directories(folder);
  // Natural order: a.png, img2.png, img10.png (not the byte order img10 < img2).
  const char* names[] = {"img10.png", "a.png", "img2.png"};
  const char* order[] = {"a.png", "img2.png", "img10.png"};
  for (int k = 0; k < 3; ++k) {
    std::vector<uint8_t> px(static_cast<size_t>(40) * 30 * 3, static_cast<uint8_t>(60 * k));
    write_png(folder + "/" + names[k], px.data(), 40, 30, 3);
  }
  const std::string out = dir.str("out");
  auto r = test::camscope("export --input '" + folder + "' --overlay none --out '" + out + "'");
  REQUIRE_MESSAGE(r.status == 0, r.output);
  const Json summary = Json::parse(read_text_file(out + "/summary.json"));
  const Json& frames = summary.at("frames");
  REQUIRE(frames.size() == 3);
  for (int k = 0; k < 3; ++k) {
    CHECK(frames[k].at("index").get<int>() == k);
    CHECK(frames[k].at("file").get<std::string>() == order[k]);
  }
  // A video has no file per frame.
  const std::string clip = make_clip(dir, "c.mp4", 3, 10);
  r = test::camscope("export --input '" + clip + "' --overlay none --out '" + dir.str("v") + "'");
  REQUIRE_MESSAGE(r.status == 0, r.output);
  const Json vs = Json::parse(read_text_file(dir.str("v") + "/summary.json"));
  CHECK_FALSE(vs.at("frames").at(0).contains("file"));

  // The window names the file on screen in the timeline.
  Session s = view_script(dir, "folder", "wait_result\nseek 2\nwait_result\nprint_state\nquit\n",
                          "--input '" + folder + "'");
  REQUIRE_MESSAGE(s.run.status == 0, s.run.output);
  REQUIRE(!s.states.empty());
  const std::string timeline = s.states.back().at("timeline").get<std::string>();
  INFO(timeline);
  CHECK(timeline.find("img10.png") != std::string::npos);
}
