#pragma once
// A blocking HTTP/1.1 client for other OpenAI-compatible servers (remote engines; the judge model of
// `pice eval`). Plain http:// only: a TLS endpoint is put behind a local proxy.
#include <functional>
#include <string>
#include <string_view>

namespace pice::kernels {

struct HttpUrl {
  std::string host;
  std::string port = "80";
  std::string path = "/";   // without a trailing slash, so "/v1" + "/chat/completions" joins cleanly
};

// "http://host[:port][/path]"; throws std::invalid_argument naming the URL otherwise.
HttpUrl parse_http_url(const std::string& url);

struct HttpResult {
  int status = 0;
  std::string body;
};

// POSTs a JSON body to url.path + path_suffix. bearer_token, when not empty, goes in Authorization.
// Throws std::runtime_error naming the URL for connection failures and timeouts; an HTTP error
// status is returned, not thrown.
HttpResult post_json(const HttpUrl& url, const std::string& path_suffix, const std::string& body,
                     const std::string& bearer_token, int timeout_ms);

// Receives a 200 response's body as it arrives (chunked encoding already undone); returning false
// closes the connection (the caller has what it wanted, or was cancelled).
using BodySink = std::function<bool(std::string_view bytes)>;

// As post_json, but a 200 response's body goes to on_body piece by piece as the server writes it (for
// server-sent events) and the returned body is empty; any other status returns its whole body. The
// timeout bounds the silence between two pieces, not the whole response.
HttpResult post_json_streaming(const HttpUrl& url, const std::string& path_suffix, const std::string& body,
                               const std::string& bearer_token, int timeout_ms, const BodySink& on_body);

}  // namespace pice::kernels
