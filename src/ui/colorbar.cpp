// [SECTION] Colorbar: which color means which value, over the viewport image.
#include <imgui.h>

#include <algorithm>
#include <cstdio>

#include "ui/panels.h"

namespace camscope::ui {

void draw_colorbar(ImDrawList* dl, float x, float y, float w, float h, render::Colormap map,
                   float threshold, const app::FrameResult& r, float clip, int channel) {
  constexpr int kSteps = 32;
  constexpr float kBarH = 10.f;
  const float bar_w = std::min(160.f, w * 0.4f);
  if (bar_w < 40.f || h < 60.f) return;
  const float x0 = x + 6.f, y0 = y + h - 22.f;
  char text[160];
  if (channel >= 0)
    std::snprintf(text, sizeof text, "channel %d: its min .. max", channel);
  else if (clip < 1.f && r.raw_lo <= r.raw_hi)
    std::snprintf(text, sizeof text, "0 .. %.3g (values above: clipped)   raw [%.3g, %.3g]", clip,
                  r.raw_lo, r.raw_hi);
  else if (clip < 1.f)
    std::snprintf(text, sizeof text, "0 .. %.3g (values above: clipped)", clip);
  else if (r.raw_lo <= r.raw_hi)
    std::snprintf(text, sizeof text, "0 .. 1   raw [%.3g, %.3g]", r.raw_lo, r.raw_hi);
  else
    std::snprintf(text, sizeof text, "0 .. 1");
  const float tw = ImGui::CalcTextSize(text).x;
  dl->AddRectFilled(ImVec2(x0 - 3, y0 - 3), ImVec2(x0 + bar_w + 10 + tw, y0 + kBarH + 3),
                    IM_COL32(0, 0, 0, 150));
  for (int i = 0; i < kSteps; ++i) {
    const render::Rgbf c = render::colormap_eval(map, (i + 0.5f) / kSteps);
    const float a = x0 + bar_w * i / kSteps, b = x0 + bar_w * (i + 1) / kSteps;
    dl->AddRectFilled(ImVec2(a, y0), ImVec2(b, y0 + kBarH),
                      IM_COL32(static_cast<int>(c.r * 255 + 0.5f), static_cast<int>(c.g * 255 + 0.5f),
                               static_cast<int>(c.b * 255 + 0.5f), 255));
  }
  if (threshold > 0.f) {  // below it the overlay shows the frame alone
    const float t = x0 + bar_w * std::clamp(threshold, 0.f, 1.f);
    dl->AddLine(ImVec2(t, y0 - 2), ImVec2(t, y0 + kBarH + 2), IM_COL32(255, 255, 255, 255), 2.f);
  }
  dl->AddText(ImVec2(x0 + bar_w + 6, y0 + kBarH * 0.5f - ImGui::GetFontSize() * 0.5f),
              IM_COL32(255, 255, 255, 255), text);
}

}  // namespace camscope::ui
