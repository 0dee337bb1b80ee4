// CURVE between pumps and through the events proxy over real tcp sockets: listed keys get through,
// unlisted and plain peers get nothing and the refusals are counted; inproc stays plain.
#include <gtest/gtest.h>

#include <memory>
#include <set>

#include "brokers/curve.hpp"
#include "brokers/event_proxy.hpp"
#include "brokers/pump.hpp"
#include "brokers/zap_handler.hpp"
#include "pump_test_support.hpp"
#include "tests/common/process.hpp"

namespace pice::brokers {
namespace {

using namespace testing;

// How long a peer that should get nothing is given to get something anyway.
constexpr auto kQuiet = std::chrono::seconds(2);

std::atomic<int> domain_counter{0};

struct Server {
  CurveKeyPair keys = generate_curve_key_pair();
  std::shared_ptr<AccessList> access;

  explicit Server(const std::set<std::string>& allowed)
      : access(std::make_shared<AccessList>("test-" + std::to_string(domain_counter++), allowed)) {}

  CurveSecurity security() const { return {keys, "", access}; }
  CurveSecurity client(const CurveKeyPair& client_keys) const { return {client_keys, keys.public_key, nullptr}; }
};

TEST(Curve, KeyPairsAreFreshZ85Text) {
  const CurveKeyPair a = generate_curve_key_pair();
  const CurveKeyPair b = generate_curve_key_pair();
  EXPECT_EQ(a.public_key.size(), kZ85KeyLength);
  EXPECT_EQ(a.secret_key.size(), kZ85KeyLength);
  EXPECT_NE(a.public_key, b.public_key);
  EXPECT_NE(a.secret_key, b.secret_key);
  char derived[kZ85KeyLength + 1] = {};
  ASSERT_EQ(zmq_curve_public(derived, a.secret_key.c_str()), 0);
  EXPECT_EQ(a.public_key, derived);
}

TEST(Curve, AppliesToTcpOnly) {
  EXPECT_TRUE(curve_applies("tcp://127.0.0.1:7700"));
  EXPECT_FALSE(curve_applies("inproc://pice-gateway"));
  EXPECT_FALSE(curve_applies("ipc:///tmp/pice-gateway"));
}

TEST(Curve, ConnectingWithoutServerKeyOrBindingWithoutAccessListIsRefused) {
  zmq::socket_t socket(shared_context(), zmq::socket_type::dealer);
  CurveSecurity no_server{generate_curve_key_pair(), "", nullptr};
  EXPECT_THROW(apply_curve(socket, no_server, Direction::connect, "tcp://127.0.0.1:1"), std::invalid_argument);
  EXPECT_THROW(apply_curve(socket, no_server, Direction::bind, "tcp://127.0.0.1:*"), std::invalid_argument);
  EXPECT_NO_THROW(apply_curve(socket, no_server, Direction::bind, "inproc://anything"));   // inproc: nothing to set
}

TEST(Curve, AListedClientIsHeardAndAnsweredAnUnlistedOneIsRefusedAndCounted) {
  const CurveKeyPair listed = generate_curve_key_pair();
  const CurveKeyPair unlisted = generate_curve_key_pair();
  Server server({listed.public_key});

  Inbox at_server;
  Pump cloud("cloud");
  cloud.add_socket({"tasks", zmq::socket_type::router, "tcp://127.0.0.1:*", Direction::bind}, at_server.handler());
  cloud.set_security(server.security());
  cloud.start();
  const std::string endpoint = cloud.endpoint("tasks");

  Inbox at_listed, at_unlisted;
  Pump good("good"), bad("bad");
  good.add_socket({"tasks", zmq::socket_type::dealer, endpoint, Direction::connect, "good"}, at_listed.handler());
  good.set_security(server.client(listed));
  bad.add_socket({"tasks", zmq::socket_type::dealer, endpoint, Direction::connect, "bad"}, at_unlisted.handler());
  bad.set_security(server.client(unlisted));
  good.start();
  bad.start();
  good.send("tasks", numbered("good", 1));
  bad.send("tasks", numbered("bad", 1));

  ASSERT_TRUE(at_server.wait_for_count(1));
  EXPECT_EQ(at_server.messages()[0].peer, "good");
  cloud.send("tasks", numbered("cloud", 1), "good");
  ASSERT_TRUE(at_listed.wait_for_count(1));
  EXPECT_TRUE(eventually([&] { return cloud.stats().auth_rejected >= 1; })) << cloud.stats().auth_rejected;

  // The refused peer is not one the cloud can reach, and nothing it sent arrived.
  cloud.send("tasks", numbered("cloud", 2), "bad");
  EXPECT_TRUE(eventually([&] { return cloud.stats().send_failures >= 1; }));
  EXPECT_FALSE(at_server.wait_for_count(2, kQuiet));
  EXPECT_EQ(at_unlisted.size(), 0u);
  EXPECT_EQ(at_server.size(), 1u);
}

TEST(Curve, APlainClientGetsNothingFromACurveServer) {
  Server server({});
  Pump cloud("cloud");
  cloud.add_socket({"results", zmq::socket_type::push, "tcp://127.0.0.1:*", Direction::bind});
  cloud.set_security(server.security());
  cloud.start();
  Inbox inbox;
  Pump plain("plain");
  plain.add_socket({"results", zmq::socket_type::pull, cloud.endpoint("results"), Direction::connect}, inbox.handler());
  plain.start();
  cloud.send("results", numbered("cloud", 1));
  EXPECT_FALSE(inbox.wait_for_count(1, kQuiet));
}

TEST(Curve, AClientThatTrustsAnotherServerKeyGetsNothing) {
  const CurveKeyPair client = generate_curve_key_pair();
  Server server({client.public_key});
  Pump cloud("cloud");
  cloud.add_socket({"results", zmq::socket_type::push, "tcp://127.0.0.1:*", Direction::bind});
  cloud.set_security(server.security());
  cloud.start();
  Inbox inbox;
  Pump edge("edge");
  edge.add_socket({"results", zmq::socket_type::pull, cloud.endpoint("results"), Direction::connect}, inbox.handler());
  edge.set_security({client, generate_curve_key_pair().public_key, nullptr});   // a man in the middle's key
  edge.start();
  cloud.send("results", numbered("cloud", 1));
  EXPECT_FALSE(inbox.wait_for_count(1, kQuiet));
}

TEST(Curve, InprocSocketsOfASecuredPumpStayPlain) {
  Server server({});
  const std::string endpoint = unique_inproc("curve");
  Pump cloud("cloud");
  cloud.add_socket({"results", zmq::socket_type::push, endpoint, Direction::bind});
  cloud.set_security(server.security());
  cloud.start();
  Inbox inbox;
  Pump local("local");
  local.add_socket({"results", zmq::socket_type::pull, endpoint, Direction::connect}, inbox.handler());
  local.start();
  cloud.send("results", numbered("cloud", 1));
  EXPECT_TRUE(inbox.wait_for_count(1));
}

TEST(Curve, TheEventsProxyAdmitsListedPublishersAndSubscribersOnly) {
  const CurveKeyPair board = generate_curve_key_pair();
  const CurveKeyPair monitor = generate_curve_key_pair();
  const CurveKeyPair stranger = generate_curve_key_pair();
  Server server({board.public_key, monitor.public_key});
  const int port = pice::testing::free_port_range(2);
  const std::string events = "tcp://127.0.0.1:" + std::to_string(port);
  const std::string watch = "tcp://127.0.0.1:" + std::to_string(port + 1);
  EventProxy proxy("proxy", {events}, {watch});
  proxy.set_security(server.security());
  proxy.start();

  Inbox seen, unseen;
  Pump listed_monitor("monitor"), stranger_monitor("stranger-monitor");
  listed_monitor.add_socket({"events", zmq::socket_type::sub, watch, Direction::connect}, seen.handler());
  listed_monitor.set_security(server.client(monitor));
  stranger_monitor.add_socket({"events", zmq::socket_type::sub, watch, Direction::connect}, unseen.handler());
  stranger_monitor.set_security(server.client(stranger));
  listed_monitor.start();
  stranger_monitor.start();

  Pump listed_board("board"), stranger_board("stranger-board");
  listed_board.add_socket({"events", zmq::socket_type::pub, events, Direction::connect});
  listed_board.set_security(server.client(board));
  stranger_board.add_socket({"events", zmq::socket_type::pub, events, Direction::connect});
  stranger_board.set_security(server.client(stranger));
  listed_board.start();
  stranger_board.start();

  // Pub/sub drops what precedes the subscription: publish until the listed monitor hears it.
  int sent = 0;
  ASSERT_TRUE(eventually([&] {
    listed_board.send("events", numbered("board", ++sent));
    stranger_board.send("events", numbered("stranger", sent));
    return seen.size() > 0;
  }));
  for (int i = 0; i < 20; ++i) {
    listed_board.send("events", numbered("board", ++sent));
    stranger_board.send("events", numbered("stranger", sent));
  }
  ASSERT_TRUE(seen.wait_for_count(10));
  EXPECT_EQ(unseen.size(), 0u);
  for (const Inbound& in : seen.messages()) EXPECT_EQ(in.envelope.sender, "board");
  EXPECT_GE(server.access->rejected(), 2u);   // the stranger's publisher and its monitor
  proxy.stop();
}

}  // namespace
}  // namespace pice::brokers
