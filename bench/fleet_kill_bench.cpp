// What killing edge boards costs: one cloud and three edge processes on loopback; clients keep
// requests running while edges are killed with SIGKILL one after another (each replaced by a new one)
// until --kills kills have happened. Reports the requests lost (target 0: every accepted request must be
// answered completely) and the latency of requests that overlapped a kill against a kill-free baseline
// measured in the same run, before the kills.
//
//   build/bench/fleet_kill_bench [--kills 100] [--edges 3] [--clients 4] [--baseline 20] [--interval-ms 3000]
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <numeric>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "actors/client.hpp"
#include "actors/percentile.hpp"
#include "brokers/endpoints.hpp"
#include "tests/common/process.hpp"

using pice::testing::ChildProcess;
using Clock = std::chrono::steady_clock;
using pice::actors::nearest_rank_percentile;

namespace {

struct Options {
  int kills = 100;
  int edges = 3;
  int clients = 4;
  int baseline = 20;      // requests measured before any kill
  int interval_ms = 3000; // between kills: longer than a request, so some requests overlap no kill
};

struct Sample {
  Clock::time_point start, end;
  bool complete = false;
  std::string error;
  double ms() const { return std::chrono::duration<double, std::milli>(end - start).count(); }
};

double mean(const std::vector<double>& values) {
  return values.empty() ? 0 : std::accumulate(values.begin(), values.end(), 0.0) / static_cast<double>(values.size());
}

class Fleet {
 public:
  explicit Fleet(const Options& options) {
    address_ = "tcp://127.0.0.1:" + std::to_string(pice::testing::free_port_range(pice::brokers::kServiceEndpointCount));
    const std::string fleet = "[fleet]\nheartbeat_ms = 100\nboard_timeout_ms = 600\n";
    write("cloud", "[node]\nrole = \"cloud\"\nlisten = \"" + address_ + "\"\n[llm]\nmodel = \"synth:tiny\"\n" + fleet);
    write("edge", "[node]\nrole = \"edge\"\nconnect = \"" + address_ + "\"\n[slm]\nmodel = \"synth:demo\"\n" + fleet);
    cloud_ = std::make_unique<ChildProcess>(
        "cloud", std::vector<std::string>{PICE_BINARY, "serve", "--config", (dir_.path() / "cloud.toml").string()},
        dir_.path());
    for (int i = 0; i < options.edges; ++i) start_edge();
    for (auto& [id, edge] : edges_) wait_attached(id);
  }

  std::string gateway() const { return pice::brokers::derive_endpoints(address_).gateway; }

  // Kills one running edge (the oldest) with SIGKILL and starts a replacement.
  void kill_and_replace() {
    auto oldest = edges_.begin();
    kill(oldest->second->pid(), SIGKILL);
    oldest->second->wait(std::chrono::seconds(10));
    edges_.erase(oldest);
    start_edge();
  }

  bool cloud_running() { return cloud_->running(); }
  std::string cloud_log() const { return cloud_->stderr_text(); }

 private:
  void write(const std::string& name, const std::string& text) { std::ofstream(dir_.path() / (name + ".toml")) << text; }

  void start_edge() {
    const std::string id = "edge-" + std::to_string(++started_);
    edges_[started_] = std::make_unique<ChildProcess>(
        id, std::vector<std::string>{PICE_BINARY, "serve", "--config", (dir_.path() / "edge.toml").string(),
                                     "--node-id", id},
        dir_.path());
  }

  void wait_attached(int number) {
    const std::string line = "board 'edge-" + std::to_string(number) + "' attached";
    if (!pice::testing::wait_until([&] { return cloud_->stderr_text().find(line) != std::string::npos; },
                                   std::chrono::seconds(60)))
      std::fprintf(stderr, "warning: edge-%d did not attach within 60 s\n", number);
  }

  pice::testing::TempDir dir_;
  std::string address_;
  std::unique_ptr<ChildProcess> cloud_;
  std::map<int, std::unique_ptr<ChildProcess>> edges_;   // by start number: begin() is the oldest
  int started_ = 0;
};

// Runs requests on `clients` threads until `keep_going` turns false (or `limit` requests have started).
std::vector<Sample> run_clients(const std::string& gateway, int clients, int limit, const std::atomic<bool>& keep_going) {
  std::mutex mutex;
  std::vector<Sample> samples;
  std::atomic<int> next{0};
  std::vector<std::thread> threads;
  for (int c = 0; c < clients; ++c)
    threads.emplace_back([&] {
      pice::actors::GatewayClient client(gateway);
      for (int i = next++; keep_going.load() && (limit <= 0 || i < limit); i = next++) {
        pice::messages::Request request;
        // The same question, greedy: every request does the same work, so latencies differ only by
        // what happened to the fleet meanwhile.
        request.question = "How do I plan a vegetable garden?";
        request.temperature = 0;
        Sample sample;
        sample.start = Clock::now();
        const pice::actors::Answer answer = client.ask(request, 300000);
        sample.end = Clock::now();
        sample.complete = answer.complete();
        sample.error = answer.error;
        std::lock_guard lock(mutex);
        samples.push_back(sample);
      }
    });
  for (auto& t : threads) t.join();
  return samples;
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    const int value = std::atoi(argv[i + 1]);
    if (flag == "--kills") o.kills = value;
    else if (flag == "--edges") o.edges = value;
    else if (flag == "--clients") o.clients = value;
    else if (flag == "--baseline") o.baseline = value;
    else if (flag == "--interval-ms") o.interval_ms = value;
    else {
      std::fprintf(stderr, "unknown option %s\n", flag.c_str());
      std::exit(2);
    }
  }
  return o;
}

void print_latency(const char* label, const std::vector<double>& ms) {
  std::printf("%-28s n=%-5zu mean %8.0f ms   p50 %8.0f ms   p95 %8.0f ms\n", label, ms.size(), mean(ms),
              nearest_rank_percentile(ms, 0.5), nearest_rank_percentile(ms, 0.95));
}

}  // namespace

int main(int argc, char** argv) {
  const Options options = parse(argc, argv);
  setenv("PICE_CACHE_DIR", "/tmp/pice-bench-model-cache", 0);
  Fleet fleet(options);
  const std::string gateway = fleet.gateway();

  std::atomic<bool> keep_going{true};
  run_clients(gateway, options.clients, 2 * options.clients, keep_going);   // warm-up, not measured
  const std::vector<Sample> baseline = run_clients(gateway, options.clients, options.baseline, keep_going);

  std::vector<Clock::time_point> kill_times;
  std::vector<Sample> under_kills;
  std::thread clients([&] { under_kills = run_clients(gateway, options.clients, 0, keep_going); });
  for (int k = 0; k < options.kills; ++k) {
    std::this_thread::sleep_for(std::chrono::milliseconds(options.interval_ms));
    kill_times.push_back(Clock::now());
    fleet.kill_and_replace();
    if ((k + 1) % 10 == 0) std::fprintf(stderr, "%d kills\n", k + 1);
  }
  // Let the last kill's points be re-dispatched before the clients stop starting requests.
  std::this_thread::sleep_for(std::chrono::milliseconds(options.interval_ms));
  keep_going = false;
  clients.join();

  int lost = 0;
  std::vector<double> base_ms, hit_ms, clear_ms;
  for (const Sample& s : baseline) (s.complete ? base_ms.push_back(s.ms()) : void(++lost));
  for (const Sample& s : under_kills) {
    if (!s.complete) {
      ++lost;
      std::fprintf(stderr, "lost: %s\n", s.error.c_str());
      continue;
    }
    const bool overlapped = std::any_of(kill_times.begin(), kill_times.end(),
                                        [&](Clock::time_point t) { return t >= s.start && t <= s.end; });
    (overlapped ? hit_ms : clear_ms).push_back(s.ms());
  }
  std::printf("fleet_kill_bench: %d edges, %d clients, %d kills every %d ms\n", options.edges, options.clients,
              static_cast<int>(kill_times.size()), options.interval_ms);
  std::printf("requests measured: %zu, lost: %d\n", baseline.size() + under_kills.size(), lost);
  print_latency("baseline (no kills)", base_ms);
  print_latency("during kills, overlapped", hit_ms);
  print_latency("during kills, not overlapped", clear_ms);
  if (!base_ms.empty() && !hit_ms.empty())
    std::printf("latency cost of a kill (overlapping requests vs baseline): mean %+.0f ms, p50 %+.0f ms\n",
                mean(hit_ms) - mean(base_ms),
                nearest_rank_percentile(hit_ms, 0.5) - nearest_rank_percentile(base_ms, 0.5));
  if (!clear_ms.empty() && !hit_ms.empty())
    std::printf("latency cost of a kill (overlapping vs not, same phase): mean %+.0f ms, p50 %+.0f ms\n",
                mean(hit_ms) - mean(clear_ms),
                nearest_rank_percentile(hit_ms, 0.5) - nearest_rank_percentile(clear_ms, 0.5));
  std::printf("cloud still running: %s\n", fleet.cloud_running() ? "yes" : "no");
  return lost == 0 ? 0 : 1;
}
