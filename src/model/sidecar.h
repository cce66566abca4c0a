#pragma once
// The model sidecar (DESIGN.md "Model sidecar"): how to feed and label a model. No LibTorch
// here, so the parser builds (and is fuzzed, scripts/fuzz.sh) on its own.
#include <string>
#include <vector>

namespace camscope::model {

enum class ColorMode { RGB, BGR, Gray };
enum class ResizeMode { Stretch, CenterCrop };

// DESIGN.md "Model sidecar".
struct InputSpec {
  int height = 224, width = 224;
  ColorMode color = ColorMode::RGB;
  ResizeMode resize = ResizeMode::Stretch;
  std::vector<float> mean{0.485f, 0.456f, 0.406f};
  std::vector<float> std{0.229f, 0.224f, 0.225f};
  bool antialias = true;
  int channels() const { return color == ColorMode::Gray ? 1 : 3; }
};

struct Sidecar {
  bool present = false;  // false: defaults (RGB, ImageNet mean/std, 224x224, numeric labels)
  std::string path;      // the JSON file it came from (for messages)
  InputSpec input;
  std::vector<std::string> labels;
  std::string default_layer;
};

// Reads M.json and validates it against the schema in sidecar.cpp; throws camscope::Error with
// one line naming the field ("M.json: input.std[1] must be > 0") on anything malformed. The
// file, and a labels_file, are bounded by util/fs.h's text-file limit.
Sidecar load_sidecar(const std::string& json_path);

}  // namespace camscope::model
