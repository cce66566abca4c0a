#pragma once
// JSON through nlohmann/json (Debian nlohmann-json3-dev), ordered so written files keep the
// key order DESIGN.md shows.
#include <nlohmann/json.hpp>
#include <string>

namespace camscope {
using Json = nlohmann::ordered_json;

// Reads and parses a JSON file; throws camscope::Error with the path and parse position.
Json read_json_file(const std::string& path);
// Writes pretty-printed JSON (2-space indent) atomically (temp file + rename).
void write_json_file(const std::string& path, const Json& j);
}  // namespace camscope
