// The POST /v1/chat/completions body parser on arbitrary bytes.
//
// Properties: only ApiError escapes (400, or 404 for another model), and its JSON error body is
// always written (a message may quote invalid UTF-8 the client sent); a request that parses is one the
// node accepts (check_request), and it survives the msgpack trip to the node unchanged.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "actors/http/chat_completions.hpp"
#include "actors/http/openai_errors.hpp"
#include "actors/request_limits.hpp"
#include "messages/envelope.hpp"
#include "tests/fuzz/fuzz_check.hpp"

using pice::fuzz::check;
namespace http = pice::actors::http;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  http::ChatRequest chat;
  try {
    chat = http::parse_chat_request(body, "pice");
  } catch (const http::ApiError& error) {
    check(error.status() == 400 || error.status() == 404, "an ApiError status other than 400/404");
    check(!http::error_json(error).empty(), "an empty error body");
    return 0;
  }
  const auto problem = pice::actors::check_request(chat.request, "fuzz");
  check(!problem, "the parser accepted a request the node refuses: " + problem.value_or(""));
  check(chat.model == "pice", "accepted another model name");

  pice::messages::Envelope envelope;
  envelope.request_id = "fuzz";
  envelope.body = chat.request;
  const auto decoded = pice::messages::decode(pice::messages::encode(envelope));
  check(std::get<pice::messages::Request>(decoded.body) == chat.request, "the request changed on the wire");
  return 0;
}
