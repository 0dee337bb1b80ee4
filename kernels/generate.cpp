#include "kernels/generate.hpp"

#include <algorithm>
#include <chrono>
#include <limits>

namespace pice::kernels {
namespace {

using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

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

Generation generate(Sequence& seq, std::span<const int32_t> prompt, const GenerateOptions& options,
                    const TokenCallback& on_token) {
  const Tokenizer& tokenizer = seq.model().tokenizer();
  std::vector<std::string> stops;
  for (const std::string& s : options.stop)
    if (!s.empty()) stops.push_back(s);
  size_t longest_stop = 0;
  for (const std::string& s : stops) longest_stop = std::max(longest_stop, s.size());

  Generation g;
  g.prompt_tokens = static_cast<int>(prompt.size());
  g.finish_reason = "length";
  const auto prefill_start = Clock::now();
  std::span<const float> logits = seq.feed(prompt);
  g.prefill_ms = ms_since(prefill_start);

  const auto decode_start = Clock::now();
  Sampler sampler(options.sampling);
  // Like Tokenizer::decode, the first text of the whole sequence loses the space SPM put before it.
  bool at_text_start = tokenizer.vocab().add_space_prefix && tokenizer.decode(prompt).empty();
  size_t emitted = 0;
  double logprob_sum = 0;
  // ignore_eos as llama.cpp: EOS is never sampled (rather than sampled and then ignored).
  const bool has_eos = tokenizer.eos() >= 0 && static_cast<size_t>(tokenizer.eos()) < logits.size();
  std::vector<float> masked;
  for (int i = 0; i < options.max_tokens; ++i) {
    Sampled s{};
    if (has_eos && (options.ignore_eos || i < options.min_tokens)) {
      masked.assign(logits.begin(), logits.end());
      masked[static_cast<size_t>(tokenizer.eos())] = -std::numeric_limits<float>::infinity();
      s = sampler.sample(masked);
      s.logprob = log_softmax_at(logits, s.token);   // the model's own distribution, as documented
    } else {
      s = sampler.sample(logits);
    }
    if (s.token == tokenizer.eos()) {
      g.finish_reason = "eos";
      break;
    }
    g.tokens.push_back(s.token);
    logprob_sum += s.logprob;

    std::string piece = tokenizer.piece(s.token);
    if (at_text_start && !piece.empty()) {
      if (piece[0] == ' ') piece.erase(0, 1);
      at_text_start = false;
    }
    const size_t scan_from = g.text.size() >= longest_stop ? g.text.size() - longest_stop + 1 : 0;
    g.text += piece;
    size_t stop_at = std::string::npos;
    if (static_cast<int>(g.tokens.size()) >= options.min_tokens)
      for (const std::string& stop : stops) stop_at = std::min(stop_at, g.text.find(stop, scan_from));
    if (stop_at != std::string::npos) {
      g.text.resize(stop_at);
      g.finish_reason = "stop";
      if (on_token && emitted < g.text.size()) on_token(s.token, std::string_view(g.text).substr(emitted));
      emitted = g.text.size();
      break;
    }
    if (on_token) {
      const std::string_view text(g.text);
      const size_t held = std::max(stop_prefix_tail(text, stops), incomplete_utf8_tail(text));
      const size_t safe = std::max(emitted, text.size() - held);
      const bool go_on = on_token(s.token, text.substr(emitted, safe - emitted));
      emitted = safe;
      if (!go_on) {
        g.finish_reason = "stop";
        break;
      }
    }
    if (i + 1 == options.max_tokens) break;   // nothing would read the next logits
    if (seq.position() >= seq.capacity()) break;   // sequence full: "length"
    logits = seq.feed(std::span<const int32_t>(&g.tokens.back(), 1));
  }
  if (on_token && emitted < g.text.size()) on_token(-1, std::string_view(g.text).substr(emitted));
  g.decode_ms = ms_since(decode_start);
  if (!g.tokens.empty()) g.mean_logprob = logprob_sum / static_cast<double>(g.tokens.size());
  return g;
}

}  // namespace pice::kernels
