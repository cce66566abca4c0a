#pragma once
// `camscope export --method a,b,c [--metrics]`: the per-frame work of several methods from one
// pass (explain_many) and the faithfulness metrics, with their summary.json entries. Kept apart
// from cmd_export.cpp so the exporter's frame loop only asks "results for this frame" and
// "annotate this frame's JSON".
#include <torch/script.h>

#include <map>
#include <string>
#include <vector>

#include "explain/explain.h"
#include "model/model.h"
#include "util/json.h"

namespace camscope::app {

// "gradcam" or "gradcam,hirescam,fem": methods in the given order. Throws camscope::Error on an
// unknown name (with parse_method's suggestion), an empty item or a repeated method.
std::vector<explain::Method> parse_method_list(const std::string& spec);

class ExportMethods {
 public:
  ExportMethods(std::vector<explain::Method> methods, bool metrics);

  const std::vector<explain::Method>& methods() const { return m_methods; }
  bool several() const { return m_methods.size() > 1; }
  // One method: `file` in DIR (the single-method layout). Several: DIR/<method>/file.
  std::string path(const std::string& dir, explain::Method m, const std::string& file) const;
  // Creates the per-method folders (several methods only).
  void make_dirs(const std::string& dir) const;
  // summary.json head: "method" (the names joined by commas) and, for several, "methods".
  void describe(Json& summary) const;

  // All methods on one preprocessed frame, in methods() order (base.method is ignored). With
  // metrics, also each map's faithfulness (and stability against the previous call's maps).
  std::vector<explain::Result> run(model::Model& model, const torch::Tensor& x,
                                   const explain::Request& base);
  // Adds this frame's per-method entries to its JSON: with one method "metrics" (when asked);
  // with several "methods": {name: {"target", "timings_ms", "metrics"}}. `results` = run()'s.
  void annotate(Json& frame, const std::vector<explain::Result>& results) const;
  // The means over the frames so far: {"metrics_mean": {...}} (one method) or
  // {"metrics_mean": {name: {...}}}; empty without metrics.
  Json tail() const;

 private:
  struct Sums {
    double drop = 0, increase = 0, deletion = 0, insertion = 0, stability = 0;
    int64_t n = 0, n_stability = 0;
  };
  std::vector<explain::Method> m_methods;
  bool m_metrics;
  std::vector<Json> m_frame_metrics;      // this frame's, per method
  std::vector<torch::Tensor> m_previous;  // last frame's maps, per method (stability)
  std::vector<Sums> m_sums;
};

}  // namespace camscope::app
