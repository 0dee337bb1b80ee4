// What the bounded KV cache (KvPolicy: a recent window plus the earlier positions attention used most,
// after A-VL) saves and what it costs in output drift, against the unbounded cache on the same model:
//
//   build/bench/kv_window_bench [--model ../shared/models/stories260K.gguf | synth:SHAPE[:TYPE]]
//                               [--prompt "Once upon a time"] [--tokens 480] [--policies 64:0,64:32,128:64,...]
//
// The unbounded run decodes greedily from the prompt (EOS is fed like any token, so the run is long).
// Each policy then (1) decodes greedily on its own: the first step whose token differs, and the share
// of the steps that agree; (2) is fed the unbounded run's tokens (teacher forcing): mean and largest
// KL(unbounded || bounded) of the next-token distributions, and how often both pick the same token;
// (3) the KV cache it holds at the end (positions and MiB, all layers, keys and values).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "kernels/model.hpp"
#include "kernels/sequence.hpp"
#include "kernels/synth.hpp"

namespace {

using namespace pice::kernels;

struct Run {
  std::vector<int32_t> tokens;               // the greedy tokens (free running) or the fed ones
  std::vector<std::vector<double>> logprobs; // per step, log-softmax of the logits
  int cached = 0;                            // positions in the cache at the end
};

int32_t argmax(std::span<const float> logits) {
  return static_cast<int32_t>(std::max_element(logits.begin(), logits.end()) - logits.begin());
}

std::vector<double> log_softmax(std::span<const float> logits) {
  const double max = *std::max_element(logits.begin(), logits.end());
  double total = 0;
  for (const float l : logits) total += std::exp(l - max);
  const double log_total = std::log(total) + max;
  std::vector<double> out(logits.size());
  for (size_t i = 0; i < logits.size(); ++i) out[i] = logits[i] - log_total;
  return out;
}

// Greedy from the prompt for `steps` tokens; with `forced`, those tokens are fed instead of the argmax.
Run decode(const std::shared_ptr<const Model>& model, const std::vector<int32_t>& prompt, int steps,
           const std::vector<int32_t>* forced) {
  Sequence seq(model, static_cast<int>(prompt.size()) + steps);
  Run run;
  std::span<const float> logits = seq.feed(prompt);
  for (int i = 0; i < steps; ++i) {
    run.logprobs.push_back(log_softmax(logits));
    const int32_t next = forced != nullptr ? (*forced)[static_cast<size_t>(i)] : argmax(logits);
    run.tokens.push_back(next);
    if (i + 1 < steps) logits = seq.feed(std::span<const int32_t>(&next, 1));
  }
  run.cached = seq.cached();
  return run;
}

std::vector<std::string> split(const std::string& text) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= text.size()) {
    const size_t comma = std::min(text.find(',', start), text.size());
    if (comma > start) out.push_back(text.substr(start, comma - start));
    start = comma + 1;
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  std::string model_spec = "../shared/models/stories260K.gguf", prompt_text = "Once upon a time";
  std::string policies = "32:0,32:32,64:0,64:32,64:64,128:64,256:128";
  int steps = 480;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--model" && i + 1 < argc) model_spec = argv[++i];
    else if (arg == "--prompt" && i + 1 < argc) prompt_text = argv[++i];
    else if (arg == "--tokens" && i + 1 < argc) steps = std::stoi(argv[++i]);
    else if (arg == "--policies" && i + 1 < argc) policies = argv[++i];
    else {
      std::fprintf(stderr, "usage: %s [--model FILE|synth:SHAPE] [--prompt TEXT] [--tokens N] [--policies W:K,...]\n", argv[0]);
      return 2;
    }
  }
  try {
    const std::filesystem::path path = resolve_model_path(model_spec);
    const auto unbounded = Model::load(path);
    const HParams& hp = unbounded->hparams();
    const std::vector<int32_t> prompt = unbounded->tokenizer().encode(prompt_text, true);
    steps = std::min(steps, hp.context_length - static_cast<int>(prompt.size()));
    const double position_mib = 2.0 * hp.n_layers * unbounded->kv_dim() * sizeof(float) / (1024.0 * 1024.0);
    std::printf("model %s (%s, %d layers, kv_dim %d), prompt %zu tokens, %d greedy steps\n", unbounded->name().c_str(),
                hp.arch.c_str(), hp.n_layers, unbounded->kv_dim(), prompt.size(), steps);

    const Run reference = decode(unbounded, prompt, steps, nullptr);
    std::printf("| window:keep | KV positions held | KV MiB | of unbounded | free run: first differing step | steps agreeing | forced: mean KL | max KL | same top-1 |\n");
    std::printf("|---|---|---|---|---|---|---|---|---|\n");
    std::printf("| unbounded | %d | %.3f | 100%% | - | - | - | - | - |\n", reference.cached, reference.cached * position_mib);
    for (const std::string& spec : split(policies)) {
      const size_t colon = spec.find(':');
      ModelOptions options;
      options.kv.window = std::stoi(spec.substr(0, colon));
      options.kv.keep = colon == std::string::npos ? 0 : std::stoi(spec.substr(colon + 1));
      const auto bounded = Model::load(path, options);
      const Run free_run = decode(bounded, prompt, steps, nullptr);
      const Run forced = decode(bounded, prompt, steps, &reference.tokens);
      int first_difference = -1, agreeing = 0, same_top1 = 0;
      double kl_sum = 0, kl_max = 0;
      for (int i = 0; i < steps; ++i) {
        const auto s = static_cast<size_t>(i);
        if (free_run.tokens[s] == reference.tokens[s]) ++agreeing;
        else if (first_difference < 0) first_difference = i;
        const std::vector<double>& p = reference.logprobs[s];
        const std::vector<double>& q = forced.logprobs[s];
        double kl = 0;
        for (size_t v = 0; v < p.size(); ++v) kl += std::exp(p[v]) * (p[v] - q[v]);
        kl_sum += kl;
        kl_max = std::max(kl_max, kl);
        if (std::max_element(p.begin(), p.end()) - p.begin() == std::max_element(q.begin(), q.end()) - q.begin()) ++same_top1;
      }
      std::printf("| %d:%d | %d | %.3f | %.0f%% | %s | %.1f%% | %.4f | %.3f | %.1f%% |\n", options.kv.window, options.kv.keep,
                  free_run.cached, free_run.cached * position_mib, 100.0 * free_run.cached / reference.cached,
                  first_difference < 0 ? "none" : std::to_string(first_difference).c_str(), 100.0 * agreeing / steps,
                  kl_sum / steps, kl_max, 100.0 * same_top1 / steps);
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "kv_window_bench: %s\n", e.what());
    return 1;
  }
  return 0;
}
