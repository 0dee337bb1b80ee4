#include "brokers/endpoints.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace pice::brokers {
namespace {

struct DeriveCase {
  std::string base;
  ServiceEndpoints expected;
};

TEST(DeriveEndpoints, DerivesTheFiveServiceEndpointsForEveryTransport) {
  const std::vector<DeriveCase> cases = {
      {"tcp://127.0.0.1:5555", {"tcp://127.0.0.1:5555", "tcp://127.0.0.1:5556", "tcp://127.0.0.1:5557", "tcp://127.0.0.1:5558", "tcp://127.0.0.1:5559"}},
      {"tcp://*:7000", {"tcp://*:7000", "tcp://*:7001", "tcp://*:7002", "tcp://*:7003", "tcp://*:7004"}},
      {"tcp://cloud.example.org:1", {"tcp://cloud.example.org:1", "tcp://cloud.example.org:2", "tcp://cloud.example.org:3", "tcp://cloud.example.org:4", "tcp://cloud.example.org:5"}},
      {"tcp://[::1]:65531", {"tcp://[::1]:65531", "tcp://[::1]:65532", "tcp://[::1]:65533", "tcp://[::1]:65534", "tcp://[::1]:65535"}},
      {"ipc:///tmp/pice", {"ipc:///tmp/pice-gateway", "ipc:///tmp/pice-tasks", "ipc:///tmp/pice-results", "ipc:///tmp/pice-events", "ipc:///tmp/pice-monitor"}},
      {"ipc://@pice", {"ipc://@pice-gateway", "ipc://@pice-tasks", "ipc://@pice-results", "ipc://@pice-events", "ipc://@pice-monitor"}},
      {"inproc://pice", {"inproc://pice-gateway", "inproc://pice-tasks", "inproc://pice-results", "inproc://pice-events", "inproc://pice-monitor"}},
  };
  for (const DeriveCase& c : cases) {
    SCOPED_TRACE(c.base);
    const ServiceEndpoints got = derive_endpoints(c.base);
    EXPECT_EQ(got.gateway, c.expected.gateway);
    EXPECT_EQ(got.tasks, c.expected.tasks);
    EXPECT_EQ(got.results, c.expected.results);
    EXPECT_EQ(got.events, c.expected.events);
    EXPECT_EQ(got.monitor, c.expected.monitor);
  }
}

TEST(LocalConnectEndpoint, WildcardHostsBecomeLoopback) {
  EXPECT_EQ(local_connect_endpoint("tcp://*:7700"), "tcp://127.0.0.1:7700");
  EXPECT_EQ(local_connect_endpoint("tcp://0.0.0.0:7700"), "tcp://127.0.0.1:7700");
  EXPECT_EQ(local_connect_endpoint("tcp://10.1.2.3:7700"), "tcp://10.1.2.3:7700");
  EXPECT_EQ(local_connect_endpoint("inproc://pice-gateway"), "inproc://pice-gateway");
}

struct BadCase {
  std::string endpoint;
  std::string problem;   // a fragment the message must contain
};

// Each message must name the endpoint and say what is wrong with it.
void expect_rejected(const BadCase& c, void (*check)(std::string_view)) {
  SCOPED_TRACE("'" + c.endpoint + "'");
  try {
    check(c.endpoint);
    ADD_FAILURE() << "accepted";
  } catch (const EndpointError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("'" + c.endpoint + "'"), std::string::npos) << what;
    EXPECT_NE(what.find(c.problem), std::string::npos) << what;
  }
}

TEST(DeriveEndpoints, RejectsBadBasesNamingTheProblem) {
  const std::vector<BadCase> cases = {
      {"", "empty"},
      {"localhost:5555", "no transport"},
      {"udp://host:5555", "unsupported transport 'udp'"},
      {"TCP://host:5555", "unsupported transport 'TCP'"},
      {"tcp://", "empty tcp address"},
      {"tcp://:5555", "empty host"},
      {"tcp://host", "no port"},
      {"tcp://host:", "empty port"},
      {"tcp://host:abc", "port 'abc' is not a number"},
      {"tcp://host:-1", "port '-1' is not a number"},
      {"tcp://host:12x", "port '12x' is not a number"},
      {"tcp://host:0", "port 0 is outside 1..65535"},
      {"tcp://host:99999", "outside 1..65535"},
      {"tcp://host:65532", "leaves no room for the 5 derived ports"},
      {"tcp://host:65535", "leaves no room"},
      {"tcp://host:*", "port '*' cannot be used here"},
      {"tcp://::1:5555", "brackets"},
      {"tcp://[::1:5555", "brackets"},
      {"tcp://host:5555 ", "whitespace"},
      {"tcp://ho st:5555", "whitespace"},
      {"ipc://", "empty ipc address"},
      {"ipc:///tmp/" + std::string(100, 'x'), "longer than the 107"},
      {"inproc://", "empty inproc address"},
  };
  for (const BadCase& c : cases) expect_rejected(c, [](std::string_view e) { (void)derive_endpoints(e); });
}

TEST(ValidateEndpoint, AcceptsSingleEndpointsIncludingAnEphemeralPort) {
  for (const char* endpoint : {"tcp://127.0.0.1:5555", "tcp://*:*", "tcp://127.0.0.1:*", "tcp://[::1]:65535",
                               "tcp://eth0:1", "ipc:///tmp/x.sock", "inproc://a"}) {
    SCOPED_TRACE(endpoint);
    EXPECT_NO_THROW(validate_endpoint(endpoint));
  }
}

TEST(ValidateEndpoint, RejectsMalformedEndpoints) {
  const std::vector<BadCase> cases = {
      {"", "empty"},
      {"tcp://host:0", "outside 1..65535"},
      {"tcp://host:65536", "outside 1..65535"},
      {"tcp://:*", "empty host"},
      {"pgm://eth0;239.192.1.1:5555", "unsupported transport 'pgm'"},
      {"inproc://", "empty inproc address"},
      {"ipc://a\nb", "control character"},
  };
  for (const BadCase& c : cases) expect_rejected(c, validate_endpoint);
}

TEST(DeriveEndpoints, ErrorMessagesNameTheBase) {
  // The error names the base as the user wrote it, so they find it in their config.
  try {
    derive_endpoints("tcp://cloud:70000");
    FAIL() << "accepted";
  } catch (const EndpointError& e) {
    EXPECT_STREQ(e.what(), "endpoint 'tcp://cloud:70000': port 70000 is outside 1..65535");
  }
}

}  // namespace
}  // namespace pice::brokers
