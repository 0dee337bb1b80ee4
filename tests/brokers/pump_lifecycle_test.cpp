// start()/stop(): prompt, idempotent, and nothing lost in silence.

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "brokers/pump.hpp"
#include "pump_test_support.hpp"

namespace pice::brokers {
namespace {

using namespace testing;

TEST(PumpLifecycle, StopIsPromptAndIdempotent) {
  Pump unstarted("unstarted");
  unstarted.stop();   // never started: nothing to do
  unstarted.stop();

  Pump pump("node");
  const std::string base = unique_inproc("lifecycle");
  const ServiceEndpoints endpoints = derive_endpoints(base);
  pump.add_socket({"gateway", zmq::socket_type::router, endpoints.gateway, Direction::bind}, [](Inbound&&) {});
  pump.add_socket({"tasks", zmq::socket_type::router, endpoints.tasks, Direction::bind}, [](Inbound&&) {});
  pump.add_socket({"results", zmq::socket_type::pull, endpoints.results, Direction::bind}, [](Inbound&&) {});
  pump.add_socket({"events", zmq::socket_type::pub, endpoints.events, Direction::bind});
  pump.add_socket({"upstream", zmq::socket_type::dealer, "tcp://127.0.0.1:9", Direction::connect, "node"},
                  [](Inbound&&) {});
  pump.start();
  // Pending work on a connection that never comes up must not hold stop() (linger is bounded).
  for (int i = 0; i < 10; ++i) pump.send("upstream", numbered("node", i));

  const auto begin = std::chrono::steady_clock::now();
  pump.stop();
  const auto took = std::chrono::steady_clock::now() - begin;
  EXPECT_LT(took, std::chrono::seconds(1)) << "stop() took "
                                           << std::chrono::duration_cast<std::chrono::milliseconds>(took).count() << " ms";
  pump.stop();   // idempotent

  // The endpoints are free again: a new pump can bind them.
  Pump again("again");
  again.add_socket({"gateway", zmq::socket_type::router, endpoints.gateway, Direction::bind});
  EXPECT_NO_THROW(again.start());
}

TEST(PumpLifecycle, ConcurrentStopCallsAreSafe) {
  Pump pump("node");
  pump.add_socket({"results", zmq::socket_type::pull, unique_inproc("concurrent-stop"), Direction::bind}, [](Inbound&&) {});
  pump.start();
  std::vector<std::thread> stoppers;
  for (int i = 0; i < 4; ++i) stoppers.emplace_back([&] { pump.stop(); });
  for (std::thread& t : stoppers) t.join();
}

TEST(PumpLifecycle, MessagesStillWaitingAtStopAreReportedNotLost) {
  std::mutex mutex;
  std::vector<std::string> reasons;
  Pump pump("edge");
  pump.add_socket({"results", zmq::socket_type::push, unique_inproc("waiting-at-stop"), Direction::bind});
  pump.on_send_failure([&](const std::string& socket, const std::string&, const messages::Envelope& envelope,
                           const std::string& why) {
    std::lock_guard lock(mutex);
    EXPECT_EQ(socket, "results");
    EXPECT_EQ(envelope.sender, "edge");
    reasons.push_back(why);
  });
  pump.start();
  for (int i = 0; i < 3; ++i) pump.send("results", numbered("edge", i));
  ASSERT_TRUE(eventually([&] { return pump.stats().waiting == 3; }));
  pump.stop();

  std::lock_guard lock(mutex);
  ASSERT_EQ(reasons.size(), 3u);
  for (const std::string& why : reasons) EXPECT_NE(why.find("stopped"), std::string::npos) << why;
  EXPECT_EQ(pump.stats().send_failures, 3u);
  EXPECT_EQ(pump.stats().waiting, 0u);

  pump.send("results", numbered("edge", 99));   // after stop: counted, never blocks or throws
  EXPECT_EQ(pump.stats().send_failures, 4u);
}

TEST(PumpLifecycle, MessagesSentBeforeStartGoOutOnStart) {
  Inbox inbox;
  Pump cloud("cloud");
  cloud.add_socket({"results", zmq::socket_type::pull, unique_inproc("before-start"), Direction::bind}, inbox.handler());
  cloud.start();
  Pump edge("edge");
  edge.add_socket({"results", zmq::socket_type::push, cloud.endpoint("results"), Direction::connect});
  edge.send("results", numbered("edge", 0));   // queued: the socket does not exist yet
  edge.start();
  ASSERT_TRUE(inbox.wait_for_count(1));
  EXPECT_EQ(inbox.messages()[0].envelope.request_id, "edge/0");
}

TEST(PumpLifecycle, APumpCanBeMovedWhileRunning) {
  Inbox inbox;
  Pump cloud("cloud");
  cloud.add_socket({"results", zmq::socket_type::pull, unique_inproc("moved"), Direction::bind}, inbox.handler());
  cloud.start();
  Pump edge("edge");
  edge.add_socket({"results", zmq::socket_type::push, cloud.endpoint("results"), Direction::connect});
  edge.start();
  Pump moved = std::move(edge);
  moved.send("results", numbered("edge", 5));
  ASSERT_TRUE(inbox.wait_for_count(1));
  EXPECT_EQ(moved.name(), "edge");
}

}  // namespace
}  // namespace pice::brokers
