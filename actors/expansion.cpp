#include "actors/expansion.hpp"

#include "actors/text.hpp"

#include <algorithm>
#include <exception>

#include "kernels/model.hpp"
#include "kernels/sequence.hpp"

namespace pice::actors {

std::string expansion_prompt(const messages::ExpansionTask& task) {
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
  return result;
}

std::optional<ExpansionJob> expansion_job(const kernels::Model& model, const messages::ExpansionTask& task,
                                          messages::ExpansionResult& result) {
  ExpansionJob job;
  job.prompt = model.tokenizer().encode(expansion_prompt(task), true);
  const int context = model.hparams().context_length;
  const int room = context - static_cast<int>(job.prompt.size());
  if (room <= 0) {
    result.error = "prompt of " + std::to_string(job.prompt.size()) + " tokens does not fit the context of " +
                   std::to_string(context);
    return std::nullopt;
  }
  kernels::GenerateOptions& options = job.options;
  options.max_tokens = std::min(task.max_tokens, room);
  options.min_tokens = 1;  // an empty expansion is no expansion
  options.sampling.temperature = static_cast<float>(task.temperature);
  options.sampling.top_p = static_cast<float>(task.top_p);
  options.sampling.seed = task.seed;
  // A real model ends the point where it starts the next one.
  options.stop = {"\n" + std::to_string(task.point_index + 1) + ".", "\n\n"};
  return job;
}

void record_generation(messages::ExpansionResult& result, const kernels::Generation& gen) {
  result.text = one_line(sanitize_text(gen.text));
  result.tokens = static_cast<int32_t>(gen.tokens.size());
  result.mean_logprob = gen.mean_logprob;
  result.timings.prefill_ms = gen.prefill_ms;
  result.timings.decode_ms = gen.decode_ms;
  if (result.text.empty()) result.error = "the model wrote nothing for this point";
}

messages::ExpansionResult expand_point(const std::shared_ptr<const kernels::Model>& model,
                                       const messages::ExpansionTask& task, const std::string& node_id) {
  messages::ExpansionResult result = expansion_result(*model, task, node_id);
  try {
    std::optional<ExpansionJob> job = expansion_job(*model, task, result);
    if (!job) return result;
    kernels::Sequence seq(model, static_cast<int>(job->prompt.size()) + job->options.max_tokens);
    record_generation(result, kernels::generate(seq, job->prompt, job->options));
  } catch (const std::exception& e) {
    result.error = e.what();
  }
  return result;
}

}  // namespace pice::actors
