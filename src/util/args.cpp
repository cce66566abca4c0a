#include "util/args.h"

#include <algorithm>
#include <cerrno>
#include <cstdlib>

#include "util/error.h"
#include "util/fs.h"

namespace camscope {

size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j)
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] != b[j - 1])});
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

std::vector<std::string> closest(const std::string& s, const std::vector<std::string>& candidates,
                                 size_t n) {
  std::vector<std::pair<size_t, std::string>> scored;
  for (const auto& c : candidates) scored.emplace_back(edit_distance(s, c), c);
  std::stable_sort(scored.begin(), scored.end(),
                   [](const auto& x, const auto& y) { return x.first < y.first; });
  std::vector<std::string> out;
  for (size_t i = 0; i < scored.size() && i < n; ++i) out.push_back(scored[i].second);
  return out;
}

Args::Args(int argc, const char* const* argv, const std::set<std::string>& value_opts,
           const std::set<std::string>& flag_opts) {
  std::vector<std::string> known(value_opts.begin(), value_opts.end());
  known.insert(known.end(), flag_opts.begin(), flag_opts.end());
  for (int i = 0; i < argc; ++i) {
    std::string a = argv[i];
    if (a.size() < 3 || a.rfind("--", 0) != 0) {
      m_positional.push_back(a);
      continue;
    }
    std::string key = a.substr(2), value;
    bool has_value = false;
    if (auto eq = key.find('='); eq != std::string::npos) {
      value = key.substr(eq + 1);
      key = key.substr(0, eq);
      has_value = true;
    }
    if (value_opts.count(key)) {
      if (!has_value) {
        if (i + 1 >= argc) throw Error("option --" + key + " needs a value");
        value = argv[++i];
        // "--method --out DIR" forgot the method: do not take the next option as its value.
        // (Values starting with one dash, e.g. "--alpha -0.5", still reach range validation;
        // "--key=--x" is explicit and allowed.)
        if (value.rfind("--", 0) == 0 && value.size() > 2)
          throw Error("option --" + key + " needs a value, got the option " + value);
      }
      m_values[key] = value;
    } else if (flag_opts.count(key)) {
      if (has_value) throw Error("option --" + key + " takes no value");
      m_values[key] = "1";
    } else {
      std::string msg = "unknown option --" + key;
      auto near = closest(key, known, 1);
      if (!near.empty() && edit_distance(key, near[0]) <= 3) msg += " (did you mean --" + near[0] + "?)";
      throw Error(msg);
    }
  }
}

std::vector<const char*> take_global_options(int argc, const char* const* argv) {
  std::vector<const char*> rest;
  for (int i = 0; i < argc; ++i) {
    const std::string a = argv[i];
    std::string value;
    if (a == "--max-file-mb") {
      if (i + 1 >= argc) throw Error("option --max-file-mb needs a value");
      value = argv[++i];
    } else if (a.rfind("--max-file-mb=", 0) == 0) {
      value = a.substr(14);
    } else {
      rest.push_back(argv[i]);
      continue;
    }
    char* end = nullptr;
    errno = 0;
    const long long mb = std::strtoll(value.c_str(), &end, 10);
    if (value.empty() || *end != '\0' || errno == ERANGE || mb < 1 || mb > (1ll << 30))
      throw Error("--max-file-mb expects a whole number of megabytes >= 1, got '" + value + "'");
    set_max_file_mb(mb);
  }
  return rest;
}

bool Args::has(const std::string& key) const { return m_values.count(key) != 0; }

std::string Args::get(const std::string& key, const std::string& def) const {
  auto it = m_values.find(key);
  return it == m_values.end() ? def : it->second;
}

std::optional<std::string> Args::opt(const std::string& key) const {
  auto it = m_values.find(key);
  if (it == m_values.end()) return std::nullopt;
  return it->second;
}

int Args::get_int(const std::string& key, int def) const {
  auto v = opt(key);
  if (!v) return def;
  char* end = nullptr;
  long x = std::strtol(v->c_str(), &end, 10);
  if (v->empty() || *end != '\0') throw Error("--" + key + " expects an integer, got '" + *v + "'");
  return static_cast<int>(x);
}

double Args::get_double(const std::string& key, double def) const {
  auto v = opt(key);
  if (!v) return def;
  char* end = nullptr;
  double x = std::strtod(v->c_str(), &end);
  if (v->empty() || *end != '\0') throw Error("--" + key + " expects a number, got '" + *v + "'");
  return x;
}

}  // namespace camscope
