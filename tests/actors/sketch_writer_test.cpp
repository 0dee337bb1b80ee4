#include "actors/sketch_writer.hpp"

#include <gtest/gtest.h>

#include "kernels/model.hpp"
#include "kernels/synth.hpp"
#include "tests/common/process.hpp"

namespace pice::actors {
namespace {

int words(const std::string& text) {
  int n = 0;
  bool in_word = false;
  for (char c : text) {
    bool space = c == ' ';
    if (!space && !in_word) ++n;
    in_word = !space;
  }
  return n;
}

class SketchWriterTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new testing::TempDir();
    auto path = dir_->path() / "tiny.gguf";
    kernels::write_synth_model(path, kernels::synth_shape("tiny"), kernels::TensorType::f32, 7);
    model_ = kernels::Model::load(path);
  }
  static void TearDownTestSuite() {
    model_.reset();
    delete dir_;
  }
  static testing::TempDir* dir_;
  static std::shared_ptr<const kernels::Model> model_;
};
testing::TempDir* SketchWriterTest::dir_ = nullptr;
std::shared_ptr<const kernels::Model> SketchWriterTest::model_;

TEST_F(SketchWriterTest, EveryModelYieldsAWellFormedSketchWithinBudget) {
  const SketchBudget budget{2, 6, 5};
  for (uint64_t seed = 1; seed <= 12; ++seed) {
    kernels::SamplingParams sampling;
    sampling.temperature = 1.0f;
    sampling.seed = seed;
    std::vector<int> order;
    Sketch sketch = write_sketch(model_, "How can I sleep better?", budget, sampling,
                                 [&](int index, const std::string&) { order.push_back(index); });
    ASSERT_GE(sketch.points.size(), 2u) << "seed " << seed;
    ASSERT_LE(sketch.points.size(), 6u) << "seed " << seed;
    ASSERT_EQ(order.size(), sketch.points.size());
    for (size_t i = 0; i < order.size(); ++i) EXPECT_EQ(order[i], static_cast<int>(i) + 1);
    for (const auto& point : sketch.points) {
      EXPECT_GE(words(point), 1) << "seed " << seed << ": '" << point << "'";
      EXPECT_LE(words(point), 5) << "seed " << seed << ": '" << point << "'";
      EXPECT_EQ(point.find('\n'), std::string::npos);
    }
    EXPECT_GT(sketch.tokens, 0);
    EXPECT_LT(sketch.mean_logprob, 0.0);
  }
}

TEST_F(SketchWriterTest, FixedBudgetGivesExactlyThatManyPoints) {
  kernels::SamplingParams greedy;
  Sketch sketch = write_sketch(model_, "Name three colours.", SketchBudget{3, 3, 4}, greedy, {});
  EXPECT_EQ(sketch.points.size(), 3u);
}

TEST_F(SketchWriterTest, SameSeedSameSketch) {
  kernels::SamplingParams sampling;
  sampling.temperature = 0.9f;
  sampling.seed = 42;
  auto a = write_sketch(model_, "Why is the sky blue?", SketchBudget{2, 5, 6}, sampling, {});
  auto b = write_sketch(model_, "Why is the sky blue?", SketchBudget{2, 5, 6}, sampling, {});
  EXPECT_EQ(a.points, b.points);
  sampling.seed = 43;
  auto c = write_sketch(model_, "Why is the sky blue?", SketchBudget{2, 5, 6}, sampling, {});
  EXPECT_NE(a.points, c.points);
}

TEST_F(SketchWriterTest, PromptCarriesTheQuestionAndBudget) {
  std::string prompt = sketch_prompt("What is PICE?", SketchBudget{2, 4, 5});
  EXPECT_NE(prompt.find("What is PICE?"), std::string::npos);
  EXPECT_NE(prompt.find("2 to 4 points"), std::string::npos);
  EXPECT_NE(prompt.find("at most 5 words"), std::string::npos);
}

TEST_F(SketchWriterTest, AQuestionLongerThanTheContextIsRefusedInTokens) {
  std::string question;
  for (int i = 0; question.size() < 8000; ++i) question += "word" + std::to_string(i) + " ";
  const int context = model_->hparams().context_length;
  try {
    write_sketch(model_, question, SketchBudget{2, 4, 5}, kernels::SamplingParams{}, {});
    FAIL() << "a question of " << question.size() << " bytes fit a context of " << context;
  } catch (const std::invalid_argument& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("the question is too long"), std::string::npos) << what;
    EXPECT_NE(what.find("context of " + std::to_string(context) + " tokens"), std::string::npos) << what;
  }
}

}  // namespace
}  // namespace pice::actors
