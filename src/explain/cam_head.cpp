#include "explain/cam_head.h"

#include "util/error.h"

namespace camscope::explain {

CamHead find_cam_head(model::Model& model, const std::string& layer, const torch::Tensor& A,
                      const torch::Tensor& logits) {
  const int64_t K = A.size(0), classes = model.num_classes();
  const std::string fail =
      "'cam' needs a global-average-pool + linear head fed directly by the "
      "layer; ";
  // The last module in the table that maps K features to the classes.
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
  if (!head.weight.defined())
    throw Error(fail + "no Linear or 1x1 Conv2d maps " + std::to_string(K) + " channels of '" +
                layer + "' to " + std::to_string(classes) + " classes (try gradcam)");
  torch::NoGradGuard no_grad;
  auto W = head.weight.to(A.device(), A.dtype());
  auto pred = W.matmul(A.mean({1, 2}));
  if (head.bias.defined()) pred = pred + head.bias.to(A.device(), A.dtype());
  auto ref = logits.to(A.dtype()).flatten();
  double scale = ref.abs().max().item<double>() + 1e-3;
  double err = (pred - ref).abs().max().item<double>();
  if (!(err <= 1e-3 * scale))
    throw Error(fail + "'" + layer + "' does not feed '" + head.path +
                "' through a global average pool (try gradcam)");
  return head;
}

}  // namespace camscope::explain
