// The model sidecar (DESIGN.md "Model sidecar"), validated strictly against its schema: every
// field's type, range and size is checked and a violation is one line naming the field, e.g.
// "person.json: input.std[1] must be > 0". Nothing malformed falls back to defaults silently.
//
// Schema (fields not listed are ignored with a warning):
//   {"input": {                                   required object
//      "size": [H, W],                            required, integers 1..kMaxSide
//      "color": "rgb" | "bgr" | "gray",           default rgb
//      "resize": "stretch" | "center_crop",       default stretch
//      "antialias": true | false,                 default true
//      "mean": [m...], "std": [s...]},            one number per channel (3, or 1 for gray);
//                                                 finite, |m| <= kMaxAbsMean,
//                                                 kMinStd <= s <= kMaxStd
//    "labels": ["..."] | "labels_file": "...",    optional, not both; strings; the count must
//                                                 match the model's classes (Model::load)
//    "default_layer": "...",                      optional non-empty string
//    "name": "...", "description": "..."}         optional metadata strings
#include <cmath>
#include <filesystem>
#include <set>
#include <sstream>

#include "model/sidecar.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/json.h"
#include "util/log.h"

namespace camscope::model {
namespace {

constexpr int64_t kMaxSide = 8192;
constexpr double kMaxAbsMean = 1000.0;  // pixel values are in [0, 1]
constexpr double kMinStd = 1e-6, kMaxStd = 1e6;

std::string num_text(double v) {
  std::ostringstream os;
  os << v;
  return os.str();
}

class Checker {
 public:
  explicit Checker(std::string path) : m_path(std::move(path)) {}

  [[noreturn]] void fail(const std::string& field, const std::string& what) const {
    throw Error(m_path + ": " + (field.empty() ? "" : field + " ") + what);
  }
  void expect(const Json& v, Json::value_t type, const std::string& field,
              const char* want) const {
    if (v.type() != type) fail(field, std::string("must be ") + want + ", got " + describe(v));
  }
  static std::string describe(const Json& v) {
    std::string d = v.type_name();
    if (v.is_primitive()) {
      std::string text = v.dump();
      if (text.size() > 40) text = text.substr(0, 37) + "...";
      if (!v.is_null()) d += " " + text;
    }
    return d;
  }
  void warn_unknown(const Json& obj, const std::set<std::string>& known,
                    const std::string& prefix) const {
    for (const auto& item : obj.items()) {
      if (known.count(item.key())) continue;
      std::string list;
      for (const auto& k : known) list += (list.empty() ? "" : ", ") + k;
      log::warn(m_path + ": unknown field '" + prefix + item.key() + "' ignored (known: " + list +
                ")");
    }
  }
  const std::string& path() const { return m_path; }

 private:
  std::string m_path;
};

std::string one_of(const Checker& c, const Json& v, const std::string& field,
                   const std::vector<std::string>& allowed) {
  std::string list;
  for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
  if (!v.is_string()) c.fail(field, "must be one of " + list + ", got " + Checker::describe(v));
  const auto& s = v.get_ref<const std::string&>();
  for (const auto& a : allowed)
    if (s == a) return s;
  c.fail(field, "must be one of " + list + ", got '" + s + "'");
}

std::vector<double> numbers(const Checker& c, const Json& v, const std::string& field,
                           size_t channels, const std::string& color) {
  c.expect(v, Json::value_t::array, field, "an array of numbers");
  if (v.size() != channels)
    c.fail(field, "needs " + std::to_string(channels) + " value" + (channels == 1 ? "" : "s") +
                      " (one per channel of color '" + color + "'), got " +
                      std::to_string(v.size()));
  std::vector<double> out;
  for (size_t i = 0; i < v.size(); ++i) {
    const std::string f = field + "[" + std::to_string(i) + "]";
    if (!v[i].is_number()) c.fail(f, "must be a number, got " + Checker::describe(v[i]));
    const double x = v[i].get<double>();
    if (!std::isfinite(x)) c.fail(f, "must be finite");
    out.push_back(x);
  }
  return out;
}

InputSpec parse_input(const Checker& c, const Json& in) {
  c.expect(in, Json::value_t::object, "input", "an object");
  c.warn_unknown(in, {"size", "color", "resize", "antialias", "mean", "std"}, "input.");
  InputSpec spec;
  if (!in.contains("size")) c.fail("input.size", "is required ([H, W])");
  const Json& size = in["size"];
  if (!size.is_array() || size.size() != 2)
    c.fail("input.size", "must be [H, W] (two integers), got " +
                             (size.is_array() ? "an array of " + std::to_string(size.size())
                                              : Checker::describe(size)));
  int hw[2];
  for (int i = 0; i < 2; ++i) {
    const std::string f = std::string("input.size[") + std::to_string(i) + "]";
    const Json& v = size[i];
    if (!v.is_number_integer()) c.fail(f, "must be an integer, got " + Checker::describe(v));
    const bool neg = v.is_number_unsigned() ? v.get<uint64_t>() < 1 : v.get<int64_t>() < 1;
    if (neg) c.fail(f, "must be >= 1, got " + v.dump());
    if (v.is_number_unsigned() ? v.get<uint64_t>() > static_cast<uint64_t>(kMaxSide)
                               : v.get<int64_t>() > kMaxSide)
      c.fail(f, "must be <= " + std::to_string(kMaxSide) + ", got " + v.dump());
    hw[i] = static_cast<int>(v.get<int64_t>());
  }
  spec.height = hw[0];
  spec.width = hw[1];

  std::string color = "rgb";
  if (in.contains("color")) color = one_of(c, in["color"], "input.color", {"rgb", "bgr", "gray"});
  spec.color = color == "gray" ? ColorMode::Gray : color == "bgr" ? ColorMode::BGR : ColorMode::RGB;
  if (in.contains("resize"))
    spec.resize = one_of(c, in["resize"], "input.resize", {"stretch", "center_crop"}) == "stretch"
                      ? ResizeMode::Stretch
                      : ResizeMode::CenterCrop;
  if (in.contains("antialias")) {
    c.expect(in["antialias"], Json::value_t::boolean, "input.antialias", "true or false");
    spec.antialias = in["antialias"].get<bool>();
  }

  const size_t ch = static_cast<size_t>(spec.channels());
  std::vector<double> mean(spec.mean.begin(), spec.mean.end()), sd(spec.std.begin(), spec.std.end());
  if (ch == 1) {  // defaults for gray: identity
    mean = {0.0};
    sd = {1.0};
  }
  if (in.contains("mean")) mean = numbers(c, in["mean"], "input.mean", ch, color);
  if (in.contains("std")) sd = numbers(c, in["std"], "input.std", ch, color);
  if (mean.size() != ch || sd.size() != ch)  // rgb/bgr defaults without mean or std
    c.fail("input", "needs mean and std for color '" + color + "'");
  for (size_t i = 0; i < ch; ++i) {
    const std::string idx = "[" + std::to_string(i) + "]";
    if (!(std::fabs(mean[i]) <= kMaxAbsMean))
      c.fail("input.mean" + idx, "must be within [-" + num_text(kMaxAbsMean) + ", " +
                                     num_text(kMaxAbsMean) + "] (pixels are scaled to [0, 1]), got " +
                                     num_text(mean[i]));
    if (!(sd[i] > 0.0)) c.fail("input.std" + idx, "must be > 0, got " + num_text(sd[i]));
    if (!(sd[i] >= kMinStd && sd[i] <= kMaxStd))
      c.fail("input.std" + idx, "must be within [" + num_text(kMinStd) + ", " + num_text(kMaxStd) +
                                    "], got " + num_text(sd[i]));
  }
  spec.mean.assign(mean.begin(), mean.end());
  spec.std.assign(sd.begin(), sd.end());
  return spec;
}

std::vector<std::string> read_labels_file(const Checker& c, const Json& v) {
  c.expect(v, Json::value_t::string, "labels_file", "a file name (string)");
  const auto& name = v.get_ref<const std::string&>();
  if (name.empty()) c.fail("labels_file", "must not be empty");
  // One label per line, relative to the sidecar's folder.
  std::filesystem::path f = name;
  if (f.is_relative()) f = std::filesystem::path(c.path()).parent_path() / f;
  const std::string why = not_regular_reason(f.string());
  if (!why.empty()) c.fail("labels_file", f.string() + ": " + why);
  std::istringstream in(read_text_file(f.string()));
  std::vector<std::string> labels;
  int line_no = 0;
  for (std::string line; std::getline(in, line);) {
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    if (!is_valid_utf8(line) || line.find('\0') != std::string::npos)
      c.fail("labels_file", f.string() + " line " + std::to_string(line_no) +
                                " is not UTF-8 text (a binary file?)");
    labels.push_back(line);
  }
  if (labels.empty()) c.fail("labels_file", f.string() + " has no labels (one per line)");
  return labels;
}

}  // namespace

Sidecar load_sidecar(const std::string& json_path) {
  Json j = read_json_file(json_path);
  const Checker c(json_path);
  if (!j.is_object())
    c.fail("", "a sidecar must be a JSON object ({\"input\": {...}, ...}), got " +
                   Checker::describe(j));
  c.warn_unknown(j, {"input", "labels", "labels_file", "default_layer", "name", "description"},
                 "");
  Sidecar s;
  s.present = true;
  s.path = json_path;
  if (!j.contains("input")) c.fail("input", "is required ({\"size\": [H, W], ...})");
  s.input = parse_input(c, j["input"]);

  if (j.contains("labels") && j.contains("labels_file"))
    c.fail("", "gives labels and labels_file: give one, not both");
  if (j.contains("labels")) {
    const Json& l = j["labels"];
    c.expect(l, Json::value_t::array, "labels", "an array of strings");
    if (l.empty()) c.fail("labels", "is empty (leave it out for numeric labels)");
    for (size_t i = 0; i < l.size(); ++i) {
      if (!l[i].is_string())
        c.fail("labels[" + std::to_string(i) + "]", "must be a string, got " + Checker::describe(l[i]));
      s.labels.push_back(l[i].get<std::string>());
    }
  } else if (j.contains("labels_file")) {
    s.labels = read_labels_file(c, j["labels_file"]);
  }
  if (j.contains("default_layer")) {
    c.expect(j["default_layer"], Json::value_t::string, "default_layer", "a module path (string)");
    s.default_layer = j["default_layer"].get<std::string>();
    if (s.default_layer.empty()) c.fail("default_layer", "must not be empty");
  }
  for (const char* meta : {"name", "description"})
    if (j.contains(meta)) c.expect(j[meta], Json::value_t::string, meta, "a string");
  return s;
}

}  // namespace camscope::model
