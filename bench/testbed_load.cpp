// testbed_load: open-loop load on a PICE gateway, every mode on the same Poisson arrivals.
//
//   scripts/testbed.sh -- build/bench/testbed_load --rates 0.2,0.5,1 --requests 20 --out results/run1
//
// For each offered rate it draws one arrival schedule and one sample of questions (from the labelled sets
// in ../shared/datasets, else a built-in list), then replays it once per mode, one mode after the other,
// so modes differ only in how they answer. Writes OUT-requests.csv (one row per request),
// OUT-summary.csv (one row per mode and rate: throughput, p50/p95 latency, time to first chunk and to
// first answer text, p50 on sketch-suitable and unsuitable questions, where points were expanded, tokens
// by where they were generated, bytes on the cloud's links) and OUT-capacity.csv (per mode: the highest
// offered rate whose p95 meets --p95-objective-ms with every request complete), and prints them.
//
// Bytes on the wire: run inside the cloud's network namespace (scripts/testbed.sh does), it reads the
// byte counters of every interface but loopback from /proc/net/dev before and after each mode and rate.
// Each cloud-edge byte crosses exactly one of the cloud's veth ends, so the difference is the cloud-edge
// traffic of that replay (requests, results, heartbeats and telemetry alike); the load generator itself
// talks to the gateway over loopback, which is not counted. Heartbeats and telemetry flow all the time,
// so the link is first watched idle for --idle-s seconds; request_bytes_per_request is the traffic above
// that idle rate.
#include <CLI/CLI.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <map>
#include <mutex>
#include <random>
#include <sstream>
#include <thread>

#include "actors/client.hpp"
#include "actors/labelled_csv.hpp"
#include "actors/percentile.hpp"

namespace {

using Clock = std::chrono::steady_clock;
using pice::actors::LabelledQuestion;
using pice::actors::percentile;

// Used when ../shared is absent: a few of each kind, labelled as the datasets label them.
const std::vector<LabelledQuestion> kBuiltinQuestions = {
    {true, "How can I improve my time management skills?", 0},
    {true, "What are the benefits of regular exercise?", 0},
    {true, "How do I prepare for a job interview?", 0},
    {true, "What should I consider when buying a used car?", 0},
    {true, "What are some ways to reduce stress at work?", 0},
    {true, "How can a small city encourage people to cycle?", 0},
    {false, "What is 17 times 23?", 0},
    {false, "Write a haiku about autumn rain.", 0},
    {false, "Write a Python function that reverses a string.", 0},
    {false, "If a train leaves at 3 pm and travels 120 km at 60 km/h, when does it arrive?", 0},
};

struct Outcome {
  std::string mode;
  double rate = 0;
  int index = 0;
  bool suitable = false;
  double arrival_s = 0, first_chunk_ms = -1, first_text_ms = -1, latency_ms = 0;
  bool complete = false;
  std::string path;   // how the node served it: sketch, sketch-cloud, direct, direct-edge
  int points = 0, edge_points = 0, cloud_points = 0;
  int edge_tokens = 0, cloud_tokens = 0;   // generated tokens by where they were generated
  double edge_queue_ms = 0, edge_prefill_ms = 0, edge_decode_ms = 0;   // summed over points expanded on edges
  std::string error;
};

std::vector<double> split_numbers(const std::string& text) {
  std::vector<double> out;
  std::stringstream ss(text);
  for (std::string item; std::getline(ss, item, ',');) {
    size_t used = 0;
    double v = std::stod(item, &used);
    if (used != item.size() || !(v > 0)) throw std::invalid_argument("--rates: '" + item + "' is not a positive number");
    out.push_back(v);
  }
  return out;
}

std::vector<std::string> split_words(const std::string& text) {
  std::vector<std::string> out;
  std::stringstream ss(text);
  for (std::string item; std::getline(ss, item, ',');) out.push_back(item);
  return out;
}

std::vector<LabelledQuestion> load_questions(const std::string& path) {
  if (!path.empty()) return pice::actors::read_labelled_csv(path);
  for (const char* candidate : {"../shared/datasets/sot-wizardlm/router-labels.csv",
                                "../../shared/datasets/sot-wizardlm/router-labels.csv"})
    if (std::filesystem::exists(candidate)) return pice::actors::read_labelled_csv(candidate);
  std::cerr << "testbed_load: no --questions and no ../shared/datasets: using the built-in list of "
            << kBuiltinQuestions.size() << "\n";
  return kBuiltinQuestions;
}

// One request: sent at its arrival time, timed from then to its last chunk.
Outcome run_one(const std::string& gateway, const std::string& mode, double rate, int index,
                const LabelledQuestion& question, double arrival_s, int timeout_ms, bool ignore_eos) {
  Outcome o;
  o.mode = mode;
  o.rate = rate;
  o.index = index;
  o.suitable = question.suitable;
  o.arrival_s = arrival_s;
  pice::actors::GatewayClient client(gateway);
  pice::messages::Request request;
  request.question = question.question;
  request.mode = mode;
  request.ignore_eos = ignore_eos;
  const Clock::time_point start = Clock::now();
  pice::actors::Answer answer = client.ask(request, timeout_ms, [&](const pice::messages::AnswerChunk& chunk) {
    const double now_ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
    // The first chunk may be a sketch point (the outline, shown first); the first text is the first
    // piece of the answer itself: an expanded point or the start of a direct answer.
    if (o.first_chunk_ms < 0) o.first_chunk_ms = now_ms;
    const bool text = chunk.kind == pice::messages::ChunkKind::expansion || chunk.kind == pice::messages::ChunkKind::text;
    if (text && o.first_text_ms < 0) o.first_text_ms = now_ms;
  });
  o.latency_ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
  o.complete = answer.complete();
  o.error = answer.error;
  o.path = answer.path;
  o.points = static_cast<int>(answer.points.size());
  // Edge nodes are named edge<i> by the testbed (and <id>-edge-<k> in an all-in-one node).
  auto on_edge = [](const std::string& node) { return node.find("edge") != std::string::npos; };
  for (const auto& p : answer.points) {
    (on_edge(p.node) ? o.edge_points : o.cloud_points) += 1;
    if (!on_edge(p.node)) continue;
    o.edge_tokens += p.tokens;
    o.edge_queue_ms += p.timings.queue_ms;
    o.edge_prefill_ms += p.timings.prefill_ms;
    o.edge_decode_ms += p.timings.decode_ms;
  }
  if (answer.path == "direct-edge") o.edge_tokens = answer.done.tokens;
  o.cloud_tokens = std::max(0, answer.done.tokens - o.edge_tokens);
  return o;
}

// Bytes received plus sent by every interface of this network namespace but loopback (/proc/net/dev).
uint64_t link_bytes() {
  std::ifstream in("/proc/net/dev");
  uint64_t total = 0;
  std::string line;
  std::getline(in, line);   // two header lines
  std::getline(in, line);
  while (std::getline(in, line)) {
    const size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string name = line.substr(0, colon);
    name.erase(0, name.find_first_not_of(' '));
    if (name == "lo") continue;
    std::istringstream fields(line.substr(colon + 1));
    uint64_t value = 0, rx = 0, tx = 0;
    // rx: bytes packets errs drop fifo frame compressed multicast, then tx: bytes ...
    for (int i = 0; i < 9 && fields >> value; ++i) {
      if (i == 0) rx = value;
      if (i == 8) tx = value;
    }
    total += rx + tx;
  }
  return total;
}

// The questions a run draws from: the whole set, or a given share of sketch-suitable ones (label 1).
struct QuestionPool {
  std::vector<LabelledQuestion> all, suitable, unsuitable;
  double suitable_share = -1;   // < 0: draw from `all` as it is

  explicit QuestionPool(std::vector<LabelledQuestion> questions, double share) : all(std::move(questions)), suitable_share(share) {
    for (const auto& q : all) (q.suitable ? suitable : unsuitable).push_back(q);
    if (share > 0 && suitable.empty()) throw std::invalid_argument("--suitable-share: the set has no suitable question");
    if (share >= 0 && share < 1 && unsuitable.empty())
      throw std::invalid_argument("--suitable-share: the set has no unsuitable question");
  }
  const LabelledQuestion& draw(std::mt19937_64& rng) const {
    auto from = [&rng](const std::vector<LabelledQuestion>& v) -> const LabelledQuestion& {
      return v[std::uniform_int_distribution<size_t>(0, v.size() - 1)(rng)];
    };
    if (suitable_share < 0) return from(all);
    return std::uniform_real_distribution<double>(0, 1)(rng) < suitable_share ? from(suitable) : from(unsuitable);
  }
};

std::string csv_quote(const std::string& s) {
  std::string out = "\"";
  for (char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Open-loop Poisson load on a PICE gateway, every mode on the same arrivals"};
  std::string gateway = std::getenv("PICE_TESTBED_GATEWAY") ? std::getenv("PICE_TESTBED_GATEWAY") : "";
  std::string modes_text = "cloud-only,sot,route,pice", rates_text = "0.5,1", questions_path, out = "testbed";
  int requests = 20, timeout_ms = 600000;
  double p95_objective_ms = 60000, suitable_share = -1, idle_s = 10;
  bool ignore_eos = true;
  uint64_t seed = 1;
  app.add_option("--gateway", gateway, "Gateway endpoint (default: $PICE_TESTBED_GATEWAY)");
  app.add_option("--modes", modes_text, "Modes to compare, comma-separated")->capture_default_str();
  app.add_option("--rates", rates_text, "Offered loads in requests/s, comma-separated")->capture_default_str();
  app.add_option("--requests", requests, "Requests per mode and rate")->check(CLI::Range(1, 100000))->capture_default_str();
  app.add_option("--questions", questions_path, "A labelled set (label;request CSV)");
  app.add_option("--seed", seed, "Seed of the arrivals and the question sample")->capture_default_str();
  app.add_option("--timeout-ms", timeout_ms, "Per-request timeout")->capture_default_str();
  app.add_option("--p95-objective-ms", p95_objective_ms, "The p95 latency a rate must meet to count as served")
      ->check(CLI::PositiveNumber)->capture_default_str();
  app.add_option("--idle-s", idle_s, "Seconds the links are watched idle first (heartbeat and telemetry traffic)")
      ->check(CLI::Range(0.0, 600.0))->capture_default_str();
  app.add_option("--suitable-share", suitable_share,
                 "Share of sketch-suitable questions drawn (0..1); default: as the set has them")->check(CLI::Range(0.0, 1.0));
  app.add_flag("--ignore-eos,!--no-ignore-eos", ignore_eos,
               "Answers run to the node's token budgets (direct_max_tokens, expand.max_tokens)")->capture_default_str();
  app.add_option("--out", out, "Prefix of the CSV files written")->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  try {
    if (gateway.empty()) throw std::invalid_argument("no --gateway and PICE_TESTBED_GATEWAY is not set");
    const std::vector<double> rates = split_numbers(rates_text);
    const std::vector<std::string> modes = split_words(modes_text);
    const QuestionPool questions(load_questions(questions_path), suitable_share);
    if (questions.all.empty()) throw std::invalid_argument("no questions");

    std::ofstream rows(out + "-requests.csv"), summary(out + "-summary.csv"), capacity(out + "-capacity.csv");
    if (!rows || !summary || !capacity) throw std::runtime_error("cannot write " + out + "-*.csv");
    rows << "mode,rate,index,suitable,arrival_s,first_chunk_ms,first_text_ms,latency_ms,complete,path,points,edge_points,"
            "cloud_points,edge_tokens,cloud_tokens,edge_queue_ms,edge_prefill_ms,edge_decode_ms,error\n";
    summary << "mode,rate,requests,completed,throughput_rps,p50_ms,p95_ms,p50_first_chunk_ms,p50_first_text_ms,"
               "p95_first_text_ms,suitable,p50_suitable_ms,p50_unsuitable_ms,edge_points,cloud_points,"
               "edge_tokens_per_request,cloud_tokens_per_request,link_bytes_per_request,request_bytes_per_request,wall_s\n";
    // Per mode: the highest rate meeting the objective, and the throughput measured there.
    std::map<std::string, std::pair<double, double>> best;

    double idle_bytes_per_s = 0;
    if (idle_s > 0) {
      const uint64_t before = link_bytes();
      std::this_thread::sleep_for(std::chrono::duration<double>(idle_s));
      idle_bytes_per_s = static_cast<double>(link_bytes() - before) / idle_s;
      std::cout << "idle links: " << idle_bytes_per_s << " bytes/s (heartbeats, telemetry)" << std::endl;
    }
    std::cout << std::fixed << std::setprecision(1);

    for (size_t r = 0; r < rates.size(); ++r) {
      // The same arrivals and questions for every mode at this rate.
      std::mt19937_64 rng(seed * 1000003 + r);
      std::exponential_distribution<double> gap(rates[r]);
      std::vector<double> arrivals;
      std::vector<const LabelledQuestion*> chosen;
      double t = 0;
      for (int i = 0; i < requests; ++i) {
        t += gap(rng);
        arrivals.push_back(t);
        chosen.push_back(&questions.draw(rng));
      }
      for (const std::string& mode : modes) {
        std::vector<Outcome> outcomes(static_cast<size_t>(requests));
        std::vector<std::thread> senders;
        const uint64_t bytes_before = link_bytes();
        const Clock::time_point epoch = Clock::now();
        for (int i = 0; i < requests; ++i) {
          std::this_thread::sleep_until(epoch + std::chrono::duration_cast<Clock::duration>(
                                                    std::chrono::duration<double>(arrivals[static_cast<size_t>(i)])));
          senders.emplace_back([&, i] {
            outcomes[static_cast<size_t>(i)] = run_one(gateway, mode, rates[r], i, *chosen[static_cast<size_t>(i)],
                                                       arrivals[static_cast<size_t>(i)], timeout_ms, ignore_eos);
          });
        }
        for (auto& s : senders) s.join();
        const double wall_s = std::chrono::duration<double>(Clock::now() - epoch).count();
        const uint64_t bytes = link_bytes() - bytes_before;

        std::vector<double> latency, first, first_text, suitable, unsuitable;
        int completed = 0, edge = 0, cloud = 0;
        double edge_tokens = 0, cloud_tokens = 0;
        for (const Outcome& o : outcomes) {
          rows << o.mode << "," << o.rate << "," << o.index << "," << o.suitable << "," << o.arrival_s << ","
               << o.first_chunk_ms << "," << o.first_text_ms << "," << o.latency_ms << "," << o.complete << "," << o.path << "," << o.points << ","
               << o.edge_points << "," << o.cloud_points << "," << o.edge_tokens << "," << o.cloud_tokens << ","
               << o.edge_queue_ms << "," << o.edge_prefill_ms << "," << o.edge_decode_ms << "," << csv_quote(o.error) << "\n";
          if (!o.complete) continue;
          ++completed;
          latency.push_back(o.latency_ms);
          first.push_back(o.first_chunk_ms);
          first_text.push_back(o.first_text_ms);
          (o.suitable ? suitable : unsuitable).push_back(o.latency_ms);
          edge += o.edge_points;
          cloud += o.cloud_points;
          edge_tokens += o.edge_tokens;
          cloud_tokens += o.cloud_tokens;
        }
        rows.flush();   // a run stopped early keeps every finished replay
        const double throughput = completed / wall_s;
        const double p95 = percentile(latency, 0.95);
        const double bytes_per_request = completed ? static_cast<double>(bytes) / completed : 0;
        const double request_bytes = completed ? std::max(0.0, static_cast<double>(bytes) - idle_bytes_per_s * wall_s) / completed : 0;
        summary << mode << "," << rates[r] << "," << requests << "," << completed << "," << throughput << ","
                << percentile(latency, 0.5) << "," << p95 << "," << percentile(first, 0.5) << ","
                << percentile(first_text, 0.5) << "," << percentile(first_text, 0.95) << "," << suitable.size() << ","
                << percentile(suitable, 0.5) << "," << percentile(unsuitable, 0.5) << "," << edge << "," << cloud << ","
                << (completed ? edge_tokens / completed : 0) << "," << (completed ? cloud_tokens / completed : 0) << ","
                << bytes_per_request << "," << request_bytes << "," << wall_s << std::endl;
        if (completed == requests && p95 <= p95_objective_ms && rates[r] >= best[mode].first)
          best[mode] = {rates[r], throughput};
        std::cout << std::setw(10) << mode << " @ " << std::setprecision(3) << rates[r] << " req/s: " << completed << "/" << requests
                  << " complete, " << std::setprecision(2) << throughput << " req/s, p50 " << std::setprecision(0)
                  << percentile(latency, 0.5) << " ms, p95 " << percentile(latency, 0.95) << " ms, first chunk p50 "
                  << percentile(first, 0.5) << " ms, first text p50 " << percentile(first_text, 0.5)
                  << " ms, points edge/cloud " << edge << "/" << cloud << ", tokens per request edge/cloud "
                  << (completed ? edge_tokens / completed : 0) << "/" << (completed ? cloud_tokens / completed : 0)
                  << ", link bytes per request " << bytes_per_request << " (above idle " << request_bytes << ")" << std::endl;
        std::cout << std::setprecision(1);
      }
    }
    capacity << "mode,p95_objective_ms,highest_rate_meeting_objective,throughput_rps_there\n";
    for (const std::string& mode : modes) {
      const auto it = best.find(mode);
      const double rate = it == best.end() ? 0 : it->second.first, rps = it == best.end() ? 0 : it->second.second;
      capacity << mode << "," << p95_objective_ms << "," << rate << "," << rps << "\n";
      std::cout << std::setw(10) << mode << ": highest rate with p95 <= " << std::setprecision(0) << p95_objective_ms
                << " ms: " << std::setprecision(3) << rate << " req/s (throughput there " << rps << " req/s)\n";
    }
    std::cout << "wrote " << out << "-requests.csv, " << out << "-summary.csv and " << out << "-capacity.csv\n";
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "testbed_load: " << e.what() << "\n";
    return 2;
  }
}
