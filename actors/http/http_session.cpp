// One HTTP connection on Beast: read a request, decide (routes.hpp), write the reply; for a chat
// completion, send the request to the node and write the answer as its chunks come back (posted onto
// this session's strand by the AnswerRouter's pump thread), as one JSON body or as SSE events.
// All bytes go out through one write queue, so chunks arriving while a write is in progress wait
// their turn in order and no thread ever blocks.
#include "actors/http/http_session.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <algorithm>
#include <array>
#include <cctype>
#include <deque>
#include <optional>
#include <sstream>

#include "actors/http/routes.hpp"

namespace pice::actors::http {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = net::ip::tcp;
using Clock = std::chrono::steady_clock;

constexpr auto kIdleTimeout = std::chrono::seconds(60);   // a keep-alive connection with no next request
constexpr auto kWriteTimeout = std::chrono::seconds(30);  // a client that stops reading its answer
constexpr auto kDrainTimeout = std::chrono::seconds(5);   // reading what a client still sends after our last byte
constexpr uint64_t kMaxBodyBytes = 1u << 20;

enum class ChatEnd { answered, failed, timed_out, client_gone };
constexpr size_t kMaxPipelinedBytes = 64 * 1024;  // what a client may send ahead while its answer runs
enum class State { open, closing, dead };

std::string_view view(beast::string_view s) { return {s.data(), s.size()}; }

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

// One chunk of HTTP/1.1 chunked transfer encoding.
std::string chunk_of(const std::string& data) {
  char size[24];
  snprintf(size, sizeof size, "%zx\r\n", data.size());
  return size + data + "\r\n";
}

template <class Message>
std::string serialized(const Message& message) {
  std::ostringstream out;
  out << message;
  return out.str();
}

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, ServerContext& context)
      : stream_(std::move(socket)), executor_(stream_.get_executor()), context_(context), timer_(executor_) {
    context_.metrics.connection_opened();
  }
  ~Session() { context_.metrics.connection_closed(); }

  void start() {
    net::dispatch(executor_, [self = shared_from_this()] { self->read_header(); });
  }

 private:
  struct Chat {
    std::string request_id;
    ChatStart start;  // holds the in-flight slot until the chat ends
    ChatAnswer answer;
    Clock::time_point started;
  };

  // ---- reading requests

  void read_header() {
    parser_.emplace();
    parser_->body_limit(kMaxBodyBytes);
    stream_.expires_after(kIdleTimeout);
    bhttp::async_read_header(stream_, buffer_, *parser_,
                             [self = shared_from_this()](beast::error_code ec, size_t) { self->on_header(ec); });
  }

  void on_header(beast::error_code ec) {
    if (ec) return on_read_error(ec);
    // curl and others wait (about a second) for this before sending a larger body.
    if (iequals(view(parser_->get()[bhttp::field::expect]), "100-continue")) write("HTTP/1.1 100 Continue\r\n\r\n");
    bhttp::async_read(stream_, buffer_, *parser_,
                      [self = shared_from_this()](beast::error_code ec, size_t) { self->on_request(ec); });
  }

  void on_read_error(beast::error_code ec) {
    static const auto& http_errors = bhttp::make_error_code(bhttp::error::end_of_stream).category();
    // The client left, timed out or closed between requests: nothing to answer.
    if (state_ != State::open || ec.category() != http_errors || ec == bhttp::error::end_of_stream ||
        ec == bhttp::error::partial_message)
      return close();
    keep_alive_ = false;  // the rest of the stream cannot be trusted to hold a request boundary
    if (ec == bhttp::error::body_limit)
      return send_reply(error_reply(ApiError(413, "the request body is larger than " +
                                                     std::to_string(kMaxBodyBytes >> 20) + " MiB",
                                             "", kInvalidRequest, "request_too_large")));
    send_reply(error_reply(ApiError(400, "malformed HTTP request: " + ec.message())));
  }

  void on_request(beast::error_code ec) {
    if (ec) return on_read_error(ec);
    auto& request = parser_->get();
    keep_alive_ = request.keep_alive();
    version_ = request.version();
    RequestHead head{view(request.method_string()), view(request.target()),
                     view(request[bhttp::field::authorization])};
    RouteOutcome outcome = route_request(head, request.body(), context_);
    if (auto* reply = std::get_if<HttpReply>(&outcome)) return send_reply(std::move(*reply));
    begin_chat(std::move(std::get<ChatStart>(outcome)));
  }

  // ---- chat completions

  void begin_chat(ChatStart start) {
    std::string id = context_.router.new_request_id();
    bool streaming = start.chat.stream, usage = start.chat.include_usage;
    chat_.emplace(Chat{id, std::move(start),
                       ChatAnswer("chatcmpl-" + id, context_.options.model_name, streaming, usage), Clock::now()});
    if (streaming) start_stream();
    timer_.expires_after(std::chrono::milliseconds(context_.options.answer_timeout_ms));
    timer_.async_wait([self = shared_from_this(), id](beast::error_code ec) {
      if (!ec) self->end_chat(id, ChatEnd::timed_out, {});
    });
    watch_client();
    // Runs on the pump thread: only hand the chunk over to this session's strand.
    context_.router.submit(id, chat_->start.chat.request,
                           [self = shared_from_this(), executor = executor_, id](messages::AnswerChunk chunk) {
                             net::post(executor, [self, id, chunk = std::move(chunk)] { self->on_chunk(id, chunk); });
                           });
  }

  // While an answer runs, a read stays pending so that a client who closes the connection is noticed
  // at once (and its request cancelled), not only when a write fails. It reads on the raw socket, so
  // the stream's write timeout does not apply to it; bytes a client sends ahead (its next request) are
  // kept in the read buffer for the parser.
  void watch_client() {
    if (watching_ || state_ != State::open || buffer_.size() >= kMaxPipelinedBytes) return;
    watching_ = true;
    stream_.socket().async_read_some(buffer_.prepare(4096), [self = shared_from_this()](beast::error_code ec, size_t n) {
      self->watching_ = false;
      if (!ec) {
        self->buffer_.commit(n);
        if (self->chat_) return self->watch_client();
      } else if (ec != net::error::operation_aborted) {
        if (self->chat_) return self->lost_client(ec);
        // The answer is out and the client has closed after reading it: finish the response, then close.
        self->keep_alive_ = false;
      }
      if (self->resume_after_watch_) {
        self->resume_after_watch_ = false;
        self->next_request();
      }
    });
  }

  void start_stream() {
    chunked_ = version_ >= 11;  // HTTP/1.0 has no chunked encoding: the stream ends with the connection
    if (!chunked_) keep_alive_ = false;
    bhttp::response<bhttp::empty_body> head{bhttp::status::ok, version_};
    head.set(bhttp::field::server, "pice");
    head.set(bhttp::field::content_type, "text/event-stream");
    head.set(bhttp::field::cache_control, "no-cache");
    head.set("X-Accel-Buffering", "no");  // tells nginx-style proxies not to hold events back
    head.keep_alive(keep_alive_);
    if (chunked_) head.chunked(true);
    context_.metrics.count_response(200);
    write(serialized(head.base()));
    write_event(chat_->answer.stream_start());
  }

  void write_event(const std::string& event) {
    if (!event.empty()) write(chunked_ ? chunk_of(event) : event);
  }

  void on_chunk(const std::string& id, const messages::AnswerChunk& chunk) {
    if (!chat_ || chat_->request_id != id) return;  // a late chunk of an earlier, timed-out request
    std::string event = chat_->answer.add(chunk);
    if (chat_->start.chat.stream) write_event(event);
    if (chunk.kind == messages::ChunkKind::done) end_chat(id, ChatEnd::answered, {});
    if (chunk.kind == messages::ChunkKind::error) end_chat(id, ChatEnd::failed, chunk.text);
  }

  void end_chat(const std::string& id, ChatEnd end, const std::string& why) {
    if (!chat_ || chat_->request_id != id) return;
    Chat chat = std::move(*chat_);  // its slot is released when this returns
    chat_.reset();
    timer_.cancel();
    context_.router.forget(id);  // after a timeout: drop what still comes
    const int timeout_ms = context_.options.answer_timeout_ms;
    switch (end) {
      case ChatEnd::client_gone:
        context_.router.cancel(id);
        context_.metrics.count_error(ErrorKind::disconnect);
        return;
      case ChatEnd::answered:
        context_.metrics.observe_answer(std::chrono::duration<double>(Clock::now() - chat.started).count());
        break;
      case ChatEnd::failed:
        spdlog::warn("http: {} failed in the pipeline: {}", id, why);
        context_.metrics.count_error(ErrorKind::pipeline);
        break;
      case ChatEnd::timed_out:
        spdlog::warn("http: {} has no complete answer after {} ms", id, timeout_ms);
        context_.metrics.count_error(ErrorKind::timeout);
        break;
    }
    if (state_ != State::open) return;  // the client has gone; the slot is free now
    ApiError error = end == ChatEnd::failed
                         ? ApiError(500, "the answer failed: " + why, "", kServerError)
                         : ApiError(504, "no complete answer within " + std::to_string(timeout_ms) + " ms", "",
                                    kServerError, "timeout");
    if (chat.start.chat.stream) {
      write_event(end == ChatEnd::answered ? chat.answer.stream_end() : ChatAnswer::stream_error(error_json(error)));
      if (chunked_) write("0\r\n\r\n");
      complete_response();
    } else if (end == ChatEnd::answered) {
      send_reply(HttpReply{200, kJson, chat.answer.completion_json(), {}});
    } else {
      send_reply(error_reply(error));
    }
  }

  // ---- writing

  void send_reply(HttpReply reply) {
    bhttp::response<bhttp::string_body> response{static_cast<bhttp::status>(reply.status), version_};
    response.set(bhttp::field::server, "pice");
    response.set(bhttp::field::content_type, reply.content_type);
    for (const auto& [name, value] : reply.headers) response.set(name, value);
    response.keep_alive(keep_alive_);
    response.body() = std::move(reply.body);
    response.prepare_payload();
    context_.metrics.count_response(reply.status);
    write(serialized(response));
    complete_response();
  }

  void write(std::string bytes) {
    if (state_ != State::open) return;
    out_.push_back(std::move(bytes));
    if (!writing_) write_next();
  }

  void write_next() {
    writing_ = true;
    stream_.expires_after(kWriteTimeout);
    net::async_write(stream_, net::buffer(out_.front()),
                     [self = shared_from_this()](beast::error_code ec, size_t) { self->on_write(ec); });
  }

  void on_write(beast::error_code ec) {
    writing_ = false;
    if (ec) return lost_client(ec);
    out_.pop_front();
    if (!out_.empty()) return write_next();
    if (response_done_) next_request();
  }

  // The response is fully queued: once it is written, read the next request or close.
  void complete_response() {
    response_done_ = true;
    if (!writing_ && out_.empty()) next_request();
  }

  void next_request() {
    response_done_ = false;
    if (state_ != State::open) return;
    if (watching_) {
      // Only one read at a time: stop the watch first (no write is pending now, so cancel touches only it).
      resume_after_watch_ = true;
      beast::error_code ignored;
      stream_.socket().cancel(ignored);
      return;
    }
    if (keep_alive_) read_header();
    else close();
  }

  // ---- ending the connection

  void lost_client(beast::error_code ec) {
    if (state_ == State::dead) return;
    state_ = State::dead;
    // A write in progress still reads its buffer (the front): only what waits behind it goes now.
    if (writing_) out_.erase(out_.begin() + 1, out_.end());
    else out_.clear();
    if (chat_) {
      spdlog::info("http: client of {} left mid-answer ({}); cancelling its request", chat_->request_id, ec.message());
      const std::string id = chat_->request_id;  // a copy: end_chat destroys chat_
      end_chat(id, ChatEnd::client_gone, {});
    }
    beast::error_code ignored;
    stream_.socket().close(ignored);
  }

  // Graceful: send FIN, then read and discard until the client closes too (closing with unread input
  // would reset the connection and could destroy our last response before the client reads it).
  void close() {
    if (state_ != State::open) return;
    state_ = State::closing;
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    stream_.expires_after(kDrainTimeout);
    drain();
  }

  void drain() {
    stream_.async_read_some(net::buffer(scratch_), [self = shared_from_this()](beast::error_code ec, size_t) {
      if (!ec) return self->drain();
      self->state_ = State::dead;
      beast::error_code ignored;
      self->stream_.socket().close(ignored);
    });
  }

  beast::tcp_stream stream_;
  const net::any_io_executor executor_;  // the connection's strand
  ServerContext& context_;
  net::steady_timer timer_;  // the answer deadline of the running chat completion
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  std::optional<Chat> chat_;
  std::deque<std::string> out_;
  std::array<char, 4096> scratch_{};
  unsigned version_ = 11;
  bool keep_alive_ = false;
  bool chunked_ = false;
  bool writing_ = false;
  bool response_done_ = false;
  bool watching_ = false;            // watch_client's read is pending
  bool resume_after_watch_ = false;  // next_request waits for that read to end
  State state_ = State::open;
};

}  // namespace

void start_session(tcp::socket socket, ServerContext& context) {
  std::make_shared<Session>(std::move(socket), context)->start();
}

}  // namespace pice::actors::http
