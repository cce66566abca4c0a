#pragma once
// One error type for everything a user can cause. Its message is a single line that the CLI
// prints as "camscope: <message>" before exiting non-zero.
#include <stdexcept>
#include <string>

namespace camscope {

struct Error : std::runtime_error {
  explicit Error(const std::string& msg) : std::runtime_error(msg) {}
};

}  // namespace camscope
