#pragma once
// Errors in the shape OpenAI clients expect:
//   {"error": {"message": "...", "type": "invalid_request_error", "param": "max_tokens", "code": null}}
// Everything that refuses or fails a request throws (or builds) an ApiError; the session turns it
// into a status line and this body.
#include <stdexcept>
#include <string>

namespace pice::actors::http {

inline constexpr const char* kInvalidRequest = "invalid_request_error";
inline constexpr const char* kAuthenticationError = "authentication_error";
inline constexpr const char* kServerError = "server_error";

class ApiError : public std::runtime_error {
 public:
  // param: the request field at fault ("" -> null); code: a machine-readable reason ("" -> null).
  ApiError(int status, const std::string& message, std::string param = {}, std::string type = kInvalidRequest,
           std::string code = {});
  int status() const noexcept { return status_; }
  const std::string& param() const noexcept { return param_; }
  const std::string& type() const noexcept { return type_; }
  const std::string& code() const noexcept { return code_; }

 private:
  int status_;
  std::string param_;
  std::string type_;
  std::string code_;
};

// The JSON body of an error response.
std::string error_json(const ApiError& error);

}  // namespace pice::actors::http
