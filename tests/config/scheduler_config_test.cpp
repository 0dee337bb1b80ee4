// The [scheduler] table: defaults, every key read, and mistakes named at their key.
#include <gtest/gtest.h>

#include "config/node_config.hpp"

namespace pice::config {
namespace {

const std::string kCloud = "[node]\nrole = \"cloud\"\nlisten = \"tcp://127.0.0.1:7700\"\n[llm]\nmodel = \"synth:demo\"\n";

std::string error_of(const std::string& text) {
  try {
    parse(text, "test.toml");
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

TEST(SchedulerConfig, DefaultsServeInModePiceWithAnAdaptiveBudget) {
  NodeConfig c = parse(kCloud, "test.toml");
  EXPECT_EQ(c.scheduler.mode, "pice");
  EXPECT_EQ(c.scheduler.no_edges, "direct");
  EXPECT_TRUE(c.scheduler.adaptive_budget);
  EXPECT_EQ(c.scheduler.min_words_per_point, 3);
  EXPECT_EQ(c.scheduler.prefix_affinity, 0.25);
}

TEST(SchedulerConfig, ReadsEveryKey) {
  NodeConfig c = parse(kCloud +
                           "[scheduler]\nmode = \"sot\"\nno_edges = \"sot\"\ndirect_max_tokens = 99\n"
                           "adaptive_budget = false\nmin_words_per_point = 2\ncloud_queue_high = 7\n"
                           "cloud_latency_high_ms = 1234\nedge_queue_limit = 5\nprefix_affinity = 0.5\n",
                       "test.toml");
  EXPECT_EQ(c.scheduler.mode, "sot");
  EXPECT_EQ(c.scheduler.no_edges, "sot");
  EXPECT_EQ(c.scheduler.direct_max_tokens, 99);
  EXPECT_FALSE(c.scheduler.adaptive_budget);
  EXPECT_EQ(c.scheduler.min_words_per_point, 2);
  EXPECT_EQ(c.scheduler.cloud_queue_high, 7);
  EXPECT_EQ(c.scheduler.cloud_latency_high_ms, 1234);
  EXPECT_EQ(c.scheduler.edge_queue_limit, 5);
  EXPECT_EQ(c.scheduler.prefix_affinity, 0.5);
}

TEST(SchedulerConfig, MistakesNameTheirKey) {
  EXPECT_EQ(error_of(kCloud + "[scheduler]\nmode = \"fast\"\n"),
            "test.toml:7:8: scheduler.mode: expected one of \"pice\", \"sot\", \"route\", \"cloud-only\", got \"fast\"");
  EXPECT_NE(error_of(kCloud + "[scheduler]\nadaptive_budget = 1\n").find(
                "scheduler.adaptive_budget: expected true or false, got integer 1"),
            std::string::npos);
  EXPECT_NE(error_of(kCloud + "[scheduler]\nprefix_affinity = 1.5\n").find("scheduler.prefix_affinity"),
            std::string::npos);
  EXPECT_NE(error_of(kCloud + "[scheduler]\nno_edges = \"edge\"\n").find("scheduler.no_edges"), std::string::npos);
  EXPECT_NE(error_of(kCloud + "[sketch]\nmax_words_per_point = 4\n[scheduler]\nmin_words_per_point = 5\n")
                .find("scheduler.min_words_per_point: must not exceed sketch.max_words_per_point (4), got 5"),
            std::string::npos);
  EXPECT_NE(error_of("[node]\nrole = \"edge\"\nconnect = \"tcp://127.0.0.1:7700\"\n[slm]\nmodel = \"synth:tiny\"\n"
                     "[scheduler]\nmode = \"sot\"\n")
                .find("not used by role \"edge\""),
            std::string::npos);
}

TEST(SchedulerConfig, TheDefaultWordFloorFollowsASmallerMaximum) {
  NodeConfig c = parse(kCloud + "[sketch]\nmax_words_per_point = 2\n", "test.toml");
  EXPECT_EQ(c.scheduler.min_words_per_point, 2);
}

}  // namespace
}  // namespace pice::config
