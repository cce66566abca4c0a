// `camscope info`: a model's layer table (module path, type, output shape, parameters), as a
// readable table or as DESIGN.md's JSON.
#include <algorithm>
#include <cstdio>
#include <string>

#include "app/commands.h"
#include "model/model.h"
#include "util/args.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/json.h"

namespace camscope::app {
namespace {

const char* kInfoHelp =
    "usage: camscope info [--model M.pt] [--model-config M.json] [--json] [--device D]\n"
    "  Lists the model's layers: module path (as named_modules() spells it, usable with\n"
    "  --layer), type, output shape for one input at the sidecar size, parameter count.\n";

std::string shape_str(const std::vector<int64_t>& s) {
  if (s.empty()) return "-";
  std::string out = "[";
  for (size_t i = 0; i < s.size(); ++i) out += (i ? ", " : "") + std::to_string(s[i]);
  return out + "]";
}

// 11181642 -> "11,181,642"
std::string thousands(int64_t n) {
  std::string s = std::to_string(n);
  for (int i = static_cast<int>(s.size()) - 3; i > 0; i -= 3) s.insert(i, ",");
  return s;
}

const char* color_name(model::ColorMode c) {
  switch (c) {
    case model::ColorMode::RGB:
      return "rgb";
    case model::ColorMode::BGR:
      return "bgr";
    case model::ColorMode::Gray:
      return "gray";
  }
  return "?";
}

void print_table(const model::Model& m) {
  const auto& in = m.sidecar().input;
  std::printf("model:   %s (%s)\n", m.path().c_str(), m.device_name().c_str());
  std::printf("input:   [%d, %d, %d] %s, %s%s\n", in.channels(), in.height, in.width,
              color_name(in.color),
              in.resize == model::ResizeMode::Stretch ? "stretch" : "center_crop",
              m.sidecar().present ? "" : " (no sidecar: defaults)");
  std::printf("classes: %lld", static_cast<long long>(m.num_classes()));
  if (!m.sidecar().labels.empty()) {
    std::string names;
    for (int64_t c = 0; c < std::min<int64_t>(m.num_classes(), 5); ++c)
      names += (c ? ", " : "") + m.label(c);
    std::printf(" (%s%s)", names.c_str(), m.num_classes() > 5 ? ", ..." : "");
  }
  std::printf("\ndefault layer: %s\n\n", m.default_layer().c_str());

  size_t path_w = 5, type_w = 4, shape_w = 12;
  for (const auto& l : m.layers()) {
    const size_t depth = l.path.empty() ? 0 : std::count(l.path.begin(), l.path.end(), '.') + 1;
    path_w = std::max(path_w, 2 * depth + (l.path.empty() ? 7 : l.path.size()));
    type_w = std::max(type_w, l.type.size());
    shape_w = std::max(shape_w, shape_str(l.output_shape).size());
  }
  std::printf("%-*s  %-*s  %-*s  %s\n", int(path_w), "layer", int(type_w), "type", int(shape_w),
              "output shape", "params");
  for (const auto& l : m.layers()) {
    const size_t depth = l.path.empty() ? 0 : std::count(l.path.begin(), l.path.end(), '.') + 1;
    std::string name = std::string(2 * depth, ' ') + (l.path.empty() ? "(model)" : l.path);
    std::printf("%-*s  %-*s  %-*s  %s\n", int(path_w), name.c_str(), int(type_w), l.type.c_str(),
                int(shape_w), shape_str(l.output_shape).c_str(), thousands(l.params).c_str());
  }
}

void print_json(const model::Model& m) {
  const auto& in = m.sidecar().input;
  Json j;
  j["model"] = m.path();
  j["input"] = {in.channels(), in.height, in.width};
  Json layers = Json::array();
  for (const auto& l : m.layers())
    layers.push_back({{"path", l.path},
                      {"type", l.type},
                      {"output_shape", l.output_shape},
                      {"params", l.params}});
  j["layers"] = std::move(layers);
  j["default_layer"] = m.default_layer();
  j["num_classes"] = m.num_classes();
  std::printf("%s\n", j.dump(2).c_str());
}

}  // namespace

int cmd_info(int argc, const char* const* argv) {
  Args args(argc, argv, {"model", "model-config", "device"}, {"json", "help"});
  if (args.flag("help")) {
    std::fputs(kInfoHelp, stdout);
    return 0;
  }
  if (!args.positional().empty())
    throw Error("info takes no positional arguments (got '" + args.positional()[0] +
                "'; use --model PATH)");
  model::Model::Options opt;
  opt.path = args.get("model");
  if (opt.path.empty()) {
    opt.path = std::string(CAMSCOPE_ASSET_DIR) + "/builtin.pt";
    if (!file_exists(opt.path))
      throw Error("no --model given and the built-in model " + opt.path + " is missing");
  }
  opt.config_path = args.get("model-config");
  opt.device = args.get("device", "auto");
  auto m = model::Model::load(opt);
  if (args.flag("json"))
    print_json(*m);
  else
    print_table(*m);
  return 0;
}

}  // namespace camscope::app
