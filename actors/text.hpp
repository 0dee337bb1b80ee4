#pragma once
// Text cleanup for model output shown to people: byte-fallback tokens can leave invalid or partial
// UTF-8 (a random-weight model samples raw bytes freely), which terminals and JSON parsers reject.
#include <string>
#include <string_view>

namespace pice::actors {

// Replaces every invalid UTF-8 sequence with U+FFFD and control characters (but tab) with spaces.
std::string sanitize_text(std::string_view text);

// Collapses newlines to spaces and trims surrounding whitespace: a point is one line of the answer.
std::string one_line(std::string_view text);

}  // namespace pice::actors
