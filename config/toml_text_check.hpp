#pragma once
// A check of config text before toml++ parses it.
//
// toml++ 3.3 (Debian 12) reaches __builtin_unreachable in its Unicode whitespace test for some non-ASCII
// characters where it expects whitespace (upstream issues marzer/tomlplusplus#190 and #295, fixed after
// 3.3): undefined behaviour on a mistyped config, found by tests/fuzz/config_fuzz.cpp. TOML allows
// non-ASCII only inside strings and comments, so such text is an error anyway: this check reports it
// first, at its line and column, and toml++ never sees it.
#include <string>
#include <string_view>

namespace pice::config {

// Throws ConfigError for a non-ASCII character outside strings and comments, or at the start of the
// line after a line-ending backslash in a multi-line basic string (where toml++ skips whitespace).
void check_toml_text(std::string_view text, const std::string& source);

}  // namespace pice::config
