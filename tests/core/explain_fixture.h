#pragma once
// Builds the explain/ test models once per test process (tests/core/explain_fixtures.py, run
// with the system Python + torch) and hands out their paths.
#include <memory>
#include <string>

#include "test_support.h"

namespace camscope::test {

// Directory holding tiny.pt, small.pt, se.pt, their sidecars and the Python references; ""
// (with a printed reason) when Python + torch are unavailable.
inline const std::string& explain_fixture_dir() {
  static std::unique_ptr<TempDir> dir;
  static std::string path;
  static bool tried = false;
  if (!tried) {
    tried = true;
    dir = std::make_unique<TempDir>("explain_fixtures");
    auto r = run(python() + " '" + source_dir() + "/tests/core/explain_fixtures.py' '" +
                 dir->str() + "'");
    if (r.status == 0) path = dir->str();
    else MESSAGE("explain fixtures failed (python + torch needed): " << r.output);
  }
  return path;
}

}  // namespace camscope::test
