#pragma once
// Internal to messages/: the envelope's wire keys, shared by encode.cpp and decode.cpp.
// Short on purpose: they are repeated in every message. Never change one (append new keys instead).
#include <cstdint>
#include <string_view>

namespace pice::messages::detail {

inline constexpr std::string_view kKeyVersion = "v";
inline constexpr std::string_view kKeyType = "type";
inline constexpr std::string_view kKeyRequestId = "rid";
inline constexpr std::string_view kKeyTaskId = "tid";
inline constexpr std::string_view kKeySender = "from";
inline constexpr std::string_view kKeyCreated = "t0";
inline constexpr std::string_view kKeySent = "ts";
inline constexpr std::string_view kKeyBody = "body";
inline constexpr std::string_view kKeyTo = "to";   // written only when set
inline constexpr uint32_t kEnvelopeKeys = 9;       // every key a decoder knows

}  // namespace pice::messages::detail
