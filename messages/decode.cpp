// decode(): bytes from the network -> Envelope, or a DecodeError saying exactly what is wrong.
//
// Every byte string is hostile until proven otherwise: the size is checked before parsing,
// msgpack runs with limits so a few bytes cannot claim gigabytes, every msgpack exception is
// mapped to a DecodeErrorKind, and each field's type is checked before it is read.
#include <algorithm>
#include <array>
#include <utility>

#include "messages/body_fields.hpp"
#include "messages/compression.hpp"
#include "messages/envelope.hpp"
#include "messages/envelope_keys.hpp"

namespace pice::messages {
namespace {

using detail::FieldError;

// msgpack allocates a container's element array as soon as it reads the header, before the
// elements arrive, so a 5-byte "array of 4 billion" would allocate 64 GiB. Each element takes at
// least one byte, so no honest container claims more elements than the message has bytes; the
// fixed cap also bounds a chain of nested, never-completed claims to kMaxDepth * 2 MiB.
constexpr size_t kMaxContainerElements = size_t{1} << 16;
// Our schema nests three deep (envelope > body > timings); the rest is headroom for future fields.
constexpr size_t kMaxDepth = 8;

[[noreturn]] void fail(DecodeErrorKind kind, const std::string& message) { throw DecodeError(kind, message); }

// Strings and binaries point into the caller's bytes instead of being copied into the zone:
// the parsed object never outlives decode(), and the fields copy what they keep.
bool reference_input(msgpack::type::object_type, size_t, void*) { return true; }

// Which limit did a container's claim exceed? Below kMaxContainerElements bytes the limit in force
// was the message length (the rest of the container is missing: truncated); above it, the fixed
// cap (more elements than any PICE message has: malformed).
[[noreturn]] void fail_container_claim(size_t message_bytes, const std::string& container) {
  if (message_bytes <= kMaxContainerElements) {
    fail(DecodeErrorKind::truncated, "truncated message: " + container + " claims more elements than the " +
                                         std::to_string(message_bytes) + " bytes of the message hold");
  }
  fail(DecodeErrorKind::malformed, "malformed message: " + container + " claims more than " +
                                       std::to_string(kMaxContainerElements) + " elements");
}

msgpack::object_handle parse_whole(std::string_view bytes) {
  const size_t containers = std::min(bytes.size(), kMaxContainerElements);
  const msgpack::unpack_limit limit(containers, containers, bytes.size(), bytes.size(), bytes.size(), kMaxDepth);
  const std::string size = std::to_string(bytes.size());
  size_t offset = 0;
  msgpack::object_handle handle;
  try {
    handle = msgpack::unpack(bytes.data(), bytes.size(), offset, reference_input, nullptr, limit);
  } catch (const msgpack::insufficient_bytes&) {
    fail(DecodeErrorKind::truncated, "truncated message: its " + size + " bytes end inside a msgpack value");
  } catch (const msgpack::depth_size_overflow&) {
    fail(DecodeErrorKind::malformed, "malformed message: nested deeper than " + std::to_string(kMaxDepth) + " levels");
  } catch (const msgpack::array_size_overflow&) {
    fail_container_claim(bytes.size(), "an array");
  } catch (const msgpack::map_size_overflow&) {
    fail_container_claim(bytes.size(), "a map");
  } catch (const msgpack::size_overflow& error) {
    // The string/binary limits are the message length: the claim runs past the end.
    fail(DecodeErrorKind::truncated, "truncated message: a value claims more than the " + size +
                                         " bytes of the message hold (" + error.what() + ")");
  } catch (const msgpack::unpack_error& error) {
    fail(DecodeErrorKind::malformed, "malformed message: not valid msgpack (" + std::string(error.what()) + ")");
  }
  if (!handle.zone()) fail(DecodeErrorKind::truncated, "truncated message: its " + size + " bytes hold no complete value");
  if (offset != bytes.size()) {
    fail(DecodeErrorKind::malformed, "malformed message: " + std::to_string(bytes.size() - offset) +
                                         " trailing bytes after the envelope, which ends at byte " + std::to_string(offset));
  }
  return handle;
}

// The envelope's values by key; nullptr where a key is absent. Unknown keys are ignored.
struct EnvelopeFields {
  const msgpack::object* version = nullptr;
  const msgpack::object* type = nullptr;
  const msgpack::object* request_id = nullptr;
  const msgpack::object* task_id = nullptr;
  const msgpack::object* sender = nullptr;
  const msgpack::object* created = nullptr;
  const msgpack::object* sent = nullptr;
  const msgpack::object* body = nullptr;
  const msgpack::object* to = nullptr;
};

EnvelopeFields index_envelope(const msgpack::object& root) {
  using namespace detail;
  if (root.type != msgpack::type::MAP) fail(DecodeErrorKind::malformed, "malformed message: the envelope is " +
                                                                             describe_object(root) + ", not a map");
  EnvelopeFields fields;
  const std::array<std::pair<std::string_view, const msgpack::object**>, kEnvelopeKeys> slots{{
      {kKeyVersion, &fields.version}, {kKeyType, &fields.type}, {kKeyRequestId, &fields.request_id},
      {kKeyTaskId, &fields.task_id}, {kKeySender, &fields.sender}, {kKeyCreated, &fields.created},
      {kKeySent, &fields.sent}, {kKeyBody, &fields.body}, {kKeyTo, &fields.to},
  }};
  const auto& map = root.via.map;
  for (uint32_t i = 0; i < map.size; ++i) {
    const msgpack::object& key = map.ptr[i].key;
    if (key.type != msgpack::type::STR) {
      fail(DecodeErrorKind::malformed, "malformed message: envelope key " + std::to_string(i) +
                                           " is " + describe_object(key) + ", not a string");
    }
    const std::string_view name(key.via.str.ptr, key.via.str.size);
    for (const auto& [slot_name, slot] : slots) {
      if (name == slot_name) *slot = &map.ptr[i].val;
    }
  }
  return fields;
}

void check_version(const msgpack::object* version) {
  if (version == nullptr) fail(DecodeErrorKind::malformed, "malformed message: the envelope has no schema version ('v')");
  if (version->type != msgpack::type::POSITIVE_INTEGER) {
    fail(DecodeErrorKind::bad_version,
         "bad schema version: got " + detail::describe_object(*version) + ", expected " + std::to_string(kSchemaVersion));
  }
  if (version->via.u64 != kSchemaVersion) {
    fail(DecodeErrorKind::bad_version, "bad schema version: got " + std::to_string(version->via.u64) + ", expected " +
                                           std::to_string(kSchemaVersion));
  }
}

MessageType check_type(const msgpack::object* type) {
  constexpr uint64_t kLastType = std::variant_size_v<Body>;
  if (type == nullptr) fail(DecodeErrorKind::malformed, "malformed message: the envelope has no message type ('type')");
  if (type->type != msgpack::type::POSITIVE_INTEGER && type->type != msgpack::type::NEGATIVE_INTEGER) {
    fail(DecodeErrorKind::malformed, "malformed message: the message type is " + detail::describe_object(*type) +
                                         ", not an integer");
  }
  if (type->type == msgpack::type::NEGATIVE_INTEGER || type->via.u64 == 0 || type->via.u64 > kLastType) {
    const std::string number = type->type == msgpack::type::NEGATIVE_INTEGER ? std::to_string(type->via.i64)
                                                                              : std::to_string(type->via.u64);
    fail(DecodeErrorKind::unknown_type,
         "unknown message type " + number + " (known: 1.." + std::to_string(kLastType) + ")");
  }
  return static_cast<MessageType>(type->via.u64);
}

// An optional header field: absent keeps the default; present must have the right type.
template <class T>
void read_header(const msgpack::object* value, std::string_view key, T& out) {
  if (value == nullptr) return;
  try {
    detail::read(*value, out);
  } catch (const FieldError& error) {
    fail(DecodeErrorKind::malformed, "malformed message: envelope field '" + std::string(key) + "': " + error.problem);
  }
}

template <size_t I>
Body read_alternative(const msgpack::object& object) {
  std::variant_alternative_t<I, Body> value;
  detail::read_struct(object, value);
  return Body(std::in_place_index<I>, std::move(value));
}

template <size_t... I>
Body read_body_by_index(size_t index, const msgpack::object& object, std::index_sequence<I...>) {
  using Reader = Body (*)(const msgpack::object&);
  constexpr std::array<Reader, sizeof...(I)> readers{&read_alternative<I>...};
  return readers[index](object);
}

Body read_body(MessageType type, const msgpack::object* body) {
  const std::string name(message_type_name(type));
  if (body == nullptr) fail(DecodeErrorKind::bad_body, "bad " + name + " body: the envelope has no body");
  try {
    return read_body_by_index(static_cast<size_t>(type) - 1, *body, std::make_index_sequence<std::variant_size_v<Body>>());
  } catch (const FieldError& error) {
    const std::string where = error.path.empty() ? "" : "field '" + error.path + "': ";
    fail(DecodeErrorKind::bad_body, "bad " + name + " body: " + where + error.problem);
  }
}

}  // namespace

Envelope decode(std::string_view bytes) {
  if (bytes.empty()) fail(DecodeErrorKind::empty, "empty message: 0 bytes");
  if (bytes.size() > kMaxMessageBytes) {
    fail(DecodeErrorKind::too_large, "message too large: " + std::to_string(bytes.size()) + " bytes, the limit is " +
                                         std::to_string(kMaxMessageBytes));
  }
  std::string inflated;
  if (is_compressed_frame(bytes)) {
    inflated = decompress_frame(bytes, kMaxMessageBytes);
    bytes = inflated;
    if (bytes.empty()) fail(DecodeErrorKind::empty, "empty message: a compressed frame of 0 bytes");
  }
  const msgpack::object_handle handle = parse_whole(bytes);
  const EnvelopeFields fields = index_envelope(handle.get());
  check_version(fields.version);
  const MessageType type = check_type(fields.type);

  Envelope envelope;
  read_header(fields.request_id, detail::kKeyRequestId, envelope.request_id);
  read_header(fields.task_id, detail::kKeyTaskId, envelope.task_id);
  read_header(fields.sender, detail::kKeySender, envelope.sender);
  read_header(fields.created, detail::kKeyCreated, envelope.created_us);
  read_header(fields.sent, detail::kKeySent, envelope.sent_us);
  read_header(fields.to, detail::kKeyTo, envelope.to);
  envelope.body = read_body(type, fields.body);
  return envelope;
}

}  // namespace pice::messages
