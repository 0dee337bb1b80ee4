#include "kernels/http_client.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <chrono>
#include <stdexcept>

namespace pice::kernels {

namespace beast = boost::beast;
namespace asio = boost::asio;

HttpUrl parse_http_url(const std::string& url) {
  const std::string scheme = "http://";
  if (url.rfind(scheme, 0) != 0)
    throw std::invalid_argument("'" + url + "' is not an http:// URL" +
                                (url.rfind("https://", 0) == 0 ? " (https is not supported: use a local proxy)" : ""));
  HttpUrl out;
  const std::string rest = url.substr(scheme.size());
  const size_t slash = rest.find('/');
  std::string authority = rest.substr(0, slash);
  if (slash != std::string::npos) out.path = rest.substr(slash);
  while (out.path.size() > 1 && out.path.back() == '/') out.path.pop_back();
  if (out.path == "/") out.path.clear();
  const size_t colon = authority.rfind(':');
  if (colon != std::string::npos) {
    out.port = authority.substr(colon + 1);
    authority = authority.substr(0, colon);
    if (out.port.empty() || out.port.find_first_not_of("0123456789") != std::string::npos)
      throw std::invalid_argument("bad port in URL '" + url + "'");
  }
  if (authority.empty()) throw std::invalid_argument("no host in URL '" + url + "'");
  out.host = authority;
  return out;
}

namespace {

std::string where(const HttpUrl& url, const std::string& path_suffix) {
  return "http://" + url.host + ":" + url.port + url.path + path_suffix;
}

void connect_and_send(beast::tcp_stream& stream, asio::io_context& io, const HttpUrl& url,
                      const std::string& path_suffix, const std::string& body, const std::string& bearer_token,
                      int timeout_ms) {
  asio::ip::tcp::resolver resolver(io);
  stream.expires_after(std::chrono::milliseconds(timeout_ms));
  stream.connect(resolver.resolve(url.host, url.port));
  beast::http::request<beast::http::string_body> request{beast::http::verb::post, url.path + path_suffix, 11};
  request.set(beast::http::field::host, url.host);
  request.set(beast::http::field::content_type, "application/json");
  request.set(beast::http::field::user_agent, "pice");
  if (!bearer_token.empty()) request.set(beast::http::field::authorization, "Bearer " + bearer_token);
  request.body() = body;
  request.prepare_payload();
  beast::http::write(stream, request);
}

[[noreturn]] void rethrow_named(const beast::system_error& e, const HttpUrl& url, const std::string& path_suffix,
                                int timeout_ms) {
  const bool timed_out = e.code() == beast::error::timeout;
  throw std::runtime_error(where(url, path_suffix) + ": " +
                           (timed_out ? "no answer within " + std::to_string(timeout_ms) + " ms" : e.code().message()));
}

using ResponseParser = beast::http::response_parser<beast::http::string_body>;

// One POST from connection to shutdown; read_response(stream, buffer, parser) reads the answer the way
// its caller wants it. Connection failures and timeouts, in either part, come back naming the URL.
template <class ReadResponse>
HttpResult exchange(const HttpUrl& url, const std::string& path_suffix, const std::string& body,
                    const std::string& bearer_token, int timeout_ms, ReadResponse read_response) {
  try {
    asio::io_context io;
    beast::tcp_stream stream(io);
    connect_and_send(stream, io, url, path_suffix, body, bearer_token, timeout_ms);
    beast::flat_buffer buffer;
    ResponseParser parser;
    parser.body_limit(64u << 20);
    HttpResult result = read_response(stream, buffer, parser);
    beast::error_code ignored;
    stream.socket().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
    return result;
  } catch (const beast::system_error& e) {
    rethrow_named(e, url, path_suffix, timeout_ms);
  }
}

}  // namespace

HttpResult post_json(const HttpUrl& url, const std::string& path_suffix, const std::string& body,
                     const std::string& bearer_token, int timeout_ms) {
  auto read_whole = [](beast::tcp_stream& stream, beast::flat_buffer& buffer, ResponseParser& parser) {
    beast::http::read(stream, buffer, parser);
    return HttpResult{static_cast<int>(parser.get().result_int()), parser.get().body()};
  };
  return exchange(url, path_suffix, body, bearer_token, timeout_ms, read_whole);
}

HttpResult post_json_streaming(const HttpUrl& url, const std::string& path_suffix, const std::string& body,
                               const std::string& bearer_token, int timeout_ms, const BodySink& on_body) {
  auto read_streaming = [&](beast::tcp_stream& stream, beast::flat_buffer& buffer, ResponseParser& parser) {
    stream.expires_after(std::chrono::milliseconds(timeout_ms));
    beast::http::read_header(stream, buffer, parser);
    const int status = static_cast<int>(parser.get().result_int());
    if (status != 200) {
      beast::http::read(stream, buffer, parser);
      return HttpResult{status, parser.get().body()};
    }
    // The string body grows as pieces are parsed; hand over what is new and drop it, so a long
    // stream does not accumulate.
    bool wanted = true;
    auto deliver = [&] {
      std::string& got = parser.get().body();
      if (!got.empty() && wanted) wanted = on_body(got);
      got.clear();
    };
    deliver();
    while (wanted && !parser.is_done()) {
      stream.expires_after(std::chrono::milliseconds(timeout_ms));
      beast::http::read_some(stream, buffer, parser);
      deliver();
    }
    return HttpResult{status, {}};
  };
  return exchange(url, path_suffix, body, bearer_token, timeout_ms, read_streaming);
}

}  // namespace pice::kernels
