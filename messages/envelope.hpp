#pragma once
// The one message format of PICE: an Envelope (schema version, type, ids, timestamps) around a
// typed body, encoded as msgpack. Every socket carries exactly these bytes.
//
// Wire layout (a msgpack map with short keys, so the per-message overhead stays small):
//   "v": schema version, "type": MessageType number, "rid": request id, "tid": task id,
//   "from": sender node id, "t0": created_us, "ts": sent_us, "to": addressee node id (only when set),
//   "body": the body as a map of named fields.
// decode() ignores envelope and body keys it does not know, so newer senders can add fields.
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <variant>

#include "messages/bodies.hpp"

namespace pice::messages {

inline constexpr uint32_t kSchemaVersion = 1;
// decode() rejects anything larger before parsing: bounds the memory one hostile message can cost.
inline constexpr size_t kMaxMessageBytes = 8u << 20;

// The numbers are on the wire: never renumber, only append. Order matches Body's alternatives.
enum class MessageType : uint8_t {
  request = 1,
  sketch_point = 2,
  expansion_task = 3,
  expansion_result = 4,
  answer_chunk = 5,
  heartbeat = 6,
  telemetry = 7,
  span = 8,
  control = 9,
};

using Body = std::variant<Request, SketchPoint, ExpansionTask, ExpansionResult, AnswerChunk, Heartbeat, Telemetry, Span, Control>;

struct Envelope {
  uint32_t version = kSchemaVersion;
  std::string request_id;
  std::string task_id;
  std::string sender;        // node id of the sender
  int64_t created_us = 0;    // when the request/task was created (now_us()), kept across hops
  int64_t sent_us = 0;       // when this hop was sent
  // The node this message is for; empty: whoever receives it. A broker forwards by it (tasks to a
  // board, results back to the cloud that sent the task). On the wire only when not empty.
  std::string to;
  Body body;

  MessageType type() const;  // follows from the body's alternative
  bool operator==(const Envelope&) const = default;
};

// "request", "sketch_point", ...; "unknown" for a number outside the enum.
std::string_view message_type_name(MessageType type);

enum class DecodeErrorKind { empty, too_large, truncated, malformed, bad_version, unknown_type, bad_body };
std::string_view decode_error_kind_name(DecodeErrorKind kind);  // "empty", "too_large", ...

// Why a byte string is not a valid Envelope. what() names the problem (sizes, versions, the type
// number, the body field); kind() lets receivers count rejections by cause.
class DecodeError : public std::runtime_error {
 public:
  DecodeError(DecodeErrorKind kind, const std::string& message);
  DecodeErrorKind kind() const noexcept { return kind_; }

 private:
  DecodeErrorKind kind_;
};

std::string encode(const Envelope& envelope);   // msgpack bytes
// The same bytes with sent_us in place of envelope.sent_us: the transport stamps the moment it sends
// without copying the envelope.
std::string encode(const Envelope& envelope, int64_t sent_us);
Envelope decode(std::string_view bytes);        // throws DecodeError; never crashes on any input
int64_t now_us();                               // wall clock, microseconds since the epoch

}  // namespace pice::messages
