#pragma once
// Writes a sketch (a numbered list of short points) under a structure constraint: the writer emits the
// point numbers itself, bounds the number of points and the words per point, and lets the model fill
// each point and choose where the list ends. So every model, even one with random weights, yields a
// well-formed sketch, and a real model is only steered, never rewritten.
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "kernels/sampler.hpp"
#include "kernels/sequence.hpp"

namespace pice::actors {

struct SketchBudget {
  int min_points = 2;
  int max_points = 5;
  int max_words_per_point = 6;
};

struct Sketch {
  std::vector<std::string> points;
  int tokens = 0;           // tokens the model generated (not counting the numbers the writer wrote)
  int prompt_tokens = 0;
  bool cancelled = false;   // stopped early because `cancelled` said so
  double mean_logprob = 0;  // over those tokens
};

// The prompt that asks for a sketch; the writer appends the numbered points after it.
std::string sketch_prompt(std::string_view question, const SketchBudget& budget);

// Runs the model on a fresh sequence. on_point(index, text) is called as soon as each point is complete
// (1-based index), so the caller can dispatch it while the next point is being written.
// `cancelled`, when given, is asked before each point: true ends the sketch there.
Sketch write_sketch(std::shared_ptr<const kernels::Model> model, std::string_view question,
                    const SketchBudget& budget, const kernels::SamplingParams& sampling,
                    const std::function<void(int index, const std::string& text)>& on_point,
                    const std::function<bool()>& cancelled = {});

}  // namespace pice::actors
