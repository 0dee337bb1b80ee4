// What the pump does when things go wrong: unknown peers, no peer yet, garbage on the wire,
// throwing handlers, addresses in use.

#include <gtest/gtest.h>
#include <spdlog/sinks/ringbuffer_sink.h>
#include <spdlog/spdlog.h>

#include <memory>
#include <string>
#include <vector>

#include "brokers/pump.hpp"
#include "pump_test_support.hpp"

namespace pice::brokers {
namespace {

using namespace testing;

struct Failure {
  std::string socket, peer, why;
  messages::Envelope envelope;
};

// Collects send failures; thread-safe.
class Failures {
 public:
  Pump::FailureHandler handler() {
    return [this](const std::string& socket, const std::string& peer, const messages::Envelope& envelope,
                  const std::string& why) {
      std::lock_guard lock(mutex_);
      failures_.push_back({socket, peer, why, envelope});
      changed_.notify_all();
    };
  }
  bool wait_for_count(size_t count) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, kTimeout, [&] { return failures_.size() >= count; });
  }
  std::vector<Failure> all() const {
    std::lock_guard lock(mutex_);
    return failures_;
  }

 private:
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<Failure> failures_;
};

TEST(PumpFailures, SendingToAnUnknownRouterPeerCallsTheFailureHandler) {
  Failures failures;
  Pump router("cloud");
  router.add_socket({"tasks", zmq::socket_type::router, unique_inproc("unknown-peer"), Direction::bind});
  router.on_send_failure(failures.handler());
  router.start();

  const messages::Envelope envelope = numbered("cloud", 7);
  router.send("tasks", envelope, "edge-that-never-was");
  ASSERT_TRUE(failures.wait_for_count(1));
  const Failure failure = failures.all()[0];
  EXPECT_EQ(failure.socket, "tasks");
  EXPECT_EQ(failure.peer, "edge-that-never-was");
  EXPECT_EQ(failure.why, "no such peer");
  messages::Envelope returned = failure.envelope;
  returned.sent_us = envelope.sent_us;  // stamped by the attempt to send; all else comes back as given
  EXPECT_EQ(returned, envelope) << "the handler gets the envelope back to re-dispatch it";
  EXPECT_EQ(router.stats().send_failures, 1u);
  EXPECT_EQ(router.stats().sent, 0u);
}

TEST(PumpFailures, MessageSentBeforeThePullSideExistsIsKeptAndDeliveredOnConnect) {
  for (const std::string transport : {"inproc", "tcp"}) {
    SCOPED_TRACE(transport);
    Failures failures;
    Pump sender("edge");
    sender.add_socket({"results", zmq::socket_type::push,
                       transport == "tcp" ? "tcp://127.0.0.1:*" : unique_inproc("before-pull"), Direction::bind});
    sender.on_send_failure(failures.handler());
    sender.start();

    constexpr int kCount = 5;
    for (int i = 0; i < kCount; ++i) sender.send("results", numbered("edge", i));
    // No peer: the pump must hold them (EAGAIN), not drop them.
    ASSERT_TRUE(eventually([&] { return sender.stats().waiting == kCount; })) << sender.stats().waiting;
    EXPECT_EQ(sender.stats().sent, 0u);

    Inbox inbox;
    Pump receiver("cloud");
    receiver.add_socket({"results", zmq::socket_type::pull, sender.endpoint("results"), Direction::connect},
                        inbox.handler());
    receiver.start();
    ASSERT_TRUE(inbox.wait_for_count(kCount));
    const auto got = inbox.messages();
    ASSERT_EQ(got.size(), size_t{kCount});
    for (int i = 0; i < kCount; ++i) EXPECT_EQ(seq_of(got[i].envelope), i);
    EXPECT_TRUE(eventually([&] { return sender.stats().waiting == 0 && sender.stats().sent == kCount; }))
        << sender.stats().waiting << " waiting, " << sender.stats().sent << " sent";
    EXPECT_TRUE(failures.all().empty());
  }
}

TEST(PumpFailures, ConnectBeforeBindDeliversOnceTheBinderAppears) {
  // inproc allows connecting to a name nobody has bound yet (an edge started before its cloud).
  const std::string endpoint = unique_inproc("connect-first");
  Pump edge("edge");
  edge.add_socket({"results", zmq::socket_type::push, endpoint, Direction::connect});
  edge.start();
  edge.send("results", numbered("edge", 0));
  edge.send("results", numbered("edge", 1));

  Inbox inbox;
  Pump cloud("cloud");
  cloud.add_socket({"results", zmq::socket_type::pull, endpoint, Direction::bind}, inbox.handler());
  cloud.start();
  ASSERT_TRUE(inbox.wait_for_count(2));
  EXPECT_EQ(seq_of(inbox.messages()[0].envelope), 0);
  EXPECT_EQ(seq_of(inbox.messages()[1].envelope), 1);
}

TEST(PumpFailures, MalformedBytesAreCountedRejectedLoggedAndThePumpGoesOn) {
  // Capture the log to check the rejection is reported, and rate limited.
  auto sink = std::make_shared<spdlog::sinks::ringbuffer_sink_mt>(1000);
  auto previous = spdlog::default_logger();
  spdlog::set_default_logger(std::make_shared<spdlog::logger>("capture", sink));

  Inbox inbox;
  Pump cloud("cloud");
  cloud.add_socket({"results", zmq::socket_type::pull, unique_inproc("malformed"), Direction::bind}, inbox.handler());
  cloud.start();

  // A raw socket (not a Pump) to put arbitrary bytes on the wire.
  zmq::socket_t raw(shared_context(), zmq::socket_type::push);
  raw.set(zmq::sockopt::linger, 0);
  raw.connect(cloud.endpoint("results"));
  const std::vector<std::string> garbage = {"", "not msgpack at all", std::string("\x81\xa1v\x63", 4),
                                            std::string(1, '\xc1'), std::string("\x93\x01\x02", 3)};
  constexpr int kRounds = 20;
  for (int round = 0; round < kRounds; ++round)
    for (const std::string& bytes : garbage) (void)raw.send(zmq::buffer(bytes));
  const std::string valid = messages::encode(numbered("edge", 42));
  (void)raw.send(zmq::buffer(valid));

  ASSERT_TRUE(inbox.wait_for_count(1));
  EXPECT_EQ(seq_of(inbox.messages()[0].envelope), 42);
  EXPECT_EQ(cloud.stats().rejected, uint64_t{kRounds * garbage.size()});
  EXPECT_EQ(cloud.stats().received, 1u);
  cloud.stop();

  spdlog::set_default_logger(previous);
  const std::vector<std::string> lines = sink->last_formatted();
  size_t rejection_lines = 0;
  for (const std::string& line : lines) {
    if (line.find("rejected") == std::string::npos) continue;
    ++rejection_lines;
    EXPECT_NE(line.find("[warning]"), std::string::npos) << line;
    EXPECT_NE(line.find("socket 'results'"), std::string::npos) << line;
    EXPECT_NE(line.find("pump 'cloud'"), std::string::npos) << line;
  }
  EXPECT_GE(rejection_lines, 1u);
  // 100 rejections arrive within far less than the 1 s window: at most one more line after the first.
  EXPECT_LE(rejection_lines, 2u) << "rejections are rate limited";
  raw.close();
}

TEST(PumpFailures, RouterRejectsGarbageFromARawDealerAndServesTheNextMessage) {
  Inbox inbox;
  Pump cloud("cloud");
  cloud.add_socket({"gateway", zmq::socket_type::router, unique_inproc("router-garbage"), Direction::bind}, inbox.handler());
  cloud.start();

  zmq::socket_t raw(shared_context(), zmq::socket_type::dealer);
  raw.set(zmq::sockopt::linger, 0);
  raw.set(zmq::sockopt::routing_id, "client-1");
  raw.connect(cloud.endpoint("gateway"));
  (void)raw.send(zmq::buffer(std::string("\xde\xad\xbe\xef", 4)));
  // Multipart with an empty delimiter, as a REQ-style client would send: the payload is the last frame.
  const std::string valid = messages::encode(numbered("client-1", 3));
  (void)raw.send(zmq::buffer(std::string()), zmq::send_flags::sndmore);
  (void)raw.send(zmq::buffer(valid));

  ASSERT_TRUE(inbox.wait_for_count(1));
  EXPECT_EQ(inbox.messages()[0].peer, "client-1");
  EXPECT_EQ(seq_of(inbox.messages()[0].envelope), 3);
  EXPECT_EQ(cloud.stats().rejected, 1u);
  raw.close();
}

TEST(PumpFailures, AHandlerThatThrowsDoesNotStopThePump) {
  Inbox inbox;
  auto record = inbox.handler();
  Pump cloud("cloud");
  cloud.add_socket({"results", zmq::socket_type::pull, unique_inproc("throwing"), Direction::bind},
                   [&](Inbound&& in) {
                     if (seq_of(in.envelope) == 0) throw std::runtime_error("handler bug");
                     if (seq_of(in.envelope) == 1) throw 42;   // not even a std::exception
                     record(std::move(in));
                   });
  cloud.start();
  Pump edge("edge");
  edge.add_socket({"results", zmq::socket_type::push, cloud.endpoint("results"), Direction::connect});
  edge.start();
  for (int i = 0; i < 3; ++i) edge.send("results", numbered("edge", i));
  ASSERT_TRUE(inbox.wait_for_count(1));
  EXPECT_EQ(seq_of(inbox.messages()[0].envelope), 2);
  EXPECT_EQ(cloud.stats().received, 3u);
}

TEST(PumpFailures, BindingAnAddressInUseMakesStartThrowNamingIt) {
  for (const std::string transport : {"inproc", "tcp"}) {
    SCOPED_TRACE(transport);
    Pump first("first");
    first.add_socket({"gateway", zmq::socket_type::router,
                      transport == "tcp" ? "tcp://127.0.0.1:*" : unique_inproc("in-use"), Direction::bind});
    first.start();
    const std::string taken = first.endpoint("gateway");

    Pump second("second");
    second.add_socket({"results", zmq::socket_type::pull, unique_inproc("free"), Direction::bind});
    second.add_socket({"gateway", zmq::socket_type::router, taken, Direction::bind});
    try {
      second.start();
      FAIL() << "start() did not throw";
    } catch (const EndpointError& e) {
      const std::string what = e.what();
      EXPECT_NE(what.find("pump 'second'"), std::string::npos) << what;
      EXPECT_NE(what.find("bind socket 'gateway' (ROUTER) to " + taken), std::string::npos) << what;
      EXPECT_NE(what.find("Address already in use"), std::string::npos) << what;
    }
    second.stop();   // nothing running: a no-op, not a hang
    EXPECT_THROW(second.start(), std::logic_error);
    EXPECT_THROW(second.send("results", numbered("x", 0)), std::invalid_argument) << "PULL cannot send";
  }
}

TEST(PumpFailures, BindingANonexistentInterfaceOrDirectoryThrows) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"tcp://no-such-interface-xyz:5555", "No such device"},
      {"ipc:///nonexistent-dir-pice/socket", "No such file or directory"},
  };
  for (const auto& [endpoint, reason] : cases) {
    SCOPED_TRACE(endpoint);
    Pump pump("node");
    pump.add_socket({"events", zmq::socket_type::pub, endpoint, Direction::bind});
    try {
      pump.start();
      FAIL() << "start() did not throw";
    } catch (const EndpointError& e) {
      EXPECT_NE(std::string(e.what()).find(endpoint), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find(reason), std::string::npos) << e.what();
    }
  }
}

TEST(PumpFailures, MisuseIsRefusedWithAClearError) {
  Pump pump("node");
  EXPECT_THROW(pump.add_socket({"x", zmq::socket_type::pull, "tcp://host:0", Direction::bind}), EndpointError);
  EXPECT_THROW(pump.add_socket({"", zmq::socket_type::pull, "inproc://a", Direction::bind}), std::invalid_argument);
  EXPECT_THROW(pump.add_socket({"x", zmq::socket_type::req, "inproc://a", Direction::bind}), std::invalid_argument);
  EXPECT_THROW(pump.add_socket({"x", zmq::socket_type::push, "inproc://a", Direction::bind}, [](Inbound&&) {}),
               std::invalid_argument);
  EXPECT_THROW(pump.add_socket({"x", zmq::socket_type::pull, "inproc://a", Direction::bind, "", {"topic"}}),
               std::invalid_argument);
  EXPECT_THROW(pump.add_socket({"x", zmq::socket_type::dealer, "inproc://a", Direction::connect, std::string(1, '\0')}),
               std::invalid_argument);
  EXPECT_THROW(pump.add_socket({"x", zmq::socket_type::dealer, "inproc://a", Direction::connect, std::string(256, 'a')}),
               std::invalid_argument);

  const std::string tasks = unique_inproc("misuse");
  pump.add_socket({"tasks", zmq::socket_type::router, tasks, Direction::bind});
  EXPECT_THROW(pump.add_socket({"tasks", zmq::socket_type::pull, "inproc://b", Direction::bind}), std::invalid_argument);
  pump.add_socket({"out", zmq::socket_type::push, unique_inproc("misuse"), Direction::bind});
  EXPECT_THROW(pump.endpoint("tasks"), std::logic_error) << "known only after start()";
  pump.start();
  EXPECT_EQ(pump.endpoint("tasks"), tasks);

  try {
    pump.send("nope", numbered("x", 0));
    FAIL() << "accepted an unknown socket";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("no socket 'nope'"), std::string::npos) << e.what();
  }
  EXPECT_THROW(pump.send("tasks", numbered("x", 0)), std::invalid_argument) << "ROUTER needs a peer";
  EXPECT_THROW(pump.send("out", numbered("x", 0), "peer"), std::invalid_argument) << "PUSH takes no peer";
  EXPECT_THROW(pump.add_socket({"late", zmq::socket_type::pull, "inproc://c", Direction::bind}), std::logic_error);
  EXPECT_THROW(pump.on_send_failure({}), std::logic_error);
  EXPECT_THROW(pump.start(), std::logic_error);
  EXPECT_EQ(pump.stats().send_failures, 0u);
}

}  // namespace
}  // namespace pice::brokers
