#pragma once
// A small, general validator for TOML files made of named tables of scalar keys.
//
// A schema is a list of TableRules; each lists its KeyRules (type, range or allowed values, whether
// required, and where a valid value is stored). apply_schema() checks the whole file against it:
// unknown tables and keys, wrong types, out-of-range values and missing required keys are all
// reported the same way, as a ConfigError at the offending line and column.
#include <toml++/toml.h>

#include <concepts>
#include <cstdint>
#include <functional>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include "config/config_error.hpp"

namespace pice::config {

struct Position {
  uint32_t line = 1;
  uint32_t column = 1;
};
// Where toml++ saw a node; 1:1 when it has no position (e.g. a table made implicitly).
Position position_of(const toml::source_region& region);

// What a TOML value is, for error messages: `string "five"`, `integer 0`, `float 1.5`, `table`.
std::string describe_value(const toml::node& node);

class KeyRule {
 public:
  // Every string must be non-empty: in this schema an empty value is always a forgotten one.
  static KeyRule text(std::string name, std::string* out);
  template <std::integral T>
  static KeyRule integer(std::string name, T* out, int64_t min, int64_t max);
  // Accepts TOML floats and integers (people write `temperature = 1`).
  static KeyRule number(std::string name, double* out, double min, double max);
  static KeyRule boolean(std::string name, bool* out);

  KeyRule& required();
  KeyRule& one_of(std::vector<std::string> choices);   // text only: the allowed values
  // text only: the value must start with one of `prefixes`; `what` names the kind of value.
  KeyRule& starts_with(std::vector<std::string> prefixes, std::string what);

  const std::string& name() const { return name_; }
  bool is_required() const { return required_; }

  // Checks value; when valid stores it and returns "", else returns the problem
  // ("expected an integer, got string \"five\"").
  std::string apply(const toml::node& value) const;

 private:
  enum class Kind { text, integer, number, boolean };
  KeyRule(std::string name, Kind kind) : name_(std::move(name)), kind_(kind) {}
  std::string apply_text(const toml::node& value) const;
  std::string apply_integer(const toml::node& value) const;
  std::string apply_number(const toml::node& value) const;

  std::string name_;
  Kind kind_;
  bool required_ = false;
  int64_t min_integer_ = 0, max_integer_ = 0;
  double min_number_ = 0, max_number_ = 0;
  std::vector<std::string> choices_;
  std::vector<std::string> prefixes_;
  std::string prefix_what_;
  std::function<void(const std::string&)> store_text_;
  std::function<void(int64_t)> store_integer_;
  std::function<void(double)> store_number_;
  std::function<void(bool)> store_boolean_;
};

struct TableRule {
  std::string name;
  std::vector<KeyRule> keys;
  bool required = false;
  bool* present = nullptr;   // if set: whether the file has this table
};

// Validates `root` against `tables` and stores every value through the KeyRules. Throws
// ConfigError for the problem that comes first in the file (so fixing errors top to bottom works).
void apply_schema(const toml::table& root, const std::vector<TableRule>& tables, const std::string& source);

template <std::integral T>
KeyRule KeyRule::integer(std::string name, T* out, int64_t min, int64_t max) {
  // The range must fit T, so a validated value always converts exactly.
  if (min > max || !std::in_range<T>(min) || !std::in_range<T>(max)) {
    throw std::logic_error("KeyRule::integer(" + name + "): range does not fit the target type");
  }
  KeyRule rule(std::move(name), Kind::integer);
  rule.min_integer_ = min;
  rule.max_integer_ = max;
  rule.store_integer_ = [out](int64_t value) { *out = static_cast<T>(value); };
  return rule;
}

}  // namespace pice::config
