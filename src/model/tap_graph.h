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

}  // namespace camscope::model
