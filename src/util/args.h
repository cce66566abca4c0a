#pragma once
// Command-line parsing: "--key value", "--key=value" and boolean "--flag". Unknown options
// are errors (with the closest known name suggested), so typos never pass silently.
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace camscope {

class Args {
 public:
  // value_opts take a value; flag_opts take none.
  Args(int argc, const char* const* argv, const std::set<std::string>& value_opts,
       const std::set<std::string>& flag_opts);

  bool has(const std::string& key) const;
  bool flag(const std::string& key) const { return has(key); }
  std::string get(const std::string& key, const std::string& def = "") const;
  std::optional<std::string> opt(const std::string& key) const;
  int get_int(const std::string& key, int def) const;
  double get_double(const std::string& key, double def) const;
  const std::vector<std::string>& positional() const { return m_positional; }

 private:
  std::map<std::string, std::string> m_values;
  std::vector<std::string> m_positional;
};

// Options every command accepts, taken out before the command parses its own:
// --max-file-mb N (util/fs.h: the limit on sidecar, labels and model files). Returns the
// remaining arguments; throws camscope::Error on a bad value.
std::vector<const char*> take_global_options(int argc, const char* const* argv);

// Edit distance, used for "did you mean" suggestions (options, layer paths, methods).
size_t edit_distance(const std::string& a, const std::string& b);
// Up to n candidates closest to s, best first.
std::vector<std::string> closest(const std::string& s, const std::vector<std::string>& candidates,
                                 size_t n = 3);

}  // namespace camscope
