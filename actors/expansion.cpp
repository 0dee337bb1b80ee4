#include "actors/expansion.hpp"

#include "actors/compact_messages.hpp"
#include "actors/text.hpp"

#include <algorithm>
#include <exception>

#include "kernels/model.hpp"
#include "kernels/sequence.hpp"
#include "messages/envelope.hpp"

namespace pice::actors {

std::string expansion_prompt(const messages::ExpansionTask& task) {
  if (task.direct) return "Question: " + task.question + "\nAnswer:";
  std::string prompt = "Question: " + task.question + "\nSkeleton of the answer:\n";
  for (size_t i = 0; i < task.sketch.size(); ++i)
    prompt += std::to_string(i + 1) + ". " + task.sketch[i] + "\n";
  const std::string number = std::to_string(task.point_index);
  prompt += "Write out point " + number + " only, in one to three sentences.\n";
  prompt += number + ". " + task.point;
  return prompt;
}

messages::ExpansionResult expansion_result(const kernels::Model& model, const messages::ExpansionTask& task,
                                           const std::string& node_id) {
  messages::ExpansionResult result;
  result.point_index = task.point_index;
  result.node = node_id;
  result.model = model.name();
  result.timings.started_us = messages::now_us();
  return result;
}

std::optional<ExpansionJob> expansion_job(const kernels::Model& model, const messages::ExpansionTask& task,
                                          messages::ExpansionResult& result, const TokenCodec* codec) {
  ExpansionJob job;
  job.prompt = codec ? codec->task_prompt(task) : model.tokenizer().encode(expansion_prompt(task), true);
  const int context = model.hparams().context_length;
  const int room = context - static_cast<int>(job.prompt.size());
  if (room <= 0) {
    // Said in the client's terms, as the sketch writer says it for a sketch prompt.
    result.error = "the question is too long for the model: its " + std::string(task.direct ? "answer" : "expansion") +
                   " prompt is " + std::to_string(job.prompt.size()) + " tokens and " + model.name() +
                   " has a context of " + std::to_string(context) + " tokens";
    return std::nullopt;
  }
  kernels::GenerateOptions& options = job.options;
  options.max_tokens = std::min(task.max_tokens, room);
  options.min_tokens = 1;  // an empty expansion is no expansion
  options.ignore_eos = task.ignore_eos;
  options.sampling.temperature = static_cast<float>(task.temperature);
  options.sampling.top_p = static_cast<float>(task.top_p);
  options.sampling.seed = task.seed;
  options.stop = expansion_stops(task);
  return job;
}

std::vector<std::string> expansion_stops(const messages::ExpansionTask& task) {
  std::vector<std::string> stops = task.stop;
  // A real model ends the point where it starts the next one.
  if (!task.direct)
    for (std::string own : {"\n" + std::to_string(task.point_index + 1) + ".", std::string("\n\n")}) stops.push_back(own);
  return stops;
}

std::string expansion_text(const messages::ExpansionTask& task, std::string_view generated) {
  return task.direct ? sanitize_text(generated) : finish_expansion_text(generated);
}

void record_generation(messages::ExpansionResult& result, const messages::ExpansionTask& task,
                       const kernels::Generation& gen, const TokenCodec* codec) {
  result.text = expansion_text(task, gen.text);
  result.tokens = static_cast<int32_t>(gen.tokens.size());
  result.prompt_tokens = static_cast<int32_t>(gen.prompt_tokens);
  result.mean_logprob = gen.mean_logprob;
  result.timings.prefill_ms = gen.prefill_ms;
  result.timings.decode_ms = gen.decode_ms;
  if (result.text.empty()) result.error = "the model wrote nothing for this point";
  // A direct answer keeps its lines, which the ids' one-line reading (finish_expansion_text) would fold.
  if (codec && !task.direct) codec->compact_result(result, gen.tokens, task.vocab_hash);
}

messages::ExpansionResult expand_point(const std::shared_ptr<const kernels::Model>& model,
                                       const messages::ExpansionTask& task, const std::string& node_id,
                                       const PieceSink& on_piece) {
  messages::ExpansionResult result = expansion_result(*model, task, node_id);
  try {
    std::optional<ExpansionJob> job = expansion_job(*model, task, result);
    if (!job) return result;
    kernels::Sequence seq(model, static_cast<int>(job->prompt.size()) + job->options.max_tokens);
    bool cancelled = false;
    std::string streamed;
    kernels::TokenCallback on_token;
    if (on_piece)
      on_token = [&](int32_t, std::string_view piece) {
        if (piece.empty()) return true;
        std::string clean = sanitize_text(piece);
        streamed += clean;
        cancelled = !on_piece(clean);
        return !cancelled;
      };
    record_generation(result, task, kernels::generate(seq, job->prompt, job->options, on_token));
    // A streamed direct answer is exactly what was streamed.
    if (task.direct && on_piece) result.text = streamed;
    if (cancelled) result.error = "cancelled";
  } catch (const std::exception& e) {
    result.error = e.what();
  }
  return result;
}

}  // namespace pice::actors
