// The scheduler's per-request decisions without sockets: the sketch budget under load, and the path
// each mode takes (router, edge capacity, configured fallback).
#include <gtest/gtest.h>

#include "actors/request_plan.hpp"
#include "actors/router.hpp"
#include "config/node_config.hpp"

namespace pice::actors {
namespace {

// A list-like question the router sends to sketch-then-expand, and one it answers directly.
constexpr const char* kListLike = "What are some tips for staying healthy and fit?";
constexpr const char* kCode = "Write a Python function that returns the nth Fibonacci number.";

config::NodeConfig cloud_config(const std::string& extra = "") {
  return config::parse(
      "[node]\nrole = \"cloud\"\nlisten = \"tcp://127.0.0.1:7700\"\n[llm]\nmodel = \"synth:tiny\"\n"
      "[sketch]\nmin_points = 2\nmax_points = 8\nmax_words_per_point = 8\n"
      "[scheduler]\nmin_words_per_point = 3\ncloud_queue_high = 4\ncloud_latency_high_ms = 2000\n" + extra,
      "<plan test>");
}

LoadSnapshot idle(int boards = 2) {
  LoadSnapshot l;
  l.boards = boards;
  l.open_boards = boards;
  l.edge_room = 4 * boards;
  return l;
}

messages::Request question(const std::string& text, const std::string& mode = "") {
  messages::Request r;
  r.question = text;
  r.mode = mode;
  return r;
}

TEST(RequestPlan, TheRouterSeesTheTestQuestionsAsIntended) {
  EXPECT_TRUE(route(kListLike).progressive) << route(kListLike).reason;
  EXPECT_FALSE(route(kCode).progressive) << route(kCode).reason;
}

TEST(SketchBudget, AnIdleCloudGetsTheConfiguredBudget) {
  Budget b = plan_budget(question(kListLike), cloud_config(), idle(), Path::sketch);
  EXPECT_EQ(b.max_points, 8);
  EXPECT_EQ(b.words_per_point, 8);
  EXPECT_EQ(b.min_points, 2);
  EXPECT_DOUBLE_EQ(b.pressure, 0);
}

TEST(SketchBudget, ALoadedCloudGetsFewerShorterPoints) {
  const auto config = cloud_config();
  LoadSnapshot queued = idle();
  queued.cloud_queue = 4;  // at cloud_queue_high
  Budget b = plan_budget(question(kListLike), config, queued, Path::sketch);
  EXPECT_DOUBLE_EQ(b.pressure, 1);
  EXPECT_EQ(b.max_points, 4);        // half of 8
  EXPECT_EQ(b.words_per_point, 3);   // scheduler.min_words_per_point
  EXPECT_NE(b.reason.find("cloud queue 4/4"), std::string::npos) << b.reason;

  LoadSnapshot slow = idle();
  slow.cloud_first_point_ms = 4000;  // twice cloud_latency_high_ms
  Budget s = plan_budget(question(kListLike), config, slow, Path::sketch);
  EXPECT_EQ(s.max_points, 4);
  EXPECT_EQ(s.words_per_point, 3);
}

TEST(SketchBudget, ShrinksStepByStepAsTheQueueGrows) {
  const auto config = cloud_config();
  Budget previous = plan_budget(question(kListLike), config, idle(), Path::sketch);
  for (int queue = 1; queue <= 6; ++queue) {
    LoadSnapshot l = idle();
    l.cloud_queue = queue;
    Budget b = plan_budget(question(kListLike), config, l, Path::sketch);
    EXPECT_LE(b.max_points, previous.max_points) << "queue " << queue;
    EXPECT_LE(b.words_per_point, previous.words_per_point) << "queue " << queue;
    EXPECT_GE(b.max_points, b.min_points);
    previous = b;
  }
  LoadSnapshot half = idle();
  half.cloud_queue = 2;
  Budget b = plan_budget(question(kListLike), config, half, Path::sketch);
  EXPECT_EQ(b.max_points, 6);        // 8 -> 4 halfway
  EXPECT_EQ(b.words_per_point, 6);   // 8 -> 3 halfway, rounded
}

TEST(SketchBudget, BusyEdgesCapThePointsOfAnEdgeSketchOnly) {
  const auto config = cloud_config();
  LoadSnapshot busy = idle();
  busy.edge_room = 3;
  EXPECT_EQ(plan_budget(question(kListLike), config, busy, Path::sketch).max_points, 3);
  EXPECT_EQ(plan_budget(question(kListLike), config, busy, Path::sketch_cloud).max_points, 8);
  busy.edge_room = 0;  // never below min_points
  EXPECT_EQ(plan_budget(question(kListLike), config, busy, Path::sketch).max_points, 2);
}

TEST(SketchBudget, TheRequestsOwnBudgetWinsAndAFixedBudgetIgnoresLoad) {
  LoadSnapshot loaded = idle();
  loaded.cloud_queue = 100;
  messages::Request r = question(kListLike);
  r.max_points = 7;
  r.max_words_per_point = 11;
  Budget b = plan_budget(r, cloud_config(), loaded, Path::sketch);
  EXPECT_EQ(b.max_points, 7);
  EXPECT_EQ(b.words_per_point, 11);

  Budget fixed = plan_budget(question(kListLike), cloud_config("adaptive_budget = false\n"), loaded, Path::sketch);
  EXPECT_EQ(fixed.max_points, 8);
  EXPECT_EQ(fixed.words_per_point, 8);
}

TEST(RequestPlan, EachModeTakesItsPath) {
  const auto config = cloud_config();
  struct Case {
    const char* mode;
    const char* question;
    int boards;
    Path path;
  };
  const Case cases[] = {
      {"cloud-only", kListLike, 2, Path::direct},  {"sot", kListLike, 2, Path::sketch_cloud},
      {"sot", kListLike, 0, Path::sketch_cloud},   {"pice", kListLike, 2, Path::sketch},
      {"pice", kCode, 2, Path::direct},            {"pice", kListLike, 0, Path::direct},
      {"route", kListLike, 2, Path::direct_edge},  {"route", kCode, 2, Path::direct},
      {"route", kListLike, 0, Path::direct},       {"", kListLike, 2, Path::sketch},
  };
  for (const Case& c : cases) {
    Plan plan = plan_request(question(c.question, c.mode), config, idle(c.boards));
    EXPECT_EQ(path_name(plan.path), path_name(c.path)) << c.mode << " / " << c.question << " / " << c.boards
                                                       << " boards: " << plan.reason;
    EXPECT_EQ(plan.mode, *c.mode ? c.mode : "pice");
    EXPECT_FALSE(plan.reason.empty());
  }
}

TEST(RequestPlan, WithoutEdgeCapacityPiceFallsBackAsConfigured) {
  LoadSnapshot full = idle(2);
  full.open_boards = 0;  // both boards at their queue limit
  full.edge_room = 0;
  Plan direct = plan_request(question(kListLike, "pice"), cloud_config(), full);
  EXPECT_EQ(direct.path, Path::direct);
  EXPECT_NE(direct.reason.find("every edge board is full"), std::string::npos) << direct.reason;
  Plan sot = plan_request(question(kListLike, "pice"), cloud_config("no_edges = \"sot\"\n"), idle(0));
  EXPECT_EQ(sot.path, Path::sketch_cloud);
  EXPECT_NE(sot.reason.find("no edge boards"), std::string::npos) << sot.reason;
  EXPECT_NE(sot.reason.find("scheduler.no_edges = sot"), std::string::npos) << sot.reason;
}

TEST(RequestPlan, TheConfiguredModeIsTheDefault) {
  Plan plan = plan_request(question(kListLike), cloud_config("mode = \"cloud-only\"\n"), idle());
  EXPECT_EQ(plan.mode, "cloud-only");
  EXPECT_EQ(plan.path, Path::direct);
  Plan asked = plan_request(question(kListLike, "sot"), cloud_config("mode = \"cloud-only\"\n"), idle());
  EXPECT_EQ(asked.mode, "sot");
  EXPECT_EQ(asked.path, Path::sketch_cloud);
}

}  // namespace
}  // namespace pice::actors
