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

}  // namespace camscope
