// Measures the router against the human labels of the Skeleton-of-Thought authors: accuracy, and
// precision and recall for "suits sketch-then-expand" (label 1), with the confusion matrix, per set;
// and fits the router's weights (actors/router_weights.inc).
//
// Tuning and measuring are kept apart by position: WizardLM's odd rows (0-based 1, 3, 5...) are a
// development half that may be fitted and inspected; its even rows (0, 2, 4...) are the test half,
// which no fit and no choice here looks at. The fit set is LIMA plus the development half.
//
//   router_eval [SHARED_DIR]          the committed weights on every set
//   router_eval --fit [SHARED_DIR]    refit: 5-fold cross-validation over the fit set chooses the
//                                     n-gram prior strength and the weight of the in-domain (WizardLM)
//                                     examples by their cross-validated accuracy on the development half,
//                                     then fits on the whole fit set and reports every set
//   --write FILE                      with --fit: write the fitted weights as actors/router_weights.inc
//   --show-dev-errors                 with --fit: print the development half's cross-validation mistakes
//   --dev-only                        leave the test half out of the report (for use while tuning)
//
// SHARED_DIR defaults to $PICE_SHARED_DIR, else ../shared (relative to the working directory).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <limits>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include "actors/labelled_csv.hpp"
#include "actors/router.hpp"

namespace {

using pice::actors::kRouterFeatureCount;
using pice::actors::RouterFeatureVector;
using pice::actors::RouterWeights;

constexpr size_t kFolds = 5;
// Strength (inverse variance) of the Gaussian prior that holds each cue weight near its hand-set sign.
constexpr double kCueLambda = 3;
// Strengths tried for the prior N(0, 1/lambda) on every n-gram weight; infinity means no n-grams (the
// cue-only router), so cross-validation also judges whether n-grams help at all.
constexpr double kNoNgrams = std::numeric_limits<double>::infinity();
constexpr double kNgramLambdas[] = {kNoNgrams, 30, 10, 5, 3, 2, 1};
// How much a development-half (WizardLM) example counts against a LIMA one in the fit.
constexpr double kDomainWeights[] = {1, 2, 4, 8};
// router_ngrams' windows tried: the opening words only, a sentence or two, most of a question.
constexpr size_t kWindows[] = {4, 12, 60};
// An n-gram enters the model only if this many training questions contain it: rarer ones would only
// memorise single questions.
constexpr size_t kMinNgramCount = 2;
// Full-batch Adam on the convex objective: deterministic, and converged well within these steps.
constexpr int kSteps = 600;
constexpr double kLearningRate = 0.05;
// Fitted n-gram weights smaller than this are not written: they never move a route.
constexpr double kWriteThreshold = 0.005;

struct Example {
  std::string question;
  RouterFeatureVector x;
  std::vector<std::string> grams;
  bool y;
  double weight = 1;       // in the fit: how many examples this one counts as
  bool in_domain = false;  // a WizardLM development example (model selection is judged on these)
};

struct Set {
  std::string name;
  std::string role;
  std::vector<Example> examples;
};

struct Confusion {
  size_t tp = 0, fp = 0, fn = 0, tn = 0;
  void add(bool predicted, bool truth) {
    if (predicted) (truth ? tp : fp)++;
    else (truth ? fn : tn)++;
  }
  size_t n() const { return tp + fp + fn + tn; }
  double accuracy() const { return n() ? static_cast<double>(tp + tn) / static_cast<double>(n()) : 0; }
  double precision() const { return tp + fp ? static_cast<double>(tp) / static_cast<double>(tp + fp) : 0; }
  double recall() const { return tp + fn ? static_cast<double>(tp) / static_cast<double>(tp + fn) : 0; }
};

// parity: -1 every row; 0 or 1 only the rows whose 0-based position has that parity.
Set load_set(const std::filesystem::path& shared, const std::string& dataset, const std::string& name,
             const std::string& role, int parity = -1) {
  Set set{name, role, {}};
  const auto rows = pice::actors::read_labelled_csv(shared / "datasets" / dataset / "router-labels.csv");
  for (size_t i = 0; i < rows.size(); ++i)
    if (parity < 0 || static_cast<int>(i % 2) == parity)
      set.examples.push_back({rows[i].question, pice::actors::extract_router_features(rows[i].question), {},
                              rows[i].suitable});
  return set;
}

bool predict(const Example& e, const RouterWeights& weights) {
  return pice::actors::router_score(e.x, e.grams, weights) > 0;
}

std::vector<Example> with_window(std::vector<Example> examples, size_t window) {
  for (Example& e : examples) e.grams = pice::actors::router_ngrams(e.question, window);
  return examples;
}

Confusion evaluate(const std::vector<Example>& examples, const RouterWeights& weights) {
  Confusion c;
  for (const Example& e : with_window(examples, weights.ngram_window)) c.add(predict(e, weights), e.y);
  return c;
}

// Maximum a posteriori logistic regression: weighted log-likelihood plus Gaussian priors, N(hand-set
// sign, 1/kCueLambda) on each cue weight and N(0, 1/ngram_lambda) on each n-gram weight; the bias is
// free. The n-gram vocabulary is what at least kMinNgramCount training questions contain.
// The examples' grams must have been made with `window`.
RouterWeights fit(const std::vector<Example>& examples, const RouterWeights& prior, double ngram_lambda,
                  size_t window) {
  std::map<std::string, size_t> counts;
  if (ngram_lambda != kNoNgrams)
    for (const Example& e : examples)
      for (const std::string& g : e.grams) ++counts[g];
  std::vector<std::string> vocabulary;
  std::map<std::string, size_t> index;
  for (const auto& [gram, count] : counts)
    if (count >= kMinNgramCount) index[gram] = vocabulary.size(), vocabulary.push_back(gram);
  std::vector<std::vector<size_t>> active(examples.size());
  for (size_t i = 0; i < examples.size(); ++i)
    for (const std::string& g : examples[i].grams)
      if (const auto it = index.find(g); it != index.end()) active[i].push_back(it->second);

  // Parameters: the cue weights, the bias, then one weight per vocabulary n-gram.
  const size_t bias = kRouterFeatureCount, d = kRouterFeatureCount + 1 + vocabulary.size();
  std::vector<double> w(d, 0), m(d, 0), v(d, 0), g(d);
  for (size_t i = 0; i < kRouterFeatureCount; ++i) w[i] = prior.weights[i];
  double total_weight = 0;
  for (const Example& e : examples) total_weight += e.weight;
  constexpr double beta1 = 0.9, beta2 = 0.999, epsilon = 1e-8;
  for (int step = 1; step <= kSteps; ++step) {
    for (size_t i = 0; i < kRouterFeatureCount; ++i) g[i] = kCueLambda * (w[i] - prior.weights[i]);
    g[bias] = 0;
    for (size_t i = bias + 1; i < d; ++i) g[i] = ngram_lambda * w[i];
    for (size_t k = 0; k < examples.size(); ++k) {
      const Example& e = examples[k];
      double z = w[bias];
      for (size_t i = 0; i < kRouterFeatureCount; ++i) z += w[i] * e.x[i];
      for (size_t j : active[k]) z += w[bias + 1 + j];
      const double error = e.weight * (1 / (1 + std::exp(-z)) - (e.y ? 1 : 0));
      for (size_t i = 0; i < kRouterFeatureCount; ++i) g[i] += error * e.x[i];
      g[bias] += error;
      for (size_t j : active[k]) g[bias + 1 + j] += error;
    }
    const double c1 = 1 - std::pow(beta1, step), c2 = 1 - std::pow(beta2, step);
    for (size_t i = 0; i < d; ++i) {
      const double gi = g[i] / total_weight;  // the scale Adam sees does not depend on the set's size
      m[i] = beta1 * m[i] + (1 - beta1) * gi;
      v[i] = beta2 * v[i] + (1 - beta2) * gi * gi;
      w[i] -= kLearningRate * (m[i] / c1) / (std::sqrt(v[i] / c2) + epsilon);
    }
  }
  RouterWeights out;
  out.ngram_window = window;
  for (size_t i = 0; i < kRouterFeatureCount; ++i) out.weights[i] = w[i];
  out.bias = w[bias];
  for (size_t j = 0; j < vocabulary.size(); ++j) out.ngrams[vocabulary[j]] = w[bias + 1 + j];
  return out;
}

struct CrossValidation {
  Confusion all, in_domain;
  std::vector<Example> in_domain_errors;
};

// Folds by position (example i is in fold i % kFolds): deterministic, and interleaved across the files.
CrossValidation cross_validate(const std::vector<Example>& examples, const RouterWeights& prior,
                               double ngram_lambda, size_t window) {
  CrossValidation total;
  for (size_t fold = 0; fold < kFolds; ++fold) {
    std::vector<Example> train;
    for (size_t i = 0; i < examples.size(); ++i)
      if (i % kFolds != fold) train.push_back(examples[i]);
    const RouterWeights weights = fit(train, prior, ngram_lambda, window);
    for (size_t i = fold; i < examples.size(); i += kFolds) {
      const Example& e = examples[i];
      const bool predicted = predict(e, weights);
      total.all.add(predicted, e.y);
      if (!e.in_domain) continue;
      total.in_domain.add(predicted, e.y);
      if (predicted != e.y) total.in_domain_errors.push_back(e);
    }
  }
  return total;
}

// The fit set: every set whose role is "fit", WizardLM's development examples weighted by domain_weight.
std::vector<Example> fit_examples(const std::vector<Set>& sets, double domain_weight, size_t window) {
  std::vector<Example> out;
  for (const Set& set : sets) {
    if (set.role != "fit") continue;
    const bool in_domain = set.name == "wizard-dev";
    for (Example e : set.examples) {
      e.in_domain = in_domain;
      e.weight = in_domain ? domain_weight : 1;
      out.push_back(e);
    }
  }
  return with_window(std::move(out), window);
}

std::string percent(double x) {
  char text[16];
  std::snprintf(text, sizeof text, "%5.1f%%", 100 * x);
  return text;
}

std::string lambda_text(double lambda) {
  if (lambda == kNoNgrams) return "none";
  char text[16];
  std::snprintf(text, sizeof text, "%.0f", lambda);
  return text;
}

void report(const std::vector<Set>& sets, const RouterWeights& weights, bool dev_only) {
  std::printf("%-13s %-8s %5s %7s %8s %8s %9s %7s   %s\n", "set", "role", "n", "label1", "always0", "accuracy",
              "precision", "recall", "confusion [truth 1: TP FN | truth 0: FP TN]");
  for (const Set& set : sets) {
    if (dev_only && set.role == "held-out") continue;
    const Confusion c = evaluate(set.examples, weights);
    const double base = static_cast<double>(c.tp + c.fn) / static_cast<double>(c.n());
    std::printf("%-13s %-8s %5zu %7zu %8s %8s %9s %7s   [%zu %zu | %zu %zu]\n", set.name.c_str(), set.role.c_str(),
                c.n(), c.tp + c.fn, percent(1 - base).c_str(), percent(c.accuracy()).c_str(),
                percent(c.precision()).c_str(), percent(c.recall()).c_str(), c.tp, c.fn, c.fp, c.tn);
  }
}

// n-grams are question words (letters, digits, ' + #) and spaces: nothing a C++ string needs escaped,
// but a stray quote or backslash must not break the generated file.
std::string cpp_string(const std::string& text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

void write_weights(const std::filesystem::path& path, const RouterWeights& weights, const std::string& provenance) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) throw std::runtime_error("cannot write " + path.string());
  out << "// Generated by `router_eval --fit --write " << path.string()
      << "` (bench/router_eval.cpp); do not edit by hand.\n"
      << provenance << "// clang-format off\n";
  char line[160];
  std::snprintf(line, sizeof line, "constexpr double kBias = %.3f;\n", weights.bias);
  out << line << "constexpr RouterFeatureVector kWeights = {\n";
  for (size_t i = 0; i < kRouterFeatureCount; ++i) {
    std::snprintf(line, sizeof line, "    %.3f,  // %s\n", weights.weights[i],
                  std::string(pice::actors::router_feature_info()[i].name).c_str());
    out << line;
  }
  out << "};\nconstexpr size_t kNgramWindow = " << weights.ngram_window
      << ";\nconst std::vector<NgramWeight> kNgramWeights = {\n";
  for (const auto& [gram, weight] : weights.ngrams) {
    if (std::abs(weight) < kWriteThreshold) continue;
    std::snprintf(line, sizeof line, "%.3f}", weight);
    out << "    {" << cpp_string(gram) << ", " << line << ",\n";
  }
  out << "};\n// clang-format on\n";
  if (!out) throw std::runtime_error("error writing " + path.string());
}

std::filesystem::path shared_dir(const std::string& argument) {
  if (!argument.empty()) return argument;
  if (const char* env = std::getenv("PICE_SHARED_DIR")) return env;
  return "../shared";
}

}  // namespace

int main(int argc, char** argv) {
  bool refit = false, dev_only = false, show_errors = false;
  std::string shared_argument, write_path;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--fit") refit = true;
    else if (arg == "--dev-only") dev_only = true;
    else if (arg == "--show-dev-errors") show_errors = true;
    else if (arg == "--write" && i + 1 < argc) write_path = argv[++i];
    else if (arg == "-h" || arg == "--help") {
      std::cout << "usage: router_eval [--fit [--write FILE] [--show-dev-errors]] [--dev-only] [SHARED_DIR]\n";
      return 0;
    } else if (arg.starts_with("-")) {
      std::cerr << "router_eval: unknown option " << arg << "\n";
      return 2;
    } else shared_argument = arg;
  }
  try {
    const std::filesystem::path shared = shared_dir(shared_argument);
    const std::vector<Set> sets = {
        load_set(shared, "sot-lima", "sot-lima", "fit"),
        load_set(shared, "sot-wizardlm", "wizard-dev", "fit", 1),
        load_set(shared, "sot-wizardlm", "wizard-test", "held-out", 0),
    };
    RouterWeights weights = pice::actors::default_router_weights();
    if (refit) {
      const RouterWeights prior = pice::actors::prior_router_weights();
      double best_lambda = 0, best_domain_weight = 0;
      size_t best_window = 0;
      CrossValidation best;
      bool have_best = false;
      std::printf("5-fold cross-validation on sot-lima + wizard-dev (the test half is not used):\n");
      for (size_t window : kWindows)
        for (double domain_weight : kDomainWeights) {
          const std::vector<Example> fit_set = fit_examples(sets, domain_weight, window);
          for (double lambda : kNgramLambdas) {
            if (lambda == kNoNgrams && window != kWindows[0]) continue;  // the same cue-only model
            CrossValidation cv = cross_validate(fit_set, prior, lambda, window);
            std::printf("  window %2zu  wizard-dev weight %3.0f  n-gram lambda %4s  accuracy %s  on wizard-dev %s\n",
                        window, domain_weight, lambda_text(lambda).c_str(), percent(cv.all.accuracy()).c_str(),
                        percent(cv.in_domain.accuracy()).c_str());
            std::fflush(stdout);
            // Judged on the development half (the domain of the test half). Within a window the grid
            // runs from the simpler model to the richer one, so a tie keeps the simpler.
            if (!have_best || cv.in_domain.accuracy() > best.in_domain.accuracy())
              best = std::move(cv), best_lambda = lambda, best_domain_weight = domain_weight, best_window = window,
              have_best = true;
          }
        }
      if (show_errors) {
        std::printf("cross-validation mistakes on wizard-dev under the chosen settings (label, question):\n");
        for (const Example& e : best.in_domain_errors)
          std::printf("  %d  %.150s\n", e.y ? 1 : 0, e.question.c_str());
      }
      char chosen[256];
      std::snprintf(chosen, sizeof chosen,
                    "window %zu, wizard-dev weight %.0f, n-gram lambda %s (5-fold CV: %s on wizard-dev, %s on the "
                    "fit set)",
                    best_window, best_domain_weight, lambda_text(best_lambda).c_str(),
                    percent(best.in_domain.accuracy()).c_str(), percent(best.all.accuracy()).c_str());
      std::printf("chosen: %s; weights fitted on all of the fit set\n", chosen);
      weights = fit(fit_examples(sets, best_domain_weight, best_window), prior, best_lambda, best_window);
      if (!write_path.empty()) {
        write_weights(write_path, weights,
                      "// Logistic regression over the router's cues and word n-grams, fitted on sot-lima plus\n"
                      "// WizardLM's development half (odd rows); the test half (even rows) took no part.\n"
                      "// Chosen by cross-validation on the development half: " +
                          std::string(chosen) + ".\n");
        std::printf("wrote %s\n", write_path.c_str());
      }
    } else {
      std::printf("committed weights (actors/router_weights.inc); wizard-test is held out\n");
    }
    report(sets, weights, dev_only);
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "router_eval: " << e.what() << "\n";
    return 1;
  }
}
