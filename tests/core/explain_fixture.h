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
    if (r.status == 0)
      path = dir->str();
    else
      MESSAGE("explain fixtures failed (python + torch needed): " << r.output);
  }
  return path;
}

// True when the fixtures exist. A missing Python + torch skips (with a message); a fixture
// script that fails although torch is there fails the calling test.
inline bool have_explain_fixtures() {
  if (!explain_fixture_dir().empty()) return true;
  if (run(python() + " -c 'import torch'").status == 0)
    FAIL_CHECK("explain fixtures failed although python + torch are present");
  else
    MESSAGE("SKIPPED: python + torch not available for the explain fixtures");
  return false;
}

}  // namespace camscope::test
