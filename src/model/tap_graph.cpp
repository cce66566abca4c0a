#include "model/tap_graph.h"

#include <torch/csrc/jit/api/function_impl.h>
#include <torch/csrc/jit/ir/alias_analysis.h>
#include <torch/csrc/jit/ir/ir.h>
#include <torch/csrc/jit/passes/constant_propagation.h>
#include <torch/csrc/jit/passes/dead_code_elimination.h>
#include <torch/csrc/jit/passes/inliner.h>
#include <torch/csrc/jit/passes/remove_mutation.h>
#include <torch/csrc/jit/runtime/graph_executor.h>

#include <functional>
#include <limits>
#include <map>
#include <set>
#include <unordered_map>
#include <unordered_set>

#include "model/graph_util.h"
#include "util/error.h"

namespace camscope::model {

namespace jit = torch::jit;
using jit::Block;
using jit::Node;
using jit::Value;

namespace detail {
namespace {

std::string join_path(const std::string& parent, const std::string& name) {
  return parent.empty() ? name : parent + "." + name;
}

}  // namespace

bool is_module_value(const Value* v) {
  auto cls = v->type()->cast<c10::ClassType>();
  return cls && cls->is_module();
}

namespace {

// Module path of every module-typed value, by following prim::GetAttr chains from `self`.
void collect_module_paths(Block* block, std::unordered_map<Value*, std::string>& paths) {
  for (Node* n : block->nodes()) {
    if (n->kind() == c10::prim::GetAttr && is_module_value(n->output())) {
      auto it = paths.find(n->input(0));
      if (it != paths.end()) paths[n->output()] = join_path(it->second, n->s(c10::attr::name));
    }
    for (Block* b : n->blocks()) collect_module_paths(b, paths);
  }
}

}  // namespace

std::unordered_map<Value*, std::string> module_paths(jit::Graph& g) {
  std::unordered_map<Value*, std::string> paths;
  paths[g.inputs().at(0)] = "";
  collect_module_paths(g.block(), paths);
  return paths;
}

// Depth-first, in graph order: the order in which the interpreter meets the nodes.
void for_each_node(Block* block, const std::function<bool(Node*)>& fn) {
  for (Node* n : block->nodes()) {
    if (!fn(n)) return;
    for (Block* b : n->blocks()) for_each_node(b, fn);
  }
}

jit::Module module_at(const jit::Module& root, const std::string& path) {
  jit::Module cur = root;
  size_t start = 0;
  while (start < path.size()) {
    size_t dot = path.find('.', start);
    std::string part =
        path.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    cur = jit::Module(cur.attr(part).toObject());
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  return cur;
}

}  // namespace detail

namespace {

using detail::for_each_node;
using detail::module_at;
using detail::module_paths;


// Module attributes of primitive type (flags such as mobilenet's use_res_connect, `training`)
// become constants, so constant propagation removes branches that only depend on them: a
// submodule call inside such a branch could not otherwise be exposed as a graph output.
void fold_primitive_attributes(const std::shared_ptr<jit::Graph>& g, const jit::Module& root) {
  std::set<std::string> written;
  for_each_node(g->block(), [&](Node* n) {
    if (n->kind() == c10::prim::SetAttr) written.insert(n->s(c10::attr::name));
    return true;
  });
  auto paths = module_paths(*g);
  std::vector<Node*> getattrs;
  for_each_node(g->block(), [&](Node* n) {
    if (n->kind() == c10::prim::GetAttr && paths.count(n->input(0))) getattrs.push_back(n);
    return true;
  });
  bool changed = false;
  for (Node* n : getattrs) {
    auto kind = n->output()->type()->kind();
    if (kind != c10::TypeKind::BoolType && kind != c10::TypeKind::IntType &&
        kind != c10::TypeKind::FloatType && kind != c10::TypeKind::StringType)
      continue;
    const std::string name = n->s(c10::attr::name);
    if (written.count(name)) continue;
    c10::IValue value = module_at(root, paths.at(n->input(0))).attr(name);
    jit::WithInsertPoint guard(n);
    n->output()->replaceAllUsesWith(g->insertConstant(value));
    n->destroy();
    changed = true;
  }
  if (changed) jit::ConstantPropagation(const_cast<std::shared_ptr<jit::Graph>&>(g), true);
}

struct Resolution {
  int64_t output = -1;  // index in the graph's outputs
  std::string problem;  // why it could not be tapped
};

// Makes a tap survive every later rewrite: the value becomes a graph output (so nothing
// removes it and inlining updates it), and its consumers read a copy instead, so no in-place
// op downstream can change it. The copy is removed again once mutation is gone (see
// drop_unneeded_copies). Returns the output index.
int64_t pin_tap(jit::Graph& g, Value* v, std::unordered_set<const Node*>& copies) {
  Node* copy = g.create(c10::aten::clone, {v}, 1);
  copies.insert(copy);
  copy->insertAfter(v->node());
  {
    jit::WithInsertPoint guard(copy);
    copy->addInput(g.insertConstant(c10::IValue()));
  }
  copy->output()->setType(v->type());
  v->replaceAllUsesAfterNodeWith(copy, copy->output());
  // Uses inside the return node are "after" too; the tap itself must stay the original.
  for (size_t i = 0; i < g.outputs().size(); ++i)
    if (g.outputs()[i] == copy->output()) g.return_node()->replaceInput(i, v);
  g.registerOutput(v);
  return static_cast<int64_t>(g.outputs().size()) - 1;
}

// Inlines calls along the paths to the taps until every tap is the output of a call node (or
// shown not to be reachable), pinning each as it is found.
std::map<std::string, Resolution> expose_taps(const std::shared_ptr<jit::Graph>& g,
                                              const jit::Module& root,
                                              const std::set<std::string>& wanted,
                                              std::unordered_set<const Node*>& copies) {
  std::map<std::string, Resolution> found;
  std::set<std::string> pending = wanted;
  if (pending.erase("")) found[""].output = 0;
  while (!pending.empty()) {
    fold_primitive_attributes(g, root);
    auto paths = module_paths(*g);
    Node* to_inline = nullptr;
    std::vector<std::pair<std::string, Value*>> to_pin;
    for_each_node(g->block(), [&](Node* n) {
      if (n->kind() != c10::prim::CallMethod) return true;
      auto it = paths.find(n->input(0));
      if (it == paths.end()) return true;
      const std::string& target = it->second;
      if (pending.count(target)) {
        pending.erase(target);
        if (n->owningBlock() != g->block())
          found[target].problem = "it is called inside data-dependent control flow";
        else if (n->outputs().size() != 1 || !n->output()->type()->cast<c10::TensorType>())
          found[target].problem =
              "its output is " + n->output(0)->type()->repr_str() + ", not a tensor";
        else
          to_pin.emplace_back(target, n->output());
      }
      for (const std::string& p : pending) {
        if (target.empty() || p.compare(0, target.size() + 1, target + ".") == 0) {
          to_inline = n;
          return false;
        }
      }
      return true;
    });
    for (auto& [path, v] : to_pin) found[path].output = pin_tap(*g, v, copies);
    if (!to_inline) break;
    jit::GraphFunction* callee = jit::tryToGraphFunction(to_inline);
    if (!callee) break;
    // The plain graph: the optimized one has its own calls inlined already.
    jit::inlineCallTo(to_inline, callee, /*inline_optimized_graph=*/false);
  }
  for (const std::string& p : pending)
    found[p].problem = "it is never called by forward (or only through code that was frozen)";
  return found;
}

// Removes the protective copies of pin_tap where nothing writes to the copy any more. `copies`
// may name nodes that passes have destroyed since; only live nodes are looked up in it.
void drop_unneeded_copies(const std::shared_ptr<jit::Graph>& g,
                          const std::unordered_set<const Node*>& copies) {
  std::vector<Node*> live;
  for (Node* n : g->block()->nodes())
    if (n->kind() == c10::aten::clone && copies.count(n)) live.push_back(n);
  if (live.empty()) return;
  jit::AliasDb alias(g);
  std::vector<Node*> removable;
  for (Node* c : live)
    if (!alias.hasWriters(c->output()) && !alias.hasWriters(c->input(0))) removable.push_back(c);
  for (Node* c : removable) {
    c->output()->replaceAllUsesWith(c->input(0));
    c->destroy();
  }
}

// Inlines every call from the callees' plain graphs: cheaper than jit::Inline, which copies
// each callee's optimized graph; constant propagation afterwards folds what that would have.
void inline_all(jit::Graph& g) {
  for (bool again = true; again;) {
    again = false;
    std::vector<Node*> calls;
    for_each_node(g.block(), [&](Node* n) {
      if (n->kind() == c10::prim::CallMethod || n->kind() == c10::prim::CallFunction)
        calls.push_back(n);
      return true;
    });
    for (Node* n : calls) {
      jit::GraphFunction* fn = jit::tryToGraphFunction(n);
      if (!fn) continue;
      if (n->kind() == c10::prim::CallFunction) n->removeInput(0);  // the function constant
      jit::inlineCallTo(n, fn, /*inline_optimized_graph=*/false);
      again = true;
    }
  }
}

// Guided backprop / redirected ReLU: each ReLU-family op becomes the camscope op `guided`.
void swap_guided_relu(const std::shared_ptr<jit::Graph>& g, c10::Symbol guided) {
  std::vector<std::pair<Node*, double>> swaps;
  const double inf = std::numeric_limits<double>::infinity();
  std::string inplace_left;
  for_each_node(g->block(), [&](Node* n) {
    const auto kind = n->kind();
    if (kind == c10::aten::relu) {
      swaps.emplace_back(n, inf);
    } else if (kind == c10::aten::relu6) {
      swaps.emplace_back(n, 6.0);
    } else if (kind == c10::aten::hardtanh) {
      auto lo = jit::toIValue(n->input(1));
      auto hi = jit::toIValue(n->input(2));
      if (lo && hi && lo->isScalar() && hi->isScalar() && lo->toScalar().toDouble() == 0.0)
        swaps.emplace_back(n, hi->toScalar().toDouble());
    } else if (kind == c10::aten::relu_ || kind == c10::aten::relu6_ ||
               kind == c10::aten::hardtanh_) {
      inplace_left = kind.toQualString();
    }
    return true;
  });
  if (!inplace_left.empty())
    throw Error(std::string(guided == guided_relu_symbol() ? "guided backprop" : "redirected ReLU") +
                ": an in-place " + inplace_left +
                " could not be made functional in this model");
  for (auto& [n, hi] : swaps) {
    jit::WithInsertPoint guard(n);
    Value* out = g->insert(guided, {n->input(0), g->insertConstant(hi)});
    out->setType(n->output()->type());
    n->output()->replaceAllUsesWith(out);
    n->destroy();
  }
}

}  // namespace

TapGraph build_tap_graph(const torch::jit::Module& module, const std::vector<std::string>& taps,
                         ReluMode mode, bool strict) {
  auto forward = module.find_method("forward");
  if (!forward) throw Error("the model has no forward method");
  auto g = jit::toGraphFunction(forward->function()).graph()->copy();
  if (g->outputs().size() != 1) throw Error("the model's forward must return one value");

  std::set<std::string> wanted(taps.begin(), taps.end());
  std::unordered_set<const Node*> copies;
  auto found = expose_taps(g, module, wanted, copies);

  TapGraph result;
  std::vector<int64_t> outputs;
  for (const std::string& p : taps) {
    const Resolution& r = found.at(p);
    if (r.output < 0 && strict) throw Error("cannot tap layer '" + p + "': " + r.problem);
    result.resolved.push_back(r.output >= 0);
    if (r.output >= 0) outputs.push_back(r.output);
  }
  // Execution order of each tap's producer (before everything is inlined).
  std::unordered_map<const Node*, int64_t> position;
  int64_t pos = 0;
  for (Node* n : g->block()->nodes()) position[n] = pos++;
  for (const std::string& p : taps) {
    const Resolution& r = found.at(p);
    const Node* producer = r.output >= 0 ? g->outputs()[r.output]->node() : nullptr;
    result.order.push_back(producer && position.count(producer) ? position.at(producer) : -1);
  }

  // Everything else is inlined now, then in-place activations become functional where alias
  // analysis allows: a tap must keep the value as produced.
  inline_all(*g);
  fold_primitive_attributes(g, module);
  jit::ConstantPropagation(g, /*ignore_custom_classes=*/true);
  jit::InplaceToFunctionalActivation(g);
  jit::RemoveTensorMutation(g);
  if (mode == ReluMode::Guided) swap_guided_relu(g, guided_relu_symbol());
  if (mode == ReluMode::Redirected) swap_guided_relu(g, redirected_relu_symbol());
  drop_unneeded_copies(g, copies);
  jit::EliminateDeadCode(g);

  // One tuple output: (forward output, requested taps in order).
  std::vector<Value*> outs{g->outputs().at(0)};
  for (int64_t i : outputs) outs.push_back(g->outputs().at(i));
  Node* tuple = g->createTuple(outs);
  g->appendNode(tuple);
  while (!g->outputs().empty()) g->eraseOutput(g->outputs().size() - 1);
  g->registerOutput(tuple->output());

  result.function = std::make_shared<jit::GraphFunction>("camscope_taps", g, nullptr,
                                                         jit::ExecutorExecutionMode::SIMPLE);
  return result;
}

}  // namespace camscope::model
