// Measures the router against the human labels of the Skeleton-of-Thought authors: accuracy, and
// precision and recall for "suits sketch-then-expand" (label 1), with the confusion matrix, per set.
//
// Tuning and measuring are kept apart by position: WizardLM's odd rows (0-based 1, 3, 5...) are a
// development half that may be fitted and inspected; its even rows (0, 2, 4...) are the test half,
// whose errors are never printed and which no choice here looks at. The fit set is LIMA plus the
// development half.
//
//   router_eval [SHARED_DIR]         the committed weights (actors/router.cpp) on every set
//   router_eval --fit [SHARED_DIR]   refit: 5-fold cross-validation over the fit set chooses the prior
//                                    strength and the weight of the in-domain (WizardLM) examples by
//                                    their cross-validated accuracy on the development half; prints the
//                                    weights as C++ constants and every set under them
//
// SHARED_DIR defaults to $PICE_SHARED_DIR, else ../shared (relative to the working directory).
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
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
// Prior strengths tried by cross-validation: the inverse variance of the Gaussian prior per weight.
constexpr double kLambdas[] = {0.3, 1, 3, 10, 30, 100};
constexpr int kNewtonSteps = 25;
// How much a development-half (WizardLM) example counts against a LIMA one in the fit.
constexpr double kDomainWeights[] = {0, 1, 2, 4, 8};

struct Example {
  RouterFeatureVector x;
  bool y;
  double weight = 1;     // in the fit: how many examples this one counts as
  bool in_domain = false;  // a WizardLM development example (model selection is judged on these)
};

struct Set {
  std::string name;
  std::string role;
  std::vector<Example> examples;
};

struct Confusion {
  size_t tp = 0, fp = 0, fn = 0, tn = 0;
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
      set.examples.push_back({pice::actors::extract_router_features(rows[i].question), rows[i].suitable});
  return set;
}

Confusion evaluate(const std::vector<Example>& examples, const RouterWeights& weights) {
  Confusion c;
  for (const Example& e : examples) {
    const bool predicted = pice::actors::router_score(e.x, weights) > 0;
    if (predicted) (e.y ? c.tp : c.fp)++;
    else (e.y ? c.fn : c.tn)++;
  }
  return c;
}

// Solves a * x = b in place (Gaussian elimination with partial pivoting); a is n x n, row-major.
std::vector<double> solve(std::vector<double> a, std::vector<double> b) {
  const size_t n = b.size();
  for (size_t col = 0; col < n; ++col) {
    size_t pivot = col;
    for (size_t r = col + 1; r < n; ++r)
      if (std::abs(a[r * n + col]) > std::abs(a[pivot * n + col])) pivot = r;
    if (std::abs(a[pivot * n + col]) < 1e-12) throw std::runtime_error("singular system in the fit");
    for (size_t k = 0; k < n; ++k) std::swap(a[col * n + k], a[pivot * n + k]);
    std::swap(b[col], b[pivot]);
    for (size_t r = 0; r < n; ++r) {
      if (r == col) continue;
      const double f = a[r * n + col] / a[col * n + col];
      if (f == 0) continue;
      for (size_t k = col; k < n; ++k) a[r * n + k] -= f * a[col * n + k];
      b[r] -= f * b[col];
    }
  }
  for (size_t i = 0; i < n; ++i) b[i] /= a[i * n + i];
  return b;
}

// Maximum a posteriori logistic regression by Newton's method: log-likelihood plus a Gaussian prior
// N(prior weight, 1/lambda) on every feature weight; the bias is free.
RouterWeights fit(const std::vector<Example>& examples, const RouterWeights& prior, double lambda) {
  constexpr size_t d = kRouterFeatureCount + 1;  // the bias is the last coordinate
  std::vector<double> w(d, 0);
  for (size_t i = 0; i < kRouterFeatureCount; ++i) w[i] = prior.weights[i];
  for (int step = 0; step < kNewtonSteps; ++step) {
    std::vector<double> gradient(d, 0), hessian(d * d, 0);
    for (size_t i = 0; i < kRouterFeatureCount; ++i) {
      gradient[i] = lambda * (w[i] - prior.weights[i]);
      hessian[i * d + i] = lambda;
    }
    for (const Example& e : examples) {
      double x[d];
      for (size_t i = 0; i < kRouterFeatureCount; ++i) x[i] = e.x[i];
      x[d - 1] = 1;
      double z = 0;
      for (size_t i = 0; i < d; ++i) z += w[i] * x[i];
      const double p = 1 / (1 + std::exp(-z)), error = e.weight * (p - (e.y ? 1 : 0)), s = e.weight * p * (1 - p);
      for (size_t i = 0; i < d; ++i) {
        gradient[i] += error * x[i];
        for (size_t j = 0; j < d; ++j) hessian[i * d + j] += s * x[i] * x[j];
      }
    }
    const std::vector<double> delta = solve(hessian, gradient);
    for (size_t i = 0; i < d; ++i) w[i] -= delta[i];
  }
  RouterWeights out;
  for (size_t i = 0; i < kRouterFeatureCount; ++i) out.weights[i] = w[i];
  out.bias = w[d - 1];
  return out;
}

struct CrossValidation {
  Confusion all, in_domain;
};

// Folds by position (example i is in fold i % kFolds): deterministic, and interleaved across the file.
CrossValidation cross_validate(const std::vector<Example>& examples, const RouterWeights& prior, double lambda) {
  CrossValidation total;
  for (size_t fold = 0; fold < kFolds; ++fold) {
    std::vector<Example> train, test;
    for (size_t i = 0; i < examples.size(); ++i) (i % kFolds == fold ? test : train).push_back(examples[i]);
    const RouterWeights weights = fit(train, prior, lambda);
    for (const Example& e : test) {
      const bool predicted = pice::actors::router_score(e.x, weights) > 0;
      for (Confusion* c : {&total.all, e.in_domain ? &total.in_domain : nullptr}) {
        if (!c) continue;
        if (predicted) (e.y ? c->tp : c->fp)++;
        else (e.y ? c->fn : c->tn)++;
      }
    }
  }
  return total;
}

// The fit set: every set whose role is "fit", WizardLM's development examples weighted by domain_weight
// (0: they do not move the fit, as for the first router, but cross-validation still scores them).
std::vector<Example> fit_examples(const std::vector<Set>& sets, double domain_weight) {
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
  return out;
}

std::string percent(double x) {
  char text[16];
  std::snprintf(text, sizeof text, "%5.1f%%", 100 * x);
  return text;
}

void report(const std::vector<Set>& sets, const RouterWeights& weights) {
  std::printf("%-13s %-8s %5s %7s %8s %8s %9s %7s   %s\n", "set", "role", "n", "label1", "always0", "accuracy",
              "precision", "recall", "confusion [truth 1: TP FN | truth 0: FP TN]");
  for (const Set& set : sets) {
    const Confusion c = evaluate(set.examples, weights);
    const double base = static_cast<double>(c.tp + c.fn) / static_cast<double>(c.n());
    std::printf("%-13s %-8s %5zu %7zu %8s %8s %9s %7s   [%zu %zu | %zu %zu]\n", set.name.c_str(), set.role.c_str(),
                c.n(), c.tp + c.fn, percent(1 - base).c_str(), percent(c.accuracy()).c_str(),
                percent(c.precision()).c_str(), percent(c.recall()).c_str(), c.tp, c.fn, c.fp, c.tn);
  }
}

void print_weights(const RouterWeights& weights) {
  std::printf("constexpr double kBias = %.2f;\nconstexpr RouterFeatureVector kWeights = {\n", weights.bias);
  for (size_t i = 0; i < kRouterFeatureCount; ++i) {
    const std::string name(pice::actors::router_feature_info()[i].name);
    std::printf("    %.2f,  // %s\n", weights.weights[i], name.c_str());
  }
  std::printf("};\n");
}

std::filesystem::path shared_dir(const std::string& argument) {
  if (!argument.empty()) return argument;
  if (const char* env = std::getenv("PICE_SHARED_DIR")) return env;
  return "../shared";
}

}  // namespace

int main(int argc, char** argv) {
  bool refit = false;
  std::string shared_argument;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--fit") refit = true;
    else if (arg == "-h" || arg == "--help") {
      std::cout << "usage: router_eval [--fit] [SHARED_DIR]\n";
      return 0;
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
      CrossValidation best;
      std::printf("5-fold cross-validation on sot-lima + wizard-dev (the test half is not used):\n");
      for (double domain_weight : kDomainWeights) {
        const std::vector<Example> fit_set = fit_examples(sets, domain_weight);
        for (double lambda : kLambdas) {
          const CrossValidation cv = cross_validate(fit_set, prior, lambda);
          std::printf("  wizard-dev weight %3.0f  lambda %6.1f  accuracy %s  on wizard-dev %s\n", domain_weight, lambda,
                      percent(cv.all.accuracy()).c_str(), percent(cv.in_domain.accuracy()).c_str());
          // Judged on the development half (the domain of the test half); ties go to the stronger
          // prior and the smaller in-domain weight: fewer degrees of freedom for the same accuracy.
          const bool better = cv.in_domain.accuracy() > best.in_domain.accuracy() ||
                              (cv.in_domain.accuracy() == best.in_domain.accuracy() &&
                               (best_lambda == 0 || cv.all.accuracy() > best.all.accuracy() ||
                                (cv.all.accuracy() == best.all.accuracy() && lambda > best_lambda)));
          if (better) best = cv, best_lambda = lambda, best_domain_weight = domain_weight;
        }
      }
      std::printf("chosen: wizard-dev weight %.0f, lambda %.1f; weights fitted on all of the fit set:\n",
                  best_domain_weight, best_lambda);
      weights = fit(fit_examples(sets, best_domain_weight), prior, best_lambda);
      print_weights(weights);
    } else {
      std::printf("committed weights (actors/router.cpp): fitted on sot-lima; cues revised after reading wizard-dev "
                  "errors; wizard-test is held out\n");
    }
    report(sets, weights);
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "router_eval: " << e.what() << "\n";
    return 1;
  }
}
