// messages::decode on arbitrary bytes: the envelope and every body type.
//
// Properties: decode() throws only DecodeError (anything else escaping is a crash for libFuzzer), and
// what it accepts survives the round trip: encode() writes bytes that decode() reads back to an
// envelope that encodes to the same bytes. (Bytes, not Envelope ==, because a NaN double is on the
// wire legally and never compares equal.) The same holds for the frame a sender puts on the wire
// (encode_frame: zlib-compressed when large); inputs starting with 0xc1 go through the inflating path
// (the corpus has a compressed seed), whose errors must be DecodeErrors too.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "messages/compression.hpp"
#include "messages/envelope.hpp"
#include "tests/fuzz/fuzz_check.hpp"

using pice::messages::DecodeError;
using pice::messages::Envelope;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  Envelope envelope;
  try {
    envelope = pice::messages::decode(bytes);
  } catch (const DecodeError& error) {
    pice::fuzz::check(std::string_view(error.what()).size() > 0, "a DecodeError without a message");
    return 0;
  }
  const std::string encoded = pice::messages::encode(envelope);
  Envelope again;
  try {
    again = pice::messages::decode(encoded);
  } catch (const DecodeError& error) {
    pice::fuzz::property_failed(std::string("decode rejects what encode wrote: ") + error.what());
  }
  pice::fuzz::check(again.type() == envelope.type(), "the round trip changed the message type");
  pice::fuzz::check(pice::messages::encode(again) == encoded, "encode(decode(encode(m))) != encode(m)");
  try {
    pice::fuzz::check(pice::messages::encode(pice::messages::decode(pice::messages::encode_frame(envelope))) == encoded,
                      "decode(encode_frame(m)) differs from m");
  } catch (const DecodeError& error) {
    pice::fuzz::property_failed(std::string("decode rejects what encode_frame wrote: ") + error.what());
  }
  // The transport's variant stamps sent_us in the same bytes.
  pice::fuzz::check(pice::messages::decode(pice::messages::encode(envelope, 42)).sent_us == 42,
                    "encode(envelope, sent_us) did not carry sent_us");
  return 0;
}
