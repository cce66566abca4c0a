// [SECTION] Layer tree and method/target panel.
#include <imgui.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <climits>
#include <string>

#include "ui/panels.h"

namespace camscope::ui {
namespace {

int depth_of(const std::string& path) {
  return path.empty() ? 0 : 1 + static_cast<int>(std::count(path.begin(), path.end(), '.'));
}

std::string shape_text(const std::vector<int64_t>& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) out += (i ? "x" : "") + std::to_string(s[i]);
  return out;
}

bool spatial(const app::LayerRow& l) {
  return l.output_shape.size() == 4 && l.output_shape[2] * l.output_shape[3] > 1;
}

}  // namespace

bool class_matches(const std::string& label, int64_t index, const std::string& filter) {
  if (filter.empty()) return true;
  auto lower = [](std::string s) {
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
    return s;
  };
  const std::string f = lower(filter);
  return lower(label).find(f) != std::string::npos || std::to_string(index) == filter;
}

const std::string& selected_layer(const UiState& state, const PanelInputs& in) {
  static const std::string kNone;
  if (!state.params.layer.empty()) return state.params.layer;
  return in.model ? in.model->default_layer : kNone;
}

void draw_layers(UiState& state, const PanelInputs& in) {
  if (!in.model) {
    ImGui::TextDisabled("no model");
    return;
  }
  const std::vector<app::LayerRow>& rows = in.model->layers;
  const std::string& sel = selected_layer(state, in);
  static std::string last_sel;
  const bool reveal = sel != last_sel;  // keyboard/script selection: open its ancestors
  last_sel = sel;
  ImGui::TextDisabled("%s", in.model->path.c_str());
  const ImGuiTableFlags tf = ImGuiTableFlags_RowBg | ImGuiTableFlags_ScrollY |
                             ImGuiTableFlags_Resizable | ImGuiTableFlags_BordersInnerV;
  // Deep models nest many levels: a narrow indent keeps the names readable.
  ImGui::PushStyleVar(ImGuiStyleVar_IndentSpacing, 10.f);
  if (!ImGui::BeginTable("layers", 3, tf)) {
    ImGui::PopStyleVar();
    return;
  }
  ImGui::TableSetupScrollFreeze(0, 1);
  ImGui::TableSetupColumn("module", ImGuiTableColumnFlags_WidthStretch);
  ImGui::TableSetupColumn("type", ImGuiTableColumnFlags_WidthFixed, 64.f);
  ImGui::TableSetupColumn("output", ImGuiTableColumnFlags_WidthFixed, 72.f);
  ImGui::TableHeadersRow();
  std::vector<int> open_stack;
  int closed_at = INT_MAX;
  for (size_t i = 0; i < rows.size(); ++i) {
    const app::LayerRow& row = rows[i];
    if (row.path.empty()) continue;  // the root module is the model itself
    const int d = depth_of(row.path);
    if (d > closed_at) continue;
    closed_at = INT_MAX;
    while (!open_stack.empty() && open_stack.back() >= d) {
      ImGui::TreePop();
      open_stack.pop_back();
    }
    const bool has_children = i + 1 < rows.size() && rows[i + 1].path.rfind(row.path + ".", 0) == 0;
    ImGui::TableNextRow();
    ImGui::TableNextColumn();
    ImGuiTreeNodeFlags flags = ImGuiTreeNodeFlags_OpenOnArrow | ImGuiTreeNodeFlags_SpanFullWidth;
    if (row.path == sel) flags |= ImGuiTreeNodeFlags_Selected;
    if (!has_children) flags |= ImGuiTreeNodeFlags_Leaf | ImGuiTreeNodeFlags_NoTreePushOnOpen;
    if (d == 1) flags |= ImGuiTreeNodeFlags_DefaultOpen;
    if (reveal && has_children && sel.rfind(row.path + ".", 0) == 0) ImGui::SetNextItemOpen(true);
    const std::string name =
        row.path.substr(row.path.rfind('.') == std::string::npos ? 0 : row.path.rfind('.') + 1);
    if (!spatial(row))
      ImGui::PushStyleColor(ImGuiCol_Text, ImGui::GetStyleColorVec4(ImGuiCol_TextDisabled));
    const bool open = ImGui::TreeNodeEx(row.path.c_str(), flags, "%s", name.c_str());
    if (!spatial(row)) ImGui::PopStyleColor();
    if (ImGui::IsItemClicked() && !ImGui::IsItemToggledOpen()) state.params.layer = row.path;
    if (reveal && row.path == sel) ImGui::SetScrollHereY(0.4f);
    if (ImGui::IsItemHovered())
      ImGui::SetTooltip("%s\n%s, %lld parameters", row.path.c_str(), row.type.c_str(),
                        static_cast<long long>(row.params));
    ImGui::TableNextColumn();
    ImGui::TextUnformatted(row.type.c_str());
    ImGui::TableNextColumn();
    ImGui::TextUnformatted(shape_text(row.output_shape).c_str());
    if (has_children) {
      if (open)
        open_stack.push_back(d);
      else
        closed_at = d;
    }
  }
  while (!open_stack.empty()) {
    ImGui::TreePop();
    open_stack.pop_back();
  }
  ImGui::EndTable();
  ImGui::PopStyleVar();
}

void draw_method(UiState& state, const PanelInputs& in) {
  ImGui::SetNextItemWidth(-1);
  if (ImGui::BeginCombo("##method", state.params.method.c_str())) {
    for (const std::string& m : in.methods)
      if (ImGui::Selectable(m.c_str(), m == state.params.method)) state.params.method = m;
    ImGui::EndCombo();
  }
  ImGui::TextDisabled("layer %s", selected_layer(state, in).c_str());
  if (state.compare) {
    // Compare view: up to 5 more methods beside the main one.
    std::string preview = std::to_string(state.compare_methods.size()) + " more: ";
    for (size_t i = 0; i < state.compare_methods.size(); ++i)
      preview += (i ? ", " : "") + state.compare_methods[i];
    ImGui::SetNextItemWidth(-1);
    if (ImGui::BeginCombo("##compare_with", preview.c_str(), ImGuiComboFlags_HeightLarge)) {
      for (const std::string& m : in.methods) {
        if (m == state.params.method) continue;
        auto it = std::find(state.compare_methods.begin(), state.compare_methods.end(), m);
        bool on = it != state.compare_methods.end();
        ImGui::BeginDisabled(!on && state.compare_methods.size() >= 5);
        if (ImGui::Checkbox(m.c_str(), &on)) {
          if (on)
            state.compare_methods.push_back(m);
          else
            state.compare_methods.erase(it);
        }
        ImGui::EndDisabled();
      }
      ImGui::EndCombo();
    }
  }

  // Target: top-1 of every frame, or a locked class.
  bool locked = state.params.target >= 0;
  if (ImGui::Checkbox("lock target", &locked)) {
    if (!locked)
      state.params.target = -1;
    else if (in.result && in.result->target >= 0)
      state.params.target = in.result->target;
  }
  ImGui::SameLine();
  int t = static_cast<int>(state.params.target);
  ImGui::SetNextItemWidth(-1);
  if (ImGui::InputInt("##target", &t, 1, 10)) {
    const int n = in.model ? static_cast<int>(in.model->labels.size()) : 0;
    state.params.target = n > 0 ? std::clamp(t, -1, n - 1) : -1;
  }
  // The class by name: a searchable list (a thousand ImageNet classes do not fit a spinner).
  if (in.model && !in.model->labels.empty()) {
    const std::vector<std::string>& labels = in.model->labels;
    const int64_t cur = state.params.target;
    const std::string preview = cur >= 0 && cur < static_cast<int64_t>(labels.size())
                                    ? std::to_string(cur) + " " + labels[static_cast<size_t>(cur)]
                                    : std::string("top-1 of each frame");
    ImGui::SetNextItemWidth(-1);
    if (ImGui::BeginCombo("##class", preview.c_str(), ImGuiComboFlags_HeightLarge)) {
      char buf[128];
      std::snprintf(buf, sizeof buf, "%s", state.class_filter.c_str());
      if (ImGui::IsWindowAppearing()) ImGui::SetKeyboardFocusHere();
      ImGui::SetNextItemWidth(-1);
      if (ImGui::InputTextWithHint("##find", "search classes", buf, sizeof buf))
        state.class_filter = buf;
      if (ImGui::Selectable("top-1 of each frame", cur < 0)) state.params.target = -1;
      ImGuiListClipper clip;
      std::vector<int> shown;
      for (size_t i = 0; i < labels.size(); ++i)
        if (class_matches(labels[i], static_cast<int64_t>(i), state.class_filter))
          shown.push_back(static_cast<int>(i));
      clip.Begin(static_cast<int>(shown.size()));
      while (clip.Step())
        for (int k = clip.DisplayStart; k < clip.DisplayEnd; ++k) {
          const int i = shown[static_cast<size_t>(k)];
          char item[160];
          std::snprintf(item, sizeof item, "%d %s", i, labels[static_cast<size_t>(i)].c_str());
          if (ImGui::Selectable(item, cur == i)) state.params.target = i;
        }
      ImGui::EndCombo();
    }
  }
  state.target_locked = state.params.target >= 0;

  const app::FrameResult* r = in.result;
  if (!r) return;
  ImGui::Separator();
  ImGui::Text("explaining class %lld (logit %.3f)", static_cast<long long>(r->target),
              r->target_logit);
  // Top-5: click a class to explain it (and lock it).
  for (const app::ClassScore& c : r->top) {
    ImGui::PushID(static_cast<int>(c.cls));
    const bool is_target = c.cls == r->target;
    char label[160];
    std::snprintf(label, sizeof label, "%-16.16s %5.1f%%", c.label.c_str(), c.prob * 100.0);
    const float x0 = ImGui::GetCursorPosX();
    if (ImGui::Selectable(label, is_target, 0, ImVec2(0, 0))) state.params.target = c.cls;
    if (ImGui::IsItemHovered())
      ImGui::SetTooltip("class %lld: %s", static_cast<long long>(c.cls), c.label.c_str());
    // A probability bar under the text.
    const ImVec2 a = ImGui::GetItemRectMin(), b = ImGui::GetItemRectMax();
    ImGui::GetWindowDrawList()->AddRectFilled(
        ImVec2(a.x, b.y - 3), ImVec2(a.x + (b.x - a.x) * static_cast<float>(c.prob), b.y - 1),
        is_target ? IM_COL32(250, 180, 60, 255) : IM_COL32(90, 150, 250, 255));
    (void)x0;
    ImGui::PopID();
  }
}

}  // namespace camscope::ui
