#pragma once
// Taps without hooks: a copy of a module's forward graph, rewritten so that chosen submodules'
// outputs become extra outputs. Calls are inlined only along the module paths that lead to a
// tap, so each tap is exactly the value the submodule call returned. See TOOLCHAIN.md "Taps by
// graph rewriting" for the pitfalls this avoids (profiling executor, in-place ReLU).
#include <torch/script.h>

#include <memory>
#include <string>
#include <vector>

#include "model/model.h"

namespace torch::jit {
struct GraphFunction;
}

namespace camscope::model {

struct TapGraph {
  // Run with {module._ivalue(), x}; returns a tuple (forward output, tap 0, tap 1, ...).
  std::shared_ptr<torch::jit::GraphFunction> function;
  // Per requested tap: true when it could be exposed (always true for strict builds).
  std::vector<bool> resolved;
  // Per requested tap: position of the producing call in the rewritten graph (execution
  // order), -1 when unresolved. Equal for a container and its last child.
  std::vector<int64_t> order;
};

// Builds the rewritten forward. A module called several times is tapped at its first call site
// in graph order. strict: throw camscope::Error for a tap that is not a module, is never called,
// is called inside data-dependent control flow, or does not return a tensor; otherwise leave it
// unresolved (used for the layer-table probe).
TapGraph build_tap_graph(const torch::jit::Module& module, const std::vector<std::string>& taps,
                         ReluMode mode, bool strict);

// Registers camscope::guided_relu(Tensor x, float max) -> Tensor: forward clamp(x, 0, max),
// backward relu(grad) * (x > 0). Returns the op's symbol.
c10::Symbol guided_relu_symbol();
// camscope::redirected_relu(Tensor x, float max): forward as above, backward Lucent's redirected
// ReLU gradient (feature visualization of dead units).
c10::Symbol redirected_relu_symbol();

}  // namespace camscope::model

namespace camscope::model {

// A tap graph cut in two at its tap, so that a gradient to the taps needs autograd
// only after that point (DESIGN.md: backward goes only as far as the taps):
//   prefix(self, x)            -> tuple(cut values), run under NoGradGuard
//   suffix(self, cut values)   -> tuple(forward output, taps...), run with autograd
// Cut value 0 is the tap: the caller passes it as a leaf that requires grad. The other cut
// values are what the suffix reads from before the cut (a residual branch's input, ...); none of
// them depends on the tap, so the gradient to it is the one the whole graph gives.
struct SplitTapGraph {
  std::shared_ptr<torch::jit::GraphFunction> prefix, suffix;
  bool valid() const { return prefix != nullptr; }
};

// Splits `tg` at its tap (GraphOptimization: see model.h). Not valid (no prefix) when there is
// no tap, the taps are different values, or the tap is the input itself. `onednn` = false keeps
// Fast's folding but leaves the prefix on ATen's own kernels (the fallback when a oneDNN run
// disagrees with the exact graph).
SplitTapGraph split_at_tap(const TapGraph& tg, const torch::jit::Module& module,
                           GraphOptimization opt, const torch::Device& device, bool onednn = true);

// The whole tap graph optimized for runs without autograd (Fast as above).
std::shared_ptr<torch::jit::GraphFunction> inference_graph(const TapGraph& tg,
                                                           const torch::jit::Module& module,
                                                           const torch::Device& device,
                                                           bool onednn = true);

}  // namespace camscope::model
