// [SECTION] Channel grid of the selected layer: per-channel normalized tiles, sorted and
// filtered; hover reads a tile, click opens it large.
#include <imgui.h>

#include <algorithm>

#include "ui/panels.h"

namespace camscope::ui {
namespace {
ImTextureID tex_id(GLuint id) {
  return reinterpret_cast<ImTextureID>(static_cast<intptr_t>(id));
}

float value_or(const std::vector<float>& v, int i) {
  return i >= 0 && static_cast<size_t>(i) < v.size() ? v[static_cast<size_t>(i)] : 0.f;
}
}  // namespace

const char* channels_placeholder(const app::FrameResult* r, bool current) {
  if (!r) return "pending: waiting for the first result...";
  if (!r->error.empty()) return "no channels (see the viewport)";
  if (!current) return "pending: computing...";
  return "this layer has no channel maps";
}

void draw_channels(UiState& state, const PanelInputs& in) {
  ImGui::AlignTextToFramePadding();
  ImGui::TextUnformatted("sort");
  ImGui::SameLine(0, 4);
  ImGui::SetNextItemWidth(100);
  const char* sorts[] = {"index", "activation", "weight"};
  int s = static_cast<int>(state.params.grid_sort);
  if (ImGui::Combo("##sort", &s, sorts, 3)) state.params.grid_sort = static_cast<app::GridSort>(s);
  ImGui::SameLine();
  ImGui::TextUnformatted("top");
  ImGui::SameLine(0, 4);
  ImGui::SetNextItemWidth(-1);
  const app::FrameResult* r = in.result;
  const int total = r && !r->channel_mean.empty() ? static_cast<int>(r->channel_mean.size()) : 0;
  ImGui::SliderInt("##top", &state.params.grid_top_k, 0, std::max(1, total),
                   state.params.grid_top_k == 0 ? "all" : "%d");
  const TextureView tex = in.textures ? in.textures->grid() : TextureView{};
  const render::GridLayout& g = in.textures ? in.textures->grid_layout() : render::GridLayout{};
  if (!r || !tex || !g.valid()) {
    ImGui::TextDisabled("%s", channels_placeholder(r, in.result_current));
    return;
  }
  ImGui::TextDisabled("%s: %d of %d channels, %dx%d each", r->params.layer.c_str(),
                      static_cast<int>(r->grid_channels.size()), total, g.tile_w, g.tile_h);
  // With a channel open, the panel's lower half shows it large.
  ImVec2 avail = ImGui::GetContentRegionAvail();
  const bool tile_open = state.open_channel >= 0;
  if (tile_open) avail.y = std::max(40.f, avail.y * 0.5f - 4.f);
  const float scale = std::max(0.1f, std::min(avail.x / tex.width, avail.y / tex.height));
  const ImVec2 size(tex.width * scale, tex.height * scale);
  const ImVec2 p0 = ImGui::GetCursorScreenPos();
  ImGui::Image(tex_id(tex.id), size);
  if (ImGui::IsItemHovered()) {
    const ImVec2 m = ImGui::GetIO().MousePos;
    const auto pick =
        g.pick(static_cast<int>((m.x - p0.x) / scale), static_cast<int>((m.y - p0.y) / scale));
    if (pick && static_cast<size_t>(pick->channel) < r->grid_channels.size()) {
      const int ch = r->grid_channels[static_cast<size_t>(pick->channel)];
      ImGui::SetTooltip("channel %d (rank %d)\nmean %.4f\nweight %.4f", ch, pick->channel + 1,
                        value_or(r->channel_mean, ch), value_or(r->channel_weight, ch));
      if (ImGui::IsMouseClicked(ImGuiMouseButton_Left)) state.open_channel = ch;
    }
  }
  if (!tile_open) return;

  // The opened channel: the same colored atlas, cropped to its tile (nearest sampling shows
  // the true feature resolution).
  ImGui::Separator();
  // Pinned by channel index: the pipeline adds it to the grid when the ranking leaves it out.
  const auto it = std::find(r->grid_channels.begin(), r->grid_channels.end(), state.open_channel);
  if (ImGui::SmallButton("close")) {
    state.open_channel = -1;
    state.channel_on_frame = false;
  }
  ImGui::SameLine();
  if (ImGui::SmallButton(state.channel_on_frame ? "show the map (F)" : "show on frame (F)"))
    state.channel_on_frame = !state.channel_on_frame;
  ImGui::SameLine();
  if (ImGui::SmallButton("visualize")) {  // what it looks for: the Visualize tab
    state.select_tab = "visualize";
    state.select_tab_frames = 3;
    // The request goes through the app like the tab's own button.
    state.optvis.channel = state.open_channel;
    state.optvis_pending = true;
  }
  if (ImGui::IsItemHovered())
    ImGui::SetTooltip("feature visualization: an image optimized to excite this channel");
  ImGui::SameLine();
  if (it == r->grid_channels.end()) {
    ImGui::TextDisabled("channel %d is not in the current grid", state.open_channel);
    return;
  }
  const int pos = static_cast<int>(it - r->grid_channels.begin());
  const bool pinned_extra =
      state.params.grid_top_k > 0 && pos >= state.params.grid_top_k;  // outside the top k
  ImGui::Text("channel %d  %s %d  mean %.4f  weight %.4f", state.open_channel,
              pinned_extra ? "pinned, rank >" : "rank",
              pinned_extra ? state.params.grid_top_k : pos + 1,
              value_or(r->channel_mean, state.open_channel),
              value_or(r->channel_weight, state.open_channel));
  const float u0 = static_cast<float>(g.tile_x(pos)) / tex.width;
  const float v0 = static_cast<float>(g.tile_y(pos)) / tex.height;
  const float u1 = u0 + static_cast<float>(g.tile_w) / tex.width;
  const float v1 = v0 + static_cast<float>(g.tile_h) / tex.height;
  const ImVec2 av = ImGui::GetContentRegionAvail();
  const float k = std::max(1.f, std::min(av.x / g.tile_w, av.y / g.tile_h));
  ImGui::Image(tex_id(tex.id), ImVec2(g.tile_w * k, g.tile_h * k), ImVec2(u0, v0), ImVec2(u1, v1));
}

}  // namespace camscope::ui
