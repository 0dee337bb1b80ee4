// `pice sim`: engine profiles, and the simulator driving the scheduler's real policy. The engines here
// are synthetic profiles chosen so that the analytic bounds are easy to state.
#include <gtest/gtest.h>

#include <fstream>
#include <numeric>

#include "actors/router.hpp"
#include "actors/sim_profile.hpp"
#include "actors/simulator.hpp"
#include "tests/actors/cli_support.hpp"
#include "tests/common/process.hpp"

namespace pice::actors {
namespace {

// Prefill so fast it costs nothing, so a job's time is its decode tokens over the decode rate.
constexpr const char* kProfile = R"(model,threads,phase,batch,tokens_per_s
# a comment line
cloud,1,prefill,1,1000000
cloud,1,decode,1,100
edge,1,prefill,1,1000000
edge,1,decode,1,10
edge,1,decode,16,20
)";

const ProfileTable& table() {
  static const ProfileTable t = parse_profile_csv(kProfile, "test-profile");
  return t;
}

const std::string kListQuestion = "What are some tips for saving money on groceries?";
const std::string kMathQuestion = "What is 48 times 12?";

SimSettings settings(const std::string& mode, int boards, double rate, int requests) {
  SimSettings s;
  s.mode = mode;
  s.boards = boards;
  s.cloud = table().get("cloud", 1);
  s.edge = table().get("edge", 1);
  s.node.scheduler.adaptive_budget = false;  // every sketch has [sketch] max_points points
  s.node.sketch.max_points = 4;
  s.node.sketch.max_words_per_point = 5;
  s.workload.rate = rate;
  s.workload.requests = requests;
  s.workload.questions = {kListQuestion};
  s.workload.point_tokens = 50;
  s.workload.direct_tokens = 200;
  return s;
}

int sum(const std::vector<int>& v) { return std::accumulate(v.begin(), v.end(), 0); }

TEST(SimProfile, InterpolatesDecodeRatesBetweenMeasuredBatchSizes) {
  const EngineProfile& edge = table().get("edge", 1);
  EXPECT_DOUBLE_EQ(edge.decode_rate(1), 10);
  EXPECT_NEAR(edge.decode_rate(4), 10 + 10 * 3.0 / 15, 1e-9);
  EXPECT_DOUBLE_EQ(edge.decode_rate(64), 20);  // beyond the largest measured batch: flat aggregate
  EXPECT_NEAR(edge.step_seconds(16), 16 / 20.0, 1e-12);
}

TEST(SimProfile, ErrorsNameTheSourceLineAndField) {
  auto error_of = [](const std::string& text) {
    try {
      parse_profile_csv(text, "p.csv");
    } catch (const ProfileError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_EQ(error_of("model,threads,phase,batch,tokens_per_s\nm,1,prefill,1,fast\n"),
            "p.csv:2: tokens_per_s must be a number, not 'fast'");
  EXPECT_EQ(error_of("model,threads,phase,batch,tokens_per_s\nm,1,decoding,1,5\n"),
            "p.csv:2: phase must be prefill or decode, not 'decoding'");
  EXPECT_EQ(error_of("model,threads,phase,batch,tokens_per_s\nm,1,decode,1,5\n"),
            "p.csv: profile 'm/1' has no prefill row");
  EXPECT_EQ(error_of("model,phase,tokens_per_s\n"), "p.csv:1: the header must be model,threads,phase,batch,tokens_per_s");
  EXPECT_NE(error_of("model,threads,phase,batch,tokens_per_s\nm,1,decode,0,5\n").find("p.csv:2: batch"),
            std::string::npos);
  try {
    table().get("cloud", 2);
    ADD_FAILURE() << "no error for a missing profile";
  } catch (const ProfileError& e) {
    EXPECT_NE(std::string(e.what()).find("cloud/2"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("edge/1"), std::string::npos) << e.what();
  }
}

TEST(SimProfile, TheBuiltInProfileHasTheTestbedsModels) {
  EXPECT_GT(default_profile().get("cloud-1.5b:q4_0", 1).decode_rate(1), 0);
  EXPECT_GT(default_profile().get("edge-135m:q8_0", 1).decode_rate(16), default_profile().get("edge-135m:q8_0", 1).decode_rate(1));
}

// Overloaded, the cloud answers one request per (200 tokens / 100 tokens/s) = 2 s: 0.5 requests/s.
TEST(Simulator, CloudOnlyThroughputMatchesTheCloudProfilesBound) {
  const SimResult r = simulate(settings("cloud-only", 2, 20, 200));
  ASSERT_EQ(r.completed, 200);
  EXPECT_NEAR(r.throughput, 0.5, 0.5 * 0.02);
  EXPECT_EQ(r.paths.at("direct"), 200);
  EXPECT_EQ(sum(r.points_per_board), 0);
  EXPECT_DOUBLE_EQ(r.cloud_tokens_per_request, 200);
  EXPECT_DOUBLE_EQ(r.edge_tokens_per_request, 0);
}

// The cloud writes a 4-point sketch of 4 x (7 + 3) tokens in 0.4 s: at most 2.5 requests/s. Each board
// expands at most 20 tokens/s, 0.1 requests of 4 x 50 tokens.
TEST(Simulator, MoreBoardsRaiseThroughputUntilTheCloudBound) {
  ASSERT_TRUE(route(kListQuestion).progressive);
  const double cloud_bound = 2.5;
  std::vector<double> throughput;
  for (int boards : {1, 4, 16, 64}) {
    const SimResult r = simulate(settings("pice", boards, 5, 300));
    ASSERT_EQ(r.completed, 300);
    EXPECT_LE(r.throughput, cloud_bound * 1.02) << boards << " boards";
    throughput.push_back(r.throughput);
  }
  EXPECT_GT(throughput[1], throughput[0] * 1.5);
  EXPECT_GT(throughput[2], throughput[1] * 1.5);
  EXPECT_GT(throughput[3], throughput[2]);
  EXPECT_GT(throughput[3], cloud_bound * 0.85);
}

TEST(Simulator, ASlowBoardGetsFewerPoints) {
  SimSettings s = settings("pice", 4, 0.4, 200);
  s.board_speeds = {1, 1, 1, 0.25};
  const SimResult r = simulate(s);
  ASSERT_EQ(r.completed, 200);
  const double fast_mean = (r.points_per_board[0] + r.points_per_board[1] + r.points_per_board[2]) / 3.0;
  EXPECT_LT(r.points_per_board[3], fast_mean * 0.5)
      << r.points_per_board[0] << " " << r.points_per_board[1] << " " << r.points_per_board[2] << " "
      << r.points_per_board[3];
  EXPECT_GT(r.points_per_board[3], 0);  // it is still used, not forgotten
}

// One plan per request and one placement per point (or direct answer), each made by the policy.
TEST(Simulator, CountsOnePlanPerRequestAndOnePlacementPerPoint) {
  SimSettings s = settings("pice", 3, 2, 150);
  s.workload.questions = {kListQuestion, kMathQuestion};
  const SimResult r = simulate(s);
  ASSERT_EQ(r.completed, 150);
  EXPECT_GT(r.paths.at("sketch"), 0);
  EXPECT_GT(r.paths.at("direct"), 0);
  EXPECT_EQ(r.decisions, static_cast<uint64_t>(150 + sum(r.points_per_board) + r.points_on_cloud));
  EXPECT_GT(r.wall_seconds, 0);
  EXPECT_GE(r.wall_seconds, r.policy_seconds);
}

// The node's own configuration drives the plans: [sketch] max_points sets the points every sketch has.
TEST(Simulator, TheNodesSketchBudgetSetsTheWorkPerRequest) {
  SimSettings s = settings("pice", 8, 0.2, 50);
  s.node.sketch.max_points = 3;
  const SimResult r = simulate(s);
  ASSERT_EQ(r.completed, 50);
  EXPECT_DOUBLE_EQ(r.edge_tokens_per_request, 3 * 50);
  EXPECT_EQ(sum(r.points_per_board), 150);
  EXPECT_LT(r.p50_first_ms, r.p50_ms);
}

TEST(Simulator, ModesPutTheWorkWhereTheirPlansSay) {
  const SimResult sot = simulate(settings("sot", 4, 0.1, 40));
  EXPECT_EQ(sot.paths.at("sketch-cloud"), 40);
  EXPECT_EQ(sum(sot.points_per_board), 0);
  EXPECT_EQ(sot.points_on_cloud, 160);
  const SimResult routed = simulate(settings("route", 4, 0.1, 40));
  EXPECT_EQ(routed.paths.at("direct-edge"), 40);
  EXPECT_DOUBLE_EQ(routed.cloud_tokens_per_request, 0);
  EXPECT_DOUBLE_EQ(routed.edge_tokens_per_request, 200);
  const SimResult no_boards = simulate(settings("route", 0, 0.1, 40));
  EXPECT_EQ(no_boards.paths.at("direct"), 40);
}

TEST(Simulator, TheSameSeedGivesTheSameRun) {
  const SimResult a = simulate(settings("pice", 5, 1, 100));
  const SimResult b = simulate(settings("pice", 5, 1, 100));
  EXPECT_EQ(a.points_per_board, b.points_per_board);
  EXPECT_DOUBLE_EQ(a.p95_ms, b.p95_ms);
}

TEST(SimCommand, WritesOneCsvRowPerRunAndRejectsABadProfileByLine) {
  testing::TempDir dir;
  const std::string csv = (dir.path() / "sim.csv").string();
  {
    testing::ChildProcess p("sim", {testing::pice_binary(), "sim", "--modes", "cloud-only,pice", "--boards", "1,4",
                                    "--rates", "0.05", "--requests", "10", "--csv", csv},
                            dir.path());
    ASSERT_EQ(p.wait(std::chrono::seconds(60)).value_or(-1), 0) << p.stderr_text();
    EXPECT_EQ(testing::lines_with(p.stdout_text(), "pice ").size(), 2u) << p.stdout_text();
    const std::string text = testing::read_file(csv);
    EXPECT_EQ(testing::lines_with(text, ",").size(), 5u) << text;  // header and 4 runs
    EXPECT_EQ(text.rfind("mode,boards,rate,", 0), 0u) << text;
  }
  const std::string profile = (dir.path() / "bad.csv").string();
  std::ofstream(profile) << "model,threads,phase,batch,tokens_per_s\ncloud-1.5b:q4_0,1,decode,1,-3\n";
  testing::ChildProcess p("sim-bad", {testing::pice_binary(), "sim", "--profile", profile}, dir.path());
  EXPECT_EQ(p.wait(std::chrono::seconds(60)).value_or(-1), 2);
  EXPECT_NE(p.stderr_text().find(profile + ":2: tokens_per_s must be above 0, not '-3'"), std::string::npos)
      << p.stderr_text();
}

}  // namespace
}  // namespace pice::actors
