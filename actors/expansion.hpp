#pragma once
// Expanding one point of a sketch: the prompt (question, sketch, the point) and the generation.
// Shared by the edge expander and the cloud's fallback, so a point reads the same wherever it ran.
#include <memory>
#include <string>

#include "messages/bodies.hpp"

namespace pice::kernels {
class Model;
}

namespace pice::actors {

// The prompt ends with "N. <point>" so that the model continues that point and nothing else.
std::string expansion_prompt(const messages::ExpansionTask& task);

// Generates the expansion of task.point on model; never throws: a failure is reported in result.error.
messages::ExpansionResult expand_point(const std::shared_ptr<const kernels::Model>& model,
                                       const messages::ExpansionTask& task, const std::string& node_id);

}  // namespace pice::actors
