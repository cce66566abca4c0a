#include "util/log.h"

#include <atomic>
#include <mutex>

#include "util/error.h"

namespace camscope::log {
using camscope::printable;
namespace {
std::atomic<bool> g_verbose{false};
std::mutex g_mutex;
void emit(const char* prefix, const std::string& msg) {
  std::lock_guard<std::mutex> lock(g_mutex);
  std::fprintf(stderr, "camscope: %s%s\n", prefix, printable(msg).c_str());
}
}  // namespace

void set_verbose(bool on) { g_verbose = on; }
bool verbose() { return g_verbose; }
void info(const std::string& msg) {
  if (g_verbose) emit("", msg);
}
void warn(const std::string& msg) { emit("warning: ", msg); }
void note(const std::string& msg) { emit("", msg); }

}  // namespace camscope::log
