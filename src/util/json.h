#pragma once
// JSON through nlohmann/json (Debian nlohmann-json3-dev), ordered so written files keep the
// key order DESIGN.md shows.
#include <nlohmann/json.hpp>
#include <cstdio>
#include <string>

namespace camscope {
using Json = nlohmann::ordered_json;

// Reads and parses a JSON file; throws camscope::Error with the path and parse position.
Json read_json_file(const std::string& path);
// Writes pretty-printed JSON (2-space indent) atomically (temp file + rename).
void write_json_file(const std::string& path, const Json& j);

// A JSON object whose one array member grows without bound (export's per-frame entries, ~3 KB
// each as JSON values): items go to a side file as they come instead of staying in memory;
// finish() writes `path` atomically with head's members, then "array_key": [items...], then
// tail's members, byte for byte as write_json_file would have written the whole object.
class JsonArrayWriter {
 public:
  JsonArrayWriter(std::string path, std::string array_key);
  ~JsonArrayWriter();  // removes the side file (finished or not)
  JsonArrayWriter(const JsonArrayWriter&) = delete;
  JsonArrayWriter& operator=(const JsonArrayWriter&) = delete;

  void add(const Json& item);
  size_t size() const { return m_count; }
  void finish(const Json& head, const Json& tail = Json::object());

 private:
  std::string m_path, m_key, m_items_path;
  std::FILE* m_items = nullptr;
  size_t m_count = 0;
};
}  // namespace camscope
