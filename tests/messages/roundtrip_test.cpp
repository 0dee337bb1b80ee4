// Every body type survives encode -> decode with every field set to a non-default value, and the
// wire format tolerates what schema evolution produces (unknown keys, missing keys).
#include <gtest/gtest.h>

#include <msgpack.hpp>

#include <cstdint>
#include <limits>
#include <string>
#include <type_traits>
#include <vector>

#include "messages/body_fields.hpp"
#include "messages/envelope.hpp"

namespace pice::messages {

// One envelope of each message type, every field (header and body) different from its default.
// Also used by decode_errors_test.cpp.
std::vector<Envelope> sample_envelopes() {
  const std::vector<Body> bodies = {
      Request{"What are good habits for sleeping well?", "sot", 7, 5, 40, 0.7, 0.9, 0xDEADBEEFCAFEF00DULL,
              {"END", "\n\n"}, true, true, 3},
      SketchPoint{3, "Keep a fixed schedule", true},
      ExpansionTask{"Why is the sky blue?", {"Rayleigh scattering", "Sun angle", "Ozone"}, 2, "Ozone", 48, 0.25, 0.5,
                    42, 1'700'000'000'000'000, {"STOP"}, true, true, 0x1234'5678'9ABC'DEF0ULL,
                    {0, 127, 128, 16383, 16384, 2'147'483'647}},
      ExpansionResult{1, "Short wavelengths scatter more.", 17, -1.25, "synth:demo", "edge-1", Timings{1.5, 2.5, 3.5, 1'700'000'000'000'001},
                      "deadline passed", 23, 0xFEDC'BA98'7654'3210ULL, {1, 300, 70000}},
      AnswerChunk{ChunkKind::done, 4, "Schlaf gut \xE2\x9C\x93", "edge-2", "smollm-135m", 0.875, 5, 123.5, "route",
                  "direct-edge", "router: list-like", 4, 6, 31, 57, Timings{0.5, 1.5, 2.5, 9},
                  {EnsembleCandidate{"edge-2", "smollm-135m", 12, 0.5, 0.25, 0.125, 0.3, true},
                   EnsembleCandidate{"edge-4", "qwen-0.5b", 9, 0.4, 0.2, 0.1, 0.2, false}},
                  3, 4'500'000'000, 1234},
      Heartbeat{"edge-3", "edge", {"smollm-135m", "qwen-0.5b"}, 8, 3, 45.5, 4096, "0.1.0", true, 77},
      Telemetry{"cloud-1",
                {{"requests", 12}, {"max", std::numeric_limits<uint64_t>::max()}},
                {{"queue_depth", 2.5}, {"negative", -1.0}},
                "cloud",
                {{"request_ms", Histogram{{1, 10, 100}, {2, 0, 5, 1}, 432.5, 8}}, {"empty", Histogram{{}, {0}, 0, 0}}}},
      Span{"point", "cloud-1", 1'700'000'000'000'000, 1'700'000'000'250'000, {{"board", "edge-2"}, {"attempts", "2"}}},
      Control{"drain"},
  };
  std::vector<Envelope> envelopes;
  int64_t clock = 1'700'000'000'123'456;
  for (const Body& body : bodies) {
    Envelope envelope;
    envelope.request_id = "req-" + std::to_string(body.index());
    envelope.task_id = "task-" + std::to_string(body.index()) + "-9";
    envelope.sender = "cloud-1";
    envelope.to = "edge-" + std::to_string(body.index());
    envelope.created_us = clock;
    envelope.sent_us = clock + 1000;
    envelope.body = body;
    envelopes.push_back(envelope);
    clock += 7;
  }
  return envelopes;
}

namespace {

// Names of the fields of `value` that still hold their default value.
template <class T>
std::vector<std::string> fields_at_default(const T& value) {
  const T defaults{};
  std::vector<std::string> names;
  detail::describe(value, [&](std::string_view name, const auto& field) {
    detail::describe(defaults, [&](std::string_view default_name, const auto& default_field) {
      if constexpr (std::is_same_v<decltype(field), decltype(default_field)>) {
        if (name == default_name && field == default_field) names.emplace_back(name);
      }
    });
  });
  return names;
}

// Compares field by field so a failure names the field instead of "bodies differ".
template <class T>
void expect_fields_equal(const T& expected, const T& actual) {
  detail::describe(expected, [&](std::string_view name, const auto& expected_field) {
    detail::describe(actual, [&](std::string_view actual_name, const auto& actual_field) {
      if constexpr (std::is_same_v<decltype(expected_field), decltype(actual_field)>) {
        if (name == actual_name) {
          EXPECT_TRUE(expected_field == actual_field) << "field " << name;
        }
      }
    });
  });
}

TEST(Roundtrip, SamplesCoverEveryTypeWithNonDefaultFields) {
  const auto samples = sample_envelopes();
  ASSERT_EQ(samples.size(), std::variant_size_v<Body>);
  for (size_t i = 0; i < samples.size(); ++i) {
    EXPECT_EQ(static_cast<size_t>(samples[i].type()), i + 1);
    std::visit([](const auto& body) { EXPECT_EQ(fields_at_default(body), std::vector<std::string>{}); },
               samples[i].body);
  }
  EXPECT_EQ(fields_at_default(Timings{1, 2, 3, 4}), std::vector<std::string>{});
  EXPECT_EQ(fields_at_default(Histogram{{1}, {1, 2}, 3, 3}), std::vector<std::string>{});
}

TEST(Roundtrip, EveryBodyTypeSurvivesEncodeDecode) {
  for (const Envelope& sent : sample_envelopes()) {
    SCOPED_TRACE(std::string(message_type_name(sent.type())));
    const Envelope received = decode(encode(sent));
    EXPECT_EQ(received.version, sent.version);
    EXPECT_EQ(received.request_id, sent.request_id);
    EXPECT_EQ(received.task_id, sent.task_id);
    EXPECT_EQ(received.sender, sent.sender);
    EXPECT_EQ(received.created_us, sent.created_us);
    EXPECT_EQ(received.sent_us, sent.sent_us);
    EXPECT_EQ(received.to, sent.to);
    ASSERT_EQ(received.type(), sent.type());
    std::visit(
        [&](const auto& expected) {
          using T = std::decay_t<decltype(expected)>;
          expect_fields_equal(expected, std::get<T>(received.body));
        },
        sent.body);
    EXPECT_EQ(received, sent);
  }
}

TEST(Roundtrip, DefaultEnvelopeSurvivesEncodeDecode) {
  const Envelope empty;
  EXPECT_EQ(decode(encode(empty)), empty);
  EXPECT_EQ(empty.type(), MessageType::request);
}

TEST(Roundtrip, ExtremeIntegersSurvive) {
  Envelope envelope;
  envelope.created_us = std::numeric_limits<int64_t>::min();
  envelope.sent_us = std::numeric_limits<int64_t>::max();
  ExpansionTask task;
  task.point_index = std::numeric_limits<int32_t>::min();
  task.max_tokens = std::numeric_limits<int32_t>::max();
  task.seed = std::numeric_limits<uint64_t>::max();
  task.deadline_us = -1;
  envelope.body = task;
  EXPECT_EQ(decode(encode(envelope)), envelope);
}

TEST(Roundtrip, EncodingIsDeterministic) {
  for (const Envelope& envelope : sample_envelopes()) EXPECT_EQ(encode(envelope), encode(envelope));
}

TEST(Roundtrip, EncodeWithSentTimeStampsOnlyThatField) {
  for (const Envelope& original : sample_envelopes()) {
    Envelope decoded = decode(encode(original, 42));
    EXPECT_EQ(decoded.sent_us, 42);
    decoded.sent_us = original.sent_us;
    EXPECT_EQ(decoded, original);
  }
}

TEST(Roundtrip, MessageTypeNames) {
  EXPECT_EQ(message_type_name(MessageType::request), "request");
  EXPECT_EQ(message_type_name(MessageType::expansion_result), "expansion_result");
  EXPECT_EQ(message_type_name(MessageType::telemetry), "telemetry");
  EXPECT_EQ(message_type_name(MessageType::span), "span");
  EXPECT_EQ(message_type_name(MessageType::control), "control");
  EXPECT_EQ(message_type_name(static_cast<MessageType>(99)), "unknown");
}

TEST(Roundtrip, NowIsMicrosecondsSinceTheEpoch) {
  const int64_t now = now_us();
  EXPECT_GT(now, int64_t{1'600'000'000'000'000});   // after 2020
  EXPECT_LT(now, int64_t{4'000'000'000'000'000});   // before 2096
  EXPECT_LE(now, now_us());
}

// ---- schema evolution: bytes a newer or older peer could send ------------------------------
using Packer = msgpack::packer<msgpack::sbuffer>;

void key(Packer& packer, std::string_view name) {
  packer.pack_str(static_cast<uint32_t>(name.size()));
  packer.pack_str_body(name.data(), static_cast<uint32_t>(name.size()));
}

TEST(SchemaEvolution, UnknownKeysAreIgnoredAndMissingKeysTakeDefaults) {
  msgpack::sbuffer buffer;
  Packer packer(buffer);
  packer.pack_map(5);
  key(packer, "v");
  packer.pack(kSchemaVersion);
  key(packer, "type");
  packer.pack(static_cast<int>(MessageType::expansion_result));
  key(packer, "trace");   // unknown envelope key with a nested value
  packer.pack_array(2);
  packer.pack(1);
  packer.pack_map(0);
  key(packer, "rid");
  packer.pack(std::string("r-7"));
  key(packer, "body");
  packer.pack_map(4);
  key(packer, "text");
  packer.pack(std::string("hello"));
  key(packer, "future_field");   // unknown body key
  packer.pack_map(1);
  key(packer, "x");
  packer.pack(1.5);
  key(packer, "timings");   // partial nested struct
  packer.pack_map(1);
  key(packer, "decode_ms");
  packer.pack(9.5);
  key(packer, "mean_logprob");   // integer where a double is expected: accepted
  packer.pack(-2);

  const Envelope envelope = decode({buffer.data(), buffer.size()});
  EXPECT_EQ(envelope.request_id, "r-7");
  EXPECT_EQ(envelope.task_id, "");
  EXPECT_EQ(envelope.created_us, 0);
  const auto& result = std::get<ExpansionResult>(envelope.body);
  ExpansionResult expected;
  expected.text = "hello";
  expected.timings.decode_ms = 9.5;
  expected.mean_logprob = -2;
  expect_fields_equal(expected, result);
}

TEST(SchemaEvolution, EmptyBodyMapGivesDefaults) {
  msgpack::sbuffer buffer;
  Packer packer(buffer);
  packer.pack_map(3);
  key(packer, "v");
  packer.pack(kSchemaVersion);
  key(packer, "type");
  packer.pack(static_cast<int>(MessageType::answer_chunk));
  key(packer, "body");
  packer.pack_map(0);
  const Envelope envelope = decode({buffer.data(), buffer.size()});
  EXPECT_EQ(std::get<AnswerChunk>(envelope.body), AnswerChunk{});
}

}  // namespace
}  // namespace pice::messages
