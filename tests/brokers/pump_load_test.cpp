// Many threads and many messages: everything arrives exactly once, and in order per sender.

#include <gtest/gtest.h>

#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "brokers/pump.hpp"
#include "pump_test_support.hpp"

namespace pice::brokers {
namespace {

using namespace testing;

// Counts what arrives per sender and checks each sender's sequence numbers come in order.
class OrderChecker {
 public:
  Pump::Handler handler() {
    return [this](Inbound&& in) {
      std::lock_guard lock(mutex_);
      const int seq = seq_of(in.envelope);
      int& next = next_[in.envelope.sender];
      if (seq != next) ++out_of_order_;
      next = seq + 1;
      if (!seen_.insert(in.envelope.request_id).second) ++duplicates_;
      ++total_;
      changed_.notify_all();
    };
  }
  bool wait_for_total(size_t count, std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, timeout, [&] { return total_ >= count; });
  }
  size_t total() const { std::lock_guard lock(mutex_); return total_; }
  size_t distinct() const { std::lock_guard lock(mutex_); return seen_.size(); }
  size_t duplicates() const { std::lock_guard lock(mutex_); return duplicates_; }
  size_t out_of_order() const { std::lock_guard lock(mutex_); return out_of_order_; }
  std::map<std::string, int> next() const { std::lock_guard lock(mutex_); return next_; }

 private:
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::map<std::string, int> next_;
  std::set<std::string> seen_;
  size_t total_ = 0, duplicates_ = 0, out_of_order_ = 0;
};

TEST(PumpLoad, SendFromManyThreadsDeliversEverythingExactlyOnce) {
  for (const std::string transport : {"inproc", "tcp"}) {
    SCOPED_TRACE(transport);
    OrderChecker checker;
    Pump cloud("cloud");
    cloud.add_socket({"results", zmq::socket_type::pull,
                      transport == "tcp" ? "tcp://127.0.0.1:*" : unique_inproc("many-threads"), Direction::bind},
                     checker.handler());
    cloud.start();
    Pump edge("edge");
    edge.add_socket({"results", zmq::socket_type::push, cloud.endpoint("results"), Direction::connect});
    edge.start();

    constexpr int kThreads = 8;
    constexpr int kPerThread = 2000;
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&edge, t] {
        // Each thread is one sender: its messages must keep their order through the pump.
        for (int i = 0; i < kPerThread; ++i) edge.send("results", numbered("thread-" + std::to_string(t), i));
      });
    }
    for (std::thread& thread : threads) thread.join();

    ASSERT_TRUE(checker.wait_for_total(kThreads * kPerThread, 3 * kTimeout)) << checker.total();
    EXPECT_EQ(checker.distinct(), size_t{kThreads * kPerThread});
    EXPECT_EQ(checker.duplicates(), 0u);
    EXPECT_EQ(checker.out_of_order(), 0u);
    for (const auto& [sender, next] : checker.next()) EXPECT_EQ(next, kPerThread) << sender;
    EXPECT_TRUE(eventually([&] { return edge.stats().sent == kThreads * kPerThread; })) << edge.stats().sent;
    EXPECT_EQ(edge.stats().send_failures, 0u);
  }
}

TEST(PumpLoad, HundredThousandMessagesOverInprocArriveInOrderPerSender) {
  constexpr int kSenders = 2;
  constexpr int kPerSender = 50'000;
  OrderChecker checker;
  Pump cloud("cloud");
  cloud.add_socket({"results", zmq::socket_type::pull, unique_inproc("volume"), Direction::bind}, checker.handler());
  cloud.start();

  std::vector<std::unique_ptr<Pump>> edges;
  for (int s = 0; s < kSenders; ++s) {
    edges.push_back(std::make_unique<Pump>("edge-" + std::to_string(s)));
    edges.back()->add_socket({"results", zmq::socket_type::push, cloud.endpoint("results"), Direction::connect});
    edges.back()->start();
  }
  std::vector<std::thread> threads;
  for (int s = 0; s < kSenders; ++s) {
    threads.emplace_back([&, s] {
      for (int i = 0; i < kPerSender; ++i) edges[s]->send("results", numbered("edge-" + std::to_string(s), i));
    });
  }
  for (std::thread& thread : threads) thread.join();

  ASSERT_TRUE(checker.wait_for_total(kSenders * kPerSender, 6 * kTimeout)) << checker.total();
  EXPECT_EQ(checker.out_of_order(), 0u);
  EXPECT_EQ(checker.duplicates(), 0u);
  EXPECT_EQ(cloud.stats().received, uint64_t{kSenders * kPerSender});
  EXPECT_EQ(cloud.stats().rejected, 0u);
}

}  // namespace
}  // namespace pice::brokers
