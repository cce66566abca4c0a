// [SECTION] Channel grid of the selected layer: per-channel normalized tiles, sorted and
// filtered; hover reads a tile, click opens it large.
#include <imgui.h>

#include <algorithm>

#include "ui/panels.h"

namespace camscope::ui {
namespace {
ImTextureID tex_id(GLuint id) { return reinterpret_cast<ImTextureID>(static_cast<intptr_t>(id)); }

float value_or(const std::vector<float>& v, int i) {
  return i >= 0 && static_cast<size_t>(i) < v.size() ? v[static_cast<size_t>(i)] : 0.f;
}
}  // namespace

void draw_channels(UiState& state, const PanelInputs& in) {
  ImGui::SetNextItemWidth(110);
  const char* sorts[] = {"index", "activation", "weight"};
  int s = static_cast<int>(state.params.grid_sort);
  if (ImGui::Combo("sort", &s, sorts, 3)) state.params.grid_sort = static_cast<app::GridSort>(s);
  ImGui::SameLine();
  ImGui::SetNextItemWidth(-40);
  const app::FrameResult* r = in.result;
  const int total = r && !r->channel_mean.empty() ? static_cast<int>(r->channel_mean.size()) : 0;
  ImGui::SliderInt("top", &state.params.grid_top_k, 0, std::max(1, total),
                   state.params.grid_top_k == 0 ? "all" : "%d");
  const TextureView tex = in.textures ? in.textures->grid() : TextureView{};
  const render::GridLayout& g = in.textures ? in.textures->grid_layout() : render::GridLayout{};
  if (!r || !tex || !g.valid()) {
    ImGui::TextDisabled(r && !r->error.empty() ? "no channels (see the viewport)"
                                               : "this layer has no channel maps");
    return;
  }
  ImGui::TextDisabled("%s: %d of %d channels, %dx%d each", r->params.layer.c_str(),
                      static_cast<int>(r->grid_channels.size()), total, g.tile_w, g.tile_h);
  const ImVec2 avail = ImGui::GetContentRegionAvail();
  const float scale = std::max(0.1f, std::min(avail.x / tex.width, avail.y / tex.height));
  const ImVec2 size(tex.width * scale, tex.height * scale);
  const ImVec2 p0 = ImGui::GetCursorScreenPos();
  ImGui::Image(tex_id(tex.id), size);
  if (ImGui::IsItemHovered()) {
    const ImVec2 m = ImGui::GetIO().MousePos;
    const auto pick = g.pick(static_cast<int>((m.x - p0.x) / scale), static_cast<int>((m.y - p0.y) / scale));
    if (pick && static_cast<size_t>(pick->channel) < r->grid_channels.size()) {
      const int ch = r->grid_channels[static_cast<size_t>(pick->channel)];
      ImGui::SetTooltip("channel %d (rank %d)\nmean %.4f\nweight %.4f", ch, pick->channel + 1,
                        value_or(r->channel_mean, ch), value_or(r->channel_weight, ch));
      if (ImGui::IsMouseClicked(ImGuiMouseButton_Left)) state.open_channel = ch;
    }
  }

  // The opened channel, large: the same colored atlas, cropped to its tile.
  if (state.open_channel >= 0) {
    const auto it = std::find(r->grid_channels.begin(), r->grid_channels.end(), state.open_channel);
    bool open = true;
    ImGui::SetNextWindowSize(ImVec2(300, 340), ImGuiCond_Appearing);
    char title[64];
    std::snprintf(title, sizeof title, "Channel %d###channel_view", state.open_channel);
    if (ImGui::Begin(title, &open, ImGuiWindowFlags_NoCollapse)) {
      if (it == r->grid_channels.end()) {
        ImGui::TextDisabled("not in the current grid (sorted out or another layer)");
      } else {
        const int pos = static_cast<int>(it - r->grid_channels.begin());
        const float u0 = static_cast<float>(g.tile_x(pos)) / tex.width;
        const float v0 = static_cast<float>(g.tile_y(pos)) / tex.height;
        const float u1 = u0 + static_cast<float>(g.tile_w) / tex.width;
        const float v1 = v0 + static_cast<float>(g.tile_h) / tex.height;
        ImGui::Text("mean %.4f   weight %.4f   rank %d", value_or(r->channel_mean, state.open_channel),
                    value_or(r->channel_weight, state.open_channel), pos + 1);
        const ImVec2 av = ImGui::GetContentRegionAvail();
        const float side = std::max(16.f, std::min(av.x, av.y));
        ImGui::Image(tex_id(tex.id), ImVec2(side * g.tile_w / std::max(g.tile_w, g.tile_h),
                                            side * g.tile_h / std::max(g.tile_w, g.tile_h)),
                     ImVec2(u0, v0), ImVec2(u1, v1));
      }
    }
    ImGui::End();
    if (!open) state.open_channel = -1;
  }
}

}  // namespace camscope::ui
