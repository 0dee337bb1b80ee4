#include "actors/remote_generation.hpp"

#include <algorithm>
#include <cctype>

#include "actors/text.hpp"
#include "messages/envelope.hpp"

namespace pice::actors {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

// Drops a list marker: "12." or "12)" (digits then . or )), "-", "*", "•".
std::string_view without_marker(std::string_view line) {
  size_t digits = 0;
  while (digits < line.size() && std::isdigit(static_cast<unsigned char>(line[digits]))) ++digits;
  if (digits > 0 && digits < line.size() && (line[digits] == '.' || line[digits] == ')'))
    return trim(line.substr(digits + 1));
  for (std::string_view bullet : {"-", "*", "\xE2\x80\xA2"})
    if (line.starts_with(bullet)) return trim(line.substr(bullet.size()));
  return line;
}

// At most max_words words, separated by single spaces.
std::string first_words(std::string_view text, int max_words) {
  std::string out;
  int words = 0;
  size_t i = 0;
  while (i < text.size() && words < max_words) {
    while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i]))) ++i;
    const size_t start = i;
    while (i < text.size() && !std::isspace(static_cast<unsigned char>(text[i]))) ++i;
    if (i == start) break;
    if (!out.empty()) out += ' ';
    out.append(text.substr(start, i - start));
    ++words;
  }
  return out;
}

}  // namespace

kernels::RemoteOptions remote_options(const messages::ExpansionTask& task) {
  kernels::RemoteOptions options;
  options.max_tokens = task.max_tokens;
  options.temperature = task.temperature;
  options.top_p = task.top_p;
  options.seed = task.seed;
  options.stop = expansion_stops(task);
  options.ignore_eos = task.ignore_eos;
  return options;
}

messages::ExpansionResult expand_point_remotely(const kernels::RemoteEngine& engine,
                                                const messages::ExpansionTask& task, const std::string& node_id,
                                                const PieceSink& on_piece) {
  messages::ExpansionResult result;
  result.point_index = task.point_index;
  result.node = node_id;
  result.model = engine.name();
  result.timings.started_us = messages::now_us();
  try {
    std::string streamed;
    bool cancelled = false;
    kernels::TextSink on_text;
    if (on_piece)
      on_text = [&](std::string_view piece) {
        std::string clean = sanitize_text(piece);
        streamed += clean;
        cancelled = !on_piece(clean);
        return !cancelled;
      };
    const kernels::RemoteGeneration g = engine.chat_stream({{"user", expansion_prompt(task)}}, remote_options(task), on_text);
    // A streamed direct answer is exactly what was streamed.
    result.text = task.direct && on_piece ? streamed : expansion_text(task, g.text);
    result.tokens = g.completion_tokens;
    result.prompt_tokens = g.prompt_tokens;
    result.mean_logprob = g.mean_logprob;
    result.timings.decode_ms = g.elapsed_ms;
    if (cancelled) result.error = "cancelled";
    else if (result.text.empty()) result.error = "the remote engine " + engine.name() + " wrote nothing for this task";
  } catch (const std::exception& e) {
    result.error = e.what();
  }
  return result;
}

std::optional<std::string> SketchLines::point_of(std::string_view line) const {
  line = trim(line);
  if (line.empty() || line.back() == ':') return std::nullopt;
  std::string text = first_words(without_marker(line), max_words_);
  if (text.empty()) return std::nullopt;
  return sanitize_text(text);
}

std::vector<std::string> SketchLines::feed(std::string_view text) {
  std::vector<std::string> points;
  for (char c : text) {
    if (c != '\n') {
      line_ += c;
      continue;
    }
    if (auto point = point_of(line_)) points.push_back(std::move(*point));
    line_.clear();
  }
  return points;
}

std::optional<std::string> SketchLines::finish() {
  auto point = point_of(line_);
  line_.clear();
  return point;
}

Sketch write_sketch_remotely(const kernels::RemoteEngine& engine, std::string_view question,
                             const SketchBudget& budget, const kernels::RemoteOptions& options,
                             const std::function<void(int, const std::string&)>& on_point,
                             const std::function<bool()>& cancelled) {
  Sketch sketch;
  SketchLines lines(budget.max_words_per_point);
  // Returns false once the sketch has what it may hold (or is cancelled): the stream is then closed.
  auto take = [&](std::string text) {
    if (static_cast<int>(sketch.points.size()) >= budget.max_points) return false;
    sketch.points.push_back(std::move(text));
    if (on_point) on_point(static_cast<int>(sketch.points.size()), sketch.points.back());
    return static_cast<int>(sketch.points.size()) < budget.max_points;
  };
  auto on_text = [&](std::string_view text) {
    if (cancelled && cancelled()) {
      sketch.cancelled = true;
      return false;
    }
    for (std::string& point : lines.feed(text))
      if (!take(std::move(point))) return false;
    return true;
  };
  const kernels::RemoteGeneration g =
      engine.chat_stream({{"user", sketch_prompt(question, budget)}}, options, on_text);
  if (!g.stopped)
    if (auto last = lines.finish()) take(std::move(*last));
  sketch.tokens = g.completion_tokens;
  sketch.prompt_tokens = g.prompt_tokens;
  sketch.mean_logprob = g.mean_logprob;
  if (sketch.points.empty() && !sketch.cancelled)
    throw kernels::RemoteEngineError("remote engine " + engine.name() + " wrote no sketch point: '" +
                                     g.text.substr(0, 200) + "'");
  return sketch;
}

}  // namespace pice::actors
