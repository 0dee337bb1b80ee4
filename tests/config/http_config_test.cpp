#include <gtest/gtest.h>

#include "config/node_config.hpp"

namespace pice::config {
namespace {

const std::string kCloud = "[node]\nrole = \"cloud\"\nlisten = \"tcp://127.0.0.1:7700\"\n[llm]\nmodel = \"synth:tiny\"\n";

TEST(HttpConfig, AbsentMeansNoHttpApi) { EXPECT_FALSE(parse(kCloud, "cloud.toml").http.has_value()); }

TEST(HttpConfig, ReadsEveryKey) {
  auto c = parse(kCloud + "[http]\nlisten = \"0.0.0.0:9000\"\nthreads = 2\nmax_inflight = 16\napi_key = \"k\"\n",
                 "cloud.toml");
  ASSERT_TRUE(c.http.has_value());
  EXPECT_EQ(c.http->listen, "0.0.0.0:9000");
  EXPECT_EQ(c.http->threads, 2);
  EXPECT_EQ(c.http->max_inflight, 16);
  EXPECT_EQ(c.http->api_key, "k");
}

TEST(HttpConfig, DefaultsWhenTheTableIsEmpty) {
  auto c = parse(kCloud + "[http]\n", "cloud.toml");
  ASSERT_TRUE(c.http.has_value());
  EXPECT_EQ(c.http->listen, "127.0.0.1:8080");
  EXPECT_EQ(c.http->max_inflight, 256);
}

TEST(HttpConfig, MistakesAreNamed) {
  try {
    parse(kCloud + "[http]\nmax_inflight = 0\n", "cloud.toml");
    ADD_FAILURE() << "accepted max_inflight = 0";
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.line(), 7u);
    EXPECT_NE(std::string(e.what()).find("http.max_inflight"), std::string::npos) << e.what();
  }
  try {
    parse("[node]\nrole = \"edge\"\nconnect = \"tcp://127.0.0.1:7700\"\n[slm]\nmodel = \"synth:tiny\"\n[http]\n",
          "edge.toml");
    ADD_FAILURE() << "accepted [http] on an edge";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("served by the cloud"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace pice::config
