#pragma once
// The CLI subcommands (DESIGN.md "Command line"). Each takes the arguments after its name and
// returns the process exit status; user errors are thrown as camscope::Error and printed by
// main() as one line.
#include <set>
#include <string>

#include "util/image_io.h"

namespace camscope {
class Args;
}

namespace camscope::app {

// --exif-orientation apply|ignore and --max-image-mb N (view and export; see image_io.h).
extern const std::set<std::string> kDecodeValueOpts;
extern const char* const kDecodeHelp;
DecodeOptions parse_decode_options(const Args& args);

int cmd_view(int argc, const char* const* argv);    // interactive window (default command)
int cmd_export(int argc, const char* const* argv);  // headless batch export
int cmd_info(int argc, const char* const* argv);    // layer table
int cmd_bench(int argc, const char* const* argv);   // per-stage timings
int cmd_synth(int argc, const char* const* argv);   // synthetic scenes + labels.json
int cmd_optvis(int argc, const char* const* argv);  // feature visualization

}  // namespace camscope::app
