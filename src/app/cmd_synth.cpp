// `camscope synth`: writes synthetic scenes (scene_%06d.png) and their ground truth
// (labels.json) — the built-in model's training data and the maps' test material.
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <filesystem>

#include "app/commands.h"
#include "capture/synthetic_world.h"
#include "util/args.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/image_io.h"
#include "util/json.h"

namespace camscope::app {
namespace {

constexpr const char* kUsage =
    "usage: camscope synth --out DIR --count N [--seed S] [--size WxH] "
    "[--mode single|pair|moving] [--force]\n"
    "  single: one object per scene (default size 112x112); pair: two objects of different\n"
    "  classes; moving: frames 0..N-1 of the moving world (default size 640x360).\n"
    "  Writes DIR/scene_%06d.png and DIR/labels.json (per image: file, classes, names,\n"
    "  boxes [x0, y0, x1, y1] half-open in pixels, centers [x, y]).\n";

uint64_t parse_seed(const std::string& s) {
  errno = 0;
  char* end = nullptr;
  const unsigned long long v = std::strtoull(s.c_str(), &end, 10);
  if (s.empty() || s[0] == '-' || *end != '\0' || errno == ERANGE)
    throw Error("--seed expects a non-negative integer, got '" + s + "'");
  return v;
}

void parse_size(const std::string& s, int& w, int& h) {
  int n = 0;
  if (std::sscanf(s.c_str(), "%dx%d%n", &w, &h, &n) != 2 || n != static_cast<int>(s.size()) ||
      w < 16 || h < 16 || w > 8192 || h > 8192)
    throw Error("--size expects WxH with sides 16..8192 (e.g. 112x112), got '" + s + "'");
}

Json object_json_array(const std::vector<capture::SceneObject>& objs, int what) {
  Json a = Json::array();
  for (const auto& o : objs) {
    if (what == 0) a.push_back(static_cast<int>(o.shape));
    if (what == 1) a.push_back(capture::shape_name(o.shape));
    if (what == 2) a.push_back({o.x0, o.y0, o.x1, o.y1});
    if (what == 3) a.push_back({o.cx, o.cy});
  }
  return a;
}

}  // namespace

int cmd_synth(int argc, const char* const* argv) {
  for (int i = 0; i < argc; ++i)
    if (std::string(argv[i]) == "--help" || std::string(argv[i]) == "-h") {
      std::printf("%s", kUsage);
      return 0;
    }
  Args args(argc, argv, {"out", "count", "seed", "size", "mode"}, {"force"});
  if (!args.positional().empty())
    throw Error("synth: unexpected argument '" + args.positional()[0] + "'");
  if (!args.has("out")) throw Error("synth: --out DIR is required");
  if (!args.has("count")) throw Error("synth: --count N is required");
  const std::string out = args.get("out");
  const int count = args.get_int("count", 0);
  if (count < 1 || count > 10000000) throw Error("--count expects 1..10000000, got " + args.get("count"));
  const uint64_t seed = parse_seed(args.get("seed", "0"));
  const capture::SceneMode mode = capture::parse_scene_mode(args.get("mode", "single"));
  int w = mode == capture::SceneMode::Moving ? 640 : 112;
  int h = mode == capture::SceneMode::Moving ? 360 : 112;
  if (args.has("size")) parse_size(args.get("size"), w, h);
  const bool force = args.flag("force");

  // Check every file first, so a refusal leaves the folder untouched.
  const std::filesystem::path dir(out);
  if (std::filesystem::exists(dir) && !std::filesystem::is_directory(dir))
    throw Error(out + " exists and is not a directory");
  if (std::filesystem::exists(dir)) {
    check_writable((dir / "labels.json").string(), force);
    for (int i = 0; i < count; ++i)
      check_writable((dir / format_index("scene_%06d.png", i)).string(), force);
  }
  ensure_directory(out);

  Json images = Json::array();
  std::unique_ptr<capture::MovingWorld> world;
  if (mode == capture::SceneMode::Moving) world = std::make_unique<capture::MovingWorld>(seed, w, h);
  capture::Scene sc;
  for (int i = 0; i < count; ++i) {
    if (world) {
      sc.width = w, sc.height = h;
      world->render(static_cast<uint64_t>(i), sc.rgb, &sc.objects);
    } else {
      sc = capture::make_scene(mode, seed, static_cast<uint64_t>(i), w, h);
    }
    const std::string file = format_index("scene_%06d.png", i);
    write_png((dir / file).string(), sc.rgb.data(), w, h, 3);
    Json img;
    img["file"] = file;
    img["classes"] = object_json_array(sc.objects, 0);
    img["names"] = object_json_array(sc.objects, 1);
    img["boxes"] = object_json_array(sc.objects, 2);
    img["centers"] = object_json_array(sc.objects, 3);
    images.push_back(std::move(img));
  }
  Json labels;
  labels["mode"] = capture::scene_mode_name(mode);
  labels["seed"] = seed;
  labels["size"] = {w, h};
  labels["labels"] = capture::shape_names();
  labels["images"] = std::move(images);
  write_json_file((dir / "labels.json").string(), labels);
  std::printf("wrote %d %s scenes (%dx%d, seed %llu) to %s\n", count,
              capture::scene_mode_name(mode), w, h, static_cast<unsigned long long>(seed),
              out.c_str());
  return 0;
}

}  // namespace camscope::app
