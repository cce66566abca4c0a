#pragma once
// Shared helpers for the doctest suites: paths handed in by ctest, running the camscope binary
// (with a time limit, capturing its output), temporary folders, and clean skips.
#include <doctest/doctest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

namespace camscope::test {

inline std::string env_or(const char* name, const std::string& def) {
  const char* v = std::getenv(name);
  return v && *v ? v : def;
}
inline std::string source_dir() { return env_or("CAMSCOPE_SOURCE_DIR", "."); }
inline std::string shared_dir() { return env_or("CAMSCOPE_SHARED_DIR", source_dir() + "/../shared"); }
inline std::string camscope_bin() { return env_or("CAMSCOPE_BIN", "camscope"); }
inline std::string python() { return env_or("PYTHON", "/usr/bin/python3"); }

// Path under ../shared, or "" (and a printed skip reason) when it is absent.
inline std::string shared_file(const std::string& rel) {
  std::string p = shared_dir() + "/" + rel;
  if (!std::filesystem::exists(p)) {
    MESSAGE("SKIPPED: " << p << " not present (../shared is absent on this machine)");
    return "";
  }
  return p;
}

// A fresh empty directory under the build tree, removed at scope exit.
struct TempDir {
  std::filesystem::path path;
  explicit TempDir(const std::string& tag) {
    path = std::filesystem::path(env_or("CAMSCOPE_BINARY_DIR", "/tmp")) / "testtmp" /
           (tag + "_" + std::to_string(::getpid()));
    std::filesystem::remove_all(path);
    std::filesystem::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  std::string str(const std::string& rel = "") const { return rel.empty() ? path.string() : (path / rel).string(); }
};

struct RunResult {
  int status = -1;  // exit code; 128+signal when killed by a signal; 124 on timeout
  std::string output;  // stdout and stderr together
};

// Runs a shell command line with `timeout`, capturing combined output.
inline RunResult run(const std::string& cmdline, int timeout_s = 300) {
  RunResult r;
  std::string full = "timeout -k 5 " + std::to_string(timeout_s) + " " + cmdline + " 2>&1";
  FILE* p = ::popen(full.c_str(), "r");
  if (!p) return r;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), p)) > 0) r.output.append(buf.data(), n);
  int st = ::pclose(p);
  if (WIFEXITED(st)) r.status = WEXITSTATUS(st);
  else if (WIFSIGNALED(st)) r.status = 128 + WTERMSIG(st);
  return r;
}

// Runs the camscope binary with the given arguments.
inline RunResult camscope(const std::string& args, int timeout_s = 300) {
  return run("'" + camscope_bin() + "' " + args, timeout_s);
}

// Counts non-empty lines of text.
inline int line_count(const std::string& s) {
  int n = 0;
  bool content = false;
  for (char c : s) {
    if (c == '\n') {
      n += content;
      content = false;
    } else if (c != '\r') {
      content = true;
    }
  }
  return n + content;
}

}  // namespace camscope::test
