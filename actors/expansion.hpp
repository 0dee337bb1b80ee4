#pragma once
// Expanding one point of a sketch: the prompt (question, sketch, the point) and the generation.
// Shared by the edge expander and the cloud's fallback, so a point reads the same wherever it ran.
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kernels/generate.hpp"
#include "messages/bodies.hpp"

namespace pice::kernels {
class Model;
}

namespace pice::actors {

// The prompt ends with "N. <point>" so that the model continues that point and nothing else; a direct
// task (task.direct) asks for the whole answer instead.
std::string expansion_prompt(const messages::ExpansionTask& task);

// What the model runs for a task: its prompt tokens and generation options (the task's sampling, stop
// strings and ignore_eos). The points of one request share the start of their prompts (question, then
// the sketch), which a batched expander prefills once.
struct ExpansionJob {
  std::vector<int32_t> prompt;
  kernels::GenerateOptions options;
};
class TokenCodec;

// The job for a task, or an error text in result.error (a prompt that does not fit the context).
// codec (a board's, for its model's vocabulary): reads a task sent as token ids (compact_messages.hpp);
// it throws std::runtime_error for ids it cannot read. Null: the task is text.
std::optional<ExpansionJob> expansion_job(const kernels::Model& model, const messages::ExpansionTask& task,
                                          messages::ExpansionResult& result, const TokenCodec* codec = nullptr);
// The strings that end a task's generation: the request's own, and for a point the start of the next.
std::vector<std::string> expansion_stops(const messages::ExpansionTask& task);
// The text a task's generation leaves: a point is one line, a direct answer keeps its lines.
std::string expansion_text(const messages::ExpansionTask& task, std::string_view generated);
// A result with the task's point, the node, the model and the start time filled in, and nothing else.
messages::ExpansionResult expansion_result(const kernels::Model& model, const messages::ExpansionTask& task,
                                           const std::string& node_id);
// Fills the result from a finished generation: a point is one line, a direct answer keeps its lines.
// codec: answers a point in token ids when the task's sender shares the vocabulary.
void record_generation(messages::ExpansionResult& result, const messages::ExpansionTask& task,
                       const kernels::Generation& gen, const TokenCodec* codec = nullptr);

// Receives the text as it is written (sanitized pieces whose concatenation is the direct answer);
// returning false stops the generation (the request was cancelled).
using PieceSink = std::function<bool(std::string_view piece)>;

// Generates the expansion of task.point (or, for a direct task, the answer) on model; never throws: a
// failure is reported in result.error ("cancelled" when on_piece stopped it).
messages::ExpansionResult expand_point(const std::shared_ptr<const kernels::Model>& model,
                                       const messages::ExpansionTask& task, const std::string& node_id,
                                       const PieceSink& on_piece = {});

}  // namespace pice::actors
