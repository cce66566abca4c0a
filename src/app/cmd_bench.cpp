// Placeholder until the bench command lands; reports itself clearly instead of doing nothing.
#include "app/commands.h"
#include "util/error.h"

namespace camscope::app {
int cmd_bench(int, const char* const*) { throw Error("'bench' is not available in this build yet"); }
}  // namespace camscope::app
