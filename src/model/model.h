#pragma once
// The model engine: a TorchScript classifier with its sidecar, its layer table, and forward
// passes that expose any submodules' outputs ("taps") by rewriting the forward graph — no
// hooks. Gradients go from a target logit back to the taps only (torch::autograd::grad).
// This header includes LibTorch: include it only from model/, explain/ and app/ code.
#include <torch/script.h>

#include "model/sidecar.h"

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace camscope::model {

struct LayerInfo {
  std::string path;                   // as PyTorch named_modules() spells it ("" = root)
  std::string type;                   // e.g. "Conv2d", "BatchNorm2d", "Sequential"
  std::vector<int64_t> output_shape;  // from a probe forward at the sidecar size; empty if none
  int64_t params = 0;                 // parameters owned by the module and its children
};

// Guided: every ReLU-family op (relu, relu_, relu6, hardtanh(x, 0, max)) keeps its forward and
// passes back relu(grad_out) * (x > 0) (DESIGN.md "guidedbp", taken literally: also above max).
// Normal: the model's own ReLUs. Guided: guided backprop's ReLU gradient. Redirected: feature
// visualization's pass-through gradient for dead units (model/guided_relu.cpp).
enum class ReluMode { Normal, Guided, Redirected };

// How the rewritten graphs run. Exact: the model's own ops; maps match eager PyTorch to float
// rounding of the same ops. Fast: parameters and buffers become constants, convolution + batch
// norm (and + add/mul by constants) are folded, and on the CPU the part that needs no autograd
// runs on oneDNN with prepacked weights (like torch.jit.optimize_for_inference); values then
// differ from the model's own graph by float rounding (~1e-6 relative). Either way a gradient
// to a tap records autograd only from the earliest tap on.
enum class GraphOptimization { Exact, Fast };
// The --engine option: "exact" or "fast" (camscope::Error otherwise), and back.
GraphOptimization parse_engine(const std::string& name);
const char* engine_name(GraphOptimization opt);

struct ForwardResult {
  torch::Tensor logits;             // [N, classes]
  std::vector<torch::Tensor> taps;  // one per requested path, the module output as produced
};

// Not thread-safe: forward() caches rewritten graphs. Give each worker thread its own Model
// (clone()).
class Model {
 public:
  struct Options {
    std::string path;             // M.pt
    std::string config_path;      // sidecar; default: M.json beside M.pt when present
    std::string device = "auto";  // auto | cpu | cuda[:N]
    int threads = 0;              // intra-op threads; 0 = all cores
    GraphOptimization optimization = GraphOptimization::Exact;
  };
  // Loads (eval mode, parameters frozen), validates (channels, [N, classes] logits, finite
  // output for an all-zero input) and lists layers from one probe forward with every module
  // tapped. Sets LibTorch's intra-op thread count (process-wide). Throws camscope::Error with a
  // one-line reason; a model frozen with torch.jit.freeze has no layers and is refused.
  static std::unique_ptr<Model> load(const Options& opt);
  virtual ~Model() = default;

  virtual const std::string& path() const = 0;
  virtual const Sidecar& sidecar() const = 0;
  virtual torch::Device device() const = 0;
  virtual std::string device_name() const = 0;  // "cpu" or the GPU's name
  virtual const std::vector<LayerInfo>& layers() const = 0;
  virtual int64_t num_classes() const = 0;
  virtual std::string label(int64_t cls) const = 0;  // sidecar label or the number

  // The sidecar's default_layer, else the last module with a 4-D output whose h*w > 1.
  virtual std::string default_layer() const = 0;
  // Returns the layer; throws camscope::Error naming the closest existing paths otherwise.
  virtual const LayerInfo& layer(const std::string& path) const = 0;

  // RGB8 frame (row-major, top row first) -> [1, C, H, W] float32 on the model's device,
  // resized/cropped/normalized per the sidecar. Runs on the model's device.
  virtual torch::Tensor preprocess(const uint8_t* rgb, int width, int height) const = 0;
  // Same for a [H, W, 3] uint8 tensor (any device).
  virtual torch::Tensor preprocess(const torch::Tensor& hwc_u8) const = 0;

  // Forward with taps. With grad mode on and one tap requested (x not requiring grad), autograd
  // records only from the tap on and the returned tap is a leaf that requires grad, so
  // torch::autograd::grad({logit}, taps) reaches it (parameters never require grad). With several
  // taps on different values, the whole graph is recorded. To get gradients w.r.t. the input,
  // pass x with requires_grad set (everything is recorded). Use torch::NoGradGuard when no
  // gradient is needed (with GraphOptimization::Fast that runs the oneDNN copy on the CPU).
  //
  // Taps are the submodule's output exactly as produced (an in-place op that later overwrites
  // it, e.g. torchvision's ReLU after bn1, does not change the tap or its gradient). A module
  // called several times (a shared ReLU) is tapped at its FIRST call site in graph order.
  // Layers called only inside data-dependent control flow cannot be tapped (camscope::Error).
  // The rewritten graph is cached per (taps, mode); primitive module attributes (flags such as
  // `training`) are read when it is built, so changing them later needs a fresh Model.
  virtual ForwardResult forward(const torch::Tensor& x, const std::vector<std::string>& taps,
                                ReluMode mode = ReluMode::Normal) = 0;

  // Forward without autograd where the output of layer `tap` is replaced by edit(output) for
  // everything after it (Ablation-CAM: a batch of copies of x, one channel zeroed in each).
  // Always on the model's own ops (Exact). Returns the logits [N, classes]. Throws
  // camscope::Error when the layer's output cannot be cut out of the graph (it is the input).
  virtual torch::Tensor forward_edited(
      const torch::Tensor& x, const std::string& tap,
      const std::function<torch::Tensor(const torch::Tensor&)>& edit) = 0;

  // The underlying module (e.g. for parameter randomization) and a deep copy of the model.
  virtual torch::jit::Module& module() = 0;
  virtual std::unique_ptr<Model> clone() const = 0;
};

}  // namespace camscope::model
