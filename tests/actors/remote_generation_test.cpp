// The sketch parser of a remote cloud model: points leave as their lines complete, list markers and
// preambles are dropped, and a point is held to the word budget.
#include "actors/remote_generation.hpp"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace pice::actors
