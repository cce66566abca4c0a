// Placeholder until the export command lands; reports itself clearly instead of doing nothing.
#include "app/commands.h"
#include "util/error.h"

namespace camscope::app {
int cmd_export(int, const char* const*) { throw Error("'export' is not available in this build yet"); }
}  // namespace camscope::app
