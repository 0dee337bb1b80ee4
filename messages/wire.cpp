// Reading single msgpack values into typed fields (see wire.hpp).
#include "messages/wire.hpp"

#include <cstdio>

namespace pice::messages::detail {
namespace {

constexpr size_t kQuotedPrefix = 40;   // longer strings are cut in error messages

// Quotes a (possibly hostile) byte string for an error message: printable ASCII as is, the rest
// as \xNN, cut after kQuotedPrefix bytes so a message never quotes megabytes.
std::string quote(std::string_view text) {
  std::string quoted = "\"";
  for (size_t i = 0; i < text.size() && i < kQuotedPrefix; ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
      quoted += static_cast<char>(c);
    } else {
      char escaped[5];
      std::snprintf(escaped, sizeof escaped, "\\x%02x", c);
      quoted += escaped;
    }
  }
  if (text.size() > kQuotedPrefix) quoted += "...";
  return quoted + "\"";
}

}  // namespace

std::string describe_object(const msgpack::object& object) {
  switch (object.type) {
    case msgpack::type::NIL: return "nil";
    case msgpack::type::BOOLEAN: return object.via.boolean ? "boolean true" : "boolean false";
    case msgpack::type::POSITIVE_INTEGER: return "integer " + std::to_string(object.via.u64);
    case msgpack::type::NEGATIVE_INTEGER: return "integer " + std::to_string(object.via.i64);
    case msgpack::type::FLOAT32:
    case msgpack::type::FLOAT64: return "float " + std::to_string(object.via.f64);
    case msgpack::type::STR: return "string " + quote({object.via.str.ptr, object.via.str.size});
    case msgpack::type::BIN: return "binary of " + std::to_string(object.via.bin.size) + " bytes";
    case msgpack::type::ARRAY: return "array of " + std::to_string(object.via.array.size);
    case msgpack::type::MAP: return "map of " + std::to_string(object.via.map.size);
    case msgpack::type::EXT: return "extension of " + std::to_string(object.via.ext.size) + " bytes";
  }
  return "unknown msgpack type " + std::to_string(static_cast<int>(object.type));
}

void prepend_path(FieldError& error, const std::string& step) {
  if (error.path.empty() || error.path.front() == '[') {
    error.path = step + error.path;
  } else {
    error.path = step + "." + error.path;
  }
}

void read(const msgpack::object& object, std::string& out) {
  if (object.type != msgpack::type::STR) throw FieldError{{}, "expected a string, got " + describe_object(object)};
  out.assign(object.via.str.ptr, object.via.str.size);
}

void read(const msgpack::object& object, bool& out) {
  if (object.type != msgpack::type::BOOLEAN) throw FieldError{{}, "expected a boolean, got " + describe_object(object)};
  out = object.via.boolean;
}

void read(const msgpack::object& object, double& out) {
  switch (object.type) {
    case msgpack::type::FLOAT32:
    case msgpack::type::FLOAT64: out = object.via.f64; return;
    case msgpack::type::POSITIVE_INTEGER: out = static_cast<double>(object.via.u64); return;
    case msgpack::type::NEGATIVE_INTEGER: out = static_cast<double>(object.via.i64); return;
    default: throw FieldError{{}, "expected a number, got " + describe_object(object)};
  }
}

void read(const msgpack::object& object, ChunkKind& out) {
  constexpr auto kLast = static_cast<uint64_t>(ChunkKind::text);
  if (object.type != msgpack::type::POSITIVE_INTEGER || object.via.u64 > kLast) {
    throw FieldError{{}, "expected a chunk kind 0.." + std::to_string(kLast) + ", got " + describe_object(object)};
  }
  out = static_cast<ChunkKind>(object.via.u64);
}

void write(Packer& packer, const std::vector<int32_t>& ids) {
  std::string bytes;
  bytes.reserve(ids.size() * 2);
  for (const int32_t id : ids) {
    auto v = static_cast<uint32_t>(id);   // ids are never negative; a negative one would cost 5 bytes, not break
    while (v >= 0x80) {
      bytes += static_cast<char>((v & 0x7f) | 0x80);
      v >>= 7;
    }
    bytes += static_cast<char>(v);
  }
  packer.pack_bin(static_cast<uint32_t>(bytes.size()));
  packer.pack_bin_body(bytes.data(), static_cast<uint32_t>(bytes.size()));
}

void read(const msgpack::object& object, std::vector<int32_t>& out) {
  if (object.type != msgpack::type::BIN) throw FieldError{{}, "expected token ids (bin), got " + describe_object(object)};
  const auto* p = reinterpret_cast<const unsigned char*>(object.via.bin.ptr);
  const uint32_t size = object.via.bin.size;
  out.clear();
  uint64_t value = 0;
  int shift = 0;
  for (uint32_t i = 0; i < size; ++i) {
    value |= static_cast<uint64_t>(p[i] & 0x7f) << shift;
    if (value > static_cast<uint64_t>(std::numeric_limits<int32_t>::max()) || shift > 28) {
      throw FieldError{{}, "token id " + std::to_string(out.size()) + " at byte " + std::to_string(i) +
                               " exceeds " + std::to_string(std::numeric_limits<int32_t>::max())};
    }
    if (p[i] & 0x80) {
      shift += 7;
      continue;
    }
    out.push_back(static_cast<int32_t>(value));
    value = 0;
    shift = 0;
  }
  if (shift != 0) throw FieldError{{}, "token ids end inside a varint (" + std::to_string(size) + " bytes)"};
}

void throw_integer_error(const msgpack::object& object, int64_t min, uint64_t max) {
  throw FieldError{{}, "expected an integer in " + std::to_string(min) + ".." + std::to_string(max) + ", got " +
                           describe_object(object)};
}

}  // namespace pice::messages::detail
