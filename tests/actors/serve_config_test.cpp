// `pice serve` refuses a bad config with exit status 2 and a message that points at the mistake.
#include <gtest/gtest.h>

#include <fstream>

#include "brokers/endpoints.hpp"
#include "tests/actors/cli_support.hpp"
#include "tests/common/process.hpp"

namespace pice::testing {
namespace {

int serve_with(const TempDir& dir, const std::string& toml, std::string* stderr_text,
               std::vector<std::string> extra = {}) {
  auto path = dir.path() / "node.toml";
  std::ofstream(path) << toml;
  std::vector<std::string> argv = {pice_binary(), "serve", "--config", path.string()};
  argv.insert(argv.end(), extra.begin(), extra.end());
  ChildProcess serve("serve", argv, dir.path());
  auto status = serve.wait(std::chrono::seconds(30));
  *stderr_text = serve.stderr_text();
  return status.value_or(-1);
}

TEST(ServeConfig, WrongTypeExitsWithStatus2AndNamesLineAndColumn) {
  TempDir dir;
  std::string err;
  int status = serve_with(dir, "[node]\nrole = \"edge\"\nconnect = \"tcp://127.0.0.1:7700\"\n[slm]\nmodel = \"synth:tiny\"\nthreads = \"two\"\n", &err);
  EXPECT_EQ(status, 2) << err;
  EXPECT_NE(err.find("node.toml:6:"), std::string::npos) << err;
  EXPECT_NE(err.find("slm.threads"), std::string::npos) << err;
}

TEST(ServeConfig, MissingFileExitsWithStatus2) {
  TempDir dir;
  ChildProcess serve("serve", {pice_binary(), "serve", "--config", (dir.path() / "absent.toml").string()}, dir.path());
  auto status = serve.wait(std::chrono::seconds(30));
  ASSERT_TRUE(status.has_value());
  EXPECT_EQ(*status, 2);
  EXPECT_NE(serve.stderr_text().find("absent.toml"), std::string::npos) << serve.stderr_text();
}

TEST(ServeConfig, BadConnectOverrideExitsWithStatus2) {
  TempDir dir;
  std::string err;
  int status = serve_with(dir, "[node]\nrole = \"edge\"\nconnect = \"tcp://127.0.0.1:7700\"\n[slm]\nmodel = \"synth:tiny\"\n",
                          &err, {"--connect", "tcp://127.0.0.1:notaport"});
  EXPECT_EQ(status, 2) << err;
  EXPECT_NE(err.find("notaport"), std::string::npos) << err;
}

TEST(ServeConfig, AnAddressInUseIsAClearStartFailure) {
  TempDir dir;
  int port = free_port_range(brokers::kServiceEndpointCount);
  std::string cfg = "[node]\nrole = \"cloud\"\nlisten = \"tcp://127.0.0.1:" + std::to_string(port) +
                    "\"\n[llm]\nmodel = \"synth:tiny\"\n";
  auto path = dir.path() / "cloud.toml";
  std::ofstream(path) << cfg;
  ChildProcess first("first", {pice_binary(), "serve", "--config", path.string()}, dir.path());
  ASSERT_TRUE(wait_until([&] { return first.stderr_text().find("serving") != std::string::npos; },
                         std::chrono::seconds(60)))
      << first.stderr_text();
  ChildProcess second("second", {pice_binary(), "serve", "--config", path.string()}, dir.path());
  auto status = second.wait(std::chrono::seconds(60));
  ASSERT_TRUE(status.has_value());
  EXPECT_EQ(*status, 1);
  EXPECT_NE(second.stderr_text().find(std::to_string(port)), std::string::npos) << second.stderr_text();
  EXPECT_TRUE(first.running());
}

TEST(ServeConfig, AModelFileThatIsNotGgufIsAClearStartFailure) {
  TempDir dir;
  const auto model = dir.path() / "model.gguf";
  std::ofstream(model) << "GGML this is not a GGUF file";
  std::string err;
  int status = serve_with(dir, "[node]\nrole = \"edge\"\nconnect = \"tcp://127.0.0.1:7700\"\n[slm]\nmodel = \"" +
                                   model.string() + "\"\n",
                          &err);
  EXPECT_EQ(status, 1) << err;
  EXPECT_NE(err.find(model.string()), std::string::npos) << err;
  EXPECT_NE(err.find("not a GGUF file"), std::string::npos) << err;
}

}  // namespace
}  // namespace pice::testing
