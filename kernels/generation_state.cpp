#include "kernels/generation_state.hpp"

#include <algorithm>
#include <limits>

namespace pice::kernels {
namespace {

// Bytes at the end of `text` that begin a UTF-8 character whose remaining bytes have not arrived yet.
size_t incomplete_utf8_tail(std::string_view text) {
  for (size_t back = 1; back <= std::min<size_t>(4, text.size()); ++back) {
    const auto c = static_cast<unsigned char>(text[text.size() - back]);
    if ((c & 0xC0) == 0x80) continue;   // continuation byte: keep looking for the lead byte
    const size_t need = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
    return need > back ? back : 0;
  }
  return 0;
}

// Length of the longest suffix of `text` that is a proper prefix of some stop string: that text may
// yet become a stop string, so it must not be streamed out.
size_t stop_prefix_tail(std::string_view text, const std::vector<std::string>& stops) {
  size_t held = 0;
  for (const std::string& stop : stops)
    for (size_t len = std::min(stop.size() - 1, text.size()); len > held; --len)
      if (text.substr(text.size() - len) == std::string_view(stop).substr(0, len)) {
        held = len;
        break;
      }
  return held;
}

}  // namespace

GenerationState::GenerationState(const Tokenizer& tokenizer, std::span<const int32_t> prompt,
                                 const GenerateOptions& options, TokenCallback on_token)
    : tokenizer_(tokenizer),
      options_(options),
      on_token_(std::move(on_token)),
      sampler_(options.sampling),
      // Like Tokenizer::decode, the first text of the whole sequence loses the space SPM put before it.
      at_text_start_(tokenizer.vocab().add_space_prefix && tokenizer.decode(prompt).empty()) {
  for (const std::string& s : options.stop)
    if (!s.empty()) stops_.push_back(s);
  for (const std::string& s : stops_) longest_stop_ = std::max(longest_stop_, s.size());
  g_.prompt_tokens = static_cast<int>(prompt.size());
  g_.finish_reason = "length";
  finished_ = options.max_tokens <= 0;
}

bool GenerationState::accept(std::span<const float> logits) {
  if (finished_) return false;
  if (!has_eos_) has_eos_ = tokenizer_.eos() >= 0 && static_cast<size_t>(tokenizer_.eos()) < logits.size();
  const int i = static_cast<int>(g_.tokens.size());
  Sampled s{};
  // ignore_eos as llama.cpp: EOS is never sampled (rather than sampled and then ignored).
  if (has_eos_ && (options_.ignore_eos || i < options_.min_tokens)) {
    masked_.assign(logits.begin(), logits.end());
    masked_[static_cast<size_t>(tokenizer_.eos())] = -std::numeric_limits<float>::infinity();
    s = sampler_.sample(masked_);
    s.logprob = log_softmax_at(logits, s.token);   // the model's own distribution, as documented
  } else {
    s = sampler_.sample(logits);
  }
  if (s.token == tokenizer_.eos()) {
    g_.finish_reason = "eos";
    finished_ = true;
    return false;
  }
  g_.tokens.push_back(s.token);
  logprob_sum_ += s.logprob;

  std::string piece = tokenizer_.piece(s.token);
  if (at_text_start_ && !piece.empty()) {
    if (piece[0] == ' ') piece.erase(0, 1);
    at_text_start_ = false;
  }
  const size_t scan_from = g_.text.size() >= longest_stop_ ? g_.text.size() - longest_stop_ + 1 : 0;
  g_.text += piece;
  size_t stop_at = std::string::npos;
  if (static_cast<int>(g_.tokens.size()) >= options_.min_tokens)
    for (const std::string& stop : stops_) stop_at = std::min(stop_at, g_.text.find(stop, scan_from));
  if (stop_at != std::string::npos) {
    g_.text.resize(stop_at);
    g_.finish_reason = "stop";
    if (on_token_ && emitted_ < g_.text.size()) on_token_(s.token, std::string_view(g_.text).substr(emitted_));
    emitted_ = g_.text.size();
    finished_ = true;
    return false;
  }
  if (on_token_) {
    const std::string_view text(g_.text);
    const size_t held = std::max(stop_prefix_tail(text, stops_), incomplete_utf8_tail(text));
    const size_t safe = std::max(emitted_, text.size() - held);
    const bool go_on = on_token_(s.token, text.substr(emitted_, safe - emitted_));
    emitted_ = safe;
    if (!go_on) {
      g_.finish_reason = "stop";
      finished_ = true;
      return false;
    }
  }
  if (static_cast<int>(g_.tokens.size()) >= options_.max_tokens) finished_ = true;   // nothing would read the next logits
  return !finished_;
}

Generation GenerationState::finish() {
  finished_ = true;
  if (on_token_ && emitted_ < g_.text.size()) on_token_(-1, std::string_view(g_.text).substr(emitted_));
  emitted_ = g_.text.size();
  if (!g_.tokens.empty()) g_.mean_logprob = logprob_sum_ / static_cast<double>(g_.tokens.size());
  return std::move(g_);
}

}  // namespace pice::kernels
