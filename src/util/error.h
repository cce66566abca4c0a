#pragma once
// One error type for everything a user can cause. Its message is a single line that the CLI
// prints as "camscope: <message>" before exiting non-zero.
#include <stdexcept>
#include <string>

namespace camscope {

struct Error : std::runtime_error {
  explicit Error(const std::string& msg) : std::runtime_error(msg) {}
};

// Text safe to print on one terminal line: valid UTF-8 is kept; control characters (C0, DEL,
// C1), bytes that are not valid UTF-8 and newlines become visible escapes (\n, \t, \xNN).
// Longer than max_bytes: cut (at a character boundary) with "...". main()'s error printer
// passes every message through it, so file names and decoder messages cannot garble the
// terminal.
std::string printable(const std::string& text, size_t max_bytes = 4096);

// True when text is well-formed UTF-8 (no overlong forms, surrogates or code points > U+10FFFF).
bool is_valid_utf8(const std::string& text);

// The one line worth printing from an exception's text. LibTorch's messages span many lines;
// a TorchScript interpreter error starts with "The following operation failed in the
// TorchScript interpreter." and ends, after its tracebacks, with the Python-level exception
// ("RuntimeError: ..." / "builtins.ValueError: ..."): that line is returned with the
// operation marked "<--- HERE" in the innermost frame, e.g. "RuntimeError: Output size is too
// small (at torch.avg_pool2d, code/__torch__/...pooling.py line 14)". Other text: its first
// non-empty line.
std::string error_summary(const std::string& what);

}  // namespace camscope
