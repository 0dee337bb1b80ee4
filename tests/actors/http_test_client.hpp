#pragma once
// A small blocking HTTP/1.1 client on POSIX sockets for the HTTP gateway tests: it speaks exactly
// what a real client sends on the wire (no HTTP library shared with the server, so the server's
// framing is checked independently): Content-Length and chunked bodies, keep-alive, SSE events.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "tests/common/process.hpp"

namespace pice::testing {

struct HttpResponse {
  int status = 0;
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;
  std::string header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? std::string() : it->second;
  }
};

class HttpConnection {
 public:
  // Every read gives up (throws) after this long: a server that hangs fails the test instead of
  // hanging it.
  static constexpr int kReadTimeoutMs = 180000;

  explicit HttpConnection(int port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd_ < 0) throw std::runtime_error("socket: " + std::string(strerror(errno)));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      std::string why = strerror(errno);
      ::close(fd_);
      throw std::runtime_error("connect to 127.0.0.1:" + std::to_string(port) + ": " + why);
    }
    int one = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  }
  ~HttpConnection() { close(); }
  HttpConnection(const HttpConnection&) = delete;
  HttpConnection& operator=(const HttpConnection&) = delete;

  void close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

  void send_raw(const std::string& bytes) {
    size_t sent = 0;
    while (sent < bytes.size()) {
      ssize_t n = ::send(fd_, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
      if (n <= 0) throw std::runtime_error("send: " + std::string(strerror(errno)));
      sent += static_cast<size_t>(n);
    }
  }

  void send_request(const std::string& method, const std::string& path, const std::string& body = {},
                    const std::vector<std::pair<std::string, std::string>>& headers = {}) {
    std::string out = method + " " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n";
    for (const auto& [name, value] : headers) out += name + ": " + value + "\r\n";
    if (!body.empty() || method == "POST") out += "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
    send_raw(out + "\r\n" + body);
  }

  HttpResponse request(const std::string& method, const std::string& path, const std::string& body = {},
                       const std::vector<std::pair<std::string, std::string>>& headers = {}) {
    send_request(method, path, body, headers);
    return read_response();
  }

  // Status line and headers only (the body is left for read_body / next_chunk).
  HttpResponse read_head() {
    std::string head = read_until("\r\n\r\n");
    HttpResponse r;
    size_t line_end = head.find("\r\n");
    std::string status_line = head.substr(0, line_end);
    if (status_line.rfind("HTTP/1.", 0) != 0 || status_line.size() < 12)
      throw std::runtime_error("not an HTTP status line: " + status_line);
    r.status = std::stoi(status_line.substr(9, 3));
    size_t at = line_end + 2;
    while (at < head.size()) {
      size_t end = std::min(head.find("\r\n", at), head.size());
      std::string line = head.substr(at, end - at);
      at = end + 2;
      size_t colon = line.find(':');
      if (colon == std::string::npos) continue;
      std::string name = line.substr(0, colon);
      for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      size_t v = line.find_first_not_of(' ', colon + 1);
      r.headers[name] = v == std::string::npos ? "" : line.substr(v);
    }
    return r;
  }

  HttpResponse read_response() {
    HttpResponse r = read_head();
    if (r.status == 100) r = read_head();  // 100 Continue precedes the real response
    r.body = read_body(r);
    return r;
  }

  // The body of the response whose head was just read, framed as that head says.
  std::string read_body(const HttpResponse& head) {
    std::string body;
    if (head.header("transfer-encoding") == "chunked") {
      while (auto data = next_chunk()) body += *data;
    } else if (!head.header("content-length").empty()) {
      body = read_exactly(std::stoul(head.header("content-length")));
    } else {
      body = read_until_close();
    }
    return body;
  }

  // The data of the next chunk of a chunked body; nullopt after the last (empty) chunk.
  std::optional<std::string> next_chunk() {
    std::string size_line = read_until("\r\n");
    size_t size = std::stoul(size_line, nullptr, 16);
    if (size == 0) {
      read_until("\r\n");  // no trailers are sent
      return std::nullopt;
    }
    std::string data = read_exactly(size);
    if (read_exactly(2) != "\r\n") throw std::runtime_error("a chunk does not end with CRLF");
    return data;
  }

  std::string read_until_close() {
    std::string out = std::move(buffer_);
    buffer_.clear();
    while (fill()) {
      out += buffer_;
      buffer_.clear();
    }
    return out;
  }

  // Whether the server has closed the connection (EOF) before sending anything more.
  bool closed_by_server() { return buffer_.empty() && !fill(); }

 private:
  // Appends what the socket has to buffer_; false at EOF.
  bool fill() {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, kReadTimeoutMs) <= 0) throw std::runtime_error("no data from the server in time");
    char chunk[16384];
    ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
    if (n < 0) throw std::runtime_error("recv: " + std::string(strerror(errno)));
    buffer_.append(chunk, static_cast<size_t>(n));
    return n > 0;
  }

  std::string read_until(const std::string& delimiter) {
    size_t at;
    while ((at = buffer_.find(delimiter)) == std::string::npos)
      if (!fill()) throw std::runtime_error("connection closed before '" + delimiter + "'");
    std::string out = buffer_.substr(0, at + delimiter.size());
    buffer_.erase(0, at + delimiter.size());
    return out.substr(0, at);
  }

  std::string read_exactly(size_t n) {
    while (buffer_.size() < n)
      if (!fill()) throw std::runtime_error("connection closed inside a body");
    std::string out = buffer_.substr(0, n);
    buffer_.erase(0, n);
    return out;
  }

  int fd_ = -1;
  std::string buffer_;
};

// Waits until GET /health on 127.0.0.1:port answers 200; false if it has not within `timeout`. A server
// still starting refuses the connection, which counts as not yet.
inline bool wait_until_healthy(int port, std::chrono::seconds timeout) {
  return wait_until(
      [&] {
        try {
          HttpConnection c(port);
          return c.request("GET", "/health").status == 200;
        } catch (const std::exception&) {
          return false;
        }
      },
      timeout);
}

// The `data:` payloads of a text/event-stream carried in a chunked body, one event at a time.
class SseReader {
 public:
  explicit SseReader(HttpConnection& connection) : connection_(connection) {}

  // The next event's data; nullopt when the body has ended.
  std::optional<std::string> next() {
    size_t end;
    while ((end = pending_.find("\n\n")) == std::string::npos) {
      auto chunk = connection_.next_chunk();
      if (!chunk) return std::nullopt;
      pending_ += *chunk;
    }
    std::string event = pending_.substr(0, end);
    pending_.erase(0, end + 2);
    if (event.rfind("data: ", 0) != 0) throw std::runtime_error("an SSE event without 'data: ': " + event);
    return event.substr(6);
  }

 private:
  HttpConnection& connection_;
  std::string pending_;
};

}  // namespace pice::testing
