#include "actors/http/routes.hpp"

#include <cctype>
#include <chrono>

#include <nlohmann/json.hpp>

#include "actors/fleet_prometheus.hpp"

namespace pice::actors::http {
namespace {

using json = nlohmann::json;

struct Endpoint {
  std::string_view path;
  std::string_view method;
  bool needs_key;
};

constexpr Endpoint kEndpoints[] = {
    {"/v1/chat/completions", "POST", true},
    {"/v1/models", "GET", true},
    {"/health", "GET", false},
    {"/metrics", "GET", false},
};
constexpr std::string_view kModelsPrefix = "/v1/models/";

// Looks at every byte whatever they hold, so the time taken does not reveal how much of the key matched.
// key is never empty here (no key configured: no check).
bool same_secret(std::string_view given, std::string_view key) {
  unsigned diff = given.size() == key.size() ? 0 : 1;
  for (size_t i = 0; i < given.size(); ++i)
    diff |= static_cast<unsigned char>(given[i]) ^ static_cast<unsigned char>(key[i % key.size()]);
  return diff == 0;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) return false;
  return true;
}

void check_key(std::string_view authorization, const std::string& key) {
  constexpr std::string_view kScheme = "Bearer ";
  if (authorization.empty())
    throw ApiError(401, "missing API key: send the header 'Authorization: Bearer <key>'", "", kAuthenticationError,
                   "invalid_api_key");
  if (authorization.size() < kScheme.size() || !iequals(authorization.substr(0, kScheme.size()), kScheme) ||
      !same_secret(authorization.substr(kScheme.size()), key))
    throw ApiError(401, "invalid API key", "", kAuthenticationError, "invalid_api_key");
}

int64_t started_s() {
  static const int64_t started =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  return started;
}

json model_object(const std::string& name) {
  return {{"id", name}, {"object", "model"}, {"created", started_s()}, {"owned_by", "pice"}};
}

HttpReply json_reply(const json& body) { return {200, kJson, body.dump(), {}}; }

RouteOutcome chat(std::string_view body, ServerContext& context) {
  ChatRequest request = parse_chat_request(body, context.options.model_name);
  auto slot = context.inflight.try_acquire();
  if (!slot) {
    HttpReply reply = error_reply(ApiError(503,
                                           "the server is at its limit of " +
                                               std::to_string(context.options.max_inflight) +
                                               " chat completions in flight; retry shortly",
                                           "", kServerError, "overloaded"));
    reply.headers.emplace_back("Retry-After", "1");
    return reply;
  }
  return ChatStart{std::move(request), std::move(*slot)};
}

RouteOutcome dispatch(const RequestHead& head, std::string_view body, ServerContext& context) {
  std::string_view path = head.target.substr(0, head.target.find('?'));
  const Endpoint* endpoint = nullptr;
  for (const auto& e : kEndpoints)
    if (e.path == path) endpoint = &e;
  bool model_by_name = !endpoint && path.size() > kModelsPrefix.size() && path.substr(0, kModelsPrefix.size()) == kModelsPrefix;
  if (!endpoint && !model_by_name)
    throw ApiError(404, "no such endpoint: " + std::string(head.method) + " " + std::string(path), "",
                   kInvalidRequest, "unknown_url");
  std::string_view method = endpoint ? endpoint->method : "GET";
  if (head.method != method) {
    HttpReply reply = error_reply(ApiError(
        405, std::string(path) + " accepts " + std::string(method) + ", not " + std::string(head.method), "",
        kInvalidRequest, "method_not_allowed"));
    reply.headers.emplace_back("Allow", std::string(method));
    return reply;
  }
  if ((!endpoint || endpoint->needs_key) && !context.options.api_key.empty())
    check_key(head.authorization, context.options.api_key);

  const std::string& model = context.options.model_name;
  if (model_by_name) {
    if (path.substr(kModelsPrefix.size()) != model)
      throw ApiError(404, "the model '" + std::string(path.substr(kModelsPrefix.size())) + "' does not exist",
                     "model", kInvalidRequest, "model_not_found");
    return json_reply(model_object(model));
  }
  if (path == "/v1/chat/completions") return chat(body, context);
  if (path == "/v1/models") return json_reply({{"object", "list"}, {"data", json::array({model_object(model)})}});
  if (path == "/health") return json_reply({{"status", "ok"}});
  std::string metrics = context.metrics.render(context.inflight.current());
  if (context.fleet) metrics += render_prometheus(context.fleet->snapshot());
  return HttpReply{200, "text/plain; version=0.0.4; charset=utf-8", std::move(metrics), {}};
}

}  // namespace

HttpReply error_reply(const ApiError& error) {
  HttpReply reply{error.status(), kJson, error_json(error), {}};
  if (error.status() == 401) reply.headers.emplace_back("WWW-Authenticate", "Bearer");
  return reply;
}

RouteOutcome route_request(const RequestHead& head, std::string_view body, ServerContext& context) {
  try {
    return dispatch(head, body, context);
  } catch (const ApiError& e) {
    return error_reply(e);
  }
}

}  // namespace pice::actors::http
