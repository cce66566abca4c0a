#include <filesystem>
#include <sstream>
#include "model/model.h"

#include "util/error.h"
#include "util/fs.h"
#include "util/json.h"

namespace camscope::model {

Sidecar load_sidecar(const std::string& json_path) {
  Json j = read_json_file(json_path);
  Sidecar s;
  s.present = true;
  try {
    if (j.contains("input")) {
      const auto& in = j["input"];
      if (in.contains("size")) {
        auto size = in["size"].get<std::vector<int>>();
        if (size.size() != 2 || size[0] <= 0 || size[1] <= 0)
          throw Error(json_path + ": input.size must be [H, W] with positive values");
        s.input.height = size[0];
        s.input.width = size[1];
      }
      if (in.contains("color")) {
        auto c = in["color"].get<std::string>();
        if (c == "rgb")
          s.input.color = ColorMode::RGB;
        else if (c == "bgr")
          s.input.color = ColorMode::BGR;
        else if (c == "gray")
          s.input.color = ColorMode::Gray;
        else
          throw Error(json_path + ": input.color must be rgb, bgr or gray, got '" + c + "'");
      }
      if (in.contains("resize")) {
        auto r = in["resize"].get<std::string>();
        if (r == "stretch")
          s.input.resize = ResizeMode::Stretch;
        else if (r == "center_crop")
          s.input.resize = ResizeMode::CenterCrop;
        else
          throw Error(json_path + ": input.resize must be stretch or center_crop, got '" + r + "'");
      }
      if (in.contains("antialias")) s.input.antialias = in["antialias"].get<bool>();
      if (in.contains("mean")) s.input.mean = in["mean"].get<std::vector<float>>();
      if (in.contains("std")) s.input.std = in["std"].get<std::vector<float>>();
      if (!in.contains("mean") && s.input.color == ColorMode::Gray) s.input.mean = {0.f};
      if (!in.contains("std") && s.input.color == ColorMode::Gray) s.input.std = {1.f};
      const size_t c = static_cast<size_t>(s.input.channels());
      if (s.input.mean.size() == 1 && c > 1) s.input.mean.assign(c, s.input.mean[0]);
      if (s.input.std.size() == 1 && c > 1) s.input.std.assign(c, s.input.std[0]);
      if (s.input.mean.size() != c || s.input.std.size() != c)
        throw Error(json_path + ": input.mean/std need " + std::to_string(c) + " values");
      for (float v : s.input.std)
        if (!(v > 0.f)) throw Error(json_path + ": input.std values must be positive");
    }
    if (j.contains("labels")) {
      s.labels = j["labels"].get<std::vector<std::string>>();
    } else if (j.contains("labels_file")) {
      // One label per line, relative to the sidecar's folder.
      std::filesystem::path f = j["labels_file"].get<std::string>();
      if (f.is_relative()) f = std::filesystem::path(json_path).parent_path() / f;
      if (!std::filesystem::exists(f))
        throw Error(json_path + ": labels_file " + f.string() + " not found");
      std::istringstream in(read_text_file(f.string()));
      for (std::string line; std::getline(in, line);) {
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (!line.empty()) s.labels.push_back(line);
      }
    }
    if (j.contains("default_layer")) s.default_layer = j["default_layer"].get<std::string>();
  } catch (const nlohmann::json::exception& e) {
    throw Error(json_path + ": malformed sidecar (" + std::string(e.what()) + ")");
  }
  return s;
}

}  // namespace camscope::model
