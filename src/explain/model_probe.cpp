#include "explain/model_probe.h"

#include "util/error.h"

namespace camscope::explain {

std::vector<std::string> find_channel_gates(const model::Model& model) {
  std::vector<std::string> out;
  for (const auto& info : model.layers()) {
    const auto& s = info.output_shape;
    bool gate_type = info.type == "Sigmoid" || info.type == "Hardsigmoid";
    if (gate_type && s.size() == 4 && s[1] > 1 && s[2] == 1 && s[3] == 1) out.push_back(info.path);
  }
  return out;
}

std::vector<torch::Tensor> channel_gates(model::Model& model, const torch::Tensor& input,
                                         const std::vector<std::string>& paths) {
  if (paths.empty()) return {};
  torch::NoGradGuard no_grad;
  auto out = model.forward(input, paths);
  std::vector<torch::Tensor> gates;
  for (auto& t : out.taps) gates.push_back(t[0].flatten());
  return gates;
}

std::string first_conv_path(const model::Model& model) {
  for (const auto& info : model.layers())
    if (info.type == "Conv2d") return info.path;
  throw Error("the model has no Conv2d layer to show filters of");
}

torch::Tensor first_layer_filters(model::Model& model) {
  const std::string path = first_conv_path(model);
  for (const auto& sub : model.module().named_modules()) {
    if (sub.name != path) continue;
    auto w = sub.value.attr("weight").toTensor().detach().to(torch::kFloat);
    auto m = w.abs().max();
    // Symmetric scale keeps 0.5 = "no weight", so positive and negative filters read alike.
    return 0.5 + w / (2 * torch::clamp_min(m, 1e-12));
  }
  throw Error("layer '" + path + "' not found in the module");
}

}  // namespace camscope::explain
