// The general TOML validator (see toml_schema.hpp).
#include "config/toml_schema.hpp"

#include <algorithm>
#include <cstdio>
#include <optional>
#include <sstream>
#include <tuple>

namespace pice::config {
namespace {

// Both text and its quoting rules come from toml++, so a value is shown as it was written.
template <class T>
std::string print(const T& value) {
  std::ostringstream out;
  out << value;
  return out.str();
}

// A string value as TOML's basic string syntax writes it: double quotes, escapes for quotes,
// backslashes and control characters (toml++ would print it single-quoted).
std::string quote(std::string_view text) {
  std::string quoted = "\"";
  for (const char c : text) {
    if (c == '"' || c == '\\') {
      quoted += '\\';
      quoted += c;
    } else if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      char escaped[8];
      std::snprintf(escaped, sizeof escaped, "\\u%04X", static_cast<unsigned>(static_cast<unsigned char>(c)));
      quoted += escaped;
    } else {
      quoted += c;
    }
  }
  return quoted + "\"";
}

std::string join(const std::vector<std::string>& items, std::string_view separator, std::string_view last_separator,
                 bool quoted) {
  std::string joined;
  for (size_t i = 0; i < items.size(); ++i) {
    if (i > 0) joined += (i + 1 == items.size()) ? last_separator : separator;
    joined += quoted ? quote(items[i]) : items[i];
  }
  return joined;
}

std::string article_for(std::string_view word) {
  return (!word.empty() && std::string_view("aeiou").find(word.front()) != std::string_view::npos) ? "an " : "a ";
}

// One problem found while applying the schema; the earliest in the file is reported.
struct Problem {
  Position position;
  std::string key;
  std::string message;
};

std::vector<std::string> names_of(const std::vector<TableRule>& tables) {
  std::vector<std::string> names;
  for (const auto& table : tables) names.push_back(table.name);
  return names;
}

std::vector<std::string> names_of(const std::vector<KeyRule>& keys) {
  std::vector<std::string> names;
  for (const auto& key : keys) names.push_back(key.name());
  return names;
}

void check_table(const toml::table& table, const TableRule& rule, std::vector<Problem>& problems) {
  for (auto&& [key, value] : table) {
    const std::string dotted = rule.name + "." + std::string(key.str());
    // Named outside the lambda: clang 14 cannot capture a structured binding (C++20 allows it).
    const std::string_view name = key.str();
    const auto match = std::find_if(rule.keys.begin(), rule.keys.end(),
                                    [&](const KeyRule& candidate) { return candidate.name() == name; });
    if (match == rule.keys.end()) {
      problems.push_back({position_of(key.source()), dotted,
                          "unknown key '" + dotted + "' (known: " + join(names_of(rule.keys), ", ", ", ", false) + ")"});
      continue;
    }
    if (std::string problem = match->apply(value); !problem.empty()) {
      problems.push_back({position_of(value.source()), dotted, dotted + ": " + problem});
    }
  }
  for (const KeyRule& key : rule.keys) {
    if (key.is_required() && !table.contains(key.name())) {
      const std::string dotted = rule.name + "." + key.name();
      problems.push_back({position_of(table.source()), dotted, dotted + ": missing required key"});
    }
  }
}

}  // namespace

Position position_of(const toml::source_region& region) {
  if (region.begin.line == 0) return {};
  return {region.begin.line, region.begin.column};
}

std::string describe_value(const toml::node& node) {
  switch (node.type()) {
    case toml::node_type::string: return "string " + quote(node.as_string()->get());
    case toml::node_type::integer: return "integer " + print(*node.as_integer());
    case toml::node_type::floating_point: return "float " + print(*node.as_floating_point());
    case toml::node_type::boolean: return "boolean " + print(*node.as_boolean());
    case toml::node_type::date: return "date " + print(*node.as_date());
    case toml::node_type::time: return "time " + print(*node.as_time());
    case toml::node_type::date_time: return "date-time " + print(*node.as_date_time());
    case toml::node_type::array: return "array";
    case toml::node_type::table: return "table";
    case toml::node_type::none: break;
  }
  return "nothing";
}

KeyRule KeyRule::text(std::string name, std::string* out) {
  KeyRule rule(std::move(name), Kind::text);
  rule.store_text_ = [out](const std::string& value) { *out = value; };
  return rule;
}

KeyRule KeyRule::boolean(std::string name, bool* out) {
  KeyRule rule(std::move(name), Kind::boolean);
  rule.store_boolean_ = [out](bool value) { *out = value; };
  return rule;
}

KeyRule KeyRule::number(std::string name, double* out, double min, double max) {
  KeyRule rule(std::move(name), Kind::number);
  rule.min_number_ = min;
  rule.max_number_ = max;
  rule.store_number_ = [out](double value) { *out = value; };
  return rule;
}

KeyRule& KeyRule::required() {
  required_ = true;
  return *this;
}

KeyRule& KeyRule::one_of(std::vector<std::string> choices) {
  if (kind_ != Kind::text) throw std::logic_error("KeyRule::one_of(" + name_ + "): only for text keys");
  choices_ = std::move(choices);
  return *this;
}

KeyRule& KeyRule::starts_with(std::vector<std::string> prefixes, std::string what) {
  if (kind_ != Kind::text) throw std::logic_error("KeyRule::starts_with(" + name_ + "): only for text keys");
  prefixes_ = std::move(prefixes);
  prefix_what_ = std::move(what);
  return *this;
}

std::string KeyRule::apply(const toml::node& value) const {
  switch (kind_) {
    case Kind::text: return apply_text(value);
    case Kind::integer: return apply_integer(value);
    case Kind::number: return apply_number(value);
    case Kind::boolean: {
      const auto* flag = value.as_boolean();
      if (flag == nullptr) return "expected true or false, got " + describe_value(value);
      store_boolean_(flag->get());
      return "";
    }
  }
  return "unsupported rule";
}

std::string KeyRule::apply_text(const toml::node& value) const {
  const auto* text = value.as_string();
  if (text == nullptr) return "expected a string, got " + describe_value(value);
  const std::string& s = text->get();
  if (s.empty()) return "expected a non-empty string";
  if (!choices_.empty() && std::find(choices_.begin(), choices_.end(), s) == choices_.end()) {
    return "expected one of " + join(choices_, ", ", ", ", true) + ", got " + quote(s);
  }
  const auto has_prefix = [&](const std::string& prefix) { return s.starts_with(prefix); };
  if (!prefixes_.empty() && std::none_of(prefixes_.begin(), prefixes_.end(), has_prefix)) {
    return "expected " + article_for(prefix_what_) + prefix_what_ + " starting with " +
           join(prefixes_, ", ", " or ", false) + ", got " + quote(s);
  }
  store_text_(s);
  return {};
}

std::string KeyRule::apply_integer(const toml::node& value) const {
  const auto* integer = value.as_integer();
  if (integer == nullptr) return "expected an integer, got " + describe_value(value);
  const int64_t v = integer->get();
  if (v < min_integer_ || v > max_integer_) {
    return "expected " + std::to_string(min_integer_) + ".." + std::to_string(max_integer_) + ", got " + std::to_string(v);
  }
  store_integer_(v);
  return {};
}

std::string KeyRule::apply_number(const toml::node& value) const {
  std::optional<double> v;
  if (const auto* f = value.as_floating_point()) v = f->get();
  if (const auto* i = value.as_integer()) v = static_cast<double>(i->get());
  if (!v) return "expected a number, got " + describe_value(value);
  // Written as !(in range) so that nan is rejected too.
  if (!(*v >= min_number_ && *v <= max_number_)) {
    return "expected " + print(min_number_) + ".." + print(max_number_) + ", got " + print(*v);
  }
  store_number_(*v);
  return {};
}

void apply_schema(const toml::table& root, const std::vector<TableRule>& tables, const std::string& source) {
  std::vector<Problem> problems;
  const std::string known_tables = join(names_of(tables), ", ", ", ", false);
  for (auto&& [key, value] : root) {
    const std::string name(key.str());
    const bool known = std::any_of(tables.begin(), tables.end(), [&](const TableRule& t) { return t.name == name; });
    if (!known) {
      const std::string what = value.is_table() ? "unknown table '" : "unknown key '";
      problems.push_back({position_of(key.source()), name, what + name + "' (known tables: " + known_tables + ")"});
    } else if (!value.is_table()) {
      problems.push_back({position_of(value.source()), name, name + ": expected a table, got " + describe_value(value)});
    }
  }
  for (const TableRule& rule : tables) {
    const toml::table* table = root.get_as<toml::table>(rule.name);
    if (rule.present != nullptr) *rule.present = table != nullptr;
    if (table != nullptr) {
      check_table(*table, rule, problems);
    } else if (rule.required && !root.contains(rule.name)) {
      problems.push_back({Position{}, rule.name, rule.name + ": missing required table [" + rule.name + "]"});
    }
  }
  if (problems.empty()) return;
  const auto first = std::min_element(problems.begin(), problems.end(), [](const Problem& a, const Problem& b) {
    return std::tie(a.position.line, a.position.column) < std::tie(b.position.line, b.position.column);
  });
  throw ConfigError(source, first->position.line, first->position.column, first->key, first->message);
}

}  // namespace pice::config
