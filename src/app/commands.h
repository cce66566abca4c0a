#pragma once
// The CLI subcommands (DESIGN.md "Command line"). Each takes the arguments after its name and
// returns the process exit status; user errors are thrown as camscope::Error and printed by
// main() as one line.
namespace camscope::app {

int cmd_view(int argc, const char* const* argv);    // interactive window (default command)
int cmd_export(int argc, const char* const* argv);  // headless batch export
int cmd_info(int argc, const char* const* argv);    // layer table
int cmd_bench(int argc, const char* const* argv);   // per-stage timings
int cmd_synth(int argc, const char* const* argv);   // synthetic scenes + labels.json

}  // namespace camscope::app
