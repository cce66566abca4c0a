// camscope::guided_relu: the ReLU-family op of guided backpropagation (DESIGN.md "guidedbp"),
// and camscope::redirected_relu for feature visualization (see RedirectedRelu).
// Forward is the ordinary clamp(x, 0, max); backward passes only positive gradients through
// positive inputs: relu(grad_out) * (x > 0).
#include <torch/csrc/autograd/custom_function.h>
#include <torch/library.h>

#include "model/tap_graph.h"

namespace camscope::model {
namespace {

// The forward of both ops: the ReLU-family op itself, clamp(x, 0, max), saving x.
torch::Tensor relu_family_forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& x,
                                  double max) {
  ctx->save_for_backward({x});
  return std::isinf(max) ? x.clamp_min(0) : x.clamp(0, max);
}

struct GuidedRelu : torch::autograd::Function<GuidedRelu> {
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& x,
                               double max) {
    return relu_family_forward(ctx, x, max);
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

// Feature visualization's remedy for dead units (Lucid/Lucent's "redirected ReLU"): while the
// ordinary ReLU gradient of a sample is all zero, the gradient passes through anyway, except
// where it would push an already negative input further down (the objective's gradient is
// negative there). Once any gradient flows, it is the ordinary ReLU gradient.
struct RedirectedRelu : torch::autograd::Function<RedirectedRelu> {
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& x,
                               double max) {
    return relu_family_forward(ctx, x, max);
  }
  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    const torch::Tensor x = ctx->get_saved_variables()[0];
    const torch::Tensor& g = grads[0];
    const torch::Tensor relu_grad = g * (x >= 0).to(g.scalar_type());
    const torch::Tensor redirected = g * (~((x < 0) & (g < 0))).to(g.scalar_type());
    // Per sample: the ordinary gradient where it is non-zero, the redirected one where not.
    const int64_t n = x.dim() > 0 ? x.size(0) : 1;
    const torch::Tensor dead = relu_grad.reshape({n, -1}).norm(2, 1).lt(1e-7);
    std::vector<int64_t> shape(static_cast<size_t>(std::max<int64_t>(x.dim(), 1)), 1);
    shape[0] = n;
    return {torch::where(dead.reshape(shape), redirected, relu_grad), torch::Tensor()};
  }
};

torch::Tensor redirected_relu(const torch::Tensor& x, double max) {
  return RedirectedRelu::apply(x, max);
}

}  // namespace

// A catch-all kernel: the custom autograd Function records its own backward node on any device.
TORCH_LIBRARY(camscope, m) {
  m.def("guided_relu(Tensor x, float max) -> Tensor", &guided_relu);
  m.def("redirected_relu(Tensor x, float max) -> Tensor", &redirected_relu);
}

// Referenced by the graph rewriter, which keeps this object file (and the registration above)
// in the link.
c10::Symbol guided_relu_symbol() {
  return c10::Symbol::fromQualString("camscope::guided_relu");
}
c10::Symbol redirected_relu_symbol() {
  return c10::Symbol::fromQualString("camscope::redirected_relu");
}

}  // namespace camscope::model
