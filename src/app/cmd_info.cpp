// Placeholder until the info command lands; reports itself clearly instead of doing nothing.
#include "app/commands.h"
#include "util/error.h"

namespace camscope::app {
int cmd_info(int, const char* const*) { throw Error("'info' is not available in this build yet"); }
}  // namespace camscope::app
