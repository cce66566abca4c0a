// Placeholder until the synth command lands; reports itself clearly instead of doing nothing.
#include "app/commands.h"
#include "util/error.h"

namespace camscope::app {
int cmd_synth(int, const char* const*) { throw Error("'synth' is not available in this build yet"); }
}  // namespace camscope::app
