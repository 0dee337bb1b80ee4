#include "actors/http/openai_errors.hpp"

#include <nlohmann/json.hpp>

namespace pice::actors::http {

ApiError::ApiError(int status, const std::string& message, std::string param, std::string type, std::string code)
    : std::runtime_error(message), status_(status), param_(std::move(param)), type_(std::move(type)),
      code_(std::move(code)) {}

std::string error_json(const ApiError& error) {
  auto or_null = [](const std::string& s) { return s.empty() ? nlohmann::json(nullptr) : nlohmann::json(s); };
  nlohmann::json body = {{"error",
                          {{"message", error.what()},
                           {"type", error.type()},
                           {"param", or_null(error.param())},
                           {"code", or_null(error.code())}}}};
  // Replace, not throw, on invalid UTF-8: a message may quote bytes the client sent.
  return body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace pice::actors::http
