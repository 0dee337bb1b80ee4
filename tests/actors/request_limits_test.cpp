#include "actors/request_limits.hpp"

#include <gtest/gtest.h>

namespace pice::actors {
namespace {

messages::Request valid() {
  messages::Request r;
  r.question = "How do I keep a sourdough starter alive?";
  return r;
}

TEST(CheckRequest, AcceptsAPlainQuestion) { EXPECT_FALSE(check_request(valid(), "r1").has_value()); }

struct BadCase {
  const char* name;
  std::function<void(messages::Request&, std::string&)> spoil;
  const char* expected_fragment;
};

TEST(CheckRequest, EachMistakeIsNamed) {
  const std::vector<BadCase> cases = {
      {"empty id", [](auto&, auto& id) { id.clear(); }, "request_id is empty"},
      {"long id", [](auto&, auto& id) { id.assign(kMaxRequestIdBytes + 1, 'x'); }, "request_id is 129 bytes"},
      {"blank question", [](auto& r, auto&) { r.question = " \n\t"; }, "question is empty"},
      {"huge question", [](auto& r, auto&) { r.question.assign(kMaxQuestionBytes + 1, 'q'); }, "question is 16385 bytes"},
      {"mode", [](auto& r, auto&) { r.mode = "telepathy"; }, "mode 'telepathy'"},
      {"points", [](auto& r, auto&) { r.max_points = 33; }, "max_points must be 1..32"},
      {"negative points", [](auto& r, auto&) { r.max_points = -1; }, "got -1"},
      {"words", [](auto& r, auto&) { r.max_words_per_point = 65; }, "max_words_per_point"},
      {"tokens", [](auto& r, auto&) { r.max_tokens_per_point = 100000; }, "max_tokens_per_point"},
      {"temperature", [](auto& r, auto&) { r.temperature = 9; }, "temperature"},
      {"top_p", [](auto& r, auto&) { r.top_p = 1.5; }, "top_p"},
  };
  for (const auto& c : cases) {
    messages::Request r = valid();
    std::string id = "r1";
    c.spoil(r, id);
    auto problem = check_request(r, id);
    ASSERT_TRUE(problem.has_value()) << c.name;
    EXPECT_NE(problem->find(c.expected_fragment), std::string::npos) << c.name << ": " << *problem;
  }
}

}  // namespace
}  // namespace pice::actors
