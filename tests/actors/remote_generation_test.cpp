// The sketch parser of a remote cloud model: points leave as their lines complete, list markers and
// preambles are dropped, and a point is held to the word budget.
#include "actors/remote_generation.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <thread>

#include "tests/common/process.hpp"

namespace pice::actors {
namespace {

TEST(SketchLines, APointLeavesWhenItsLineEnds) {
  SketchLines lines(6);
  EXPECT_TRUE(lines.feed("Here is the skeleton:\n1. Water").empty());
  EXPECT_TRUE(lines.feed(" sparingly").empty());
  EXPECT_EQ(lines.feed("\n2) Bright light\n\n- Repot"), (std::vector<std::string>{"Water sparingly", "Bright light"}));
  EXPECT_EQ(lines.finish(), "Repot");
  EXPECT_EQ(lines.finish(), std::nullopt);
}

TEST(SketchLines, LongPointsAreCutToTheWordBudget) {
  SketchLines lines(3);
  EXPECT_EQ(lines.feed("3. one two   three four five\n*\n\xE2\x80\xA2 Tea\n"), (std::vector<std::string>{"one two three", "Tea"}));
  EXPECT_EQ(lines.feed("12.\n"), std::vector<std::string>{});  // a bare number is no point
}

TEST(RemoteOptions, ComeFromTheTask) {
  messages::ExpansionTask task;
  task.point_index = 2;
  task.point = "Bright light";
  task.max_tokens = 40;
  task.temperature = 0.3;
  task.top_p = 0.9;
  task.seed = 7;
  task.ignore_eos = true;
  const kernels::RemoteOptions options = remote_options(task);
  EXPECT_EQ(options.max_tokens, 40);
  EXPECT_DOUBLE_EQ(options.temperature, 0.3);
  EXPECT_DOUBLE_EQ(options.top_p, 0.9);
  EXPECT_EQ(options.seed, 7u);
  EXPECT_TRUE(options.ignore_eos);
  EXPECT_EQ(options.stop, expansion_stops(task));
}

// A one-request SSE server on a real socket: it streams the first line of a list, and the second only
// once the test says the first point has arrived, so the sketch can only pass if each point leaves
// as its line completes (the pipelining the scheduler relies on), not when the stream ends.
TEST(RemoteSketch, EachPointLeavesBeforeTheServerWritesTheNext) {
  namespace asio = boost::asio;
  asio::io_context io;
  asio::ip::tcp::acceptor acceptor(io, {asio::ip::make_address("127.0.0.1"), 0});
  const int port = acceptor.local_endpoint().port();
  std::atomic<bool> first_point_seen{false}, second_line_sent_early{false};
  std::string request_head;
  std::thread server([&] {
    asio::ip::tcp::socket socket(io);
    acceptor.accept(socket);
    asio::streambuf in;
    asio::read_until(socket, in, "\r\n\r\n");
    request_head.assign(asio::buffers_begin(in.data()), asio::buffers_end(in.data()));
    auto chunk = [&](const std::string& data) {
      char size[16];
      std::snprintf(size, sizeof size, "%zx\r\n", data.size());
      asio::write(socket, asio::buffer(size + data + "\r\n"));
    };
    auto delta = [&](const std::string& text) {
      chunk("data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"" + text + "\"}}]}\n\n");
    };
    asio::write(socket, asio::buffer(std::string("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
                                                 "Transfer-Encoding: chunked\r\n\r\n")));
    delta("Skeleton:\\n1. Water");
    delta(" sparingly\\n");
    pice::testing::wait_until([&] { return first_point_seen.load(); }, std::chrono::seconds(30));
    second_line_sent_early = !first_point_seen;
    delta("2. Bright light\\n");
    chunk("data: {\"choices\":[],\"usage\":{\"prompt_tokens\":31,\"completion_tokens\":9}}\n\n");
    chunk("data: [DONE]\n\n");
    chunk("");
  });
  kernels::RemoteEngine engine({"http://127.0.0.1:" + std::to_string(port) + "/v1", "m", "", 30000});
  std::vector<std::pair<int, std::string>> points;
  const Sketch sketch = write_sketch_remotely(engine, "How do I keep houseplants alive?", SketchBudget{2, 5, 6},
                                              kernels::RemoteOptions{},
                                              [&](int index, const std::string& text) {
                                                points.emplace_back(index, text);
                                                first_point_seen = true;
                                              });
  server.join();
  EXPECT_FALSE(second_line_sent_early);
  EXPECT_EQ(points, (std::vector<std::pair<int, std::string>>{{1, "Water sparingly"}, {2, "Bright light"}}));
  EXPECT_EQ(sketch.points, (std::vector<std::string>{"Water sparingly", "Bright light"}));
  EXPECT_EQ(sketch.prompt_tokens, 31);  // the server's usage, not a local count
  EXPECT_EQ(sketch.tokens, 9);
  EXPECT_NE(request_head.find("POST /v1/chat/completions"), std::string::npos) << request_head;
}

}  // namespace
}  // namespace pice::actors
