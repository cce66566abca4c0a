#pragma once
// Minimal leveled logging to stderr. Quiet by default for info so stdout stays machine-readable.
#include <cstdio>
#include <string>

namespace camscope::log {

void set_verbose(bool on);
bool verbose();
void info(const std::string& msg);   // only when verbose
void warn(const std::string& msg);   // always
void note(const std::string& msg);   // always, for user-facing status lines

}  // namespace camscope::log
