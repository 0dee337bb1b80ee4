// The remote-engine client against a real OpenAI-compatible server: our own gateway (`pice serve
// --http`), started as a separate process.
#include <gtest/gtest.h>

#include "kernels/remote_engine.hpp"
#include "tests/common/process.hpp"

namespace pice::kernels {
namespace {

using namespace pice::testing;

class RemoteEngineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    port_ = free_port_range(1);
    server_ = std::make_unique<ChildProcess>(
        "server",
        std::vector<std::string>{PICE_BINARY, "serve", "--config", std::string(PICE_SOURCE_DIR) + "/config/all-in-one.toml",
                                 "--http", "127.0.0.1:" + std::to_string(port_)},
        dir_.path());
    ASSERT_TRUE(wait_until([&] { return server_->stderr_text().find("http: serving") != std::string::npos; },
                           std::chrono::seconds(120)))
        << server_->stderr_text();
  }
  RemoteEngineConfig config(const std::string& model = "pice") const {
    return {"http://127.0.0.1:" + std::to_string(port_) + "/v1", model, "", 240000};
  }

  TempDir dir_;
  int port_ = 0;
  std::unique_ptr<ChildProcess> server_;
};

TEST_F(RemoteEngineTest, AChatCompletionComesBackWithItsText) {
  RemoteEngine engine(config());
  RemoteOptions options;
  options.max_tokens = 16;
  RemoteGeneration g = engine.chat({{"user", "How do I water a cactus?"}}, options);
  EXPECT_FALSE(g.text.empty());
  EXPECT_FALSE(g.finish_reason.empty());
  EXPECT_GT(g.elapsed_ms, 0);
  EXPECT_EQ(engine.name(), "pice@http://127.0.0.1:" + std::to_string(port_) + "/v1");
}

TEST_F(RemoteEngineTest, TheServersErrorMessageIsPassedOn) {
  RemoteEngine engine(config("no-such-model"));
  try {
    engine.chat({{"user", "Hi"}}, {});
    FAIL() << "no error for an unknown model";
  } catch (const RemoteEngineError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("HTTP 404"), std::string::npos) << what;
    EXPECT_NE(what.find("no-such-model"), std::string::npos) << what;
  }
}

TEST(RemoteEngine, AnUnreachableServerOrABadUrlIsNamed) {
  const int port = free_port_range(1);   // nothing listens there
  RemoteEngine engine({"http://127.0.0.1:" + std::to_string(port) + "/v1", "m", "", 5000});
  try {
    engine.chat({{"user", "Hi"}}, {});
    FAIL() << "no error for an unreachable server";
  } catch (const RemoteEngineError& e) {
    EXPECT_NE(std::string(e.what()).find("127.0.0.1:" + std::to_string(port)), std::string::npos) << e.what();
  }
  EXPECT_THROW(RemoteEngine({"https://example.com/v1", "m", "", 1000}), std::invalid_argument);
  EXPECT_THROW(RemoteEngine({"http://:80/v1", "m", "", 1000}), std::invalid_argument);
  EXPECT_THROW(RemoteEngine({"http://host:8o/v1", "m", "", 1000}), std::invalid_argument);
}

}  // namespace
}  // namespace pice::kernels
