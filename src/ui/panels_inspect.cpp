// [SECTION] Timings and Inspect (histograms, model table, SE gates, first-layer filters,
// sanity check).
#include <imgui.h>

#include <algorithm>
#include <vector>
#include <cmath>
#include <string>

#include "ui/panels.h"

namespace camscope::ui {
namespace {

ImTextureID tex_id(GLuint id) {
  return reinterpret_cast<ImTextureID>(static_cast<intptr_t>(id));
}

std::string bytes_text(uint64_t b) {
  char buf[32];
  if (b >= (1u << 20))
    std::snprintf(buf, sizeof buf, "%.2f MiB", b / 1048576.0);
  else if (b >= 1024)
    std::snprintf(buf, sizeof buf, "%.1f KiB", b / 1024.0);
  else
    std::snprintf(buf, sizeof buf, "%llu B", static_cast<unsigned long long>(b));
  return buf;
}

void row(const char* name, const char* fmt, double v) {
  ImGui::TableNextRow();
  ImGui::TableNextColumn();
  ImGui::TextUnformatted(name);
  ImGui::TableNextColumn();
  ImGui::Text(fmt, v);
}
void row_text(const char* name, const std::string& v) {
  ImGui::TableNextRow();
  ImGui::TableNextColumn();
  ImGui::TextUnformatted(name);
  ImGui::TableNextColumn();
  ImGui::TextUnformatted(v.c_str());
}

// A histogram with its axes: value range under the bars, largest count beside them; counts
// on a log scale on request (activations after a ReLU put most values in the first bin).
void histogram(const char* label, const app::Histogram& h, bool log_counts) {
  if (h.counts.empty()) {
    ImGui::TextDisabled("%s: none for this method", label);
    return;
  }
  static std::vector<float> shown;  // GL thread only; reused, so no allocation per frame
  shown.assign(h.counts.begin(), h.counts.end());
  float max_count = 0.f;
  for (float& c : shown) {
    max_count = std::max(max_count, c);
    if (log_counts) c = std::log10(1.f + std::max(0.f, c));
  }
  char overlay[128];
  std::snprintf(overlay, sizeof overlay, "%s%s", label, log_counts ? " (log counts)" : "");
  ImGui::PushID(label);
  const float w = ImGui::GetContentRegionAvail().x;
  ImGui::PlotHistogram("##hist", shown.data(), static_cast<int>(shown.size()), 0, overlay, 0.f,
                       FLT_MAX, ImVec2(w, 70));
  ImGui::PopID();
  // x axis: the value range of the bins; y: the largest bin.
  char lo[32], hi[32];
  std::snprintf(lo, sizeof lo, "%.3g", h.lo);
  std::snprintf(hi, sizeof hi, "%.3g   max count %.0f", h.hi, max_count);
  ImGui::TextDisabled("%s", lo);
  ImGui::SameLine(std::max(ImGui::GetCursorPosX() + 8.f,
                           ImGui::GetCursorPosX() + w - ImGui::CalcTextSize(hi).x - 8.f));
  ImGui::TextDisabled("%s", hi);
  ImGui::TextDisabled("mean %.4g  std %.4g  dead channels %.1f%%", h.mean, h.std,
                      h.dead_fraction * 100.0);
}

// One SE block's gates as bars with axes: gate value 0..1 up, channel index across, and how
// many channels the block shuts (< 0.1) or passes (> 0.9).
void se_gate_bars(const std::string& path, const std::vector<float>& gates) {
  ImGui::PushID(path.c_str());
  const float axis_w = ImGui::CalcTextSize("1.0").x + 6.f;
  const float w = std::max(40.f, ImGui::GetContentRegionAvail().x - axis_w);
  ImGui::TextUnformatted(path.c_str());
  const ImVec2 p = ImGui::GetCursorScreenPos();
  ImGui::GetWindowDrawList()->AddText(p, ImGui::GetColorU32(ImGuiCol_TextDisabled), "1.0");
  ImGui::GetWindowDrawList()->AddText(ImVec2(p.x, p.y + 56.f - ImGui::GetFontSize()),
                                      ImGui::GetColorU32(ImGuiCol_TextDisabled), "0.0");
  ImGui::SetCursorScreenPos(ImVec2(p.x + axis_w, p.y));
  ImGui::PlotHistogram("##gates", gates.data(), static_cast<int>(gates.size()), 0, nullptr, 0.f,
                       1.f, ImVec2(w, 56));
  double mean = 0;
  int shut = 0, open = 0;
  for (float g : gates) {
    mean += g;
    shut += g < 0.1f;
    open += g > 0.9f;
  }
  if (!gates.empty()) mean /= static_cast<double>(gates.size());
  ImGui::TextDisabled("channel 0 .. %zu   mean gate %.3f   shut (<0.1) %d   open (>0.9) %d",
                      gates.empty() ? size_t{0} : gates.size() - 1, mean, shut, open);
  ImGui::PopID();
}

// Faithfulness metrics of the recent frames: the newest in numbers (with the frame it belongs
// to) and each metric as a sparkline over the frames measured.
void draw_metrics(UiState& state, const PanelInputs& in) {
  ImGui::Checkbox("compute faithfulness metrics", &state.metrics);
  if (ImGui::IsItemHovered())
    ImGui::SetTooltip("drop / increase (Average Drop, Increase in Confidence), deletion and\n"
                      "insertion AUC (20 steps, one batched forward each), stability (Spearman\n"
                      "with the previous frame). Computed after each map is shown, when the\n"
                      "worker is free, else on every 5th frame.");
  const std::vector<app::MetricsPoint>& h = in.metrics;
  if (!state.metrics && h.empty()) return;
  if (h.empty()) {
    ImGui::TextDisabled("waiting for the first measured frame...");
    return;
  }
  const app::MetricsPoint& p = h.back();
  ImGui::Text("frame %lld (%s), %zu frames measured, %.0f ms each", static_cast<long long>(p.frame_index),
              p.method.c_str(), h.size(), p.ms);
  static std::vector<float> series;  // GL thread only, reused
  auto spark = [&](const char* name, double value, bool valid, auto get, const char* note) {
    series.clear();
    for (const app::MetricsPoint& q : h)
      if (get(q) > -1.5) series.push_back(static_cast<float>(get(q)));
    char label[96];
    if (valid)
      std::snprintf(label, sizeof label, "%-10s %.3f", name, value);
    else
      std::snprintf(label, sizeof label, "%-10s -", name);
    ImGui::TextUnformatted(label);
    if (ImGui::IsItemHovered()) ImGui::SetTooltip("%s", note);
    ImGui::SameLine(140);
    if (!series.empty())
      ImGui::PlotLines((std::string("##") + name).c_str(), series.data(),
                       static_cast<int>(series.size()), 0, nullptr, FLT_MAX, FLT_MAX,
                       ImVec2(ImGui::GetContentRegionAvail().x, 22));
    else
      ImGui::NewLine();
  };
  spark("deletion", p.deletion, true, [](const app::MetricsPoint& q) { return q.deletion; },
        "AUC of the score as the most salient pixels are removed: lower = more faithful");
  spark("insertion", p.insertion, true, [](const app::MetricsPoint& q) { return q.insertion; },
        "AUC of the score as the most salient pixels are restored: higher = more faithful");
  spark("drop", p.drop, true, [](const app::MetricsPoint& q) { return q.drop; },
        "relu(s - s') / s, s' = score of the input times the map: lower = better");
  spark("stability", p.stability, p.stability > -1.5,
        [](const app::MetricsPoint& q) { return q.stability; },
        "Spearman of this map with the previous frame's (consecutive frames only)");
  ImGui::Text("score %.3f   increase %s", p.score, p.increase ? "yes" : "no");
}

// Feature visualization: what the opened channel (or the target class) responds to, refined
// step by step by the worker, with its settings, progress, Cancel and Save.
void draw_optvis(UiState& state, ActionQueue& actions, const PanelInputs& in) {
  app::OptvisParams& p = state.optvis;
  ImGui::AlignTextToFramePadding();
  ImGui::TextUnformatted("steps");
  ImGui::SameLine(0, 4);
  ImGui::SetNextItemWidth(90);
  ImGui::SliderInt("##ov_steps", &p.steps, 16, 1024);
  ImGui::SameLine();
  ImGui::TextUnformatted("size");
  ImGui::SameLine(0, 4);
  ImGui::SetNextItemWidth(70);
  ImGui::SliderInt("##ov_size", &p.size, 32, 256);
  ImGui::SameLine();
  ImGui::TextUnformatted("images");
  ImGui::SameLine(0, 4);
  ImGui::SetNextItemWidth(60);
  ImGui::SliderInt("##ov_batch", &p.batch, 1, 4);
  ImGui::Checkbox("start from the frame (accentuate)", &p.accentuate);
  const app::OptvisView& v = in.optvis;
  ImGui::BeginDisabled(v.running);
  const bool have_channel = state.open_channel >= 0;
  if (ImGui::Button(have_channel ? "Visualize the opened channel" : "open a channel first") &&
      have_channel)
    actions.push(Action::Kind::RunOptvis, state.open_channel);
  ImGui::SameLine();
  if (ImGui::Button("Visualize the target class")) actions.push(Action::Kind::RunOptvis, -1);
  ImGui::EndDisabled();
  if (v.what.empty()) {
    ImGui::TextDisabled("pick a channel in the grid (click a tile), then Visualize");
    return;
  }
  if (v.running) {
    char text[96];
    std::snprintf(text, sizeof text, "step %d/%d  objective %.3g", v.step, v.total, v.objective);
    ImGui::ProgressBar(v.total > 0 ? static_cast<float>(v.step) / v.total : 0.f,
                       ImVec2(std::min(240.f, ImGui::GetContentRegionAvail().x * 0.7f), 0), text);
    ImGui::SameLine();
    if (ImGui::SmallButton("Cancel##optvis")) actions.push(Action::Kind::Cancel);
  } else if (v.cancelled) {
    ImGui::TextDisabled("cancelled at step %d/%d", v.step, v.total);
  } else if (!v.error.empty()) {
    ImGui::TextColored(ImVec4(1, 0.4f, 0.3f, 1), "%s", v.error.c_str());
  } else {
    ImGui::TextDisabled("%d steps, objective %.3g (%s%.1f s)", v.total, v.objective,
                        v.from_cache ? "cached; " : "", v.elapsed_ms / 1000.0);
  }
  ImGui::TextUnformatted(v.what.c_str());
  const TextureView t = in.textures ? in.textures->optvis() : TextureView{};
  if (t) {
    const ImVec2 av = ImGui::GetContentRegionAvail();
    const float k = std::max(0.1f, std::min(av.x / t.width, (av.y - 28.f) / t.height));
    ImGui::Image(reinterpret_cast<ImTextureID>(static_cast<intptr_t>(t.id)),
                 ImVec2(t.width * k, t.height * k));
    if (!v.running && ImGui::SmallButton("Save PNG")) actions.push(Action::Kind::SaveOptvis);
  }
}

void draw_model_table(const app::ModelInfo& info) {
  const ImGuiTableFlags tf = ImGuiTableFlags_RowBg | ImGuiTableFlags_ScrollY |
                             ImGuiTableFlags_Resizable | ImGuiTableFlags_BordersInnerV;
  if (ImGui::BeginTable("structure", 4, tf)) {
    ImGui::TableSetupScrollFreeze(0, 1);
    ImGui::TableSetupColumn("path");
    ImGui::TableSetupColumn("type");
    ImGui::TableSetupColumn("output");
    ImGui::TableSetupColumn("params");
    ImGui::TableHeadersRow();
    ImGuiListClipper clip;
    clip.Begin(static_cast<int>(info.layers.size()));
    while (clip.Step())
      for (int i = clip.DisplayStart; i < clip.DisplayEnd; ++i) {
        const app::LayerRow& l = info.layers[static_cast<size_t>(i)];
        ImGui::TableNextRow();
        ImGui::TableNextColumn();
        ImGui::TextUnformatted(l.path.empty() ? "(model)" : l.path.c_str());
        ImGui::TableNextColumn();
        ImGui::TextUnformatted(l.type.c_str());
        ImGui::TableNextColumn();
        std::string s;
        for (size_t k = 0; k < l.output_shape.size(); ++k)
          s += (k ? "x" : "") + std::to_string(l.output_shape[k]);
        ImGui::TextUnformatted(s.c_str());
        ImGui::TableNextColumn();
        ImGui::Text("%lld", static_cast<long long>(l.params));
      }
    ImGui::EndTable();
  }
}

ImGuiTabItemFlags tab_flag(const UiState& state, const char* name) {
  return state.select_tab == name ? ImGuiTabItemFlags_SetSelected : 0;
}

}  // namespace

std::string display_rate_text(double fps) {
  // Above 1000 fps the loop is not paced by anything (idle, or headless): no rate to speak of.
  if (!(fps <= 1000.0)) return "unpaced (> 1000 fps)";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f fps", fps);
  return buf;
}

void draw_timings(const PanelInputs& in) {
  const app::FrameResult* r = in.result;
  if (ImGui::BeginTable("timings", 2, ImGuiTableFlags_RowBg | ImGuiTableFlags_BordersInnerV)) {
    ImGui::TableSetupColumn("stage", ImGuiTableColumnFlags_WidthStretch);
    ImGui::TableSetupColumn("ms", ImGuiTableColumnFlags_WidthFixed, 110.f);
    double total = 0;
    if (r) {
      for (const auto& [stage, ms] : r->timings_ms) {
        row(stage.c_str(), "%.2f ms", ms);
        total += ms;
      }
      row("worker total", "%.2f ms", total);
    }
    row("upload (GL)", "%.2f ms", in.gl.upload_ms);
    row("draw (GL passes)", "%.2f ms", in.gl.draw_ms);
    row("UI frame", "%.2f ms", in.gl.ui_frame_ms);
    // The loop's own rate; above 1000 fps it is not paced by anything (an idle or headless
    // loop), and the number means nothing.
    row_text("display rate", display_rate_text(in.gl.ui_fps));
    row_text("redraws", std::to_string(in.gl.redraws));
    row("results", "%.1f /s", in.gl.result_fps);
    ImGui::EndTable();
  }
  ImGui::Separator();
  ImGui::TextUnformatted("bytes moved per result");
  if (ImGui::BeginTable("bytes", 2, ImGuiTableFlags_RowBg)) {
    row_text("host -> model device", bytes_text(r ? r->bytes_to_device : 0));
    row_text("model device -> host", bytes_text(r ? r->bytes_to_host : 0));
    // The device path's promise: maps and channel grids never come back to the host.
    row_text("  of which maps", bytes_text(r ? r->map_bytes_to_host : 0));
    row_text("maps kept on", r && !r->device_map.empty()
                                 ? (r->device_map.cuda ? "the GPU (device path)"
                                                       : "the CPU (device path)")
                                 : "the host (copied)");
    row_text("host -> GL", bytes_text(in.gl.bytes_to_gl));
    ImGui::EndTable();
  }
  ImGui::Separator();
  if (ImGui::BeginTable("device", 2, ImGuiTableFlags_RowBg)) {
    row_text("model device", in.model ? in.model->device_name : "-");
    row_text("GL", in.gl.renderer);
    row_text("texture bridge", in.gl.bridge);
    row_text("GL objects", std::to_string(in.gl.objects.total()));
    row_text("decoded / dropped", std::to_string(in.stats.frames_decoded) + " / " +
                                      std::to_string(in.stats.frames_dropped));
    row_text("computed / cache hits",
             std::to_string(in.stats.computed) + " / " + std::to_string(in.stats.cache_hits));
    row_text("cached results", std::to_string(in.stats.cache_size));
    ImGui::EndTable();
  }
}

void draw_inspect(UiState& state, ActionQueue& actions, const PanelInputs& in) {
  const app::FrameResult* r = in.result;
  if (!ImGui::BeginTabBar("inspect")) return;
  if (ImGui::BeginTabItem("Stats", nullptr, tab_flag(state, "stats"))) {
    if (r) {
      ImGui::TextDisabled("%s", r->params.layer.c_str());
      ImGui::Checkbox("log counts", &state.hist_log);
      histogram("activation", r->activation_hist, state.hist_log);
      histogram("gradient", r->gradient_hist, state.hist_log);
    }
    ImGui::EndTabItem();
  }
  if (ImGui::BeginTabItem("Model", nullptr, tab_flag(state, "model"))) {
    if (in.model) draw_model_table(*in.model);
    ImGui::EndTabItem();
  }
  if (ImGui::BeginTabItem("SE", nullptr, tab_flag(state, "se"))) {
    state.se_tab_visible = true;
    if (!r || r->se_gates.empty()) {
      ImGui::TextDisabled(in.result_current ? "no squeeze-excitation gates in this model"
                                            : "reading the gates...");
    } else {
      for (const auto& [path, gates] : r->se_gates) se_gate_bars(path, gates);
    }
    ImGui::EndTabItem();
  }
  if (ImGui::BeginTabItem("Filters", nullptr, tab_flag(state, "filters"))) {
    const TextureView f = in.textures ? in.textures->filters() : TextureView{};
    if (!f || !in.model) {
      ImGui::TextDisabled("no first convolution found");
    } else {
      ImGui::TextDisabled("%s: %d filters %dx%d (grey = 0)", in.model->first_conv.c_str(),
                          in.model->filter_count, in.model->filter_size, in.model->filter_size);
      const ImVec2 av = ImGui::GetContentRegionAvail();
      const float s = std::max(0.1f, std::min(av.x / f.width, av.y / f.height));
      ImGui::Image(tex_id(f.id), ImVec2(f.width * s, f.height * s));
    }
    ImGui::EndTabItem();
  }
  if (ImGui::BeginTabItem("Metrics", nullptr, tab_flag(state, "metrics"))) {
    draw_metrics(state, in);
    ImGui::EndTabItem();
  }
  if (ImGui::BeginTabItem("Visualize", nullptr, tab_flag(state, "visualize"))) {
    draw_optvis(state, actions, in);
    ImGui::EndTabItem();
  }
  if (ImGui::BeginTabItem("Sanity", nullptr, tab_flag(state, "sanity"))) {
    const app::SanityResult& s = in.sanity;
    ImGui::TextWrapped(
        "Cascading randomization: parameters re-drawn from the logits down; a faithful map "
        "decorrelates (Spearman falls toward 0).");
    ImGui::BeginDisabled(s.running || !r);
    if (ImGui::Button(s.running ? "running..." : "Run on current frame"))
      actions.push(Action::Kind::RunSanity);
    ImGui::EndDisabled();
    if (s.running && in.progress.running && in.progress.method == "sanity") {
      ImGui::SameLine();
      ImGui::Text("%lld/%lld blocks", static_cast<long long>(in.progress.done),
                  static_cast<long long>(in.progress.total));
      ImGui::SameLine();
      if (ImGui::SmallButton("Cancel")) actions.push(Action::Kind::Cancel);
    }
    if (!s.error.empty()) ImGui::TextColored(ImVec4(1, 0.4f, 0.3f, 1), "%s", s.error.c_str());
    if (!s.steps.empty()) {
      ImGui::Text("frame %lld, %s @ %s, class %lld (%.0f ms)",
                  static_cast<long long>(s.frame_index), s.method.c_str(), s.layer.c_str(),
                  static_cast<long long>(s.target), s.elapsed_ms);
      const TextureView maps = in.textures ? in.textures->sanity_maps() : TextureView{};
      const render::GridLayout& lay = in.textures ? in.textures->sanity_layout() : render::GridLayout{};
      const float thumb = 48.f;
      // Tile i of the maps atlas as a thumbnail (0 = the original model's map).
      auto draw_map = [&](int i) {
        if (!maps || i >= lay.count) return;
        const float u0 = static_cast<float>(lay.tile_x(i)) / maps.width;
        const float v0 = static_cast<float>(lay.tile_y(i)) / maps.height;
        const float u1 = u0 + static_cast<float>(lay.tile_w) / maps.width;
        const float v1 = v0 + static_cast<float>(lay.tile_h) / maps.height;
        ImGui::Image(reinterpret_cast<ImTextureID>(static_cast<intptr_t>(maps.id)),
                     ImVec2(thumb * lay.tile_w / std::max(1, lay.tile_h), thumb), ImVec2(u0, v0),
                     ImVec2(u1, v1));
      };
      if (maps) {
        ImGui::TextUnformatted("original:");
        ImGui::SameLine();
        draw_map(0);
      }
      if (ImGui::BeginTable("sanity", 4, ImGuiTableFlags_RowBg | ImGuiTableFlags_BordersInnerV)) {
        ImGui::TableSetupColumn("map", ImGuiTableColumnFlags_WidthFixed, thumb * 1.8f);
        ImGui::TableSetupColumn("randomized through");
        ImGui::TableSetupColumn("spearman", ImGuiTableColumnFlags_WidthFixed, 90.f);
        ImGui::TableSetupColumn("|spearman|", ImGuiTableColumnFlags_WidthFixed, 90.f);
        ImGui::TableHeadersRow();
        int step = 0;
        for (const app::SanityStep& st : s.steps) {
          ImGui::TableNextRow();
          ImGui::TableNextColumn();
          draw_map(++step);
          ImGui::TableNextColumn();
          ImGui::TextUnformatted(st.block.c_str());
          ImGui::TableNextColumn();
          ImGui::ProgressBar(static_cast<float>(std::max(0.0, st.spearman)), ImVec2(-1, 0),
                             std::to_string(st.spearman).substr(0, 6).c_str());
          ImGui::TableNextColumn();
          ImGui::ProgressBar(static_cast<float>(std::max(0.0, st.spearman_abs)), ImVec2(-1, 0),
                             std::to_string(st.spearman_abs).substr(0, 6).c_str());
        }
        ImGui::EndTable();
      }
    }
    ImGui::EndTabItem();
  }
  ImGui::EndTabBar();
}

}  // namespace camscope::ui
