#pragma once
// The cloud's and an edge's work done by a remote engine (an OpenAI-compatible server, kernels/
// remote_engine.hpp) instead of a model in this process: sketches, expansions and direct answers, with
// the same prompts as the local path (sketch_writer.hpp, expansion.hpp) so an answer reads alike
// wherever it was written.
//
// What a remote engine cannot give degrades, and says so: the sketch writer cannot steer the next
// tokens over HTTP, so the server is asked for the numbered list and its lines are parsed (a list
// longer than max_points is cut, a point longer than max_words_per_point is shortened); token counts
// are the server's usage figures (or the number of streamed pieces when it sends none, see
// RemoteGeneration::counted_by_server); log-probabilities only when the server returns them.
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "actors/expansion.hpp"
#include "actors/sketch_writer.hpp"
#include "kernels/remote_engine.hpp"
#include "messages/bodies.hpp"

namespace pice::actors {

// The generation options of a task, as the remote engine sends them.
kernels::RemoteOptions remote_options(const messages::ExpansionTask& task);

// Expands task.point (or answers, for a direct task) on the server, streaming: a direct answer's text
// goes to on_piece as it arrives. Never throws: a failure is reported in result.error ("cancelled"
// when on_piece stopped it). result.timings.decode_ms is the server's whole time, link included.
messages::ExpansionResult expand_point_remotely(const kernels::RemoteEngine& engine,
                                                const messages::ExpansionTask& task, const std::string& node_id,
                                                const PieceSink& on_piece = {});

// Cuts a streamed list into points: fed text as it arrives, it reports each point once its line is
// complete. A line counts as a point when it has text after an optional list marker ("3.", "3)", "-",
// "*"); a line ending in ':' that precedes the list ("Here is the skeleton:") is skipped, and so are
// blank lines.
class SketchLines {
 public:
  explicit SketchLines(int max_words_per_point) : max_words_(max_words_per_point) {}
  // The points completed by this text (normally none or one).
  std::vector<std::string> feed(std::string_view text);
  // The last line, when the stream ended without a newline after it.
  std::optional<std::string> finish();

 private:
  std::optional<std::string> point_of(std::string_view line) const;
  int max_words_;
  std::string line_;
};

// Writes a sketch on the server: on_point(index, text) is called as soon as each line of the streamed
// list is complete, so the scheduler dispatches a point while the server writes the next. Stops the
// stream at budget.max_points or when cancelled() says so. Throws kernels::RemoteEngineError when the
// server fails or writes no point at all.
Sketch write_sketch_remotely(const kernels::RemoteEngine& engine, std::string_view question,
                             const SketchBudget& budget, const kernels::RemoteOptions& options,
                             const std::function<void(int index, const std::string& text)>& on_point,
                             const std::function<bool()>& cancelled = {});

}  // namespace pice::actors
