#include "actors/router.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "actors/cli/commands.hpp"
#include "actors/labelled_csv.hpp"
#include "tests/common/shared_data.hpp"

namespace pice::actors {
namespace {

double feature(std::string_view question, RouterFeature f) {
  return extract_router_features(question)[static_cast<size_t>(f)];
}

TEST(QuestionWords, LowercasesAndKeepsApostrophesAndLanguageNames) {
  EXPECT_EQ(question_words("What's C++ vs. C#? Don\xE2\x80\x99t 'quote' x2"),
            (std::vector<std::string>{"what's", "c++", "vs", "c#", "don't", "quote", "x2"}));
  EXPECT_EQ(question_words("caf\xC3\xA9-bar"), (std::vector<std::string>{"caf\xC3\xA9", "bar"}));
  EXPECT_TRUE(question_words(" ?! ").empty());
}

TEST(RouterFeatures, CuesFireOnTheirWords) {
  using F = RouterFeature;
  EXPECT_EQ(feature("How to make churros?", F::HowTo), 1.0);
  EXPECT_EQ(feature("Tell me how to make churros", F::HowTo), 0.0);  // only at the start
  EXPECT_EQ(feature("What are some ways to save money?", F::ListRequest), 1.0);
  EXPECT_EQ(feature("What are some ways to save money?", F::ListNoun), 1.0);
  EXPECT_EQ(feature("What if Rome never fell?", F::Counterfactual), 1.0);
  EXPECT_EQ(feature("Write a haiku about autumn", F::CreativeWriting), 1.0);
  EXPECT_EQ(feature("Could you compose a letter to my landlord?", F::CreativeWriting), 1.0);
  EXPECT_EQ(feature("I write software for a living", F::CreativeWriting), 0.0);
  EXPECT_EQ(feature("How to write a cover letter?", F::CreativeWriting), 0.0);  // advice about writing
  EXPECT_EQ(feature("What would happen if the sun went out?", F::Counterfactual), 1.0);
  EXPECT_EQ(feature("How would you fix this bug?", F::Counterfactual), 0.0);
  EXPECT_EQ(feature("Pretend you are a pirate", F::RolePlay), 1.0);
  EXPECT_EQ(feature("Which is a mammal? A) shark B) whale", F::MultipleChoice), 1.0);
  EXPECT_EQ(feature("(a) one (b) two", F::MultipleChoice), 1.0);
  EXPECT_EQ(feature("I got a B. Then an A. ", F::MultipleChoice), 0.0);  // B before A
  EXPECT_EQ(feature("Is it safe?", F::YesNo), 1.0);
  EXPECT_EQ(feature("How many piano tuners live in Chicago?", F::Estimate), 1.0);
}

TEST(RouterFeatures, CountedCuesAreCapped) {
  using F = RouterFeature;
  EXPECT_DOUBLE_EQ(feature("plain prose, nothing else", F::CodeSyntax), 0.0);
  EXPECT_DOUBLE_EQ(feature("if (a == b) {", F::CodeSyntax), 2.0 / 3.0);  // == and {
  EXPECT_DOUBLE_EQ(feature("```int main() { return 0; }```", F::CodeSyntax), 1.0);
  EXPECT_DOUBLE_EQ(feature("What is 17 * 23?", F::Math), 1.0 / 3.0);
  EXPECT_DOUBLE_EQ(feature("Solve 3x + 5 = 20 for x", F::Math), 2.0 / 3.0);  // "solve" and "5 = 20"
  EXPECT_DOUBLE_EQ(feature("Find f(x) = $x^2$ at x = 3", F::Math), 1.0);
  EXPECT_DOUBLE_EQ(feature("Why? Really? Truly? Yes?", F::Questions), 1.0);
  EXPECT_DOUBLE_EQ(feature("", F::Length), 0.0);
  EXPECT_NEAR(feature("word", F::Length), std::log(2.0) / std::log(300.0), 1e-12);
  std::string huge;
  for (int i = 0; i < 100000; ++i) huge += "a ";
  EXPECT_DOUBLE_EQ(feature(huge, F::Length), 2.0);
}

// Questions whose category is not in doubt under SoT-R's rules.
TEST(Router, RoutesUnambiguousQuestions) {
  struct Case {
    const char* question;
    bool progressive;
  };
  const Case cases[] = {
      {"What are some tips for improving my sleep quality?", true},
      {"What are the advantages and disadvantages of nuclear power?", true},
      {"What is the difference between a virus and a bacterium?", true},
      {"What if the internet had never been invented?", true},
      {"How to make a good first impression at a job interview?", true},
      {"Write a poem about the sea.", false},
      {"Solve the equation 3x + 5 = 20.", false},
      {"What is 17 * 23?", false},
      {"Write a Python function that reverses a linked list.", false},
      {"How many piano tuners are there in Chicago?", false},
      {"Pretend you are a pirate and greet me.", false},
      {"Who wrote Hamlet?", false},
      {"Is 7919 a prime number?", false},
      {"Translate 'good morning' into French.", false},
      {"Which of these is a mammal? A) shark B) whale C) trout", false},
  };
  for (const Case& c : cases) {
    const RouteDecision d = route(c.question);
    EXPECT_EQ(d.progressive, c.progressive) << c.question << " -> score " << d.score << " (" << d.reason << ")";
    EXPECT_EQ(d.progressive, d.score > 0);
  }
}

TEST(Router, ReasonNamesTheDecidingCues) {
  const RouteDecision d = route("Write a poem about the sea.");
  EXPECT_NE(d.reason.find("creative_writing -"), std::string::npos) << d.reason;
  EXPECT_NE(d.reason.find("; bias "), std::string::npos) << d.reason;
  EXPECT_NE(route("").reason.find("no cue"), std::string::npos);
}

TEST(RouterNgrams, OpeningsUnigramsAndBigramsOfTheWindowOnly) {
  const std::vector<std::string> grams = router_ngrams("What are some tips? Ignored tail", 4);
  const std::vector<std::string> expected = {"^what", "^what are", "^what are some", "are", "are some", "some",
                                             "some tips", "tips", "what", "what are"};
  EXPECT_EQ(grams, expected);
  EXPECT_TRUE(router_ngrams("", 60).empty());
  EXPECT_EQ(router_ngrams("tips tips tips", 60), (std::vector<std::string>{"^tips", "^tips tips", "^tips tips tips",
                                                                           "tips", "tips tips"}));
}

TEST(Router, NgramWeightsAddToTheScoreAndTheReason) {
  RouterWeights weights;
  weights.bias = -0.5;
  weights.ngram_window = 60;
  weights.ngrams = {{"^what if", 1.25}, {"rome", -0.25}};
  const RouteDecision d = route("What if Rome never fell?", weights);
  EXPECT_DOUBLE_EQ(d.score, -0.5 + 1.25 - 0.25);
  EXPECT_TRUE(d.progressive);
  EXPECT_NE(d.reason.find("\"^what if\" +1.25"), std::string::npos) << d.reason;
  weights.ngram_window = 0;  // no words read: only the openings count
  EXPECT_DOUBLE_EQ(route("What if Rome never fell?", weights).score, -0.5 + 1.25);
}

TEST(Router, ScoreIsBiasPlusWeightedCues) {
  RouterWeights weights;
  weights.bias = -0.5;
  weights.weights[static_cast<size_t>(RouterFeature::HowTo)] = 2.0;
  EXPECT_DOUBLE_EQ(route("How to cook rice?", weights).score, 1.5);
  EXPECT_DOUBLE_EQ(route("Cook rice", weights).score, -0.5);
  EXPECT_EQ(prior_router_weights().bias, 0.0);
  EXPECT_EQ(prior_router_weights().weights[static_cast<size_t>(RouterFeature::Math)], -1.0);
}

// Accuracy on the labelled sets (docs/BENCHMARKS.md, "Router"). WizardLM is split by position, as
// bench/router_eval.cpp does: odd rows (0-based) are the development half, whose errors were read while
// revising cues; even rows are the test half, never used for fitting or inspected. Measured with the
// committed weights: test half 86 of 109 (78.9%), development half 83 of 109 (76.1%), LIMA (the fit
// set) 808 of 1030 (78.4%). The floors leave a margin (2, 2 and 15 questions) so that a harmless
// vocabulary change passes and a real regression does not.
// parity: -1 every row, else only the rows whose 0-based position has that parity.
size_t correct_routes(const std::filesystem::path& path, int parity = -1) {
  size_t correct = 0;
  const auto rows = read_labelled_csv(path);
  for (size_t i = 0; i < rows.size(); ++i)
    if (parity < 0 || static_cast<int>(i % 2) == parity)
      correct += route(rows[i].question).progressive == rows[i].suitable;
  return correct;
}

TEST(Router, HeldOutAccuracyFloor) {
  PICE_REQUIRE_SHARED(path, "datasets/sot-wizardlm/router-labels.csv");
  ASSERT_EQ(read_labelled_csv(path).size(), 218u);
  EXPECT_GE(correct_routes(path, 0), 84u) << "of 109 (WizardLM test half, held out)";
  EXPECT_GE(correct_routes(path, 1), 81u) << "of 109 (WizardLM development half)";
}

TEST(Router, FitSetAccuracyFloor) {
  PICE_REQUIRE_SHARED(path, "datasets/sot-lima/router-labels.csv");
  ASSERT_EQ(read_labelled_csv(path).size(), 1030u);
  EXPECT_GE(correct_routes(path), 793u) << "of 1030 (LIMA, the fit set)";
}

// `pice route` in this process, its standard output captured.
class RouteCommand : public ::testing::Test {
 protected:
  int run(const cli::RouteOptions& options) {
    std::streambuf* saved = std::cout.rdbuf(out_.rdbuf());
    const int status = cli::run_route(options);
    std::cout.rdbuf(saved);
    return status;
  }
  std::filesystem::path write(const std::string& name, const std::string& content) {
    const auto path = dir_ / name;
    std::ofstream(path, std::ios::binary) << content;
    return path;
  }
  void SetUp() override { std::filesystem::create_directories(dir_); }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::ostringstream out_;
  std::filesystem::path dir_ =
      std::filesystem::temp_directory_path() / ("pice-route-test-" + std::to_string(::getpid()));
};

TEST_F(RouteCommand, TextPrintsOneDigit) {
  EXPECT_EQ(run({.file = {}, .text = "What are some tips for learning a language?", .explain = false}), cli::kExitOk);
  EXPECT_EQ(out_.str(), "1\n");
}

TEST_F(RouteCommand, ExplainAddsScoreAndReasonAfterTabs) {
  EXPECT_EQ(run({.file = {}, .text = "Write a poem about the sea.", .explain = true}), cli::kExitOk);
  const std::string line = out_.str();
  ASSERT_TRUE(line.starts_with("0\t-")) << line;
  EXPECT_NE(line.find('\t', 3), std::string::npos) << line;
  EXPECT_NE(line.find("creative_writing"), std::string::npos) << line;
}

TEST_F(RouteCommand, FilesOfEachKind) {
  const std::string tips = "What are some tips for learning a language?", poem = "Write a poem about the sea.";
  const auto plain = write("plain.txt", tips + "\r\n\n" + poem + "\n");
  EXPECT_EQ(run({.file = plain.string(), .text = {}, .explain = false}), cli::kExitOk);
  EXPECT_EQ(out_.str(), "1\n0\n");

  out_.str("");
  const auto labelled = write("set.csv", "label;request\n0;\"" + poem + "\nsecond line\"\n1;" + tips + "\n");
  EXPECT_EQ(run({.file = labelled.string(), .text = {}, .explain = false}), cli::kExitOk);
  EXPECT_EQ(out_.str(), "0\n1\n");

  out_.str("");
  const auto unlabelled =
      write("questions.csv", "request\n\"" + tips + "\"\n" + poem + "\nHow to pay at&amp;t bills?\n");
  EXPECT_EQ(run({.file = unlabelled.string(), .text = {}, .explain = false}), cli::kExitOk);
  EXPECT_EQ(out_.str(), "1\n0\n1\n");  // one column: a semicolon is part of the question
}

TEST_F(RouteCommand, BadInputFails) {
  EXPECT_EQ(run({.file = {}, .text = {}, .explain = false}), cli::kExitConfigError);
  EXPECT_EQ(run({.file = "x", .text = "y", .explain = false}), cli::kExitConfigError);
  EXPECT_EQ(run({.file = (dir_ / "absent.txt").string(), .text = {}, .explain = false}), cli::kExitFailure);
  const auto broken = write("broken.csv", "label;request\n1;\"open\n");
  EXPECT_EQ(run({.file = broken.string(), .text = {}, .explain = false}), cli::kExitFailure);
  EXPECT_EQ(out_.str(), "");
}

}  // namespace
}  // namespace pice::actors
