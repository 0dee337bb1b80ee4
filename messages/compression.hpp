#pragma once
// Compressed frames: an encoded envelope above kCompressAboveBytes travels zlib-compressed, behind a
// first byte msgpack never uses (0xc1), so a receiver tells the two forms apart from the first byte
// and plain frames of older senders still decode. 256: every expansion task and result is above it
// and compressing them all saved 26% of a request's bytes (512: 24%, 1 KiB: 5%; docs/BENCHMARKS.md,
// "Compact messages"); the small, frequent messages below it (heartbeats, answer chunks) stay plain
// and cost no zlib time.
#include <cstddef>
#include <string>
#include <string_view>

#include "messages/envelope.hpp"

namespace pice::messages {

inline constexpr unsigned char kCompressedFrameMarker = 0xc1;
inline constexpr size_t kCompressAboveBytes = 256;

// The frame to send for `msgpack` (an encoded envelope): itself when small, or when compressing
// would not make it smaller; else the marker followed by a zlib stream of it. `above` is a parameter
// only so bench/compact_bench.cpp can compare thresholds.
std::string compress_frame(std::string msgpack, size_t above = kCompressAboveBytes);

bool is_compressed_frame(std::string_view frame);

// What goes on a socket: encode()'s bytes, compressed when larger than kCompressAboveBytes. Every
// sender uses this; decode() reads both forms.
std::string encode_frame(const Envelope& envelope, int64_t sent_us);
std::string encode_frame(const Envelope& envelope);

// The msgpack bytes inside a compressed frame (decode() calls this). Throws DecodeError: malformed,
// its message starting "compressed message:", for corrupt or cut data, too_large when the data would inflate beyond max_bytes (decompression bombs are stopped
// after max_bytes + 1 bytes of output, never fully inflated).
std::string decompress_frame(std::string_view frame, size_t max_bytes);

}  // namespace pice::messages
