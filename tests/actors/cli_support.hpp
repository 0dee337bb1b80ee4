#pragma once
// Helpers for tests that run the real `pice` binary.
#include <string>
#include <vector>

namespace pice::testing {

inline std::string pice_binary() { return PICE_BINARY; }
inline std::string source_path(const std::string& relative) { return std::string(PICE_SOURCE_DIR) + "/" + relative; }

// The lines of `text` that contain `needle`.
inline std::vector<std::string> lines_with(const std::string& text, const std::string& needle) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    std::string line = text.substr(start, end - start);
    if (line.find(needle) != std::string::npos) out.push_back(line);
    start = end + 1;
  }
  return out;
}

// The value of a string field in one of `pice ask --json`'s lines (our own output: no nesting).
inline std::string json_field(const std::string& line, const std::string& field) {
  std::string key = "\"" + field + "\":\"";
  size_t at = line.find(key);
  if (at == std::string::npos) return {};
  std::string value;
  for (size_t i = at + key.size(); i < line.size() && line[i] != '"'; ++i) {
    if (line[i] == '\\' && i + 1 < line.size()) ++i;
    value += line[i];
  }
  return value;
}

}  // namespace pice::testing
