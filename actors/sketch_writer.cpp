#include "actors/sketch_writer.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

#include "actors/text.hpp"
#include "kernels/model.hpp"
#include "kernels/tokenizer.hpp"

namespace pice::actors {
namespace {

constexpr float kMasked = -std::numeric_limits<float>::infinity();

// A token may not start a point's text when it would end the point or the list at once.
bool ends_point(const kernels::Tokenizer& tok, int32_t id) {
  if (id == tok.eos()) return true;
  return tok.piece(id).find('\n') != std::string::npos;
}

int count_words(std::string_view text) {
  int words = 0;
  bool in_word = false;
  for (char c : text) {
    // Control bytes count as spaces: sanitize_text turns them into spaces in the shown point.
    const auto byte = static_cast<unsigned char>(c);
    bool space = byte <= 0x20 || byte == 0x7F;
    if (!space && !in_word) ++words;
    in_word = !space;
  }
  return words;
}


// Tokens that the masks below rule out before a point has its first word: control tokens and
// anything that would end the point. Computed once per sketch.
std::vector<int32_t> tokens_ending_a_point(const kernels::Tokenizer& tok) {
  std::vector<int32_t> ids;
  const auto& vocab = tok.vocab();
  for (size_t id = 0; id < tok.size(); ++id) {
    bool control = vocab.types.size() > id && vocab.types[id] == kernels::TokenType::control;
    if (control || ends_point(tok, static_cast<int32_t>(id))) ids.push_back(static_cast<int32_t>(id));
  }
  return ids;
}

class SketchRun {
 public:
  SketchRun(std::shared_ptr<const kernels::Model> model, const SketchBudget& budget,
            const kernels::SamplingParams& sampling, int capacity)
      : tok_(model->tokenizer()), budget_(budget), sampler_(sampling),
        seq_(std::move(model), capacity), banned_first_(tokens_ending_a_point(tok_)) {}

  void feed_prompt(const std::string& prompt) { logits_ = copy(seq_.feed(tok_.encode(prompt, true))); }
  void feed_text(const std::string& text) { logits_ = copy(seq_.feed(tok_.encode_continuation(text))); }

  // Lets the model write one point's words after the writer's "N." and returns the text.
  std::string fill_point() {
    std::string text;
    const int max_tokens = budget_.max_words_per_point * 4 + 4;  // bounds sub-word pieces per word
    for (int n = 0; n < max_tokens && seq_.position() < seq_.capacity(); ++n) {
      int words = count_words(text);
      if (words == 0)
        for (int32_t id : banned_first_) logits_[id] = kMasked;
      kernels::Sampled s = sampler_.sample(logits_);
      std::string piece = tok_.piece(s.token);
      if (ends_point(tok_, s.token)) break;
      if (count_words(text + piece) > budget_.max_words_per_point) break;  // would start one word too many
      text += piece;
      record(s);
      logits_ = copy(seq_.feed(std::span<const int32_t>(&s.token, 1)));
    }
    return one_line(sanitize_text(text));
  }

  // After "\n": does the model continue with the next number, or end the list? Compared on the
  // model's own logits, sampled as a two-way choice so temperature applies.
  bool wants_another_point(int next_index) {
    std::vector<int32_t> next = tok_.encode_continuation(std::to_string(next_index));
    if (next.empty()) return false;
    float more = logits_[next.front()], end = logits_[tok_.eos()];
    std::vector<float> two(logits_.size(), kMasked);
    two[next.front()] = more;
    two[tok_.eos()] = end;
    return sampler_.sample(two).token == next.front();
  }

  bool has_room(int tokens) const { return seq_.position() + tokens <= seq_.capacity(); }
  int generated() const { return generated_; }
  double mean_logprob() const { return generated_ ? logprob_sum_ / generated_ : 0.0; }

 private:
  static std::vector<float> copy(std::span<const float> s) { return {s.begin(), s.end()}; }
  void record(const kernels::Sampled& s) {
    ++generated_;
    logprob_sum_ += s.logprob;
  }

  const kernels::Tokenizer& tok_;
  SketchBudget budget_;
  kernels::Sampler sampler_;
  kernels::Sequence seq_;
  std::vector<int32_t> banned_first_;
  std::vector<float> logits_;
  int generated_ = 0;
  double logprob_sum_ = 0;
};

}  // namespace

std::string sketch_prompt(std::string_view question, const SketchBudget& budget) {
  std::string prompt = "Question: ";
  prompt += question;
  prompt += "\nWrite only the skeleton of the answer: a numbered list of ";
  prompt += std::to_string(budget.min_points) + " to " + std::to_string(budget.max_points);
  prompt += " points, each of at most " + std::to_string(budget.max_words_per_point) + " words.\nSkeleton:\n";
  return prompt;
}

Sketch write_sketch(std::shared_ptr<const kernels::Model> model, std::string_view question,
                    const SketchBudget& budget, const kernels::SamplingParams& sampling,
                    const std::function<void(int, const std::string&)>& on_point,
                    const std::function<bool()>& cancelled) {
  const std::string prompt = sketch_prompt(question, budget);
  const int per_point = budget.max_words_per_point * 4 + 12;
  const int prompt_tokens = static_cast<int>(model->tokenizer().encode(prompt, true).size());
  const int context = model->hparams().context_length;
  // Said here, in the client's terms, rather than as a KV cache overflow deep in the forward pass.
  if (prompt_tokens + per_point > context)
    throw std::invalid_argument("the question is too long for the model: its sketch prompt is " +
                                std::to_string(prompt_tokens) + " tokens and " + model->name() +
                                " has a context of " + std::to_string(context) + " tokens (" +
                                std::to_string(per_point) + " are needed for the first point)");
  const int wanted = prompt_tokens + budget.max_points * per_point;
  SketchRun run(model, budget, sampling, std::min(wanted, context));
  run.feed_prompt(prompt);

  Sketch sketch;
  sketch.prompt_tokens = prompt_tokens;
  for (int index = 1; index <= budget.max_points; ++index) {
    if (cancelled && cancelled()) {
      sketch.cancelled = true;
      break;
    }
    if (!run.has_room(per_point)) break;  // a short context ends the list early, never mid-point
    run.feed_text(std::to_string(index) + ".");
    std::string text = run.fill_point();
    if (text.empty()) text = "(point " + std::to_string(index) + ")";  // context ran out mid-point
    sketch.points.push_back(text);
    if (on_point) on_point(index, text);
    run.feed_text("\n");
    if (index >= budget.min_points && !run.wants_another_point(index + 1)) break;
  }
  sketch.tokens = run.generated();
  sketch.mean_logprob = run.mean_logprob();
  return sketch;
}

}  // namespace pice::actors
