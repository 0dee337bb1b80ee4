#pragma once
// One answer chunk as one line of JSON, for scripts and tests (`pice ask --json`).
#include <string>

#include "messages/bodies.hpp"

namespace pice::cli {

std::string json_string(const std::string& text);  // a quoted, escaped JSON string
std::string chunk_json(const messages::AnswerChunk& chunk);

}  // namespace pice::cli
