// camscope::guided_relu: the ReLU-family op of guided backpropagation (DESIGN.md "guidedbp").
// Forward is the ordinary clamp(x, 0, max); backward passes only positive gradients through
// positive inputs: relu(grad_out) * (x > 0).
#include <torch/csrc/autograd/custom_function.h>
#include <torch/library.h>

#include "model/tap_graph.h"

namespace camscope::model {
namespace {

struct GuidedRelu : torch::autograd::Function<GuidedRelu> {
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& x,
                               double max) {
    ctx->save_for_backward({x});
    return std::isinf(max) ? x.clamp_min(0) : x.clamp(0, max);
  }
  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    const torch::Tensor x = ctx->get_saved_variables()[0];
    return {grads[0].clamp_min(0) * (x > 0).to(grads[0].scalar_type()), torch::Tensor()};
  }
};

torch::Tensor guided_relu(const torch::Tensor& x, double max) {
  return GuidedRelu::apply(x, max);
}

}  // namespace

// A catch-all kernel: the custom autograd Function records its own backward node on any device.
TORCH_LIBRARY(camscope, m) {
  m.def("guided_relu(Tensor x, float max) -> Tensor", &guided_relu);
}

// Referenced by the graph rewriter, which keeps this object file (and the registration above)
// in the link.
c10::Symbol guided_relu_symbol() {
  return c10::Symbol::fromQualString("camscope::guided_relu");
}

}  // namespace camscope::model
