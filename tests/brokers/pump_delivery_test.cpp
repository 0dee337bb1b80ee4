// Two pumps talking over real sockets, for every socket pattern PICE uses, over inproc and tcp.

#include <gtest/gtest.h>

#include <condition_variable>
#include <map>
#include <mutex>
#include <memory>
#include <set>
#include <string>

#include "brokers/pump.hpp"
#include "pump_test_support.hpp"

namespace pice::brokers {
namespace {

using namespace testing;

// A transport: where the binding side binds, and how the connecting side finds it after start().
class PumpDelivery : public ::testing::TestWithParam<std::string> {
 protected:
  std::string bind_endpoint() const {
    return GetParam() == "tcp" ? "tcp://127.0.0.1:*" : unique_inproc("delivery");
  }
};

TEST_P(PumpDelivery, PushToPullArrivesInOrder) {
  Pump sender("sender");
  sender.add_socket({"results", zmq::socket_type::push, bind_endpoint(), Direction::bind});
  sender.start();

  Inbox inbox;
  Pump receiver("receiver");
  receiver.add_socket({"results", zmq::socket_type::pull, sender.endpoint("results"), Direction::connect}, inbox.handler());
  receiver.start();

  constexpr int kCount = 50;
  for (int i = 0; i < kCount; ++i) sender.send("results", numbered("edge", i));
  ASSERT_TRUE(inbox.wait_for_count(kCount));
  const auto got = inbox.messages();
  ASSERT_EQ(got.size(), size_t{kCount});
  for (int i = 0; i < kCount; ++i) {
    EXPECT_EQ(got[i].socket, "results");
    EXPECT_EQ(got[i].peer, "");
    EXPECT_EQ(got[i].envelope.body, numbered("edge", i).body);
    EXPECT_EQ(got[i].envelope.request_id, "edge/" + std::to_string(i));
  }
  // Counted right after ZeroMQ takes a message, so possibly a moment after it arrived.
  EXPECT_TRUE(eventually([&] { return sender.stats().sent == kCount; })) << sender.stats().sent;
  EXPECT_EQ(receiver.stats().received, uint64_t{kCount});
  EXPECT_EQ(receiver.stats().rejected, 0u);
}

TEST_P(PumpDelivery, EnvelopeArrivesUnchanged) {
  Pump sender("sender");
  sender.add_socket({"out", zmq::socket_type::push, bind_endpoint(), Direction::bind});
  sender.start();
  Inbox inbox;
  Pump receiver("receiver");
  receiver.add_socket({"in", zmq::socket_type::pull, sender.endpoint("out"), Direction::connect}, inbox.handler());
  receiver.start();

  messages::Envelope envelope;
  envelope.request_id = "r-1";
  envelope.task_id = "t-7";
  envelope.sender = "cloud-a";
  envelope.created_us = 1'700'000'000'000'000;
  envelope.sent_us = 1'700'000'000'000'123;
  messages::ExpansionTask task;
  task.question = "Why is the sky blue?";
  task.sketch = {"Rayleigh scattering", "Shorter wavelengths", "Sunsets are red"};
  task.point_index = 1;
  task.point = "Shorter wavelengths";
  task.max_tokens = 48;
  task.deadline_us = 1'700'000'060'000'000;
  envelope.body = task;
  const int64_t before_send = messages::now_us();
  sender.send("out", envelope);
  ASSERT_TRUE(inbox.wait_for_count(1));
  messages::Envelope received = inbox.messages()[0].envelope;
  // The pump stamps the moment it sends and changes nothing else.
  EXPECT_GE(received.sent_us, before_send);
  EXPECT_LE(received.sent_us, messages::now_us());
  received.sent_us = envelope.sent_us;
  EXPECT_EQ(received, envelope);
}

TEST_P(PumpDelivery, DealerToRouterSeesRoutingIdAndRepliesAreAddressed) {
  // The router answers every message to the peer it came from, echoing its request id.
  Pump router("cloud");
  Inbox at_router;
  router.add_socket({"tasks", zmq::socket_type::router, bind_endpoint(), Direction::bind},
                    [&router, handler = at_router.handler()](Inbound&& in) mutable {
                      messages::Envelope reply = numbered("cloud", seq_of(in.envelope), "reply to " + in.peer);
                      reply.request_id = in.envelope.request_id;
                      router.send("tasks", reply, in.peer);
                      handler(std::move(in));
                    });
  router.start();

  const std::vector<std::string> ids = {"edge-a", "edge-b"};
  std::map<std::string, std::unique_ptr<Inbox>> replies;
  std::vector<std::unique_ptr<Pump>> edges;
  for (const std::string& id : ids) {
    replies[id] = std::make_unique<Inbox>();
    auto edge = std::make_unique<Pump>(id);
    edge->add_socket({"tasks", zmq::socket_type::dealer, router.endpoint("tasks"), Direction::connect, id},
                     replies[id]->handler());
    edge->start();
    edges.push_back(std::move(edge));
  }
  constexpr int kPerEdge = 5;
  for (int i = 0; i < kPerEdge; ++i)
    for (size_t e = 0; e < ids.size(); ++e) edges[e]->send("tasks", numbered(ids[e], i));

  ASSERT_TRUE(at_router.wait_for_count(kPerEdge * ids.size()));
  std::map<std::string, int> per_peer;
  for (const Inbound& in : at_router.messages()) {
    EXPECT_EQ(in.socket, "tasks");
    EXPECT_EQ(in.peer, in.envelope.sender) << "the peer is the DEALER's routing id";
    ++per_peer[in.peer];
  }
  EXPECT_EQ(per_peer, (std::map<std::string, int>{{"edge-a", kPerEdge}, {"edge-b", kPerEdge}}));

  for (const std::string& id : ids) {
    SCOPED_TRACE(id);
    ASSERT_TRUE(replies[id]->wait_for_count(kPerEdge));
    const auto got = replies[id]->messages();
    ASSERT_EQ(got.size(), size_t{kPerEdge}) << "each edge gets only its own replies";
    for (int i = 0; i < kPerEdge; ++i) {
      EXPECT_EQ(got[i].peer, "") << "a DEALER has no peer to report";
      EXPECT_EQ(got[i].envelope.request_id, id + "/" + std::to_string(i));
      EXPECT_EQ(std::get<messages::Request>(got[i].envelope.body).question, "reply to " + id);
    }
  }
  EXPECT_EQ(router.stats().send_failures, 0u);
}

TEST_P(PumpDelivery, PubToLateSubscriber) {
  Pump publisher("cloud");
  publisher.add_socket({"events", zmq::socket_type::pub, bind_endpoint(), Direction::bind});
  publisher.start();

  Inbox inbox;
  Pump subscriber("monitor");
  subscriber.add_socket({"events", zmq::socket_type::sub, publisher.endpoint("events"), Direction::connect}, inbox.handler());
  subscriber.start();

  // Slow joiner: what is published before the subscription reaches the publisher is gone, so repeat
  // like a heartbeat until one arrives.
  int published = 0;
  const auto deadline = std::chrono::steady_clock::now() + kTimeout;
  while (inbox.size() == 0 && std::chrono::steady_clock::now() < deadline) {
    messages::Envelope beat;
    beat.sender = "cloud";
    beat.request_id = std::to_string(published++);
    messages::Heartbeat heartbeat;
    heartbeat.node_id = "cloud";
    heartbeat.role = "cloud";
    heartbeat.batch_slots = 4;
    beat.body = heartbeat;
    publisher.send("events", beat);
    inbox.wait_for_count(1, 10ms);
  }
  ASSERT_GE(inbox.size(), 1u) << "no heartbeat arrived after " << published << " were published";
  const Inbound first = inbox.messages()[0];
  EXPECT_EQ(first.socket, "events");
  EXPECT_EQ(first.envelope.type(), messages::MessageType::heartbeat);
  EXPECT_EQ(std::get<messages::Heartbeat>(first.envelope.body).batch_slots, 4);
  EXPECT_EQ(publisher.stats().send_failures, 0u) << "PUB never fails or blocks, subscribers or not";
}

TEST_P(PumpDelivery, RouterSendsManyRepliesToOneDealerWithoutLoss) {
  // Enough to fill the high-water marks on the way, so some sends meet EAGAIN and wait for POLLOUT.
  constexpr int kCount = 20000;
  Pump router("cloud");
  Inbox hello;
  router.add_socket({"tasks", zmq::socket_type::router, bind_endpoint(), Direction::bind}, hello.handler());
  router.start();

  std::mutex mutex;
  std::condition_variable done;
  int received = 0;
  bool in_order = true;
  Pump edge("edge");
  edge.add_socket({"tasks", zmq::socket_type::dealer, router.endpoint("tasks"), Direction::connect, "edge-1"},
                  [&](Inbound&& in) {
                    std::lock_guard lock(mutex);
                    in_order = in_order && seq_of(in.envelope) == received;
                    if (++received == kCount) done.notify_all();
                  });
  edge.start();
  edge.send("tasks", numbered("edge-1", 0, "hello"));   // the router learns the peer from this
  ASSERT_TRUE(hello.wait_for_count(1));

  for (int i = 0; i < kCount; ++i) router.send("tasks", numbered("cloud", i), "edge-1");
  std::unique_lock lock(mutex);
  ASSERT_TRUE(done.wait_for(lock, 3 * kTimeout, [&] { return received == kCount; })) << received << " arrived";
  EXPECT_TRUE(in_order);
  EXPECT_EQ(router.stats().send_failures, 0u);
  EXPECT_TRUE(eventually([&] { return router.stats().sent == kCount; })) << router.stats().sent;
}

INSTANTIATE_TEST_SUITE_P(Transports, PumpDelivery, ::testing::Values("inproc", "tcp"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace pice::brokers
