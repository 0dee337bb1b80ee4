#pragma once
// Expanding one point of a sketch: the prompt (question, sketch, the point) and the generation.
// Shared by the edge expander and the cloud's fallback, so a point reads the same wherever it ran.
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "kernels/generate.hpp"
#include "messages/bodies.hpp"

namespace pice::kernels {
class Model;
}

namespace pice::actors {

// The prompt ends with "N. <point>" so that the model continues that point and nothing else.
std::string expansion_prompt(const messages::ExpansionTask& task);

// What the model runs for a task: its prompt tokens and generation options. The points of one request
// share the start of their prompts (question, then the sketch), which a batched expander prefills once.
struct ExpansionJob {
  std::vector<int32_t> prompt;
  kernels::GenerateOptions options;
};
// The job for a task, or an error text in result.error (a prompt that does not fit the context).
std::optional<ExpansionJob> expansion_job(const kernels::Model& model, const messages::ExpansionTask& task,
                                          messages::ExpansionResult& result);
// A result with the task's point, the node and the model filled in, and nothing else.
messages::ExpansionResult expansion_result(const kernels::Model& model, const messages::ExpansionTask& task,
                                           const std::string& node_id);
// Fills the result from a finished generation.
void record_generation(messages::ExpansionResult& result, const kernels::Generation& gen);

// Generates the expansion of task.point on model; never throws: a failure is reported in result.error.
messages::ExpansionResult expand_point(const std::shared_ptr<const kernels::Model>& model,
                                       const messages::ExpansionTask& task, const std::string& node_id);

}  // namespace pice::actors
