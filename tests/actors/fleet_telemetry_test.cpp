// Latency histograms, their quantiles, and the fleet's telemetry in Prometheus text format.
#include <gtest/gtest.h>

#include <algorithm>

#include "actors/fleet_prometheus.hpp"
#include "actors/latency_histogram.hpp"

namespace pice::actors {
namespace {

TEST(LatencyHistogram, CountsEachValueInTheFirstBucketThatHoldsIt) {
  LatencyHistogram h({10, 100});
  for (double ms : {0.5, 10.0, 10.5, 99.0, 100.0, 1000.0}) h.observe(ms);
  const messages::Histogram s = h.snapshot();
  EXPECT_EQ(s.counts, (std::vector<uint64_t>{2, 3, 1}));   // <=10, (10,100], above
  EXPECT_EQ(s.count, 6u);
  EXPECT_DOUBLE_EQ(s.sum, 1220.0);
}

TEST(LatencyHistogram, DefaultBoundsAscendAndCoverMinutes) {
  const auto bounds = LatencyHistogram::default_bounds_ms();
  EXPECT_TRUE(std::is_sorted(bounds.begin(), bounds.end()));
  EXPECT_GE(bounds.back(), 300000);
  EXPECT_EQ(LatencyHistogram().snapshot().counts.size(), bounds.size() + 1);
}

TEST(LatencyHistogram, QuantilesInterpolateInsideTheirBucket) {
  LatencyHistogram h({100, 200});
  for (int i = 0; i < 10; ++i) h.observe(50);
  for (int i = 0; i < 10; ++i) h.observe(150);
  const auto s = h.snapshot();
  EXPECT_DOUBLE_EQ(histogram_quantile(s, 0.25), 50);    // halfway through the first bucket
  EXPECT_DOUBLE_EQ(histogram_quantile(s, 0.5), 100);
  EXPECT_DOUBLE_EQ(histogram_quantile(s, 0.75), 150);
  EXPECT_DOUBLE_EQ(histogram_quantile(messages::Histogram{{1}, {0, 0}, 0, 0}, 0.5), 0);
  h.observe(5000);   // above every bound: reported as the last bound
  EXPECT_DOUBLE_EQ(histogram_quantile(h.snapshot(), 1.0), 200);
}

messages::Envelope telemetry(const std::string& node, const std::string& role) {
  messages::Telemetry t;
  t.node_id = node;
  t.role = role;
  t.counters["redispatches"] = 3;
  t.gauges["queue_depth"] = 2.5;
  t.histograms["request_ms"] = messages::Histogram{{10, 100}, {1, 2, 1}, 321.5, 4};
  messages::Envelope env;
  env.body = t;
  return env;
}

TEST(FleetPrometheus, EveryLiveNodeWithItsCountersGaugesAndHistograms) {
  FleetView view;
  view.observe(telemetry("cloud-1", "cloud"), 1000);
  view.observe(telemetry("edge \"7\"", "edge"), 1000);
  const std::string text = render_prometheus(view);
  EXPECT_NE(text.find("pice_node_up{node=\"cloud-1\",role=\"cloud\"} 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("pice_node_up{node=\"edge \\\"7\\\"\",role=\"edge\"} 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("# TYPE pice_node_redispatches_total counter\n"), std::string::npos) << text;
  EXPECT_NE(text.find("pice_node_redispatches_total{node=\"cloud-1\",role=\"cloud\"} 3\n"), std::string::npos);
  EXPECT_NE(text.find("pice_node_queue_depth{node=\"cloud-1\",role=\"cloud\"} 2.5\n"), std::string::npos);
  EXPECT_NE(text.find("# TYPE pice_node_request_ms histogram\n"), std::string::npos) << text;
  // Buckets are cumulative, +Inf equals the count.
  EXPECT_NE(text.find("pice_node_request_ms_bucket{node=\"cloud-1\",role=\"cloud\",le=\"10\"} 1\n"), std::string::npos);
  EXPECT_NE(text.find("pice_node_request_ms_bucket{node=\"cloud-1\",role=\"cloud\",le=\"100\"} 3\n"), std::string::npos);
  EXPECT_NE(text.find("pice_node_request_ms_bucket{node=\"cloud-1\",role=\"cloud\",le=\"+Inf\"} 4\n"), std::string::npos);
  EXPECT_NE(text.find("pice_node_request_ms_sum{node=\"cloud-1\",role=\"cloud\"} 321.5\n"), std::string::npos);
  EXPECT_NE(text.find("pice_node_request_ms_count{node=\"cloud-1\",role=\"cloud\"} 4\n"), std::string::npos);
  // One TYPE line per family, even with two nodes.
  size_t types = 0;
  for (size_t at = text.find("# TYPE pice_node_up "); at != std::string::npos; at = text.find("# TYPE pice_node_up ", at + 1))
    ++types;
  EXPECT_EQ(types, 1u);
}

TEST(FleetPrometheus, NamesAreSanitisedAndSilentNodesLeave) {
  FleetView view;
  messages::Telemetry t;
  t.node_id = "n";
  t.counters["bad name/x"] = 1;
  messages::Envelope env;
  env.body = t;
  view.observe(env, 0);
  EXPECT_NE(render_prometheus(view).find("pice_node_bad_name_x_total{"), std::string::npos);
  view.expire(10'000'000, 5'000'000);
  EXPECT_EQ(render_prometheus(view), "");
}

}  // namespace
}  // namespace pice::actors
