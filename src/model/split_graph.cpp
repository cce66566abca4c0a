// Inference-shaped copies of a tap graph: cut at the earliest tap so that autograd records only
// what a gradient to the taps passes through, and (Fast) weights frozen into constants so that
// LibTorch's frozen-graph passes can fold and prepack them.
#include <torch/csrc/jit/api/function_impl.h>
#include <torch/csrc/jit/ir/ir.h>
#include <torch/csrc/jit/passes/constant_propagation.h>
#include <torch/csrc/jit/passes/dead_code_elimination.h>
#include <torch/csrc/jit/passes/frozen_graph_optimizations.h>
#include <torch/csrc/jit/passes/frozen_ops_to_mkldnn.h>
#include <torch/csrc/jit/runtime/graph_executor.h>
#include <torch/version.h>

#include <set>
#include <unordered_map>
#include <vector>

#include "model/graph_util.h"
#include "model/tap_graph.h"

namespace camscope::model {
namespace {

namespace jit = torch::jit;
using jit::Graph;
using jit::Node;
using jit::Value;

// The top-level node whose blocks (transitively) hold `n`.
Node* top_level(Node* n, const jit::Block* top) {
  while (n->owningBlock() != top) n = n->owningBlock()->owningNode();
  return n;
}

// What torch.jit.freeze does to attributes, on this graph alone: every tensor (or None) that a
// prim::GetAttr chain from `self` reads becomes a constant, unless the graph also writes that
// attribute. The constants share storage with the module's parameters; folding passes make new
// tensors, which is why the model rebuilds these graphs when a parameter changes.
void weights_to_constants(const std::shared_ptr<Graph>& g, const jit::Module& root) {
  std::set<std::string> written;
  detail::for_each_node(g->block(), [&](Node* n) {
    if (n->kind() == c10::prim::SetAttr) written.insert(n->s(c10::attr::name));
    return true;
  });
  auto paths = detail::module_paths(*g);
  std::vector<Node*> reads;
  detail::for_each_node(g->block(), [&](Node* n) {
    if (n->kind() == c10::prim::GetAttr && paths.count(n->input(0)) &&
        !detail::is_module_value(n->output()))
      reads.push_back(n);
    return true;
  });
  for (Node* n : reads) {
    const std::string name = n->s(c10::attr::name);
    if (written.count(name)) continue;
    c10::IValue v = detail::module_at(root, paths.at(n->input(0))).attr(name);
    if (!v.isTensor() && !v.isNone()) continue;
    if (v.isTensor() && v.toTensor().requires_grad()) continue;  // cannot be a constant
    jit::WithInsertPoint guard(n);
    n->output()->replaceAllUsesWith(g->insertConstant(v));
    n->destroy();
  }
  jit::EliminateDeadCode(g);
}

// LibTorch 1.13's oneDNN versions of the clamp family (prim::MKLDNNHardTanh_, MKLDNNClamp_,
// MKLDNNHardSwish_, MKLDNNHardSigmoid_) compute wrong values (a ReLU6 output reaching 6.8;
// measured in Python with torch._C._jit_pass_convert_frozen_ops_to_mkldnn), while
// clamp_min / clamp_max are left to ATen. So those ops are spelled with clamp_min / clamp_max
// before the conversion; the convolutions around them still run on oneDNN.
void avoid_broken_onednn_clamps(const std::shared_ptr<Graph>& g) {
  std::vector<Node*> nodes;
  detail::for_each_node(g->block(), [&](Node* n) {
    const auto k = n->kind();
    if (k == c10::aten::hardtanh || k == c10::aten::hardtanh_ || k == c10::aten::relu6 ||
        k == c10::aten::relu6_ || k == c10::aten::clamp || k == c10::aten::clamp_ ||
        k == c10::aten::hardswish || k == c10::aten::hardswish_ || k == c10::aten::hardsigmoid ||
        k == c10::aten::hardsigmoid_)
      nodes.push_back(n);
    return true;
  });
  for (Node* n : nodes) {
    const auto k = n->kind();
    Graph& graph = *n->owningGraph();
    jit::WithInsertPoint guard(n);
    Value* x = n->input(0);
    auto clamp = [&](Value* v, Value* lo, Value* hi) {
      if (lo->type()->kind() != c10::TypeKind::NoneType)
        v = graph.insert(c10::aten::clamp_min, {v, lo});
      if (hi->type()->kind() != c10::TypeKind::NoneType)
        v = graph.insert(c10::aten::clamp_max, {v, hi});
      return v;
    };
    Value* out = nullptr;
    auto number_or_none = [](const Value* v) {
      return v->type()->kind() == c10::TypeKind::NoneType ||
             v->type()->isSubtypeOf(*c10::NumberType::get());
    };
    if (k == c10::aten::hardtanh || k == c10::aten::hardtanh_ || k == c10::aten::clamp ||
        k == c10::aten::clamp_) {
      // Bounds that are tensors, or optional at run time: leave the op as it is.
      if (!number_or_none(n->input(1)) || !number_or_none(n->input(2))) continue;
      out = clamp(x, n->input(1), n->input(2));
    } else if (k == c10::aten::relu6 || k == c10::aten::relu6_) {
      out = clamp(x, graph.insertConstant(0.0), graph.insertConstant(6.0));
    } else {
      // hardsigmoid(x) = clamp(x / 6 + 1/2, 0, 1); hardswish(x) = x * hardsigmoid(x)
      Value* t = graph.insert(c10::aten::div, {x, graph.insertConstant(6.0)});
      t = graph.insert(c10::aten::add, {t, graph.insertConstant(0.5), graph.insertConstant(1)});
      out = clamp(t, graph.insertConstant(0.0), graph.insertConstant(1.0));
      if (k == c10::aten::hardswish || k == c10::aten::hardswish_)
        out = graph.insert(c10::aten::mul, {x, out});
    }
    out->setType(n->output()->type());
    // An in-place variant also changed its input: later readers of the input see the result.
    if (k == c10::aten::hardtanh_ || k == c10::aten::clamp_ || k == c10::aten::relu6_ ||
        k == c10::aten::hardswish_ || k == c10::aten::hardsigmoid_)
      x->replaceAllUsesAfterNodeWith(n, out);
    n->output()->replaceAllUsesWith(out);
    n->destroy();
  }
}

// LibTorch 2.x refuses ops on the oneDNN tensors the conversion leaves between the converted
// ops ("aten::batch_norm has kernels registered to both CompositeImplicitAutograd and a backend
// mapped to AutogradOther", also for max_pool2d; seen on 2.6 with resnet18 tapped at
// layer1.0.bn1): frozen, folded graphs keep ATen's kernels there.
#if defined(TORCH_VERSION_MAJOR) && TORCH_VERSION_MAJOR >= 2
constexpr bool kOneDnnFrozenOps = false;
#else
constexpr bool kOneDnnFrozenOps = true;
#endif

void optimize(std::shared_ptr<Graph>& g, const jit::Module& root, const torch::Device& device,
              bool autograd_free, bool onednn) {
  weights_to_constants(g, root);
  jit::OptimizeFrozenGraph(g, /*optimize_numerics=*/true);
  // oneDNN tensors have no autograd: only where nothing is differentiated.
  if (autograd_free && onednn && kOneDnnFrozenOps && device.is_cpu()) {
    avoid_broken_onednn_clamps(g);
    jit::ConvertFrozenOpsToMKLDNN(g);
  }
  jit::EliminateDeadCode(g);
}

// Corresponding values of a graph and its copy (Graph::copy keeps inputs and top-level nodes in
// order; only top-level values are needed).
std::unordered_map<Value*, Value*> value_map(Graph& from, Graph& to) {
  std::unordered_map<Value*, Value*> m;
  for (size_t i = 0; i < from.inputs().size(); ++i) m[from.inputs()[i]] = to.inputs()[i];
  auto a = from.nodes().begin(), b = to.nodes().begin();
  for (; a != from.nodes().end() && b != to.nodes().end(); ++a, ++b)
    for (size_t i = 0; i < a->outputs().size(); ++i) m[a->outputs()[i]] = b->outputs()[i];
  return m;
}

// Destroys `nodes` last first; false (graph left half-edited: discard it) if one still has a
// user, which would mean the cut missed a value.
bool destroy_all(const std::vector<Node*>& nodes) {
  for (auto it = nodes.rbegin(); it != nodes.rend(); ++it) {
    for (Value* o : (*it)->outputs())
      if (o->hasUses()) return false;
    (*it)->destroy();
  }
  return true;
}

std::shared_ptr<jit::GraphFunction> make_function(const char* name, std::shared_ptr<Graph> g) {
  return std::make_shared<jit::GraphFunction>(name, std::move(g), nullptr,
                                              jit::ExecutorExecutionMode::SIMPLE);
}

}  // namespace

SplitTapGraph split_at_tap(const TapGraph& tg, const torch::jit::Module& module,
                           GraphOptimization opt, const torch::Device& device, bool onednn) {
  SplitTapGraph result;
  std::shared_ptr<Graph> g = tg.function->graph();
  Node* tuple = g->outputs().at(0)->node();
  if (tuple->kind() != c10::prim::TupleConstruct || tuple->inputs().size() < 2) return result;

  std::unordered_map<const Node*, int64_t> pos;
  int64_t i = 0;
  for (Node* n : g->nodes()) pos[n] = i++;
  // One tap (or several names for the same value, a container and its last child). With taps
  // on separate values, a later one need not depend on the earliest (parallel branches) and
  // would get no gradient from a cut there: those graphs record everything, as before.
  Value* first = tuple->input(1);
  for (size_t k = 2; k < tuple->inputs().size(); ++k)
    if (tuple->input(k) != first) return result;
  auto first_it = pos.find(first->node());
  if (first_it == pos.end()) return result;  // the tap is a graph input: nothing to cut off
  const int64_t cut_pos = first_it->second;

  // The cut: the earliest tap, then every other value from before it that is read after it.
  // Module values are not passed: the suffix keeps their GetAttr chains from `self`.
  auto read_after = [&](Value* v) {
    for (const jit::Use& u : v->uses()) {
      Node* user = top_level(u.user, g->block());
      if (user == g->return_node() || pos.at(user) > cut_pos) return true;
    }
    return false;
  };
  std::vector<Value*> cut{first};
  for (size_t k = 1; k < g->inputs().size(); ++k)
    if (read_after(g->inputs()[k])) cut.push_back(g->inputs()[k]);
  for (Node* n : g->nodes()) {
    if (pos.at(n) > cut_pos) break;
    for (Value* o : n->outputs())
      if (o != first && !detail::is_module_value(o) && read_after(o)) cut.push_back(o);
  }

  // prefix(self, x) -> tuple(cut)
  auto gp = g->copy();
  {
    auto vm = value_map(*g, *gp);
    while (!gp->outputs().empty()) gp->eraseOutput(gp->outputs().size() - 1);
    std::vector<Node*> after;
    int64_t k = 0;
    for (Node* n : gp->nodes())
      if (k++ > cut_pos) after.push_back(n);
    if (!destroy_all(after)) return result;
    std::vector<Value*> outs;
    for (Value* v : cut) outs.push_back(vm.at(v));
    Node* t = gp->createTuple(outs);
    gp->appendNode(t);
    gp->registerOutput(t->output());
    jit::EliminateDeadCode(gp);
  }

  // suffix(self, cut...) -> tuple(forward output, taps...)
  auto gs = g->copy();
  {
    auto vm = value_map(*g, *gs);
    for (Value* v : cut) {
      Value* in = gs->addInput();
      in->setType(v->type());
      vm.at(v)->replaceAllUsesWith(in);
    }
    std::vector<Node*> before;
    int64_t k = 0;
    for (Node* n : gs->nodes()) {
      if (k++ > cut_pos) break;
      // Submodule lookups stay: the suffix reads its weights through them.
      if (n->kind() == c10::prim::GetAttr && detail::is_module_value(n->output())) continue;
      before.push_back(n);
    }
    if (!destroy_all(before)) return result;
    if (gs->inputs().at(1)->hasUses()) return result;  // x was replaced where it was read
    gs->eraseInput(1);
    jit::EliminateDeadCode(gs);
  }

  if (opt == GraphOptimization::Fast) {
    optimize(gp, module, device, /*autograd_free=*/true, onednn);
    optimize(gs, module, device, /*autograd_free=*/false, onednn);
  }
  result.prefix = make_function("camscope_prefix", gp);
  result.suffix = make_function("camscope_suffix", gs);
  return result;
}

std::shared_ptr<torch::jit::GraphFunction> inference_graph(const TapGraph& tg,
                                                           const torch::jit::Module& module,
                                                           const torch::Device& device,
                                                           bool onednn) {
  auto g = tg.function->graph()->copy();
  optimize(g, module, device, /*autograd_free=*/true, onednn);
  return make_function("camscope_inference", g);
}

}  // namespace camscope::model
