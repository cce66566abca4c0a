// Model::load and the TorchScript-backed Model: validation, layer table, tapped forward.
#include "model/model.h"

#include <ATen/Parallel.h>
#include <torch/csrc/jit/api/function_impl.h>
#include <torch/cuda.h>

#if defined(CAMSCOPE_HAVE_CUDA) && __has_include(<ATen/cuda/CUDAContext.h>)
#include <ATen/cuda/CUDAContext.h>
#define CAMSCOPE_CUDA_PROPS 1
#endif

#include <filesystem>
#include <map>
#include <sstream>
#include <thread>

#include "model/preprocess.h"
#include "model/tap_graph.h"
#include "model/torchscript_archive.h"
#include "util/args.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/log.h"

namespace camscope::model {
namespace {

namespace fs = std::filesystem;

// The cause of a LibTorch error on one line (the Python-level exception and the failing op of
// a TorchScript interpreter error, not its "The following operation failed" header).
std::string first_line(const std::string& s) { return error_summary(s); }

std::string shape_str(c10::IntArrayRef shape) {
  std::ostringstream os;
  os << "[";
  for (size_t i = 0; i < shape.size(); ++i) os << (i ? ", " : "") << shape[i];
  os << "]";
  return os.str();
}

void check_model_file(const std::string& path) {
  if (path.empty()) throw Error("no model given (--model PATH)");
  const std::string why = not_regular_reason(path);
  if (why == "is a directory") throw Error(path + ": is a directory, not a TorchScript file");
  std::error_code ec;
  if (why.empty() && fs::file_size(path, ec) == 0 && !ec)
    throw Error(path + ": empty file, not a TorchScript model");
  check_input_file(path, FileKind::Model);  // not regular, too large: one line naming the limit
  // The zip container, bounded by the file, before LibTorch trusts its directory.
  check_torchscript_file(path, static_cast<uint64_t>(max_file_bytes(FileKind::Model)));
}

torch::Device pick_device(const std::string& name) {
  if (name == "auto" || name.empty())
    return torch::cuda::is_available() ? torch::Device(torch::kCUDA, 0)
                                       : torch::Device(torch::kCPU);
  if (name == "cpu") return torch::Device(torch::kCPU);
  if (name.rfind("cuda", 0) == 0) {
    torch::Device d(torch::kCPU);
    try {
      d = torch::Device(name);
    } catch (const c10::Error&) {
      throw Error("bad device '" + name + "' (use auto, cpu, cuda or cuda:N)");
    }
    if (!torch::cuda::is_available())
      throw Error("--device " + name + ": this build or machine has no CUDA device");
    if (d.has_index() && d.index() >= static_cast<int>(torch::cuda::device_count()))
      throw Error("--device " + name + ": only " + std::to_string(torch::cuda::device_count()) +
                  " CUDA device(s)");
    return d;
  }
  throw Error("bad device '" + name + "' (use auto, cpu, cuda or cuda:N)");
}

std::string type_name(const torch::jit::Module& m) {
  auto name = m.type()->name();
  return name ? name->name() : m.type()->str();
}

class TorchModel final : public Model {
 public:
  TorchModel(std::string path, Sidecar sidecar, torch::jit::Module module, torch::Device device,
             GraphOptimization optimization)
      : m_path(std::move(path)),
        m_sidecar(std::move(sidecar)),
        m_module(std::move(module)),
        m_device(device),
        m_optimization(optimization) {
    for (const auto& p : m_module.parameters()) m_weights.push_back(p);
    for (const auto& b : m_module.buffers()) m_weights.push_back(b);
  }

  // Validates the module against the sidecar and builds the layer table from one probe forward.
  void inspect();

  const std::string& path() const override { return m_path; }
  const Sidecar& sidecar() const override { return m_sidecar; }
  torch::Device device() const override { return m_device; }
  std::string device_name() const override;
  const std::vector<LayerInfo>& layers() const override { return m_layers; }
  int64_t num_classes() const override { return m_num_classes; }
  std::string label(int64_t cls) const override {
    if (cls >= 0 && cls < static_cast<int64_t>(m_sidecar.labels.size()))
      return m_sidecar.labels[cls];
    return std::to_string(cls);
  }
  std::string default_layer() const override { return m_default_layer; }
  const LayerInfo& layer(const std::string& path) const override;

  torch::Tensor preprocess(const uint8_t* rgb, int width, int height) const override {
    if (!rgb || width <= 0 || height <= 0) throw Error("preprocess: empty frame");
    auto hwc = torch::from_blob(const_cast<uint8_t*>(rgb), {height, width, 3}, torch::kUInt8);
    return preprocess_frame(hwc, m_sidecar.input, m_device);
  }
  torch::Tensor preprocess(const torch::Tensor& hwc_u8) const override {
    return preprocess_frame(hwc_u8, m_sidecar.input, m_device);
  }

  ForwardResult forward(const torch::Tensor& x, const std::vector<std::string>& taps,
                        ReluMode mode) override;
  torch::Tensor forward_edited(
      const torch::Tensor& x, const std::string& tap,
      const std::function<torch::Tensor(const torch::Tensor&)>& edit) override;

  torch::jit::Module& module() override { return m_module; }
  std::unique_ptr<Model> clone() const override;

 private:
  // The rewritten forward of one (tap list, ReLU mode) and the copies made from it on demand.
  struct Compiled {
    TapGraph taps;
    bool split_tried = false;
    SplitTapGraph split;
    bool exact_split_tried = false;  // forward_edited's cut, always on the model's own ops
    SplitTapGraph exact_split;
    std::shared_ptr<torch::jit::GraphFunction> inference;  // Fast, no autograd
    uint64_t split_version = 0, inference_version = 0;  // weights_version() they froze
    // Fast copies are checked against the exact graph on their first input (see agree()).
    bool split_checked = false, inference_checked = false;
    uint64_t last_used = 0;
  };
  static constexpr size_t kMaxCompiled = 6;
  uint64_t m_use_clock = 0;
  Compiled& compiled(const std::vector<std::string>& taps, ReluMode mode, bool strict);
  const TapGraph& tap_graph(const std::vector<std::string>& taps, ReluMode mode, bool strict) {
    return compiled(taps, mode, strict).taps;
  }
  c10::ivalue::TupleElements run(const TapGraph& tg, const torch::Tensor& x);
  c10::ivalue::TupleElements run_inference(Compiled& c, const torch::Tensor& x);
  c10::ivalue::TupleElements run_split(Compiled& c, const torch::Tensor& x);
  // Sum of the parameters' and buffers' version counters: changes on any in-place write (the
  // sanity check randomizes weights in place), so graphs with frozen weights are rebuilt.
  uint64_t weights_version() const {
    uint64_t v = 0;
    for (const auto& w : m_weights) v += w.unsafeGetTensorImpl()->version_counter().current_version();
    return v;
  }

  std::string m_path;
  Sidecar m_sidecar;
  torch::jit::Module m_module;
  torch::Device m_device;
  GraphOptimization m_optimization;
  std::vector<torch::Tensor> m_weights;  // the module's parameters and buffers
  std::vector<LayerInfo> m_layers;
  std::map<std::string, size_t> m_layer_index;
  std::vector<std::string> m_layer_paths;
  int64_t m_num_classes = 0;
  std::string m_default_layer;
  // Rewritten forwards, one per (tap list, ReLU mode); building one costs ~1 ms (the Fast
  // copies ~10-50 ms, once).
  std::map<std::pair<std::vector<std::string>, ReluMode>, Compiled> m_tap_graphs;
};

std::string TorchModel::device_name() const {
  if (m_device.is_cpu()) return "cpu";
#ifdef CAMSCOPE_CUDA_PROPS
  return at::cuda::getDeviceProperties(m_device.has_index() ? m_device.index() : 0)->name;
#else
  return m_device.str();
#endif
}

const LayerInfo& TorchModel::layer(const std::string& path) const {
  auto it = m_layer_index.find(path);
  if (it != m_layer_index.end()) return m_layers[it->second];
  std::string msg = "no layer '" + path + "' in " + fs::path(m_path).filename().string();
  // The root module ("") is the model itself, never a layer to suggest.
  std::vector<std::string> named;
  named.reserve(m_layer_paths.size());
  for (const auto& p : m_layer_paths)
    if (!p.empty()) named.push_back(p);
  auto near = closest(path, named, 3);
  if (!near.empty()) {
    msg += "; closest: ";
    for (size_t i = 0; i < near.size(); ++i) msg += (i ? ", " : "") + near[i];
  }
  msg += " (camscope info --model M lists all)";
  throw Error(msg);
}

TorchModel::Compiled& TorchModel::compiled(const std::vector<std::string>& taps, ReluMode mode,
                                           bool strict) {
  auto key = std::make_pair(taps, mode);
  auto it = m_tap_graphs.find(key);
  if (it != m_tap_graphs.end()) {
    it->second.last_used = ++m_use_clock;
    return it->second;
  }
  try {
    Compiled c;
    c.taps = build_tap_graph(m_module, taps, mode, strict);
    c.last_used = ++m_use_clock;
    // Fast copies hold their own folded, prepacked weights (a model's worth each): keep the
    // rewrites of the few tap lists used last, not one per layer ever looked at.
    while (m_tap_graphs.size() >= kMaxCompiled) {
      auto oldest = m_tap_graphs.begin();
      for (auto i = m_tap_graphs.begin(); i != m_tap_graphs.end(); ++i)
        if (i->second.last_used < oldest->second.last_used) oldest = i;
      m_tap_graphs.erase(oldest);
    }
    return m_tap_graphs.emplace(key, std::move(c)).first->second;
  } catch (const c10::Error& e) {
    throw Error("cannot rewrite the forward graph for taps: " +
                first_line(e.what_without_backtrace()));
  }
}

c10::ivalue::TupleElements TorchModel::run(const TapGraph& tg, const torch::Tensor& x) {
  torch::jit::Stack stack{m_module._ivalue(), x};
  tg.function->run(stack);
  return stack.back().toTupleRef().elements();
}

// Fast copies against the exact graph, on the first real input they see: float rounding of
// folded weights stays far below 1e-3 of the values' scale, a wrong kernel does not (LibTorch
// 1.13's oneDNN clamps were off by whole units). Outputs: forward output, then taps.
bool agree(const c10::ivalue::TupleElements& fast, const c10::ivalue::TupleElements& exact) {
  if (fast.size() != exact.size()) return false;
  for (size_t i = 0; i < fast.size(); ++i) {
    if (!fast[i].isTensor() || !exact[i].isTensor()) continue;
    const torch::Tensor a = fast[i].toTensor().detach(), b = exact[i].toTensor().detach();
    if (a.sizes() != b.sizes()) return false;
    const double scale = std::max(1.0, b.abs().max().item<double>());
    if (!((a - b).abs().max().item<double>() <= 1e-3 * scale)) return false;
  }
  return true;
}

// Runs the oneDNN copy once against the exact outputs: true (and `out`) when it agrees; false,
// with a warning, when it disagrees or throws (callers then rebuild it on ATen kernels).
template <class Run>
bool onednn_copy_agrees(Run&& run_copy, const c10::ivalue::TupleElements& exact,
                        c10::ivalue::TupleElements& out) {
  try {
    out = run_copy();
    if (agree(out, exact)) return true;
    log::warn("the oneDNN copy of the model disagrees with its own graph; using ATen kernels");
  } catch (const c10::Error& e) {
    log::warn("the oneDNN copy of the model fails (" + first_line(e.what()) +
              "); using ATen kernels");
  }
  return false;
}

c10::ivalue::TupleElements TorchModel::run_inference(Compiled& c, const torch::Tensor& x) {
  torch::NoGradGuard no_grad;
  auto run_fast = [&] {
    torch::jit::Stack stack{m_module._ivalue(), x};
    c.inference->run(stack);
    return stack.back().toTupleRef().elements();
  };
  const uint64_t version = weights_version();
  if (!c.inference || c.inference_version != version) {
    c.inference = inference_graph(c.taps, m_module, m_device);
    c.inference_version = version;
    c.inference_checked = false;
  }
  if (c.inference_checked) return run_fast();
  c.inference_checked = true;
  auto exact = run(c.taps, x);
  c10::ivalue::TupleElements out;
  if (onednn_copy_agrees(run_fast, exact, out)) return out;
  c.inference = inference_graph(c.taps, m_module, m_device, /*onednn=*/false);
  out = run_fast();
  return agree(out, exact) ? out : exact;  // (a later call then runs the copy unchecked)
}

c10::ivalue::TupleElements TorchModel::run_split(Compiled& c, const torch::Tensor& x) {
  const bool fast = m_optimization == GraphOptimization::Fast;
  const uint64_t version = fast ? weights_version() : 0;
  if (!c.split_tried || (fast && c.split_version != version)) {
    c.split = split_at_tap(c.taps, m_module, m_optimization, m_device);
    c.split_tried = true;
    c.split_version = version;
    c.split_checked = !fast;
  }
  // Several taps, or the tap is the input itself: record everything.
  if (!c.split.valid()) return run(c.taps, x.detach().requires_grad_(true));
  auto run_cut = [&] {
    torch::jit::Stack stack{m_module._ivalue(), x};
    {
      torch::NoGradGuard no_grad;
      c.split.prefix->run(stack);
    }
    auto cut = stack.back().toTupleRef().elements();
    stack.clear();
    stack.reserve(cut.size() + 1);
    stack.emplace_back(m_module._ivalue());
    // The tap becomes the leaf the gradient is taken to.
    stack.emplace_back(cut[0].toTensor().detach().requires_grad_(true));
    for (size_t i = 1; i < cut.size(); ++i) stack.push_back(cut[i]);
    c.split.suffix->run(stack);
    return stack.back().toTupleRef().elements();
  };
  if (c.split_checked) return run_cut();
  c.split_checked = true;
  c10::ivalue::TupleElements exact;
  {
    torch::NoGradGuard no_grad;
    exact = run(c.taps, x);
  }
  c10::ivalue::TupleElements out;
  if (onednn_copy_agrees(run_cut, exact, out)) return out;
  c.split = split_at_tap(c.taps, m_module, m_optimization, m_device, /*onednn=*/false);
  out = run_cut();
  if (agree(out, exact)) return out;
  c.split = split_at_tap(c.taps, m_module, GraphOptimization::Exact, m_device);
  return run_cut();
}

ForwardResult TorchModel::forward(const torch::Tensor& x, const std::vector<std::string>& taps,
                                  ReluMode mode) {
  for (const auto& t : taps) layer(t);
  if (!x.defined() || x.dim() != 4) throw Error("model input must be a [N, C, H, W] tensor");
  if (x.size(1) != m_sidecar.input.channels())
    throw Error("model input has " + std::to_string(x.size(1)) + " channels, the model takes " +
                std::to_string(m_sidecar.input.channels()));
  Compiled& c = compiled(taps, mode, /*strict=*/true);
  ForwardResult r;
  try {
    torch::Tensor in = x.device() == m_device ? x : x.to(m_device);
    const bool fast = m_optimization == GraphOptimization::Fast;
    c10::ivalue::TupleElements out;
    if (!torch::GradMode::is_enabled() || (taps.empty() && !in.requires_grad())) {
      // Nothing to differentiate.
      out = fast && mode == ReluMode::Normal ? run_inference(c, in) : run(c.taps, in);
    } else if (!in.requires_grad()) {
      // A gradient to the tap only: no autograd before it.
      out = run_split(c, in);
    } else {
      out = run(c.taps, in);
    }
    r.logits = out[0].toTensor();
    for (size_t i = 1; i < out.size(); ++i) r.taps.push_back(out[i].toTensor());
  } catch (const c10::Error& e) {
    throw Error("forward failed: " + first_line(e.what_without_backtrace()));
  } catch (const Error&) {
    throw;
  } catch (const std::exception& e) {  // the interpreter's own errors (a model that raises)
    throw Error("forward failed: " + first_line(e.what()));
  }
  return r;
}

torch::Tensor TorchModel::forward_edited(
    const torch::Tensor& x, const std::string& tap,
    const std::function<torch::Tensor(const torch::Tensor&)>& edit) {
  layer(tap);
  if (!x.defined() || x.dim() != 4) throw Error("model input must be a [N, C, H, W] tensor");
  Compiled& c = compiled({tap}, ReluMode::Normal, /*strict=*/true);
  if (!c.exact_split_tried) {
    c.exact_split = split_at_tap(c.taps, m_module, GraphOptimization::Exact, m_device);
    c.exact_split_tried = true;
  }
  if (!c.exact_split.valid())
    throw Error("the output of layer '" + tap + "' cannot be replaced (it is the model's input)");
  torch::NoGradGuard no_grad;
  try {
    torch::jit::Stack stack{m_module._ivalue(), x.device() == m_device ? x : x.to(m_device)};
    c.exact_split.prefix->run(stack);
    auto cut = stack.back().toTupleRef().elements();
    stack.clear();
    stack.emplace_back(m_module._ivalue());
    stack.emplace_back(edit(cut[0].toTensor()));
    for (size_t i = 1; i < cut.size(); ++i) stack.push_back(cut[i]);
    c.exact_split.suffix->run(stack);
    return stack.back().toTupleRef().elements()[0].toTensor();
  } catch (const c10::Error& e) {
    throw Error("forward failed: " + first_line(e.what_without_backtrace()));
  }
}

void TorchModel::inspect() {
  if (m_module.named_children().size() == 0)
    throw Error(m_path +
                ": the model has no submodules, so there are no layers to inspect (frozen with "
                "torch.jit.freeze?); export it with torch.jit.script or trace, without freezing");

  const InputSpec& in = m_sidecar.input;
  for (const auto& p : m_module.named_parameters(/*recurse=*/true)) {
    if (p.value.dim() != 4) continue;
    if (p.value.size(1) != in.channels()) {
      static const char* color_names[] = {"rgb", "bgr", "gray"};
      throw Error(m_path + ": the first convolution (" + p.name + " " + shape_str(p.value.sizes()) +
                  ") takes " + std::to_string(p.value.size(1)) +
                  " input channel(s), but the sidecar's color '" +
                  color_names[static_cast<int>(in.color)] + "' gives " +
                  std::to_string(in.channels()));
    }
    break;
  }

  std::vector<std::string> paths;
  std::vector<torch::jit::Module> modules;
  for (const auto& nm : m_module.named_modules()) {
    paths.push_back(nm.name);
    modules.push_back(nm.value);
  }

  torch::NoGradGuard no_grad;
  const TapGraph& tg = tap_graph(paths, ReluMode::Normal, /*strict=*/false);
  auto probe = torch::zeros({1, in.channels(), in.height, in.width},
                            torch::TensorOptions().device(m_device));
  c10::ivalue::TupleElements out;
  try {
    out = run(tg, probe);
  } catch (const std::exception& e) {  // c10::Error, or the interpreter's (a model that raises)
    const auto* c10e = dynamic_cast<const c10::Error*>(&e);
    throw Error(m_path + ": forward on a [1, " + std::to_string(in.channels()) + ", " +
                std::to_string(in.height) + ", " + std::to_string(in.width) + "] input failed: " +
                first_line(c10e ? c10e->what_without_backtrace() : e.what()));
  }
  if (!out[0].isTensor())
    throw Error(m_path + ": the model must return [N, classes] logits, it returns " +
                out[0].tagKind());
  torch::Tensor logits = out[0].toTensor();
  if (logits.dim() != 2 || logits.size(0) != 1)
    throw Error(m_path + ": the model must return [N, classes] logits, it returns shape " +
                shape_str(logits.sizes()) + " for one image");
  if (!torch::isfinite(logits).all().item<bool>())
    throw Error(m_path + ": the model's output contains NaN or Inf (for an all-zero input)");
  m_num_classes = logits.size(1);
  if (!m_sidecar.labels.empty() && static_cast<int64_t>(m_sidecar.labels.size()) != m_num_classes)
    throw Error((m_sidecar.path.empty() ? m_path : m_sidecar.path) + ": labels: the sidecar lists " +
                std::to_string(m_sidecar.labels.size()) + " labels but the model " +
                fs::path(m_path).filename().string() + " outputs " +
                std::to_string(m_num_classes) + " classes");

  size_t k = 1;
  int64_t best_order = -1;
  size_t best_depth = 0;
  for (size_t i = 0; i < paths.size(); ++i) {
    LayerInfo li;
    li.path = paths[i];
    li.type = type_name(modules[i]);
    for (const auto& p : modules[i].parameters(/*recurse=*/true)) li.params += p.numel();
    if (tg.resolved[i]) {
      const auto& v = out[k++];
      if (v.isTensor()) li.output_shape = v.toTensor().sizes().vec();
    }
    // Default layer: the last module (in execution order) with a 4-D, larger than 1x1 output;
    // of a container and its last child (same output) the container.
    const auto& s = li.output_shape;
    const size_t depth = li.path.empty() ? 0 : std::count(li.path.begin(), li.path.end(), '.') + 1;
    if (s.size() == 4 && s[2] * s[3] > 1 && !li.path.empty() &&
        (tg.order[i] > best_order || (tg.order[i] == best_order && depth < best_depth))) {
      best_order = tg.order[i];
      best_depth = depth;
      m_default_layer = li.path;
    }
    m_layer_index[li.path] = m_layers.size();
    m_layer_paths.push_back(li.path);
    m_layers.push_back(std::move(li));
  }
  // Only the probe needed the all-modules rewrite.
  m_tap_graphs.clear();
  if (!m_sidecar.default_layer.empty()) {
    layer(m_sidecar.default_layer);
    m_default_layer = m_sidecar.default_layer;
  }
}

std::unique_ptr<Model> TorchModel::clone() const {
  auto copy = std::make_unique<TorchModel>(m_path, m_sidecar, m_module.clone(), m_device,
                                           m_optimization);
  for (auto p : copy->m_module.parameters()) p.set_requires_grad(false);
  copy->m_module.eval();
  copy->m_layers = m_layers;
  copy->m_layer_index = m_layer_index;
  copy->m_layer_paths = m_layer_paths;
  copy->m_num_classes = m_num_classes;
  copy->m_default_layer = m_default_layer;
  return copy;
}

}  // namespace

GraphOptimization parse_engine(const std::string& name) {
  if (name == "exact") return GraphOptimization::Exact;
  if (name == "fast") return GraphOptimization::Fast;
  throw Error("--engine expects exact or fast, got '" + name + "'");
}

const char* engine_name(GraphOptimization opt) {
  return opt == GraphOptimization::Fast ? "fast" : "exact";
}

std::unique_ptr<Model> Model::load(const Options& opt) {
  check_model_file(opt.path);
  std::string config = opt.config_path;
  if (config.empty()) {
    std::string beside = fs::path(opt.path).replace_extension(".json").string();
    if (fs::exists(beside)) config = beside;
  } else if (!fs::exists(config)) {
    throw Error(config + ": no such file (model config)");
  }
  Sidecar sidecar = config.empty() ? Sidecar{} : load_sidecar(config);

  const torch::Device device = pick_device(opt.device);
  const int threads =
      opt.threads > 0 ? opt.threads : std::max(1u, std::thread::hardware_concurrency());
  at::set_num_threads(threads);

  torch::jit::Module module;
  try {
    module = torch::jit::load(opt.path, device);
  } catch (const c10::Error& e) {
    std::string why = first_line(e.what_without_backtrace());
    if (why.find("constants.pkl") != std::string::npos)
      why += "; a torch.save() pickle? save torch.jit.script(model) instead";
    throw Error(opt.path + ": not a loadable TorchScript model (" + why + ")");
  } catch (const std::exception& e) {
    throw Error(opt.path + ": not a loadable TorchScript model (" + first_line(e.what()) + ")");
  }
  if (!module.find_method("forward")) throw Error(opt.path + ": the model has no forward method");
  module.eval();
  for (auto p : module.parameters()) p.set_requires_grad(false);

  auto model = std::make_unique<TorchModel>(opt.path, std::move(sidecar), std::move(module),
                                            device, opt.optimization);
  model->inspect();
  return model;
}

}  // namespace camscope::model
