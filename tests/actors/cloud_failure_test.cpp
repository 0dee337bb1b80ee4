// A cloud that dies mid-request: its client is told at once, with a clear error, instead of waiting
// for its timeout (the request's state died with the cloud; nothing else could answer it).
#include <gtest/gtest.h>

#include <atomic>
#include <csignal>
#include <thread>

#include "tests/actors/fleet_process_support.hpp"

namespace pice::testing {
namespace {

TEST(CloudFailure, AClientOfAKilledCloudGetsAClearErrorAtOnce) {
  TempDir dir;
  const std::string address = loopback_address();
  // No edges and long expansions: the cloud is busy with the request when it dies.
  auto cloud = start_node(dir, "cloud", cloud_toml("listen = \"" + address + "\"\n", 4000, "synth:demo"));
  std::atomic<bool> first_chunk{false};
  actors::Answer answer;
  std::chrono::steady_clock::time_point returned;
  std::thread client([&] {
    actors::GatewayClient gateway(brokers::derive_endpoints(address).gateway);
    messages::Request request;
    request.question = "How do I plan a long trip?";
    answer = gateway.ask(request, 120000, [&](const messages::AnswerChunk&) { first_chunk = true; });
    returned = std::chrono::steady_clock::now();
  });
  const bool started = wait_until([&] { return first_chunk.load(); }, std::chrono::seconds(60));
  const auto killed = std::chrono::steady_clock::now();
  kill(cloud->pid(), SIGKILL);
  client.join();
  ASSERT_TRUE(started) << cloud->stderr_text();
  EXPECT_FALSE(answer.complete());
  EXPECT_NE(answer.error.find("lost the connection to the gateway"), std::string::npos) << answer.error;
  EXPECT_LT(returned - killed, std::chrono::seconds(20)) << "the client waited as if the cloud were alive";
}

}  // namespace
}  // namespace pice::testing
