#include "app/export_methods.h"

#include <chrono>
#include <filesystem>
#include <set>

#include "explain/metrics.h"
#include "util/error.h"
#include "util/fs.h"

namespace camscope::app {

std::vector<explain::Method> parse_method_list(const std::string& spec) {
  std::vector<explain::Method> out;
  std::set<std::string> seen;
  size_t start = 0;
  for (;;) {
    const size_t comma = spec.find(',', start);
    const std::string name =
        spec.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    if (name.empty()) throw Error("--method: empty method name in '" + spec + "'");
    if (!seen.insert(name).second) throw Error("--method: '" + name + "' given twice");
    out.push_back(explain::parse_method(name));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

ExportMethods::ExportMethods(std::vector<explain::Method> methods, bool metrics)
    : m_methods(std::move(methods)),
      m_metrics(metrics),
      m_frame_metrics(m_methods.size()),
      m_previous(m_methods.size()),
      m_sums(m_methods.size()) {
  if (m_methods.empty()) throw Error("export needs at least one method");
}

std::string ExportMethods::path(const std::string& dir, explain::Method m,
                                const std::string& file) const {
  namespace stdfs = std::filesystem;
  if (!several()) return (stdfs::path(dir) / file).string();
  return (stdfs::path(dir) / explain::method_name(m) / file).string();
}

void ExportMethods::make_dirs(const std::string& dir) const {
  if (!several()) return;
  for (auto m : m_methods)
    ensure_directory((std::filesystem::path(dir) / explain::method_name(m)).string());
}

void ExportMethods::describe(Json& summary) const {
  std::string joined;
  Json list = Json::array();
  for (auto m : m_methods) {
    joined += (joined.empty() ? "" : ",") + std::string(explain::method_name(m));
    list.push_back(explain::method_name(m));
  }
  summary["method"] = joined;
  if (several()) summary["methods"] = list;
}

std::vector<explain::Result> ExportMethods::run(model::Model& model, const torch::Tensor& x,
                                                const explain::Request& base) {
  std::vector<explain::Result> results;
  if (several()) {
    results = explain::explain_many(model, x, m_methods, base);
  } else {
    explain::Request req = base;
    req.method = m_methods[0];
    results.push_back(explain::explain(model, x, req));
  }
  if (!m_metrics) return results;
  for (size_t i = 0; i < results.size(); ++i) {
    auto& r = results[i];
    const auto t0 = std::chrono::steady_clock::now();
    const explain::Faithfulness f = explain::faithfulness(model, x, r.map, r.target);
    Json j;
    j["drop"] = f.drop;
    j["increase"] = f.increase ? 1 : 0;
    j["deletion"] = f.deletion;
    j["insertion"] = f.insertion;
    // Stability needs a previous frame of the same size (a folder can mix sizes only before
    // preprocessing; maps are at the model's input size, so this is the first frame only).
    if (m_previous[i].defined() && m_previous[i].sizes() == r.map.sizes()) {
      const double s = explain::stability(m_previous[i], r.map);
      j["stability"] = s;
      m_sums[i].stability += s;
      ++m_sums[i].n_stability;
    } else {
      j["stability"] = nullptr;
    }
    m_previous[i] = r.map.detach().to(torch::kCPU);
    Sums& s = m_sums[i];
    s.drop += f.drop;
    s.increase += f.increase ? 1 : 0;
    s.deletion += f.deletion;
    s.insertion += f.insertion;
    ++s.n;
    m_frame_metrics[i] = j;
    r.timings_ms.emplace_back(
        "metrics",
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
  }
  return results;
}

void ExportMethods::annotate(Json& frame, const std::vector<explain::Result>& results) const {
  if (!several()) {
    if (m_metrics) frame["metrics"] = m_frame_metrics[0];
    return;
  }
  Json per = Json::object();
  for (size_t i = 0; i < results.size() && i < m_methods.size(); ++i) {
    Json e;
    e["target"] = results[i].target;
    Json tj = Json::object();
    for (const auto& [k, v] : results[i].timings_ms) tj[k] = v;
    e["timings_ms"] = tj;
    if (m_metrics) e["metrics"] = m_frame_metrics[i];
    per[explain::method_name(m_methods[i])] = e;
  }
  frame["methods"] = per;
}

Json ExportMethods::tail() const {
  Json out = Json::object();
  if (!m_metrics) return out;
  auto mean = [](const Sums& s) {
    Json j;
    auto avg = [&](double v, int64_t n) { return n > 0 ? Json(v / n) : Json(nullptr); };
    j["drop"] = avg(s.drop, s.n);
    j["increase"] = avg(s.increase, s.n);
    j["deletion"] = avg(s.deletion, s.n);
    j["insertion"] = avg(s.insertion, s.n);
    j["stability"] = avg(s.stability, s.n_stability);
    j["frames"] = s.n;
    return j;
  };
  if (!several()) {
    out["metrics_mean"] = mean(m_sums[0]);
  } else {
    Json per = Json::object();
    for (size_t i = 0; i < m_methods.size(); ++i)
      per[explain::method_name(m_methods[i])] = mean(m_sums[i]);
    out["metrics_mean"] = per;
  }
  return out;
}

}  // namespace camscope::app
