#pragma once
// What the gateway accepts from a client. Limits are named here so that clients, tests and
// docs can refer to one place.
#include <optional>
#include <string>

#include "messages/bodies.hpp"

namespace pice::actors {

inline constexpr size_t kMaxQuestionBytes = 16 * 1024;
inline constexpr size_t kMaxRequestIdBytes = 128;
inline constexpr int kMaxPoints = 32;
inline constexpr int kMaxWordsPerPoint = 64;
inline constexpr int kMaxTokensPerPoint = 4096;
inline constexpr size_t kMaxStopSequences = 4;
inline constexpr size_t kMaxStopBytes = 256;
inline constexpr int kMaxEnsemble = 16;   // copies of a point (the [ensemble] k of one request)

// The modes this build can serve, as listed in errors: "pice, sot, route, cloud-only".
bool known_mode(const std::string& mode);
const std::string& known_modes_text();

// nullopt when the request can be served, else what is wrong with it (naming the field and value).
std::optional<std::string> check_request(const messages::Request& request, const std::string& request_id);

}  // namespace pice::actors
