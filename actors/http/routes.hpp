#pragma once
// What to do with one HTTP request, decided without sockets: answer at once (health, models, metrics,
// every refusal) or start a chat completion holding an in-flight slot. Order of checks: unknown path
// (404), wrong method (405), API key on /v1/* (401), the body (400/404), the in-flight bound (503).
// /health and /metrics need no key, so probes and scrapers work without it.
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "actors/http/chat_completions.hpp"
#include "actors/http/openai_errors.hpp"
#include "actors/http/server_context.hpp"

namespace pice::actors::http {

inline constexpr const char* kJson = "application/json";

struct HttpReply {
  int status = 200;
  std::string content_type = kJson;
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // beyond Content-Type/Length
};

struct RequestHead {
  std::string_view method;         // "GET", "POST", ...
  std::string_view target;         // path and query
  std::string_view authorization;  // the Authorization header ("" if absent)
};

struct ChatStart {
  ChatRequest chat;
  InflightLimit::Slot slot;
};

using RouteOutcome = std::variant<HttpReply, ChatStart>;

RouteOutcome route_request(const RequestHead& head, std::string_view body, ServerContext& context);

HttpReply error_reply(const ApiError& error);

}  // namespace pice::actors::http
