#include "util/error.h"

#include <cstdint>
#include <cstdio>
#include <vector>

namespace camscope {
namespace {

// Length of the valid UTF-8 sequence starting at s[i] (1..4), or 0 when it is not one.
size_t utf8_length(const std::string& s, size_t i) {
  const auto b = [&](size_t k) { return static_cast<uint8_t>(s[i + k]); };
  const uint8_t c = b(0);
  if (c < 0x80) return 1;
  size_t n;
  uint8_t lo = 0x80, hi = 0xBF;  // allowed range of the first continuation byte
  if (c >= 0xC2 && c <= 0xDF) n = 2;
  else if (c == 0xE0) n = 3, lo = 0xA0;
  else if (c >= 0xE1 && c <= 0xEC) n = 3;
  else if (c == 0xED) n = 3, hi = 0x9F;  // no UTF-16 surrogates
  else if (c >= 0xEE && c <= 0xEF) n = 3;
  else if (c == 0xF0) n = 4, lo = 0x90;
  else if (c >= 0xF1 && c <= 0xF3) n = 4;
  else if (c == 0xF4) n = 4, hi = 0x8F;
  else return 0;
  if (i + n > s.size()) return 0;
  if (b(1) < lo || b(1) > hi) return 0;
  for (size_t k = 2; k < n; ++k)
    if (b(k) < 0x80 || b(k) > 0xBF) return 0;
  return n;
}

std::vector<std::string> split_lines(const std::string& s) {
  std::vector<std::string> lines;
  size_t start = 0;
  while (start <= s.size()) {
    size_t nl = s.find('\n', start);
    if (nl == std::string::npos) nl = s.size();
    std::string line = s.substr(start, nl - start);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    lines.push_back(line);
    start = nl + 1;
  }
  return lines;
}

std::string trim(const std::string& s) {
  size_t a = s.find_first_not_of(" \t"), b = s.find_last_not_of(" \t");
  return a == std::string::npos ? "" : s.substr(a, b - a + 1);
}

}  // namespace

bool is_valid_utf8(const std::string& text) {
  for (size_t i = 0; i < text.size();) {
    const size_t n = utf8_length(text, i);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

std::string error_summary(const std::string& what) {
  static const std::string kInterp = "The following operation failed in the TorchScript interpreter.";
  const std::vector<std::string> lines = split_lines(what);
  const bool interp = what.find(kInterp) != std::string::npos;
  if (!interp) {
    for (const auto& l : lines)
      if (!trim(l).empty()) return trim(l);
    return what;
  }
  // Walk the tracebacks: remember the marked operation of the innermost frame (the last
  // "<--- HERE" of the serialized code, which names the operator itself) and its File line.
  std::string op, where, file_line;
  bool serialized_section = false, have_serialized = false;
  size_t last_marker = 0;
  for (size_t i = 0; i < lines.size(); ++i) {
    const std::string& l = lines[i];
    if (l.rfind("Traceback of TorchScript", 0) == 0) {
      serialized_section = l.find("original code") == std::string::npos;
      continue;
    }
    const std::string t = trim(l);
    if (t.rfind("File \"", 0) == 0) file_line = t;
    const size_t here = l.find("<--- HERE");
    if (here == std::string::npos) continue;
    last_marker = i;
    if (have_serialized && !serialized_section) continue;  // keep the operator's own name
    if (i == 0) continue;
    const std::string& code = lines[i - 1];
    const size_t a = l.find('~');
    size_t b = l.find_last_of('~');
    std::string mark = a != std::string::npos && a < code.size()
                           ? code.substr(a, std::min(b + 1, code.size()) - a)
                           : trim(code);
    op = trim(mark);
    where = file_line;
    have_serialized = have_serialized || serialized_section;
  }
  // The exception: the first line after the last traceback that is not indented code.
  std::string message;
  for (size_t i = last_marker + 1; i < lines.size(); ++i) {
    const std::string& l = lines[i];
    if (trim(l).empty()) continue;
    if (message.empty()) {
      if (l[0] == ' ' || l[0] == '\t' || l.rfind("Traceback of TorchScript", 0) == 0) continue;
      message = l;
    } else if (message.size() < 400) {
      message += " " + trim(l);  // a message of several lines
    }
  }
  if (message.rfind("builtins.", 0) == 0) message = message.substr(9);
  if (message.empty()) message = "TorchScript interpreter error";
  if (!op.empty()) {
    if (op.size() > 80) op = op.substr(0, 77) + "...";
    std::string loc;
    // File "code/__torch__/torch/nn/modules/pooling.py", line 14, in forward
    const size_t q1 = where.find('"'), q2 = where.find('"', q1 + 1);
    if (q1 != std::string::npos && q2 != std::string::npos) {
      loc = ", " + where.substr(q1 + 1, q2 - q1 - 1);
      const size_t ln = where.find("line ", q2);
      if (ln != std::string::npos) {
        const size_t e = where.find(',', ln);
        loc += " " + where.substr(ln, e == std::string::npos ? std::string::npos : e - ln);
      }
    }
    message += " (at " + op + loc + ")";
  }
  return message;
}

std::string printable(const std::string& text, size_t max_bytes) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size();) {
    if (out.size() >= max_bytes) {
      out += "...";
      break;
    }
    const uint8_t c = static_cast<uint8_t>(text[i]);
    const size_t n = utf8_length(text, i);
    // C1 controls U+0080..U+009F are encoded C2 80..C2 9F.
    const bool c1 = n == 2 && c == 0xC2 && static_cast<uint8_t>(text[i + 1]) < 0xA0;
    if (n == 1 && c >= 0x20 && c != 0x7F) {
      out += static_cast<char>(c);
    } else if (n > 1 && !c1) {
      out.append(text, i, n);
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c == '\r') {
      out += "\\r";
    } else {
      // One escape per byte of an invalid or control sequence.
      const size_t m = c1 ? 2 : 1;
      for (size_t k = 0; k < m; ++k) {
        char buf[8];
        std::snprintf(buf, sizeof buf, "\\x%02X", static_cast<uint8_t>(text[i + k]));
        out += buf;
      }
      i += m;
      continue;
    }
    i += n == 0 ? 1 : n;
  }
  return out;
}

}  // namespace camscope
