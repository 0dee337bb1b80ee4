// Envelope basics and encoding (decoding, the defensive half, is in decode.cpp).
#include "messages/envelope.hpp"

#include <chrono>

#include "messages/body_fields.hpp"
#include "messages/envelope_keys.hpp"

namespace pice::messages {

static_assert(std::variant_size_v<Body> == static_cast<size_t>(MessageType::control),
              "MessageType numbers are Body alternative index + 1");

MessageType Envelope::type() const { return static_cast<MessageType>(body.index() + 1); }

std::string_view message_type_name(MessageType type) {
  switch (type) {
    case MessageType::request: return "request";
    case MessageType::sketch_point: return "sketch_point";
    case MessageType::expansion_task: return "expansion_task";
    case MessageType::expansion_result: return "expansion_result";
    case MessageType::answer_chunk: return "answer_chunk";
    case MessageType::heartbeat: return "heartbeat";
    case MessageType::telemetry: return "telemetry";
    case MessageType::span: return "span";
    case MessageType::control: return "control";
  }
  return "unknown";
}

std::string_view decode_error_kind_name(DecodeErrorKind kind) {
  switch (kind) {
    case DecodeErrorKind::empty: return "empty";
    case DecodeErrorKind::too_large: return "too_large";
    case DecodeErrorKind::truncated: return "truncated";
    case DecodeErrorKind::malformed: return "malformed";
    case DecodeErrorKind::bad_version: return "bad_version";
    case DecodeErrorKind::unknown_type: return "unknown_type";
    case DecodeErrorKind::bad_body: return "bad_body";
  }
  return "unknown";
}

DecodeError::DecodeError(DecodeErrorKind kind, const std::string& message) : std::runtime_error(message), kind_(kind) {}

int64_t now_us() {
  using namespace std::chrono;
  return duration_cast<microseconds>(system_clock::now().time_since_epoch()).count();
}

std::string encode(const Envelope& envelope) { return encode(envelope, envelope.sent_us); }

std::string encode(const Envelope& envelope, int64_t sent_us) {
  using namespace detail;
  constexpr size_t kTypicalMessageBytes = 256;   // one allocation for most messages
  std::string out;
  out.reserve(kTypicalMessageBytes);
  StringSink sink{&out};
  Packer packer(sink);

  const bool addressed = !envelope.to.empty();
  packer.pack_map(addressed ? kEnvelopeKeys : kEnvelopeKeys - 1);
  write_key(packer, kKeyVersion);
  write(packer, envelope.version);
  write_key(packer, kKeyType);
  write(packer, static_cast<uint8_t>(envelope.type()));
  write_key(packer, kKeyRequestId);
  write(packer, envelope.request_id);
  write_key(packer, kKeyTaskId);
  write(packer, envelope.task_id);
  write_key(packer, kKeySender);
  write(packer, envelope.sender);
  write_key(packer, kKeyCreated);
  write(packer, envelope.created_us);
  write_key(packer, kKeySent);
  write(packer, sent_us);
  if (addressed) {
    write_key(packer, kKeyTo);
    write(packer, envelope.to);
  }
  write_key(packer, kKeyBody);
  std::visit([&](const auto& body) { write_struct(packer, body); }, envelope.body);
  return out;
}

}  // namespace pice::messages
