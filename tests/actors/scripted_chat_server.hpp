#pragma once
// An OpenAI-compatible chat completions server on a real loopback socket that answers every request
// with the same text, streamed (SSE) or not as the request asks, and keeps the request bodies it got:
// for tests where the remote model's words must be known in advance.
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>
#include <atomic>
#include <cstring>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

namespace pice::testing {

class ScriptedChatServer {
 public:
  explicit ScriptedChatServer(std::string answer)
      : answer_(std::move(answer)), acceptor_(io_, {boost::asio::ip::make_address("127.0.0.1"), 0}) {
    thread_ = std::thread([this] { serve(); });
  }
  ~ScriptedChatServer() {
    stopping_ = true;
    boost::system::error_code ignored;
    // A connection of our own wakes the blocking accept.
    boost::asio::ip::tcp::socket wake(io_);
    wake.connect(acceptor_.local_endpoint(), ignored);
    thread_.join();
  }
  ScriptedChatServer(const ScriptedChatServer&) = delete;
  ScriptedChatServer& operator=(const ScriptedChatServer&) = delete;

  std::string url() const { return "http://127.0.0.1:" + std::to_string(acceptor_.local_endpoint().port()) + "/v1"; }
  std::vector<nlohmann::json> requests() const {
    std::lock_guard lock(mutex_);
    return requests_;
  }

 private:
  void serve() {
    while (!stopping_) {
      boost::asio::ip::tcp::socket socket(io_);
      boost::system::error_code error;
      acceptor_.accept(socket, error);
      if (error || stopping_) continue;
      answer_one(socket);
    }
  }

  void answer_one(boost::asio::ip::tcp::socket& socket) {
    namespace asio = boost::asio;
    boost::system::error_code error;
    asio::streambuf buffer;
    const size_t head_size = asio::read_until(socket, buffer, "\r\n\r\n", error);
    if (error) return;
    std::string data(asio::buffers_begin(buffer.data()), asio::buffers_end(buffer.data()));
    const std::string head = data.substr(0, head_size);
    std::string body = data.substr(head_size);
    size_t length = 0;
    for (const char* name : {"Content-Length: ", "content-length: "})
      if (size_t at = head.find(name); at != std::string::npos) length = std::stoul(head.substr(at + std::strlen(name)));
    if (body.size() < length) {
      std::string rest(length - body.size(), '\0');
      asio::read(socket, asio::buffer(rest), error);
      body += rest;
    }
    const nlohmann::json request = nlohmann::json::parse(body, nullptr, false);
    {
      std::lock_guard lock(mutex_);
      requests_.push_back(request);
    }
    const bool stream = request.is_object() && request.value("stream", false);
    const nlohmann::json usage = {{"prompt_tokens", 10}, {"completion_tokens", 1}, {"total_tokens", 11}};
    std::string reply;
    if (stream) {
      const nlohmann::json chunk = {{"choices", {{{"index", 0}, {"delta", {{"content", answer_}}}, {"finish_reason", "stop"}}}},
                                    {"usage", usage}};
      reply = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\ndata: " + chunk.dump() +
              "\n\ndata: [DONE]\n\n";
    } else {
      const nlohmann::json completion = {
          {"choices", {{{"index", 0}, {"message", {{"role", "assistant"}, {"content", answer_}}}, {"finish_reason", "stop"}}}},
          {"usage", usage}};
      const std::string json = completion.dump();
      reply = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(json.size()) +
              "\r\nConnection: close\r\n\r\n" + json;
    }
    asio::write(socket, asio::buffer(reply), error);
    socket.shutdown(asio::ip::tcp::socket::shutdown_both, error);
  }

  std::string answer_;
  boost::asio::io_context io_;
  boost::asio::ip::tcp::acceptor acceptor_;
  std::thread thread_;
  std::atomic<bool> stopping_{false};
  mutable std::mutex mutex_;
  std::vector<nlohmann::json> requests_;
};

}  // namespace pice::testing
