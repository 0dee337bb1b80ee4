// `pice eval`: two modes answer the same questions; a judge model (any OpenAI-compatible endpoint)
// compares each pair in both orders; wins, ties and losses of the first mode are tallied per category.
#include <cstdlib>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <map>

#include <nlohmann/json.hpp>

#include "actors/cli/commands.hpp"
#include "actors/client.hpp"
#include "actors/eval.hpp"
#include "kernels/http_client.hpp"
#include "actors/labelled_csv.hpp"
#include "brokers/endpoints.hpp"

namespace pice::cli {
namespace {

namespace ev = actors::eval;

struct Question {
  std::string text;
  std::string category;
};

std::vector<Question> gather_questions(const EvalOptions& options) {
  std::vector<Question> questions;
  if (!options.questions_path.empty())
    for (const actors::LabelledQuestion& q : actors::read_labelled_csv(options.questions_path))
      questions.push_back({q.question, q.suitable ? "suits-sketch" : "direct"});
  for (const std::string& text : options.texts) questions.push_back({text, "given"});
  if (options.limit > 0 && questions.size() > static_cast<size_t>(options.limit)) questions.resize(static_cast<size_t>(options.limit));
  if (questions.empty()) throw std::invalid_argument("no questions: give --questions FILE or --text S");
  return questions;
}

// One judgement: the judge's reply to question + (a, b).
ev::Verdict judge(const EvalOptions& options, const kernels::HttpUrl& url, const std::string& key,
                  const std::string& question, const std::string& a, const std::string& b) {
  nlohmann::json body = {{"model", options.judge_model},
                         {"temperature", 0},
                         {"max_tokens", 8},
                         {"messages", nlohmann::json::array({{{"role", "system"}, {"content", ev::judge_instructions()}},
                                                             {{"role", "user"}, {"content", ev::judge_prompt(question, a, b)}}})}};
  kernels::HttpResult result = kernels::post_json(url, "/chat/completions", body.dump(), key, options.timeout_ms);
  if (result.status != 200)
    throw std::runtime_error("the judge answered HTTP " + std::to_string(result.status) + ": " + result.body.substr(0, 300));
  const nlohmann::json reply = nlohmann::json::parse(result.body, nullptr, false);
  if (reply.is_discarded() || !reply.contains("choices") || reply["choices"].empty())
    throw std::runtime_error("the judge's answer has no choices: " + result.body.substr(0, 300));
  const nlohmann::json& message = reply["choices"][0]["message"];
  return ev::parse_verdict(message.value("content", std::string()));
}

}  // namespace

int run_eval(const EvalOptions& options) {
  try {
    if (options.modes.size() != 2) throw std::invalid_argument("--modes takes exactly two modes, e.g. pice,cloud-only");
    const kernels::HttpUrl judge_url = kernels::parse_http_url(options.judge_url);
    const char* key_value = options.judge_key_env.empty() ? nullptr : std::getenv(options.judge_key_env.c_str());
    const std::string key = key_value ? key_value : "";
    const std::vector<Question> questions = gather_questions(options);
    const std::string gateway = brokers::derive_endpoints(options.connect).gateway;
    std::ofstream rows;
    if (!options.csv_path.empty()) {
      rows.open(options.csv_path);
      if (!rows) throw std::runtime_error("cannot write " + options.csv_path);
      rows << "index,category,first_as_a,first_as_b,outcome\n";
    }

    std::map<std::string, ev::Tally> by_category;
    ev::Tally all;
    int judge_calls = 0, unanswered = 0;
    actors::GatewayClient client(gateway);
    for (size_t i = 0; i < questions.size(); ++i) {
      const Question& q = questions[i];
      std::string answers[2];
      bool ok = true;
      for (int m = 0; m < 2; ++m) {
        messages::Request request;
        request.question = q.text;
        request.mode = options.modes[static_cast<size_t>(m)];
        actors::Answer answer = client.ask(request, options.timeout_ms);
        if (!answer.error.empty()) {
          std::cerr << "pice eval: question " << i + 1 << " in mode " << request.mode << ": " << answer.error << "\n";
          ok = false;
          break;
        }
        answers[m] = ev::answer_text(answer);
      }
      if (!ok) {
        ++unanswered;
        continue;
      }
      const ev::Verdict first_as_a = judge(options, judge_url, key, q.text, answers[0], answers[1]);
      const ev::Verdict first_as_b = judge(options, judge_url, key, q.text, answers[1], answers[0]);
      judge_calls += 2;
      const ev::Outcome outcome = ev::combine(first_as_a, first_as_b);
      by_category[q.category].add(outcome);
      all.add(outcome);
      if (rows) rows << i + 1 << "," << q.category << "," << ev::verdict_name(first_as_a) << ","
                     << ev::verdict_name(first_as_b) << "," << ev::outcome_name(outcome) << "\n";
    }

    std::cout << options.modes[0] << " vs " << options.modes[1] << ", judged by " << options.judge_url << " ("
              << options.judge_model << "), both orders\n";
    std::cout << std::left << std::setw(14) << "category" << std::right << std::setw(10) << "questions" << std::setw(6)
              << "win" << std::setw(6) << "tie" << std::setw(6) << "loss" << std::setw(9) << "invalid\n";
    auto line = [](const std::string& name, const ev::Tally& t) {
      std::cout << std::left << std::setw(14) << name << std::right << std::setw(10) << t.total() << std::setw(6) << t.win
                << std::setw(6) << t.tie << std::setw(6) << t.loss << std::setw(8) << t.invalid << "\n";
    };
    for (const auto& [category, tally] : by_category) line(category, tally);
    line("all", all);
    std::cout << "judge calls: " << judge_calls << ", questions not answered by both modes: " << unanswered << "\n";
    return unanswered == 0 ? kExitOk : kExitFailure;
  } catch (const std::exception& e) {
    std::cerr << "pice eval: " << e.what() << "\n";
    return kExitFailure;
  }
}

}  // namespace pice::cli
