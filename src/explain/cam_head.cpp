#include "explain/cam_head.h"

#include <algorithm>

#include "util/error.h"

namespace camscope::explain {
namespace {

// The last module in the table that maps K features to the classes (a Linear or a 1x1 Conv2d).
CamHead head_for(model::Model& model, int64_t K) {
  const int64_t classes = model.num_classes();
  CamHead head;
  for (const auto& info : model.layers()) {
    if (info.type != "Linear" && info.type != "Conv2d") continue;
    for (const auto& sub : model.module().named_modules()) {
      if (sub.name != info.path) continue;
      if (!sub.value.hasattr("weight")) break;
      auto w = sub.value.attr("weight").toTensor();
      bool linear = info.type == "Linear" && w.dim() == 2;
      bool conv1x1 = info.type == "Conv2d" && w.dim() == 4 && w.size(2) == 1 && w.size(3) == 1;
      if ((linear || conv1x1) && w.size(0) == classes && w.size(1) == K) {
        head.path = info.path;
        head.weight = w.detach().reshape({classes, K});
        auto b = sub.value.hasattr("bias") ? sub.value.attr("bias") : c10::IValue();
        head.bias = b.isTensor() ? b.toTensor().detach() : torch::Tensor();
      }
      break;
    }
  }
  return head;
}

// logits == W · mean_ij(A) + b, to float tolerance.
bool feeds_head(const CamHead& head, const torch::Tensor& A, const torch::Tensor& logits) {
  torch::NoGradGuard no_grad;
  auto W = head.weight.to(A.device(), A.dtype());
  auto pred = W.matmul(A.mean({1, 2}));
  if (head.bias.defined()) pred = pred + head.bias.to(A.device(), A.dtype());
  auto ref = logits.to(A.dtype()).flatten();
  if (pred.numel() != ref.numel()) return false;
  double scale = ref.abs().max().item<double>() + 1e-3;
  double err = (pred - ref).abs().max().item<double>();
  return err <= 1e-3 * scale;
}

// "; cam works at: a, b (try --layer a)" or "" when no layer of the model qualifies.
std::string valid_layers_hint(model::Model& model, const std::string& layer,
                              const torch::Tensor& input) {
  if (!input.defined()) return "";
  std::vector<std::string> ok;
  try {
    ok = cam_layers(model, input);
  } catch (const std::exception&) {
    return "";
  }
  std::string s, first;
  for (const auto& p : ok) {
    if (p == layer) continue;
    s += (s.empty() ? "" : ", ") + p;
    if (first.empty()) first = p;
  }
  if (s.empty()) return "; no layer of this model feeds such a head (try gradcam)";
  std::string def;
  try {
    def = model.default_layer();
  } catch (const std::exception&) {
  }
  const bool def_ok = std::find(ok.begin(), ok.end(), def) != ok.end() && def != layer;
  return "; cam works at: " + s + " (try --layer " + (def_ok ? def : first) + ")";
}

}  // namespace

std::vector<std::string> cam_layers(model::Model& model, const torch::Tensor& input) {
  // Candidates: spatial layers whose channel count some head takes; checked on one forward
  // pass that taps them all.
  std::vector<std::string> taps;
  std::vector<CamHead> heads;
  for (const auto& info : model.layers()) {
    const auto& s = info.output_shape;
    if (info.path.empty() || s.size() != 4 || s[2] * s[3] <= 1) continue;
    CamHead h = head_for(model, s[1]);
    if (!h.weight.defined()) continue;
    taps.push_back(info.path);
    heads.push_back(std::move(h));
  }
  std::vector<std::string> ok;
  if (taps.empty()) return ok;
  torch::NoGradGuard no_grad;
  auto out = model.forward(input.to(model.device()), taps);
  for (size_t i = 0; i < taps.size(); ++i) {
    const torch::Tensor A = out.taps.at(i);
    if (A.dim() == 4 && A.size(0) == 1 && feeds_head(heads[i], A[0], out.logits[0]))
      ok.push_back(taps[i]);
  }
  return ok;
}

CamHead find_cam_head(model::Model& model, const std::string& layer, const torch::Tensor& A,
                      const torch::Tensor& logits, const torch::Tensor& input) {
  const int64_t K = A.size(0), classes = model.num_classes();
  const std::string fail =
      "'cam' needs a global-average-pool + linear head fed directly by the "
      "layer; ";
  CamHead head = head_for(model, K);
  if (!head.weight.defined())
    throw Error(fail + "no Linear or 1x1 Conv2d maps " + std::to_string(K) + " channels of '" +
                layer + "' to " + std::to_string(classes) + " classes" +
                valid_layers_hint(model, layer, input));
  if (!feeds_head(head, A, logits))
    throw Error(fail + "'" + layer + "' does not feed '" + head.path +
                "' through a global average pool" + valid_layers_hint(model, layer, input));
  return head;
}

}  // namespace camscope::explain
