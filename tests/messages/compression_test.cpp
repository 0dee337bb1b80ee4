// Compressed frames (messages/compression.hpp): large envelopes travel zlib-compressed behind the
// 0xc1 marker, small ones stay plain msgpack, decode() reads both, and broken or hostile compressed
// data is a DecodeError of the right kind, never a crash or an unbounded allocation.
#include <gtest/gtest.h>

#include <zlib.h>

#include <string>
#include <vector>

#include "messages/compression.hpp"
#include "messages/envelope.hpp"

namespace pice::messages {
namespace {

Envelope result_with_text(std::string text) {
  Envelope env;
  env.request_id = "0a1b2c3d:4e5f6a7b8c9d0e1f";
  env.task_id = env.request_id + "/2/0";
  env.sender = "edge-board-07";
  env.created_us = 1'700'000'000'000'000;
  env.sent_us = env.created_us + 250;
  ExpansionResult result;
  result.point_index = 2;
  result.text = std::move(text);
  result.tokens = 48;
  result.model = "qwen2.5-0.5b-instruct";
  result.node = env.sender;
  env.body = result;
  return env;
}

std::string english(size_t words) {
  const std::vector<std::string> pool = {"the", "cloud", "sketches", "an", "answer", "as", "numbered", "points",
                                         "and", "edge", "boards", "expand", "each", "point", "into", "prose"};
  std::string out;
  for (size_t i = 0; i < words; ++i) out += (i ? " " : "") + pool[(i * 7 + i / 3) % pool.size()];
  return out;
}

// The marker followed by a zlib stream of `data`.
std::string zlib_frame(const std::string& data) {
  uLongf size = compressBound(static_cast<uLong>(data.size()));
  std::string out(1 + size, '\0');
  out[0] = static_cast<char>(kCompressedFrameMarker);
  EXPECT_EQ(compress2(reinterpret_cast<Bytef*>(out.data() + 1), &size, reinterpret_cast<const Bytef*>(data.data()),
                      static_cast<uLong>(data.size()), Z_BEST_COMPRESSION),
            Z_OK);
  out.resize(1 + size);
  return out;
}

DecodeError decode_error(std::string_view bytes) {
  try {
    decode(bytes);
  } catch (const DecodeError& error) {
    return error;
  }
  ADD_FAILURE() << "decoded " << bytes.size() << " bytes that should have been rejected";
  return DecodeError(DecodeErrorKind::empty, "(no error)");
}

TEST(Compression, LargeEnvelopeTravelsCompressedAndRoundTrips) {
  const Envelope sent = result_with_text(english(400));
  const std::string plain = encode(sent);
  ASSERT_GT(plain.size(), kCompressAboveBytes);
  const std::string frame = encode_frame(sent);
  EXPECT_TRUE(is_compressed_frame(frame));
  EXPECT_LT(frame.size(), plain.size());
  EXPECT_EQ(decode(frame), sent);
  EXPECT_EQ(decompress_frame(frame, kMaxMessageBytes), plain);
}

TEST(Compression, SmallEnvelopeStaysPlain) {
  Envelope sent;   // a sketch point, as the cloud streams them: one of the small, frequent messages
  sent.request_id = "0a1b2c3d:4e5f6a7b8c9d0e1f";
  sent.sender = "cloud-1";
  sent.created_us = 1'700'000'000'000'000;
  sent.body = SketchPoint{3, "Keep a fixed schedule", false};
  const std::string plain = encode(sent);
  ASSERT_LE(plain.size(), kCompressAboveBytes);
  EXPECT_EQ(encode_frame(sent), plain);
  EXPECT_EQ(decode(encode_frame(sent)), sent);
}

TEST(Compression, IncompressibleEnvelopeStaysPlain) {
  // Bytes zlib cannot shrink: the plain form is sent rather than a larger compressed one.
  std::string noise;
  uint32_t x = 12345;
  for (int i = 0; i < 2000; ++i) {
    x = x * 1664525u + 1013904223u;
    noise += static_cast<char>('!' + (x >> 24) % 90);
  }
  const Envelope sent = result_with_text(noise);
  const std::string frame = encode_frame(sent);
  EXPECT_LE(frame.size(), encode(sent).size());
  EXPECT_EQ(decode(frame), sent);
}

TEST(Compression, PlainFrameOfAnOldSenderStillDecodes) {
  // Old nodes send encode()'s bytes as they are, whatever their size.
  const Envelope sent = result_with_text(english(400));
  const std::string plain = encode(sent);
  ASSERT_FALSE(is_compressed_frame(plain));
  EXPECT_EQ(decode(plain), sent);
}

TEST(Compression, CorruptDataIsADecodeError) {
  const std::string frame = encode_frame(result_with_text(english(400)));
  ASSERT_TRUE(is_compressed_frame(frame));
  // Every cut, and a flipped byte at every position: a DecodeError each time (zlib's adler32 checksum
  // covers the inflated bytes), never a crash.
  for (size_t length = 1; length < frame.size(); ++length) {
    const DecodeError error = decode_error(std::string_view(frame).substr(0, length));
    EXPECT_EQ(error.kind(), DecodeErrorKind::malformed) << length << ": " << error.what();
  }
  size_t rejected = 0;
  for (size_t at = 1; at < frame.size(); ++at) {
    std::string flipped = frame;
    flipped[at] = static_cast<char>(flipped[at] ^ 0x5a);
    try {
      decode(flipped);
    } catch (const DecodeError&) {
      ++rejected;
    }
  }
  EXPECT_EQ(rejected, frame.size() - 1) << "the adler32 checksum catches every single-byte change";

  const DecodeError garbage = decode_error(std::string("\xc1garbage that is not zlib"));
  EXPECT_EQ(garbage.kind(), DecodeErrorKind::malformed);
  EXPECT_NE(std::string(garbage.what()).find("compressed message"), std::string::npos) << garbage.what();

  const DecodeError trailing = decode_error(frame + "xyz");
  EXPECT_EQ(trailing.kind(), DecodeErrorKind::malformed);
  EXPECT_NE(std::string(trailing.what()).find("3 bytes after the end"), std::string::npos) << trailing.what();
}

TEST(Compression, DecompressionBombIsRejectedAtTheLimit) {
  // 64 MiB of zeros compress to about 64 KiB: far under the limit on the wire, far over it inflated.
  const std::string bomb = zlib_frame(std::string(64u << 20, '\0'));
  ASSERT_LT(bomb.size(), kMaxMessageBytes);
  const DecodeError error = decode_error(bomb);
  EXPECT_EQ(error.kind(), DecodeErrorKind::too_large);
  EXPECT_NE(std::string(error.what()).find("inflates beyond the limit of " + std::to_string(kMaxMessageBytes)),
            std::string::npos)
      << error.what();
  // Exactly at the limit is still allowed to inflate (then fails as msgpack, not as a bomb).
  EXPECT_EQ(decode_error(zlib_frame(std::string(kMaxMessageBytes, '\xc0'))).kind(), DecodeErrorKind::malformed);
}

TEST(Compression, CompressedEmptyAndNonEnvelopeContentAreRejectedAsSuch) {
  EXPECT_EQ(decode_error(zlib_frame("")).kind(), DecodeErrorKind::empty);
  EXPECT_EQ(decode_error(zlib_frame("\x93\x01\x02\x03")).kind(), DecodeErrorKind::malformed);
  // A compressed frame inside a compressed frame is not unwrapped twice.
  EXPECT_EQ(decode_error(zlib_frame(zlib_frame(encode(result_with_text(english(400)))))).kind(),
            DecodeErrorKind::malformed);
}

}  // namespace
}  // namespace pice::messages
