// Load on the HTTP API: a real all-in-one `pice serve` process with a small synthetic model and [http]
// on a free loopback port, then rounds of concurrent clients (half streaming SSE, half not), each
// client one thread with its own connection. `max_inflight` is set below the number of clients, so the
// server must refuse the excess with 503 + Retry-After (a bounded queue) rather than grow; a refused
// client waits as told and tries again, so every request must end with a complete answer.
//
// Per round it reports requests completed / failed / lost, the 503/429 answers, latency percentiles
// (from a client's first attempt to its complete answer), the peak chat completions in flight seen on
// /metrics, and the server's peak resident memory (VmHWM of /proc/PID/status). Each round has a fresh
// server, so the peaks of a 100-client and a 1000-client round compare directly.
//
//   build/bench/http_load [--clients 100,1000] [--max-inflight 200] [--time-limit 600] [--pice PATH]
//
// Exit status 0 only when no request failed or was lost in any round. Loopback only; bounded in time
// (a round gives up at --time-limit) and count (one answer per client).
#include <sys/resource.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "actors/percentile.hpp"
#include "tests/actors/http_test_client.hpp"
#include "tests/common/process.hpp"

namespace {

using namespace pice::testing;
using Clock = std::chrono::steady_clock;
using nlohmann::json;
using pice::actors::nearest_rank_percentile;

struct Options {
  std::vector<int> rounds = {100, 1000};
  int max_inflight = 200;
  int time_limit_s = 600;
  std::string pice = PICE_BINARY;
  std::string model = "synth:tiny";
};

// How one client's request ended.
enum class Outcome { completed, failed, lost };

struct ClientResult {
  Outcome outcome = Outcome::lost;
  bool streaming = false;
  int overload_answers = 0;  // 503/429 before the request got in
  double latency_ms = 0;
  std::string why;  // for failed and lost
};

struct RoundReport {
  int clients = 0;
  int completed = 0, failed = 0, lost = 0, overloaded = 0, overload_answers = 0;
  std::vector<double> stream_ms, plain_ms;
  long baseline_kb = 0, peak_kb = 0;
  int peak_inflight = 0;
  double wall_s = 0;
  std::vector<std::string> problems;
};

std::string chat_body(int i, bool stream) {
  return json{{"model", "pice"},
              {"messages", {{{"role", "user"}, {"content", "Question " + std::to_string(i) + ": how do bees find flowers?"}}}},
              {"stream", stream},
              {"max_tokens", 8},
              {"pice", {{"max_points", 2}, {"max_words_per_point", 4}}}}
      .dump();
}

// A streamed answer is complete when its events parse, carry no error, include an expansion and end
// with [DONE]; a plain one when its JSON has every sketch point expanded.
std::string check_stream(HttpConnection& c) {
  SseReader events(c);
  bool done = false, expanded = false;
  while (auto e = events.next()) {
    if (*e == "[DONE]") {
      done = true;
      continue;
    }
    json event = json::parse(*e);
    if (event.contains("error")) return "error event: " + *e;
    if (event.contains("pice") && event["pice"].contains("point")) expanded = true;
  }
  if (!done) return "stream ended without [DONE]";
  if (!expanded) return "stream without any expansion";
  return {};
}

std::string check_plain(const HttpResponse& r) {
  json body = json::parse(r.body);
  const json& pice = body.at("pice");
  if (pice.at("points").size() != pice.at("sketch").size() || pice.at("points").empty())
    return "incomplete answer: " + r.body.substr(0, 200);
  return {};
}

ClientResult run_client(int port, int i, Clock::time_point give_up) {
  ClientResult result;
  result.streaming = i % 2 == 0;
  const auto start = Clock::now();
  try {
    while (true) {
      if (Clock::now() > give_up) {
        result.why = "still refused at the time limit";
        return result;
      }
      HttpConnection c(port);
      c.send_request("POST", "/v1/chat/completions", chat_body(i, result.streaming));
      HttpResponse head = c.read_head();
      if (head.status == 503 || head.status == 429) {
        ++result.overload_answers;
        int wait_s = head.header("retry-after").empty() ? 1 : std::stoi(head.header("retry-after"));
        std::this_thread::sleep_for(std::chrono::seconds(std::clamp(wait_s, 1, 10)));
        continue;
      }
      std::string problem;
      if (head.status != 200) {
        problem = "HTTP " + std::to_string(head.status);
      } else if (result.streaming) {
        problem = check_stream(c);
      } else {
        HttpResponse r = head;
        r.body = c.read_body(head);
        problem = check_plain(r);
      }
      result.latency_ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
      result.outcome = problem.empty() ? Outcome::completed : Outcome::failed;
      result.why = problem;
      return result;
    }
  } catch (const std::exception& e) {  // no complete response: connection closed or reset, or silence
    result.outcome = Outcome::lost;
    result.why = e.what();
  }
  return result;
}

// A value in kB from /proc/PID/status ("VmRSS", "VmHWM"); 0 if unreadable.
long proc_status_kb(pid_t pid, const std::string& field) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind(field + ":", 0) == 0) return std::stol(line.substr(field.size() + 1));
  return 0;
}

int inflight_now(int port) {
  HttpConnection c(port);
  HttpResponse r = c.request("GET", "/metrics");
  const std::string sample = "\npice_http_inflight_requests ";
  size_t at = r.body.find(sample);
  return at == std::string::npos ? -1 : std::stoi(r.body.substr(at + sample.size()));
}

RoundReport run_round(const Options& o, int clients) {
  RoundReport report;
  report.clients = clients;
  TempDir dir;
  const int port = free_port_range(1);
  auto config = dir.path() / "load.toml";
  std::ofstream(config) << "[node]\nrole = \"all-in-one\"\nid = \"load\"\nlisten = \"inproc://load\"\nlocal_edges = 2\n"
                        << "[llm]\nmodel = \"" << o.model << "\"\n[slm]\nmodel = \"" << o.model << "\"\n"
                        << "[log]\nlevel = \"warn\"\n"
                        << "[http]\nlisten = \"127.0.0.1:" << port << "\"\nthreads = 2\nmax_inflight = "
                        << o.max_inflight << "\n";
  ChildProcess server("server", {o.pice, "serve", "--config", config.string()}, dir.path());
  bool up = wait_until_healthy(port, std::chrono::seconds(120));
  if (!up) {
    report.problems.push_back("the server did not come up: " + server.stderr_text());
    report.lost = clients;
    return report;
  }
  {  // one answer first, so model loading is not part of any client's latency
    HttpConnection warm(port);
    if (warm.request("POST", "/v1/chat/completions", chat_body(-1, false)).status != 200)
      report.problems.push_back("the warm-up request failed");
  }
  report.baseline_kb = proc_status_kb(server.pid(), "VmRSS");

  const auto started = Clock::now();
  const auto give_up = started + std::chrono::seconds(o.time_limit_s);
  std::vector<ClientResult> results(clients);
  std::atomic<int> finished{0};
  std::vector<std::thread> threads;
  threads.reserve(clients);
  for (int i = 0; i < clients; ++i)
    threads.emplace_back([&, i] {
      results[i] = run_client(port, i, give_up);
      ++finished;
    });
  while (finished.load() < clients) {  // watch the bound the server keeps
    try {
      report.peak_inflight = std::max(report.peak_inflight, inflight_now(port));
    } catch (const std::exception&) {
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  for (auto& t : threads) t.join();
  report.wall_s = std::chrono::duration<double>(Clock::now() - started).count();
  report.peak_kb = proc_status_kb(server.pid(), "VmHWM");
  if (!server.running()) report.problems.push_back("the server died: " + server.stderr_text());

  for (const auto& r : results) {
    report.overload_answers += r.overload_answers;
    if (r.overload_answers > 0) ++report.overloaded;
    switch (r.outcome) {
      case Outcome::completed:
        ++report.completed;
        (r.streaming ? report.stream_ms : report.plain_ms).push_back(r.latency_ms);
        break;
      case Outcome::failed:
        ++report.failed;
        break;
      case Outcome::lost:
        ++report.lost;
        break;
    }
    if (r.outcome != Outcome::completed && report.problems.size() < 5)
      report.problems.push_back(std::string(r.streaming ? "stream" : "plain") + ": " + r.why);
  }
  return report;
}

std::vector<int> parse_list(const std::string& s) {
  std::vector<int> out;
  std::stringstream in(s);
  std::string item;
  while (std::getline(in, item, ',')) out.push_back(std::stoi(item));
  return out;
}

Options parse_options(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) throw std::invalid_argument(arg + " needs a value");
      return argv[++i];
    };
    if (arg == "--clients") o.rounds = parse_list(value());
    else if (arg == "--max-inflight") o.max_inflight = std::stoi(value());
    else if (arg == "--time-limit") o.time_limit_s = std::stoi(value());
    else if (arg == "--pice") o.pice = value();
    else if (arg == "--model") o.model = value();
    else throw std::invalid_argument("unknown argument " + arg);
  }
  for (int n : o.rounds)
    if (n < 1 || n > 5000) throw std::invalid_argument("--clients: 1..5000 each, got " + std::to_string(n));
  return o;
}

// Every client holds a socket here and the server one per client: lift the descriptor limit (the
// server inherits it).
void raise_fd_limit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    setrlimit(RLIMIT_NOFILE, &limit);
  }
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  try {
    o = parse_options(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "http_load: " << e.what() << "\n";
    return 2;
  }
  raise_fd_limit();
  std::printf("http_load: all-in-one `pice serve` (%s, 2 local edges), [http] threads = 2, max_inflight = %d; "
              "half the clients stream\n\n",
              o.model.c_str(), o.max_inflight);
  std::printf("| clients | completed | failed | lost | clients refused first (503/429 answers) | peak in flight "
              "| p50 / p95 ms plain | p50 / p95 ms stream | server RSS before -> peak (MiB) | wall s |\n");
  std::printf("|---|---|---|---|---|---|---|---|---|---|\n");
  bool clean = true;
  std::vector<std::string> problems;
  for (int clients : o.rounds) {
    RoundReport r = run_round(o, clients);
    std::printf("| %d | %d | %d | %d | %d (%d) | %d | %.0f / %.0f | %.0f / %.0f | %.1f -> %.1f | %.1f |\n", r.clients,
                r.completed, r.failed, r.lost, r.overloaded, r.overload_answers, r.peak_inflight,
                nearest_rank_percentile(r.plain_ms, 0.5), nearest_rank_percentile(r.plain_ms, 0.95),
                nearest_rank_percentile(r.stream_ms, 0.5), nearest_rank_percentile(r.stream_ms, 0.95),
                static_cast<double>(r.baseline_kb) / 1024,
                static_cast<double>(r.peak_kb) / 1024, r.wall_s);
    std::fflush(stdout);
    if (r.failed || r.lost || r.peak_inflight > o.max_inflight || !r.problems.empty()) clean = false;
    for (auto& p : r.problems) problems.push_back(std::to_string(clients) + " clients: " + p);
  }
  for (const auto& p : problems) std::printf("problem: %s\n", p.c_str());
  return clean ? 0 : 1;
}
