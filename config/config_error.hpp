#pragma once
// The one error type of config/: where in which file, which key, what is wrong.
#include <cstdint>
#include <stdexcept>
#include <string>

namespace pice::config {

class ConfigError : public std::runtime_error {
 public:
  // what() is "FILE:LINE:COLUMN: MESSAGE", or "FILE: MESSAGE" when line is 0 (no position, e.g. a
  // file that cannot be opened). MESSAGE usually starts with the key: "sketch.max_points: expected ...".
  ConfigError(std::string file, uint32_t line, uint32_t column, std::string key, const std::string& message);

  const std::string& file() const noexcept { return file_; }
  uint32_t line() const noexcept { return line_; }       // 1-based; 0 = not about a place in the file
  uint32_t column() const noexcept { return column_; }   // 1-based; 0 with line 0
  const std::string& key() const noexcept { return key_; }   // dotted ("sketch.max_points"); "" if none

 private:
  std::string file_;
  uint32_t line_;
  uint32_t column_;
  std::string key_;
};

}  // namespace pice::config
