#include "util/json.h"

#include <cstdio>
#include <fstream>
#include <sstream>

#include "util/error.h"
#include "util/fs.h"

namespace camscope {

Json read_json_file(const std::string& path) {
  std::string text = read_text_file(path);
  try {
    return Json::parse(text);
  } catch (const nlohmann::json::exception& e) {  // parse errors, number overflow (1e999)
    throw Error(path + ": invalid JSON (" + std::string(e.what()) + ")");
  }
}

void write_json_file(const std::string& path, const Json& j) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream f(tmp, std::ios::binary);
    if (!f) throw Error("cannot write " + path);
    f << j.dump(2) << "\n";
    if (!f) throw Error("cannot write " + path);
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) throw Error("cannot write " + path);
}

namespace {

// dump(2) of a value nested `depth` levels deep: every line after the first indented.
std::string dump_nested(const Json& j, int depth) {
  const std::string text = j.dump(2);
  const std::string pad(static_cast<size_t>(2 * depth), ' ');
  std::string out;
  out.reserve(text.size() + text.size() / 8);
  for (char c : text) {
    out += c;
    if (c == '\n') out += pad;
  }
  return out;
}

}  // namespace

JsonArrayWriter::JsonArrayWriter(std::string path, std::string array_key)
    : m_path(std::move(path)), m_key(std::move(array_key)), m_items_path(m_path + ".items.tmp") {
  m_items = std::fopen(m_items_path.c_str(), "w+b");
  if (!m_items) throw Error("cannot write " + m_items_path);
}

JsonArrayWriter::~JsonArrayWriter() {
  if (m_items) std::fclose(m_items);
  std::remove(m_items_path.c_str());
}

void JsonArrayWriter::add(const Json& item) {
  const std::string text = (m_count ? ",\n    " : "    ") + dump_nested(item, 2);
  if (std::fwrite(text.data(), 1, text.size(), m_items) != text.size())
    throw Error("cannot write " + m_items_path);
  ++m_count;
}

void JsonArrayWriter::finish(const Json& head, const Json& tail) {
  const std::string tmp = m_path + ".tmp";
  std::FILE* out = std::fopen(tmp.c_str(), "wb");
  if (!out) throw Error("cannot write " + m_path);
  bool ok = true;
  auto put = [&](const std::string& s) {
    ok = ok && std::fwrite(s.data(), 1, s.size(), out) == s.size();
  };
  put("{");
  bool first = true;
  auto member = [&](const std::string& key, const std::string& value_text) {
    put(std::string(first ? "\n  " : ",\n  ") + Json(key).dump() + ": " + value_text);
    first = false;
  };
  for (const auto& item : head.items()) member(item.key(), dump_nested(item.value(), 1));
  member(m_key, m_count ? "[\n" : "[]");
  if (m_count) {
    std::fflush(m_items);
    std::rewind(m_items);
    char buf[1 << 16];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, m_items)) > 0) put(std::string(buf, n));
    ok = ok && !std::ferror(m_items);
    put("\n  ]");
  }
  for (const auto& item : tail.items()) member(item.key(), dump_nested(item.value(), 1));
  put("\n}\n");
  ok = (std::fclose(out) == 0) && ok;
  if (!ok || std::rename(tmp.c_str(), m_path.c_str()) != 0) {
    std::remove(tmp.c_str());
    throw Error("cannot write " + m_path);
  }
}

}  // namespace camscope
