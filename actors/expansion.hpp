#pragma once
// Expanding one point of a sketch: the prompt (question, sketch, the point) and the generation.
// Shared by the edge expander and the cloud's fallback, so a point reads the same wherever it ran.
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "messages/bodies.hpp"

namespace pice::kernels {
class Model;
}

namespace pice::actors {

// The prompt ends with "N. <point>" so that the model continues that point and nothing else; a direct
// task (task.direct) asks for the whole answer instead.
std::string expansion_prompt(const messages::ExpansionTask& task);

// Receives the text as it is written (sanitized pieces whose concatenation is the direct answer);
// returning false stops the generation (the request was cancelled).
using PieceSink = std::function<bool(std::string_view piece)>;

// Generates the expansion of task.point (or, for a direct task, the answer) on model, applying the
// task's sampling, stop strings and ignore_eos; never throws: a failure is reported in result.error
// ("cancelled" when on_piece stopped it).
messages::ExpansionResult expand_point(const std::shared_ptr<const kernels::Model>& model,
                                       const messages::ExpansionTask& task, const std::string& node_id,
                                       const PieceSink& on_piece = {});

}  // namespace pice::actors
