#include "config/config_error.hpp"

#include <utility>

namespace pice::config {
namespace {

std::string format(const std::string& file, uint32_t line, uint32_t column, const std::string& message) {
  if (line == 0) return file + ": " + message;
  return file + ":" + std::to_string(line) + ":" + std::to_string(column) + ": " + message;
}

}  // namespace

ConfigError::ConfigError(std::string file, uint32_t line, uint32_t column, std::string key, const std::string& message)
    : std::runtime_error(format(file, line, column, message)),
      file_(std::move(file)),
      line_(line),
      column_(line == 0 ? 0 : column),
      key_(std::move(key)) {}

}  // namespace pice::config
