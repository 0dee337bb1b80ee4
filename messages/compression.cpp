#include "messages/compression.hpp"

#include <zlib.h>

#include <climits>

#include "messages/envelope.hpp"

namespace pice::messages {
namespace {

[[noreturn]] void corrupt(const std::string& why) {
  throw DecodeError(DecodeErrorKind::malformed, "compressed message: " + why);
}

}  // namespace

bool is_compressed_frame(std::string_view frame) {
  return !frame.empty() && static_cast<unsigned char>(frame.front()) == kCompressedFrameMarker;
}

std::string compress_frame(std::string msgpack, size_t above) {
  if (msgpack.size() <= above || msgpack.size() > UINT_MAX) return msgpack;
  uLongf bound = compressBound(static_cast<uLong>(msgpack.size()));
  std::string frame(1 + bound, '\0');
  frame[0] = static_cast<char>(kCompressedFrameMarker);
  if (compress2(reinterpret_cast<Bytef*>(frame.data() + 1), &bound, reinterpret_cast<const Bytef*>(msgpack.data()),
                static_cast<uLong>(msgpack.size()), Z_DEFAULT_COMPRESSION) != Z_OK) {
    return msgpack;   // cannot happen with a compressBound buffer; plain is always a valid frame
  }
  frame.resize(1 + bound);
  return frame.size() < msgpack.size() ? frame : msgpack;
}

std::string decompress_frame(std::string_view frame, size_t max_bytes) {
  if (!is_compressed_frame(frame)) corrupt("no compression marker");
  z_stream stream{};
  if (inflateInit(&stream) != Z_OK) corrupt("zlib could not start");
  const std::string_view data = frame.substr(1);
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  stream.avail_in = static_cast<uInt>(data.size());   // frames are bounded by kMaxMessageBytes (decode())

  std::string out;
  constexpr size_t kChunk = 64 * 1024;
  int status = Z_OK;
  while (status == Z_OK) {
    if (out.size() > max_bytes) break;
    const size_t at = out.size();
    out.resize(at + kChunk);
    stream.next_out = reinterpret_cast<Bytef*>(out.data() + at);
    stream.avail_out = static_cast<uInt>(kChunk);
    status = inflate(&stream, Z_NO_FLUSH);
    out.resize(at + kChunk - stream.avail_out);
  }
  const size_t consumed = data.size() - stream.avail_in;
  const char* message = stream.msg;
  inflateEnd(&stream);

  if (out.size() > max_bytes) {
    throw DecodeError(DecodeErrorKind::too_large, "compressed message inflates beyond the limit of " +
                                                      std::to_string(max_bytes) + " bytes (stopped after " +
                                                      std::to_string(out.size()) + ")");
  }
  if (status == Z_STREAM_END) {
    if (consumed != data.size()) {
      corrupt(std::to_string(data.size() - consumed) + " bytes after the end of the zlib stream");
    }
    return out;
  }
  if (status == Z_OK || status == Z_BUF_ERROR) {
    corrupt("zlib stream cut short after " + std::to_string(data.size()) + " bytes");
  }
  corrupt(std::string("zlib: ") + (message ? message : "error " + std::to_string(status)));
}

std::string encode_frame(const Envelope& envelope, int64_t sent_us) { return compress_frame(encode(envelope, sent_us)); }
std::string encode_frame(const Envelope& envelope) { return encode_frame(envelope, envelope.sent_us); }

}  // namespace pice::messages
