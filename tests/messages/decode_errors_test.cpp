// decode() on hostile and broken input: every problem is a DecodeError of the right kind with a
// message naming it, and no input crashes or reads out of bounds (run under ASan to be sure).
#include <gtest/gtest.h>

#include <msgpack.hpp>

#include <cstdint>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "messages/envelope.hpp"

namespace pice::messages {

std::vector<Envelope> sample_envelopes();   // roundtrip_test.cpp: one per type, all fields set

namespace {

using Packer = msgpack::packer<msgpack::sbuffer>;

// The DecodeError that decode(bytes) throws; fails the test if it decodes or throws anything else.
DecodeError decode_error(std::string_view bytes) {
  try {
    decode(bytes);
  } catch (const DecodeError& error) {
    return error;
  }
  ADD_FAILURE() << "decoded " << bytes.size() << " bytes that should have been rejected";
  return DecodeError(DecodeErrorKind::empty, "(no error)");
}

void key(Packer& packer, std::string_view name) {
  packer.pack_str(static_cast<uint32_t>(name.size()));
  packer.pack_str_body(name.data(), static_cast<uint32_t>(name.size()));
}

// An envelope built by hand, so tests can put any value in any place.
std::string raw_envelope(const std::function<void(Packer&)>& version, const std::function<void(Packer&)>& type,
                         const std::function<void(Packer&)>& body) {
  msgpack::sbuffer buffer;
  Packer packer(buffer);
  packer.pack_map(3);
  key(packer, "v");
  version(packer);
  key(packer, "type");
  type(packer);
  key(packer, "body");
  body(packer);
  return {buffer.data(), buffer.size()};
}

std::string with_body(MessageType type, const std::function<void(Packer&)>& body) {
  return raw_envelope([](Packer& p) { p.pack(kSchemaVersion); }, [&](Packer& p) { p.pack(static_cast<int>(type)); },
                      body);
}

// A body map with one field.
std::function<void(Packer&)> one_field(std::string name, std::function<void(Packer&)> value) {
  return [=](Packer& packer) {
    packer.pack_map(1);
    key(packer, name);
    value(packer);
  };
}

void bin(Packer& packer, std::string_view bytes) {
  packer.pack_bin(static_cast<uint32_t>(bytes.size()));
  packer.pack_bin_body(bytes.data(), static_cast<uint32_t>(bytes.size()));
}

// A histograms map holding one histogram, packed field by field so that bounds and counts need not agree.
std::function<void(Packer&)> one_histogram(std::string name, std::vector<double> bounds, std::vector<uint64_t> counts) {
  return [=](Packer& packer) {
    packer.pack_map(1);
    key(packer, name);
    packer.pack_map(2);
    key(packer, "bounds");
    packer.pack(bounds);
    key(packer, "counts");
    packer.pack(counts);
  };
}

void expect_message_contains(const DecodeError& error, const std::vector<std::string>& parts) {
  const std::string what = error.what();
  for (const auto& part : parts) EXPECT_NE(what.find(part), std::string::npos) << "'" << part << "' not in: " << what;
}

TEST(DecodeErrors, EmptyInput) {
  const auto error = decode_error("");
  EXPECT_EQ(error.kind(), DecodeErrorKind::empty);
  expect_message_contains(error, {"empty"});
}

TEST(DecodeErrors, TooLargeIsRejectedBeforeParsing) {
  const std::string huge(kMaxMessageBytes + 1, '\x00');
  const auto error = decode_error(huge);
  EXPECT_EQ(error.kind(), DecodeErrorKind::too_large);
  expect_message_contains(error, {std::to_string(kMaxMessageBytes + 1), std::to_string(kMaxMessageBytes)});
  // At the limit the size is fine; these bytes then fail for what they are (a nil plus trailing bytes).
  EXPECT_EQ(decode_error(std::string(kMaxMessageBytes, '\xc0')).kind(), DecodeErrorKind::malformed);
}

TEST(DecodeErrors, EveryPrefixOfEveryMessageIsTruncated) {
  for (const Envelope& envelope : sample_envelopes()) {
    const std::string bytes = encode(envelope);
    SCOPED_TRACE(std::string(message_type_name(envelope.type())));
    for (size_t length = 1; length < bytes.size(); ++length) {
      const auto error = decode_error(std::string_view(bytes).substr(0, length));
      EXPECT_EQ(error.kind(), DecodeErrorKind::truncated) << "prefix of " << length << ": " << error.what();
    }
    EXPECT_EQ(decode_error(std::string_view(bytes).substr(0, 0)).kind(), DecodeErrorKind::empty);
  }
}

TEST(DecodeErrors, TrailingBytesAreMalformed) {
  const std::string bytes = encode(sample_envelopes().front());
  for (const std::string& garbage : {std::string(1, '\0'), std::string("\x91\x01"), bytes}) {
    const auto error = decode_error(bytes + garbage);
    EXPECT_EQ(error.kind(), DecodeErrorKind::malformed);
    expect_message_contains(error, {std::to_string(garbage.size()) + " trailing bytes", std::to_string(bytes.size())});
  }
}

TEST(DecodeErrors, WrongVersion) {
  Envelope envelope = sample_envelopes().front();
  envelope.version = kSchemaVersion + 1;
  const auto error = decode_error(encode(envelope));
  EXPECT_EQ(error.kind(), DecodeErrorKind::bad_version);
  expect_message_contains(error, {"got " + std::to_string(kSchemaVersion + 1), "expected " + std::to_string(kSchemaVersion)});

  envelope.version = 0;
  EXPECT_EQ(decode_error(encode(envelope)).kind(), DecodeErrorKind::bad_version);
  const auto not_a_number = raw_envelope([](Packer& p) { p.pack(std::string("1")); },
                                         [](Packer& p) { p.pack(1); }, [](Packer& p) { p.pack_map(0); });
  EXPECT_EQ(decode_error(not_a_number).kind(), DecodeErrorKind::bad_version);
}

TEST(DecodeErrors, VersionIsCheckedBeforeTypeAndBody) {
  // A future version may renumber types and reshape bodies: the version is what gets reported.
  const auto bytes = raw_envelope([](Packer& p) { p.pack(2); }, [](Packer& p) { p.pack(200); },
                                  [](Packer& p) { p.pack(std::string("not a body")); });
  EXPECT_EQ(decode_error(bytes).kind(), DecodeErrorKind::bad_version);
}

TEST(DecodeErrors, UnknownType) {
  for (int type : {0, 10, 42, 255, 70000, -3}) {
    const auto bytes = raw_envelope([](Packer& p) { p.pack(kSchemaVersion); }, [&](Packer& p) { p.pack(type); },
                                    [](Packer& p) { p.pack_map(0); });
    const auto error = decode_error(bytes);
    EXPECT_EQ(error.kind(), DecodeErrorKind::unknown_type) << type;
    expect_message_contains(error, {"unknown message type " + std::to_string(type)});
  }
}

TEST(DecodeErrors, MissingVersionOrTypeIsMalformed) {
  msgpack::sbuffer buffer;
  Packer packer(buffer);
  packer.pack_map(1);
  key(packer, "type");
  packer.pack(1);
  expect_message_contains(decode_error({buffer.data(), buffer.size()}), {"no schema version"});

  const auto no_type = raw_envelope([](Packer& p) { p.pack(kSchemaVersion); },
                                    [](Packer& p) { p.pack(std::string("request")); }, [](Packer& p) { p.pack_map(0); });
  const auto error = decode_error(no_type);
  EXPECT_EQ(error.kind(), DecodeErrorKind::malformed);
  expect_message_contains(error, {"message type", "string \"request\""});
}

struct BadBodyCase {
  MessageType type;
  std::function<void(Packer&)> body;
  std::vector<std::string> expected_parts;   // in what()
};

TEST(DecodeErrors, BodyWithWrongFieldTypeNamesTypeAndField) {
  const std::vector<BadBodyCase> cases = {
      {MessageType::request, one_field("question", [](Packer& p) { p.pack(5); }),
       {"request", "'question'", "expected a string", "integer 5"}},
      {MessageType::request, one_field("seed", [](Packer& p) { p.pack(-1); }), {"request", "'seed'", "integer -1"}},
      {MessageType::sketch_point, one_field("last", [](Packer& p) { p.pack(1); }),
       {"sketch_point", "'last'", "expected a boolean"}},
      {MessageType::sketch_point, one_field("index", [](Packer& p) { p.pack(int64_t{1} << 40); }),
       {"sketch_point", "'index'", "expected an integer in -2147483648..2147483647", "1099511627776"}},
      {MessageType::expansion_task, one_field("sketch", [](Packer& p) { p.pack(std::vector<int>{1}); }),
       {"expansion_task", "'sketch[0]'", "expected a string"}},
      {MessageType::expansion_task, one_field("sketch", [](Packer& p) { p.pack(std::string("a, b")); }),
       {"expansion_task", "'sketch'", "expected an array"}},
      {MessageType::expansion_result, one_field("timings", one_field("decode_ms", [](Packer& p) { p.pack("slow"); })),
       {"expansion_result", "'timings.decode_ms'", "expected a number", "string \"slow\""}},
      {MessageType::expansion_result, one_field("timings", [](Packer& p) { p.pack(3); }),
       {"expansion_result", "'timings'", "expected a map"}},
      {MessageType::answer_chunk, one_field("kind", [](Packer& p) { p.pack(9); }),
       {"answer_chunk", "'kind'", "chunk kind"}},
      {MessageType::heartbeat, one_field("models", [](Packer& p) { p.pack_nil(); }), {"heartbeat", "'models'", "nil"}},
      {MessageType::telemetry, one_field("counters", [](Packer& p) { p.pack(std::map<std::string, double>{{"x", 1.5}}); }),
       {"telemetry", "'counters[\"x\"]'", "float 1.5"}},
      {MessageType::telemetry, one_field("gauges", [](Packer& p) { p.pack(std::map<int, double>{{7, 1.5}}); }),
       {"telemetry", "'gauges'", "key 0", "integer 7"}},
      {MessageType::telemetry, one_field("histograms", one_histogram("ms", {1, 2}, {1, 2})),
       {"telemetry", "'histograms[\"ms\"]'", "2 counts for 2 bounds"}},
      {MessageType::telemetry, one_field("histograms", one_histogram("ms", {5, 1}, {1, 2, 3})),
       {"telemetry", "'histograms[\"ms\"]'", "do not ascend"}},
      {MessageType::telemetry,
       one_field("histograms", one_field("ms", one_field("counts", [](Packer& p) { p.pack(std::vector<int>{-1}); }))),
       {"telemetry", "'histograms[\"ms\"].counts[0]'", "integer -1"}},
      {MessageType::span, one_field("attributes", [](Packer& p) { p.pack(std::map<std::string, int>{{"board", 3}}); }),
       {"span", "'attributes[\"board\"]'", "expected a string"}},
      {MessageType::control, one_field("command", [](Packer& p) { p.pack(1); }),
       {"control", "'command'", "expected a string"}},
      {MessageType::heartbeat, one_field("draining", [](Packer& p) { p.pack("yes"); }),
       {"heartbeat", "'draining'", "expected a boolean"}},
      {MessageType::expansion_task, one_field("prompt_ids", [](Packer& p) { p.pack(std::vector<int>{1, 2}); }),
       {"expansion_task", "'prompt_ids'", "expected token ids (bin)", "array"}},
      {MessageType::expansion_result, one_field("text_ids", [](Packer& p) { bin(p, "\x05\x85"); }),
       {"expansion_result", "'text_ids'", "end inside a varint"}},
      {MessageType::expansion_result, one_field("text_ids", [](Packer& p) { bin(p, "\x01\xff\xff\xff\xff\x0f"); }),
       {"expansion_result", "'text_ids'", "token id 1", "exceeds 2147483647"}},
      {MessageType::answer_chunk, one_field("candidates", [](Packer& p) { p.pack_array(1); p.pack(3); }),
       {"answer_chunk", "'candidates[0]'", "expected a map"}},
      {MessageType::request, [](Packer& p) { p.pack_array(0); }, {"request", "expected a map", "array"}},
      {MessageType::request, [](Packer& p) { p.pack(std::map<int, int>{{1, 2}}); }, {"request", "key 0"}},
  };
  for (const auto& c : cases) {
    const auto error = decode_error(with_body(c.type, c.body));
    EXPECT_EQ(error.kind(), DecodeErrorKind::bad_body) << error.what();
    expect_message_contains(error, c.expected_parts);
  }
}

TEST(DecodeErrors, MissingBodyIsBadBody) {
  msgpack::sbuffer buffer;
  Packer packer(buffer);
  packer.pack_map(2);
  key(packer, "v");
  packer.pack(kSchemaVersion);
  key(packer, "type");
  packer.pack(6);
  const auto error = decode_error({buffer.data(), buffer.size()});
  EXPECT_EQ(error.kind(), DecodeErrorKind::bad_body);
  expect_message_contains(error, {"heartbeat", "no body"});
}

TEST(DecodeErrors, HeaderFieldOfWrongTypeIsMalformed) {
  msgpack::sbuffer buffer;
  Packer packer(buffer);
  packer.pack_map(4);
  key(packer, "v");
  packer.pack(kSchemaVersion);
  key(packer, "type");
  packer.pack(1);
  key(packer, "rid");
  packer.pack(17);
  key(packer, "body");
  packer.pack_map(0);
  const auto error = decode_error({buffer.data(), buffer.size()});
  EXPECT_EQ(error.kind(), DecodeErrorKind::malformed);
  expect_message_contains(error, {"'rid'", "expected a string", "integer 17"});
}

TEST(DecodeErrors, NotMsgpackOrNotAMapIsMalformed) {
  struct Case {
    std::string bytes;
    DecodeErrorKind kind;
  };
  const std::vector<Case> cases = {
      {"\xc1", DecodeErrorKind::malformed},              // the compressed-frame marker, no zlib data
      {"\x93\x01\x02\x03", DecodeErrorKind::malformed},        // an array, not a map
      {std::string("\xc0", 1), DecodeErrorKind::malformed},    // nil
      {"\x81\x01\x02", DecodeErrorKind::malformed},            // map with an integer key
      {"\x85", DecodeErrorKind::truncated},                    // map header, no entries
  };
  for (const auto& c : cases) EXPECT_EQ(decode_error(c.bytes).kind(), c.kind) << decode_error(c.bytes).what();
}

TEST(DecodeErrors, HostileSizesDoNotAllocate) {
  // Headers claiming 4 billion elements/bytes in a few bytes: rejected by the limits, not by bad_alloc.
  for (const std::string& bytes : {std::string("\xdd\xff\xff\xff\xff", 5), std::string("\xdf\xff\xff\xff\xff", 5),
                                  std::string("\xdb\xff\xff\xff\xff", 5), std::string("\xc6\xff\xff\xff\xff", 5),
                                  std::string("\xc9\xff\xff\xff\xff\x01", 6)}) {
    const auto error = decode_error(bytes);
    EXPECT_TRUE(error.kind() == DecodeErrorKind::malformed || error.kind() == DecodeErrorKind::truncated) << error.what();
  }
  // A chain of nested "array of 65535" headers in a message long enough for each claim: each
  // level allocates 1 MiB up front, so the depth limit is what stops it.
  std::string chain;
  for (int i = 0; i < 1000; ++i) chain += std::string("\xdc\xff\xff", 3);
  chain.resize(70000, '\0');
  const auto chain_error = decode_error(chain);
  EXPECT_EQ(chain_error.kind(), DecodeErrorKind::malformed);
  expect_message_contains(chain_error, {"nested deeper"});
}

TEST(DecodeErrors, ContainerClaimsAreBoundedByLengthThenByCap) {
  // Short message, big claim: the rest is missing.
  const auto short_error = decode_error(std::string("\xdd\x00\x01\x00\x01\x00\x00", 7));
  EXPECT_EQ(short_error.kind(), DecodeErrorKind::truncated);
  expect_message_contains(short_error, {"an array claims more elements than the 7 bytes"});
  // Long enough message, claim above the fixed cap: no PICE message has that many elements.
  std::string long_message("\xdf\x00\x01\x00\x01", 5);   // map of 65537 pairs
  long_message.resize(200000, '\0');
  const auto cap_error = decode_error(long_message);
  EXPECT_EQ(cap_error.kind(), DecodeErrorKind::malformed);
  expect_message_contains(cap_error, {"a map claims more than 65536 elements"});
}

TEST(DecodeErrors, DeepNestingIsMalformed) {
  std::string deep(100000, '\x91');   // [[[[...]]]]
  deep += '\x00';
  const auto error = decode_error(deep);
  EXPECT_EQ(error.kind(), DecodeErrorKind::malformed);
  expect_message_contains(error, {"nested deeper"});
}

TEST(DecodeErrors, RandomBytesDecodeOrThrowDecodeError) {
  std::mt19937_64 random(20250117);
  std::uniform_int_distribution<int> byte(0, 255);
  std::uniform_int_distribution<size_t> length(0, 300);
  int rejected = 0;
  for (int i = 0; i < 20000; ++i) {
    std::string bytes(length(random), '\0');
    // Half the buffers start like an envelope so the parser gets past the first byte more often.
    for (auto& c : bytes) c = static_cast<char>(byte(random));
    if (i % 2 == 0 && !bytes.empty()) bytes[0] = static_cast<char>(0x80 | (byte(random) & 0x0f));
    try {
      decode(bytes);
    } catch (const DecodeError&) {
      ++rejected;
    }
  }
  EXPECT_GT(rejected, 19000);
}

TEST(DecodeErrors, MutatedMessagesDecodeOrThrowDecodeError) {
  // Random edits of valid messages reach the envelope and body checks, which random bytes rarely do.
  std::mt19937_64 random(7);
  const auto samples = sample_envelopes();
  std::vector<int> kinds(7, 0);
  int decoded = 0;
  for (int i = 0; i < 20000; ++i) {
    std::string bytes = encode(samples[i % samples.size()]);
    const int edits = 1 + static_cast<int>(random() % 4);
    for (int e = 0; e < edits; ++e) {
      const size_t at = random() % bytes.size();
      switch (random() % 3) {
        case 0: bytes[at] = static_cast<char>(random()); break;
        case 1: bytes.erase(at, 1 + random() % 4); break;
        default: bytes.insert(at, 1, static_cast<char>(random())); break;
      }
      if (bytes.empty()) bytes = "\x80";
    }
    try {
      decode(bytes);
      ++decoded;
    } catch (const DecodeError& error) {
      ++kinds[static_cast<size_t>(error.kind())];
    }
  }
  // Some survive (a changed character in a string); the rest are rejected for a variety of reasons.
  EXPECT_GT(decoded, 0);
  EXPECT_GT(kinds[static_cast<size_t>(DecodeErrorKind::truncated)], 0);
  EXPECT_GT(kinds[static_cast<size_t>(DecodeErrorKind::malformed)], 0);
  EXPECT_GT(kinds[static_cast<size_t>(DecodeErrorKind::bad_body)], 0);
}

TEST(DecodeErrors, KindNames) {
  EXPECT_EQ(decode_error_kind_name(DecodeErrorKind::too_large), "too_large");
  EXPECT_EQ(decode_error_kind_name(DecodeErrorKind::bad_body), "bad_body");
}

}  // namespace
}  // namespace pice::messages
