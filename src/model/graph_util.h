#pragma once
// Small helpers shared by the graph rewrites of model/ (tap_graph.cpp, split_graph.cpp).
#include <torch/csrc/jit/ir/ir.h>
#include <torch/script.h>

#include <functional>
#include <string>
#include <unordered_map>

namespace camscope::model::detail {

bool is_module_value(const torch::jit::Value* v);
// Module path ("" = root) of every module-typed value, following prim::GetAttr chains from the
// graph's first input (`self`).
std::unordered_map<torch::jit::Value*, std::string> module_paths(torch::jit::Graph& g);
// Depth-first, in graph order (the order the interpreter meets nodes); fn returns false to stop.
void for_each_node(torch::jit::Block* block, const std::function<bool(torch::jit::Node*)>& fn);
// The submodule at a dotted path.
torch::jit::Module module_at(const torch::jit::Module& root, const std::string& path);

}  // namespace camscope::model::detail
