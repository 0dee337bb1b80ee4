#include "brokers/endpoints.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <cstdint>
#include <optional>

namespace pice::brokers {
namespace {

constexpr std::array<std::string_view, kServiceEndpointCount> kServiceSuffixes = {"gateway", "tasks", "results", "events", "monitor"};
constexpr int kServiceCount = static_cast<int>(kServiceSuffixes.size());
constexpr int kMaxPort = 65535;
// sockaddr_un.sun_path holds 108 bytes including the terminating NUL.
constexpr size_t kMaxIpcPathBytes = 107;

[[noreturn]] void fail(std::string_view endpoint, std::string_view problem) {
  throw EndpointError("endpoint '" + std::string(endpoint) + "': " + std::string(problem));
}

struct Parsed {
  std::string_view scheme;   // "tcp", "ipc", "inproc"
  std::string_view address;  // everything after "://"
};

Parsed split_scheme(std::string_view endpoint) {
  if (endpoint.empty()) fail(endpoint, "is empty (expected tcp://HOST:PORT, ipc://PATH or inproc://NAME)");
  const auto bad_char = std::find_if(endpoint.begin(), endpoint.end(), [](unsigned char c) {
    return std::isspace(c) || std::iscntrl(c);
  });
  if (bad_char != endpoint.end()) fail(endpoint, "contains whitespace or a control character");
  const size_t sep = endpoint.find("://");
  if (sep == std::string_view::npos)
    fail(endpoint, "has no transport (expected tcp://HOST:PORT, ipc://PATH or inproc://NAME)");
  Parsed parsed{endpoint.substr(0, sep), endpoint.substr(sep + 3)};
  if (parsed.scheme != "tcp" && parsed.scheme != "ipc" && parsed.scheme != "inproc")
    fail(endpoint, "unsupported transport '" + std::string(parsed.scheme) + "' (expected tcp, ipc or inproc)");
  if (parsed.address.empty()) fail(endpoint, "has an empty " + std::string(parsed.scheme) + " address");
  return parsed;
}

struct HostPort {
  std::string_view host;
  std::string_view port;  // digits or "*"
};

HostPort split_host_port(std::string_view endpoint, std::string_view address) {
  const size_t colon = address.rfind(':');
  if (colon == std::string_view::npos) fail(endpoint, "has no port (expected tcp://HOST:PORT)");
  HostPort hp{address.substr(0, colon), address.substr(colon + 1)};
  if (hp.host.empty()) fail(endpoint, "has an empty host (use '*' to bind every interface)");
  if (hp.port.empty()) fail(endpoint, "has an empty port");
  // A bare IPv6 address would make the port ambiguous: libzmq wants it in brackets.
  if (hp.host.front() != '[' && hp.host.find(':') != std::string_view::npos)
    fail(endpoint, "host '" + std::string(hp.host) + "' looks like an IPv6 address: write it in brackets, e.g. tcp://[::1]:5555");
  if (hp.host.front() == '[' && (hp.host.size() < 3 || hp.host.back() != ']'))
    fail(endpoint, "host '" + std::string(hp.host) + "' has unbalanced or empty brackets");
  return hp;
}

// Port number, or nullopt for "*"; throws for anything else outside 1..kMaxPort.
std::optional<int> parse_port(std::string_view endpoint, std::string_view port, bool allow_wildcard) {
  if (port == "*") {
    if (!allow_wildcard) fail(endpoint, "port '*' cannot be used here: the service ports are derived from the base port");
    return std::nullopt;
  }
  int value = 0;
  const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (ec != std::errc() || end != port.data() + port.size() || !std::isdigit(static_cast<unsigned char>(port.front())))
    fail(endpoint, "port '" + std::string(port) + "' is not a number");
  if (value < 1 || value > kMaxPort)
    fail(endpoint, "port " + std::string(port) + " is outside 1.." + std::to_string(kMaxPort));
  return value;
}

void check_ipc_path(std::string_view endpoint, std::string_view path) {
  if (path.size() > kMaxIpcPathBytes)
    fail(endpoint, "ipc path is " + std::to_string(path.size()) + " bytes, longer than the " +
                       std::to_string(kMaxIpcPathBytes) + " a Unix socket address holds");
}

}  // namespace

void validate_endpoint(std::string_view endpoint) {
  const Parsed parsed = split_scheme(endpoint);
  if (parsed.scheme == "tcp") {
    const HostPort hp = split_host_port(endpoint, parsed.address);
    parse_port(endpoint, hp.port, /*allow_wildcard=*/true);
  } else if (parsed.scheme == "ipc") {
    check_ipc_path(endpoint, parsed.address);
  }
}

std::string local_connect_endpoint(std::string_view bound) {
  for (std::string_view wildcard : {"tcp://*:", "tcp://0.0.0.0:"})
    if (bound.substr(0, wildcard.size()) == wildcard)
      return "tcp://127.0.0.1:" + std::string(bound.substr(wildcard.size()));
  return std::string(bound);
}

ServiceEndpoints derive_endpoints(std::string_view base) {
  const Parsed parsed = split_scheme(base);
  std::array<std::string, kServiceCount> derived;
  if (parsed.scheme == "tcp") {
    const HostPort hp = split_host_port(base, parsed.address);
    const int port = *parse_port(base, hp.port, /*allow_wildcard=*/false);
    if (port > kMaxPort - (kServiceCount - 1))
      fail(base, "base port " + std::to_string(port) + " leaves no room for the " + std::to_string(kServiceCount) +
                     " derived ports (use 1.." + std::to_string(kMaxPort - (kServiceCount - 1)) + ")");
    for (int i = 0; i < kServiceCount; ++i)
      derived[i] = "tcp://" + std::string(hp.host) + ":" + std::to_string(port + i);
  } else {
    for (int i = 0; i < kServiceCount; ++i) derived[i] = std::string(base) + "-" + std::string(kServiceSuffixes[i]);
    if (parsed.scheme == "ipc") {
      // The longest derived path must still fit; name the base, which is what the user wrote.
      for (const std::string& endpoint : derived) {
        const std::string_view path = std::string_view(endpoint).substr(std::string_view("ipc://").size());
        if (path.size() > kMaxIpcPathBytes)
          fail(base, "derived ipc path '" + std::string(path) + "' is " + std::to_string(path.size()) +
                         " bytes, longer than the " + std::to_string(kMaxIpcPathBytes) +
                         " a Unix socket address holds");
      }
    }
  }
  return ServiceEndpoints{std::move(derived[0]), std::move(derived[1]), std::move(derived[2]), std::move(derived[3]),
                          std::move(derived[4])};
}

}  // namespace pice::brokers
