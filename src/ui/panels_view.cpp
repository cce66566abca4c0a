// [SECTION] Viewport (frame + heatmap, zoom/pan, hover readout) and timeline (playback).
#include <imgui.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "ui/panels.h"

namespace camscope::ui {
namespace {

ImTextureID tex_id(GLuint id) {
  return reinterpret_cast<ImTextureID>(static_cast<intptr_t>(id));
}

const char* state_name(capture::SourceState s) {
  switch (s) {
    case capture::SourceState::Ok:
      return "live";
    case capture::SourceState::End:
      return "ended";
    case capture::SourceState::Lost:
      return "lost";
    case capture::SourceState::Reconnecting:
      return "reconnecting";
  }
  return "?";
}

// A long computation in progress ("intgrad 12/50 steps") with its Cancel button.
void draw_job_progress(ActionQueue& actions, const PanelInputs& in) {
  const app::JobProgress& job = in.progress;
  if (!job.running && job.cancelled && job.by_user && !in.result_current) {
    ImGui::TextDisabled("%s cancelled at %lld/%lld %s", job.method.c_str(),
                        static_cast<long long>(job.done), static_cast<long long>(job.total),
                        job.unit.c_str());
    ImGui::SameLine();
    if (ImGui::SmallButton("Retry")) actions.push(Action::Kind::Retry);
    return;
  }
  if (!job.running || job.total <= 0) return;
  char text[160];
  std::snprintf(text, sizeof text, "%s %lld/%lld %s", job.method.c_str(),
                static_cast<long long>(job.done), static_cast<long long>(job.total),
                job.unit.c_str());
  ImGui::ProgressBar(static_cast<float>(job.done) / static_cast<float>(job.total),
                     ImVec2(std::min(260.f, ImGui::GetContentRegionAvail().x * 0.6f), 0), text);
  ImGui::SameLine();
  if (ImGui::SmallButton("Cancel")) actions.push(Action::Kind::Cancel);
  if (ImGui::IsItemHovered()) ImGui::SetTooltip("stop at the next batch (key C)");
}


// The frame's visible uv window for the view's zoom and pan (clamped so it stays on the frame;
// the pan is written back clamped). Shared by the single view and the compare grid.
void zoom_window(UiState& state, float fw, float fh, ImVec2& uv0, ImVec2& uv1) {
  state.zoom = std::clamp(state.zoom, 1.f, 32.f);
  const float half = 0.5f / state.zoom;
  const float cu = std::clamp(0.5f + state.pan_x / fw, half, 1.f - half);
  const float cv = std::clamp(0.5f + state.pan_y / fh, half, 1.f - half);
  state.pan_x = (cu - 0.5f) * fw;
  state.pan_y = (cv - 0.5f) * fh;
  uv0 = ImVec2(cu - half, cv - half);
  uv1 = ImVec2(cu + half, cv + half);
}

// The map value of `map` (input resolution) at frame pixel (px, py), placed like the overlay.
float map_value_at(const app::HostMap& map, const model::InputGeometry& g, int fw, int fh, int px,
                   int py, bool* inside) {
  const bool placed = g.valid() && g.src_w == fw && g.src_h == fh;
  *inside = !placed || g.contains(px + 0.5, py + 0.5);
  if (!*inside || map.empty()) return 0.f;
  const double ix = placed ? g.to_input_x(px + 0.5) / g.in_w : (px + 0.5) / fw;
  const double iy = placed ? g.to_input_y(py + 0.5) / g.in_h : (py + 0.5) / fh;
  const int mx = std::clamp(static_cast<int>(ix * map.width), 0, map.width - 1);
  const int my = std::clamp(static_cast<int>(iy * map.height), 0, map.height - 1);
  return map.at(0, my, mx);
}

// Compare view: the main map and each compare map over the same frame in a grid, one zoom /
// pan for all (wheel or drag on any), the hover readout of every method at the same pixel, and
// the pairwise Spearman rank correlation of the maps under the grid.
ViewportGeometry draw_compare(UiState& state, const PanelInputs& in, const TextureView& main_tex) {
  ViewportGeometry geo;
  const app::FrameResult& r = *in.result;
  const size_t n = 1 + in.textures->compare_count();
  std::vector<std::string> names{r.params.method};
  for (size_t i = 0; i + 1 < n && i < r.compare.size(); ++i) names.push_back(r.compare[i].first);
  const int cols = n <= 2 ? 2 : n <= 4 ? 2 : 3;
  const int rows = static_cast<int>((n + cols - 1) / cols);
  ImVec2 avail = ImGui::GetContentRegionAvail();
  const float table_h = ImGui::GetTextLineHeightWithSpacing() * static_cast<float>(n + 1);
  avail.y = std::max(40.f, avail.y - table_h);
  const float fw = static_cast<float>(main_tex.width), fh = static_cast<float>(main_tex.height);
  const float cell_w = (avail.x - 4.f * (cols - 1)) / cols, cell_h = (avail.y - 4.f * (rows - 1)) / rows;
  const float fit = std::max(1e-3f, std::min(cell_w / fw, (cell_h - 16.f) / fh));
  const ImVec2 size(fw * fit, fh * fit);
  ImVec2 uv0, uv1;
  zoom_window(state, fw, fh, uv0, uv1);
  const ImVec2 origin = ImGui::GetCursorScreenPos();
  const ImGuiIO& io = ImGui::GetIO();
  int hover_px = -1, hover_py = -1;
  for (size_t i = 0; i < n; ++i) {
    const TextureView t = i == 0 ? main_tex : in.textures->compare(i - 1);
    if (!t) continue;
    const int c = static_cast<int>(i) % cols, row = static_cast<int>(i) / cols;
    const ImVec2 p0(origin.x + c * (cell_w + 4.f), origin.y + row * (cell_h + 4.f));
    ImGui::SetCursorScreenPos(p0);
    ImGui::TextUnformatted(names[i].c_str());
    const ImVec2 ip(p0.x, p0.y + 16.f);
    ImGui::SetCursorScreenPos(ip);
    ImGui::Image(tex_id(t.id), size, uv0, uv1);
    if (i == 0) {
      geo.x = ip.x;
      geo.y = ip.y;
      geo.w = size.x;
      geo.h = size.y;
    }
    ImGui::SetCursorScreenPos(ip);
    ImGui::PushID(static_cast<int>(i));
    ImGui::InvisibleButton("cmp_drag", size);
    if (ImGui::IsItemHovered()) {
      if (io.MouseWheel != 0.f)
        state.zoom = std::clamp(state.zoom * std::pow(1.15f, io.MouseWheel), 1.f, 32.f);
      const float u = uv0.x + (io.MousePos.x - ip.x) / size.x * (uv1.x - uv0.x);
      const float v = uv0.y + (io.MousePos.y - ip.y) / size.y * (uv1.y - uv0.y);
      hover_px = static_cast<int>(u * fw);
      hover_py = static_cast<int>(v * fh);
    }
    if (ImGui::IsItemActive() && ImGui::IsMouseDragging(ImGuiMouseButton_Left)) {
      state.pan_x -= io.MouseDelta.x / size.x * fw / state.zoom;
      state.pan_y -= io.MouseDelta.y / size.y * fh / state.zoom;
    }
    ImGui::PopID();
  }
  if (hover_px >= 0 && hover_py >= 0) {  // every method at the same pixel, and a cross on each
    ImGui::BeginTooltip();
    ImGui::Text("pixel (%d, %d)", hover_px, hover_py);
    for (size_t i = 0; i < n; ++i) {
      const app::HostMap& m = i == 0 ? r.map : r.compare[i - 1].second;
      bool inside = true;
      const float v = map_value_at(m, r.geometry, main_tex.width, main_tex.height, hover_px,
                                   hover_py, &inside);
      if (inside)
        ImGui::Text("%-20s %.3f", names[i].c_str(), v);
      else
        ImGui::TextDisabled("%-20s outside the model's view", names[i].c_str());
    }
    ImGui::EndTooltip();
    ImDrawList* dl = ImGui::GetWindowDrawList();
    for (size_t i = 0; i < n; ++i) {
      const int c = static_cast<int>(i) % cols, row = static_cast<int>(i) / cols;
      const ImVec2 ip(origin.x + c * (cell_w + 4.f), origin.y + row * (cell_h + 4.f) + 16.f);
      const float x = ip.x + ((hover_px + 0.5f) / fw - uv0.x) / (uv1.x - uv0.x) * size.x;
      const float y = ip.y + ((hover_py + 0.5f) / fh - uv0.y) / (uv1.y - uv0.y) * size.y;
      dl->AddLine(ImVec2(x - 6, y), ImVec2(x + 6, y), IM_COL32(255, 255, 255, 230), 1.5f);
      dl->AddLine(ImVec2(x, y - 6), ImVec2(x, y + 6), IM_COL32(255, 255, 255, 230), 1.5f);
    }
  }
  // Pairwise Spearman rank correlation of the maps.
  ImGui::SetCursorScreenPos(ImVec2(origin.x, origin.y + rows * (cell_h + 4.f)));
  if (r.compare_spearman.size() == n * n &&
      ImGui::BeginTable("spearman", static_cast<int>(n + 1),
                        ImGuiTableFlags_SizingFixedFit | ImGuiTableFlags_RowBg)) {
    ImGui::TableNextRow();
    ImGui::TableNextColumn();
    ImGui::TextDisabled("Spearman");
    for (size_t j = 0; j < n; ++j) {
      ImGui::TableNextColumn();
      ImGui::TextUnformatted(names[j].c_str());
    }
    for (size_t i = 0; i < n; ++i) {
      ImGui::TableNextRow();
      ImGui::TableNextColumn();
      ImGui::TextUnformatted(names[i].c_str());
      for (size_t j = 0; j < n; ++j) {
        ImGui::TableNextColumn();
        ImGui::Text("%.2f", r.compare_spearman[i * n + j]);
      }
    }
    ImGui::EndTable();
  }
  return geo;
}

}  // namespace

std::string timeline_label(const app::FrameResult* shown, int64_t wanted, int64_t frame_count) {
  char buf[160];
  int n = 0;
  if (!shown)
    n = std::snprintf(buf, sizeof buf, "no frame on screen yet");
  else if (frame_count > 0)
    n = std::snprintf(buf, sizeof buf, "frame %lld / %lld   %.3f s",
                      static_cast<long long>(shown->frame_index),
                      static_cast<long long>(frame_count - 1), shown->pts);
  else
    n = std::snprintf(buf, sizeof buf, "frame %lld   %.3f s",
                      static_cast<long long>(shown->frame_index), shown->pts);
  if (!shown || shown->frame_index != wanted)
    std::snprintf(buf + n, sizeof buf - static_cast<size_t>(n), "   (pending: frame %lld)",
                  static_cast<long long>(wanted));
  std::string label = buf;
  // Folders: which file is on screen.
  if (shown && shown->frame && !shown->frame->file.empty()) label += "   " + shown->frame->file;
  return label;
}

ViewportGeometry draw_viewport(UiState& state, ActionQueue& actions, const PanelInputs& in) {
  ViewportGeometry geo;
  // Display controls on one line, each label before its widget.
  auto label = [](const char* text) {
    ImGui::AlignTextToFramePadding();
    ImGui::TextUnformatted(text);
    ImGui::SameLine(0, 4);
  };
  // The next control group (about `w` pixels wide) on this line if it fits, else on the next:
  // at 1280x720 the row wraps instead of running under the right column.
  auto next = [](float w) {
    const float right = ImGui::GetItemRectMax().x + ImGui::GetStyle().ItemSpacing.x;
    const float limit = ImGui::GetWindowPos().x + ImGui::GetWindowContentRegionMax().x;
    if (right + w <= limit) ImGui::SameLine();
  };
  label("colormap");
  ImGui::SetNextItemWidth(90);
  const char* current = render::colormap_name(state.colormap);
  const ImVec2 combo = ImGui::GetCursorScreenPos();
  geo.colormap_x = combo.x + 45.f;
  geo.colormap_y = combo.y + ImGui::GetFrameHeight() * 0.5f;
  if (ImGui::BeginCombo("##cmap", current)) {
    for (render::Colormap c :
         {render::Colormap::Jet, render::Colormap::Turbo, render::Colormap::Viridis,
          render::Colormap::Inferno, render::Colormap::Gray})
      if (ImGui::Selectable(render::colormap_name(c), c == state.colormap)) state.colormap = c;
    ImGui::EndCombo();
  }
  next(140);
  label("alpha");
  ImGui::SetNextItemWidth(90);
  ImGui::BeginDisabled(state.map_only);
  ImGui::SliderFloat("##alpha", &state.alpha, 0.f, 1.f, "%.2f");
  ImGui::EndDisabled();
  next(170);
  label("threshold");
  ImGui::SetNextItemWidth(90);
  ImGui::SliderFloat("##threshold", &state.threshold, 0.f, 1.f, "%.2f");
  next(90);
  ImGui::Checkbox("overlay", &state.show_overlay);
  next(110);
  ImGui::Checkbox("compare (K)", &state.compare);
  if (ImGui::IsItemHovered())
    ImGui::SetTooltip("the method and %zu more side by side: %s...", state.compare_methods.size(),
                      state.compare_methods.empty() ? "" : state.compare_methods[0].c_str());
  next(130);
  ImGui::Checkbox("map only (V)", &state.map_only);
  const app::FrameResult* shown = in.result;
  if (shown && is_pixel_space_method(shown->params.method)) {
    next(170);
    label("clip top %");
    ImGui::SetNextItemWidth(70);
    ImGui::SliderFloat("##clip", &state.clip_percent, 0.f, 10.f, "%.1f");
    if (ImGui::IsItemHovered())
      ImGui::SetTooltip("pixel-space maps: the brightest %.1f %% of pixels saturate, so the rest\n"
                        "is visible (Captum's visualizer clips the same way); 0 = off",
                        state.clip_percent);
  }
  if (state.open_channel >= 0) {
    next(220);
    char ch[48];
    std::snprintf(ch, sizeof ch, "channel %d on frame (F)", state.open_channel);
    ImGui::Checkbox(ch, &state.channel_on_frame);
  }
  next(120);
  ImGui::Text("zoom %.1fx", state.zoom);
  if (state.zoom != 1.f) {
    ImGui::SameLine();
    if (ImGui::SmallButton("fit")) {
      state.zoom = 1.f;
      state.pan_x = state.pan_y = 0;
    }
  }

  draw_job_progress(actions, in);

  const TextureView tex = in.textures ? in.textures->overlay() : TextureView{};
  if (!tex) {
    if (!in.status.empty()) {
      ImGui::TextColored(ImVec4(1.f, 0.6f, 0.3f, 1.f), "%s", in.status.c_str());
    } else if (!in.activity.empty()) {
      // No fraction is known: a bar that fills every two seconds says the work goes on.
      const float t = static_cast<float>(std::fmod(ImGui::GetTime() * 0.5, 1.0));
      ImGui::ProgressBar(t, ImVec2(std::min(320.f, ImGui::GetContentRegionAvail().x), 0),
                         "working");
      ImGui::TextWrapped("%s", in.activity.c_str());
    } else {
      ImGui::TextDisabled("waiting for the first result...");
    }
    return geo;
  }
  if (state.compare && in.textures && in.textures->compare_count() > 0 && in.result)
    return draw_compare(state, in, tex);
  const ImVec2 avail = ImGui::GetContentRegionAvail();
  const float fw = static_cast<float>(tex.width), fh = static_cast<float>(tex.height);
  const float fit = std::max(1e-3f, std::min(avail.x / fw, avail.y / fh));
  const ImVec2 size(fw * fit, fh * fit);
  ImVec2 cursor = ImGui::GetCursorPos();
  cursor.x += std::max(0.f, (avail.x - size.x) * 0.5f);
  cursor.y += std::max(0.f, (avail.y - size.y) * 0.5f);
  ImGui::SetCursorPos(cursor);

  // Zoom and pan as a uv window over the frame: 1/zoom of it, centred at pan.
  ImVec2 uv0, uv1;
  zoom_window(state, fw, fh, uv0, uv1);

  const ImVec2 p0 = ImGui::GetCursorScreenPos();
  ImGui::Image(tex_id(tex.id), size, uv0, uv1);
  geo.x = p0.x;
  geo.y = p0.y;
  geo.w = size.x;
  geo.h = size.y;
  ImGui::SetCursorPos(cursor);
  ImGui::InvisibleButton("viewport_drag", size);
  if (ImGui::IsItemHovered()) {
    const ImGuiIO& io = ImGui::GetIO();
    if (io.MouseWheel != 0.f)
      state.zoom = std::clamp(state.zoom * std::pow(1.15f, io.MouseWheel), 1.f, 32.f);
    const float u = uv0.x + (io.MousePos.x - p0.x) / size.x * (uv1.x - uv0.x);
    const float v = uv0.y + (io.MousePos.y - p0.y) / size.y * (uv1.y - uv0.y);
    const app::FrameResult* r = in.result;
    if (r && u >= 0 && u < 1 && v >= 0 && v < 1) {
      ImGui::BeginTooltip();
      const int px = static_cast<int>(u * fw), py = static_cast<int>(v * fh);
      ImGui::Text("pixel (%d, %d)", px, py);
      const model::InputGeometry& g = r->geometry;
      const bool placed = g.valid() && g.src_w == tex.width && g.src_h == tex.height;
      if (placed && !g.contains(px + 0.5, py + 0.5)) {
        ImGui::TextDisabled("outside the model's view (it saw x %.1f..%.1f, y %.1f..%.1f)", g.x0,
                            g.x1, g.y0, g.y1);
      } else if (r->has_map()) {
        // The map covers the crop box: the same transform as the overlay (nearest map texel).
        // The device path has no host copy: the value is read from the map's texture.
        const bool host = !r->map.empty();
        const int mw = r->map_width(), mh = r->map_height();
        const double ix = placed ? g.to_input_x(px + 0.5) / g.in_w : u;
        const double iy = placed ? g.to_input_y(py + 0.5) / g.in_h : v;
        const int mx = std::clamp(static_cast<int>(ix * mw), 0, mw - 1);
        const int my = std::clamp(static_cast<int>(iy * mh), 0, mh - 1);
        const float value = host ? r->map.at(0, my, mx)
                                 : (in.textures ? in.textures->map_value(mx, my) : 0.f);
        ImGui::Text("%s = %.3f  (model input %d, %d)", r->params.method.c_str(), value, mx, my);
      }
      ImGui::EndTooltip();
    }
  }
  if (ImGui::IsItemActive() && ImGui::IsMouseDragging(ImGuiMouseButton_Left)) {
    const ImVec2 d = ImGui::GetIO().MouseDelta;
    state.pan_x -= d.x / size.x * fw / state.zoom;
    state.pan_y -= d.y / size.y * fh / state.zoom;
  }
  // Outside the crop box the model saw nothing: dim it and outline the box, in the same
  // transform as the overlay (the texture itself stays the exported picture).
  const app::FrameResult* r = in.result;
  if (r && r->geometry.valid() && !r->geometry.whole_frame() &&
      r->geometry.src_w == tex.width && r->geometry.src_h == tex.height) {
    const model::InputGeometry& g = r->geometry;
    auto sx = [&](double x) {
      return p0.x + static_cast<float>((x / fw - uv0.x) / (uv1.x - uv0.x)) * size.x;
    };
    auto sy = [&](double y) {
      return p0.y + static_cast<float>((y / fh - uv0.y) / (uv1.y - uv0.y)) * size.y;
    };
    const ImVec2 a(std::clamp(sx(g.x0), p0.x, p0.x + size.x), std::clamp(sy(g.y0), p0.y, p0.y + size.y));
    const ImVec2 b(std::clamp(sx(g.x1), p0.x, p0.x + size.x), std::clamp(sy(g.y1), p0.y, p0.y + size.y));
    const ImVec2 e(p0.x + size.x, p0.y + size.y);
    ImDrawList* dl = ImGui::GetWindowDrawList();
    const ImU32 dim = IM_COL32(0, 0, 0, 140);
    dl->AddRectFilled(p0, ImVec2(e.x, a.y), dim);             // above
    dl->AddRectFilled(ImVec2(p0.x, b.y), e, dim);             // below
    dl->AddRectFilled(ImVec2(p0.x, a.y), ImVec2(a.x, b.y), dim);  // left
    dl->AddRectFilled(ImVec2(b.x, a.y), ImVec2(e.x, b.y), dim);   // right
    dl->AddRect(a, b, IM_COL32(255, 255, 255, 200), 0.f, 0, 1.5f);
  }
  // Frame caption in the corner.
  if (r) {
    ImDrawList* dl = ImGui::GetWindowDrawList();
    char cap[320];
    const app::JobProgress& job = in.progress;
    const char* pending = in.result_current ? ""
                          : !job.running && job.cancelled && job.by_user ? "  (cancelled)"
                                                                         : "  (computing...)";
    const int64_t shown_cls = r->target >= 0 ? r->target : r->params.target;
    std::string cls = shown_cls >= 0 ? "class " + std::to_string(shown_cls) : "top-1 class";
    if (shown_cls >= 0 && in.model && shown_cls < static_cast<int64_t>(in.model->labels.size()) &&
        in.model->labels[static_cast<size_t>(shown_cls)] != std::to_string(shown_cls))
      cls += " " + in.model->labels[static_cast<size_t>(shown_cls)];
    const std::string file =
        r->frame && !r->frame->file.empty() ? "  " + r->frame->file : std::string();
    const int shown_channel = in.textures ? in.textures->shown_channel() : -1;
    char what[64];
    if (shown_channel >= 0)
      std::snprintf(what, sizeof what, "channel %d", shown_channel);
    else
      std::snprintf(what, sizeof what, "%s", r->params.method.c_str());
    std::snprintf(cap, sizeof cap, "frame %lld%s  %s @ %s  %s%s",
                  static_cast<long long>(r->frame_index), file.c_str(), what,
                  r->params.layer.empty() ? "input" : r->params.layer.c_str(), cls.c_str(),
                  pending);
    dl->AddRectFilled(ImVec2(p0.x, p0.y), ImVec2(p0.x + ImGui::CalcTextSize(cap).x + 8, p0.y + 18),
                      IM_COL32(0, 0, 0, 150));
    dl->AddText(ImVec2(p0.x + 4, p0.y + 2), IM_COL32(255, 255, 255, 255), cap);
    if (state.show_overlay && (state.alpha > 0.f || state.map_only) && r->has_map())
      draw_colorbar(dl, p0.x, p0.y, size.x, size.y, state.colormap, state.threshold, *r,
                    in.textures ? in.textures->shown_clip() : 1.f,
                    in.textures ? in.textures->shown_channel() : -1);
    if (!r->error.empty()) {  // the whole message, wrapped to the image width
      const float wrap = std::max(40.f, size.x - 8.f);
      const ImVec2 ts = ImGui::CalcTextSize(r->error.c_str(), nullptr, false, wrap);
      dl->AddRectFilled(ImVec2(p0.x, p0.y + 20), ImVec2(p0.x + size.x, p0.y + 24 + ts.y),
                        IM_COL32(120, 20, 20, 200));
      dl->AddText(ImGui::GetFont(), ImGui::GetFontSize(), ImVec2(p0.x + 4, p0.y + 22),
                  IM_COL32(255, 255, 255, 255), r->error.c_str(), nullptr, wrap);
    }
  }
  return geo;
}

void draw_timeline(UiState& state, ActionQueue& actions, const PanelInputs& in) {
  static const capture::SourceInfo kNoSource;
  const capture::SourceInfo& src = in.source ? *in.source : kNoSource;
  Playback& pb = state.playback;
  if (src.live || !src.seekable) {
    const char* st = state_name(in.source_state);
    const ImVec4 col = in.source_state == capture::SourceState::Ok ? ImVec4(0.3f, 0.9f, 0.3f, 1)
                                                                   : ImVec4(1, 0.5f, 0.2f, 1);
    ImGui::Text("%s  %s", src.kind.c_str(), src.uri.c_str());
    ImGui::TextColored(col, "%s", st);
    ImGui::SameLine();
    ImGui::Text("  frame %lld   dropped %llu   %.1f results/s",
                static_cast<long long>(in.result ? in.result->frame_index : -1),
                static_cast<unsigned long long>(in.stats.frames_dropped), in.gl.result_fps);
    return;
  }
  const int64_t count = src.frame_count;
  if (ImGui::Button(pb.playing ? "Pause" : "Play", ImVec2(56, 0))) pb.playing = !pb.playing;
  ImGui::SameLine();
  if (ImGui::ArrowButton("##prev", ImGuiDir_Left)) actions.push(Action::Kind::Step, -1);
  ImGui::SameLine();
  if (ImGui::ArrowButton("##next", ImGuiDir_Right)) actions.push(Action::Kind::Step, +1);
  ImGui::SameLine();
  ImGui::SetNextItemWidth(70);
  static const float kSpeeds[] = {0.25f, 0.5f, 1.f, 2.f, 4.f};
  char sp[16];
  std::snprintf(sp, sizeof sp, "%gx", pb.speed);
  if (ImGui::BeginCombo("##speed", sp)) {
    for (float s : kSpeeds) {
      char l[16];
      std::snprintf(l, sizeof l, "%gx", s);
      if (ImGui::Selectable(l, s == pb.speed)) pb.speed = s;
    }
    ImGui::EndCombo();
  }
  ImGui::SameLine();
  ImGui::Checkbox("loop", &pb.loop);
  ImGui::SameLine();
  ImGui::Checkbox("wait for results", &pb.wait);
  if (ImGui::IsItemHovered())
    ImGui::SetTooltip("on: every frame is shown, playback slows to the model's pace\n"
                      "off: playback keeps the video's time and skips frames the model\n"
                      "cannot keep up with (the timeline says how many)");
  ImGui::SameLine(0, 16);
  // What is on screen (frame and its timestamp); the frame asked for, when it differs, apart.
  ImGui::TextUnformatted(timeline_label(in.result, pb.wanted, count).c_str());
  if (!in.playback_note.empty()) {
    ImGui::SameLine();
    ImGui::TextColored(ImVec4(1.f, 0.7f, 0.3f, 1.f), "%s", in.playback_note.c_str());
  }

  // Frame-exact scrubbing: the slider works in frame indices, every value is a real frame.
  int64_t lo = 0;
  int64_t hi = count > 0 ? count - 1 : std::max<int64_t>(pb.wanted + 300, 600);
  int64_t v = pb.wanted;
  ImGui::SetNextItemWidth(-1);
  if (ImGui::SliderScalar("##seek", ImGuiDataType_S64, &v, &lo, &hi, "%lld")) {
    actions.push(Action::Kind::Seek, v);
  }
  // Where results exist: a strip marking the frame on screen.
  if (in.result && hi > lo) {
    const ImVec2 a = ImGui::GetItemRectMin(), b = ImGui::GetItemRectMax();
    const float x = a.x + (b.x - a.x) * static_cast<float>(in.result->frame_index - lo) /
                              static_cast<float>(hi - lo);
    ImGui::GetWindowDrawList()->AddLine(
        ImVec2(x, b.y), ImVec2(x, b.y + 3),
        in.result_current ? IM_COL32(80, 220, 80, 255) : IM_COL32(230, 160, 40, 255), 3.f);
  }
}

}  // namespace camscope::ui
