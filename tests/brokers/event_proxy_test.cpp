#include "brokers/event_proxy.hpp"

#include <gtest/gtest.h>

#include <zmq.hpp>

#include "brokers/context.hpp"
#include "brokers/endpoints.hpp"
#include "messages/envelope.hpp"

namespace pice::brokers {
namespace {

std::string heartbeat_bytes(const std::string& node) {
  messages::Envelope env;
  env.sender = node;
  messages::Heartbeat hb;
  hb.node_id = node;
  env.body = hb;
  return messages::encode(env);
}

// Publishes until the subscriber has something (pub/sub drops what is sent before a subscription
// has travelled through the proxy), bounded by `attempts` polls of 20 ms.
std::optional<std::string> publish_until_received(zmq::socket_t& pub, zmq::socket_t& sub, const std::string& bytes,
                                                  int attempts = 250) {
  for (int i = 0; i < attempts; ++i) {
    pub.send(zmq::buffer(bytes), zmq::send_flags::dontwait);
    zmq::pollitem_t item{sub.handle(), 0, ZMQ_POLLIN, 0};
    zmq::poll(&item, 1, std::chrono::milliseconds(20));
    if (item.revents & ZMQ_POLLIN) {
      zmq::message_t msg;
      if (sub.recv(msg, zmq::recv_flags::dontwait)) return msg.to_string();
    }
  }
  return std::nullopt;
}

TEST(EventProxy, ForwardsEveryPublisherToEverySubscriber) {
  EventProxy proxy("test", {"inproc://proxy-test-in"}, {"inproc://proxy-test-out"});
  proxy.start();
  zmq::socket_t pub_a(shared_context(), zmq::socket_type::pub), pub_b(shared_context(), zmq::socket_type::pub);
  zmq::socket_t sub(shared_context(), zmq::socket_type::sub);
  for (auto* s : {&pub_a, &pub_b, &sub}) s->set(zmq::sockopt::linger, 0);
  pub_a.connect("inproc://proxy-test-in");
  pub_b.connect("inproc://proxy-test-in");
  sub.set(zmq::sockopt::subscribe, "");
  sub.connect("inproc://proxy-test-out");
  auto from_a = publish_until_received(pub_a, sub, heartbeat_bytes("a"));
  ASSERT_TRUE(from_a);
  EXPECT_EQ(messages::decode(*from_a).sender, "a");
  // Drain anything else a's loop left, then b's messages arrive through the same subscription.
  std::optional<std::string> from_b;
  for (int i = 0; i < 250 && (!from_b || messages::decode(*from_b).sender != "b"); ++i)
    from_b = publish_until_received(pub_b, sub, heartbeat_bytes("b"), 1);
  ASSERT_TRUE(from_b);
  EXPECT_EQ(messages::decode(*from_b).sender, "b");
  proxy.stop();
}

TEST(EventProxy, StopIsPromptIdempotentAndFreesTheEndpoints) {
  for (int round = 0; round < 3; ++round) {
    EventProxy proxy("again", {"inproc://proxy-again-in"}, {"inproc://proxy-again-out"});
    proxy.start();  // would throw if the previous round had not released the names
    proxy.stop();
    proxy.stop();
  }
}

TEST(EventProxy, BindFailureNamesTheEndpoint) {
  EventProxy first("first", {"inproc://proxy-taken-in"}, {"inproc://proxy-taken-out"});
  first.start();
  EventProxy second("second", {"inproc://proxy-taken-in"}, {"inproc://proxy-other-out"});
  try {
    second.start();
    ADD_FAILURE() << "a second bind of the same endpoint succeeded";
  } catch (const EndpointError& e) {
    EXPECT_NE(std::string(e.what()).find("inproc://proxy-taken-in"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace pice::brokers
