// The HTTP API key of a real `pice serve` process: read from the config or PICE_API_KEY, required
// (401 without it), and never written to the node's output, even at the most verbose log level.
// With [security] as well, the HTTP gateway's own link to the node's gateway speaks CURVE.
#include <gtest/gtest.h>

#include <fstream>

#include "brokers/endpoints.hpp"
#include "tests/actors/cli_support.hpp"
#include "tests/actors/http_test_client.hpp"
#include "tests/common/process.hpp"

namespace pice::testing {
namespace {

constexpr const char* kChat =
    R"({"model": "pice", "max_tokens": 4, "messages": [{"role": "user", "content": "Why do owls hoot?"}],
        "pice": {"max_points": 2, "max_words_per_point": 3}})";

struct ServedNode {
  TempDir dir;
  int http_port = 0;
  std::unique_ptr<ChildProcess> node;

  // security: a [security] table or ""; key_in_file: an [http] api_key or ""; env: extra environment.
  ServedNode(const std::string& key_in_file, const std::vector<std::string>& env, bool secure) {
    const int base = free_port_range(brokers::kServiceEndpointCount + 1);
    http_port = base + brokers::kServiceEndpointCount;
    std::string toml = "[node]\nrole = \"cloud\"\nid = \"cloud\"\nlisten = \"tcp://127.0.0.1:" + std::to_string(base) +
                       "\"\n[llm]\nmodel = \"synth:tiny\"\n[log]\nlevel = \"trace\"\n[http]\nlisten = \"127.0.0.1:" +
                       std::to_string(http_port) + "\"\n";
    if (!key_in_file.empty()) toml += "api_key = \"" + key_in_file + "\"\n";
    if (secure) {
      ChildProcess keygen("keygen", {pice_binary(), "keygen", "--out", (dir.path() / "cloud").string()}, dir.path());
      EXPECT_EQ(keygen.wait(std::chrono::seconds(30)), 0) << keygen.stderr_text();
      toml += "[security]\nkey = \"cloud.key\"\n";
    }
    std::ofstream(dir.path() / "cloud.toml") << toml;
    node = std::make_unique<ChildProcess>(
        "cloud", std::vector<std::string>{pice_binary(), "serve", "--config", (dir.path() / "cloud.toml").string()},
        dir.path(), env);
    EXPECT_TRUE(wait_until([&] { return node->stderr_text().find("http: serving") != std::string::npos; },
                           std::chrono::seconds(60)))
        << node->stderr_text();
  }

  std::string output() const { return node->stdout_text() + node->stderr_text(); }
};

void expect_key_required(int port, const std::string& key) {
  HttpConnection c(port);
  EXPECT_EQ(c.request("GET", "/v1/models").status, 401);
  EXPECT_EQ(c.request("GET", "/v1/models", {}, {{"Authorization", "Bearer not-" + key}}).status, 401);
  EXPECT_EQ(c.request("POST", "/v1/chat/completions", kChat).status, 401);
  EXPECT_EQ(c.request("GET", "/v1/models", {}, {{"Authorization", "Bearer " + key}}).status, 200);
}

TEST(HttpApiKey, FromTheEnvironmentIsRequiredAndNeverLogged) {
  const std::string key = "env-key-7f3a9c21d4";
  ServedNode served("", {"PICE_API_KEY=" + key}, false);
  expect_key_required(served.http_port, key);
  HttpConnection c(served.http_port);
  HttpResponse r = c.request("POST", "/v1/chat/completions", kChat, {{"Authorization", "Bearer " + key}});
  EXPECT_EQ(r.status, 200) << r.body;
  served.node->terminate();
  const std::string out = served.output();
  EXPECT_NE(out.find("API key required"), std::string::npos) << out;   // the log says a key is on...
  EXPECT_EQ(out.find(key), std::string::npos) << out;                   // ...but never which
  EXPECT_EQ(out.find("7f3a9c"), std::string::npos) << out;
}

TEST(HttpApiKey, FromTheConfigIsRequiredAndNeverLogged) {
  const std::string key = "file-key-b81e55a0c3";
  ServedNode served(key, {}, false);
  expect_key_required(served.http_port, key);
  served.node->terminate();
  EXPECT_EQ(served.output().find(key), std::string::npos) << served.output();
}

TEST(HttpApiKey, TheGatewayReachesACurveSecuredNode) {
  const std::string key = "curve-key-4d2e90";
  ServedNode served("", {"PICE_API_KEY=" + key}, true);
  HttpConnection c(served.http_port);
  HttpResponse r = c.request("POST", "/v1/chat/completions", kChat, {{"Authorization", "Bearer " + key}});
  EXPECT_EQ(r.status, 200) << r.body << "\n" << served.node->stderr_text();
  EXPECT_NE(r.body.find("\"content\""), std::string::npos) << r.body;
  served.node->terminate();
  EXPECT_EQ(served.output().find(key), std::string::npos) << served.output();
  EXPECT_EQ(served.output().find("refused a connection"), std::string::npos) << served.output();
}

}  // namespace
}  // namespace pice::testing
