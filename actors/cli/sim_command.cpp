// `pice sim`: the scheduler's policy in simulated time (actors/simulator.hpp), for every combination of
// mode, board count and arrival rate given. Prints a table and, with --csv, writes one row per run.
//
//   pice sim --modes cloud-only,pice --boards 1,10,100,1000 --rates 10,100,1000 --requests 2000
//   pice sim --config cloud.toml --profile my-profile.csv --csv results/sim.csv
//   pice sim --print-profile      the built-in engine profile, to copy and edit
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>

#include "actors/cli/commands.hpp"
#include "actors/labelled_csv.hpp"
#include "actors/simulator.hpp"

namespace pice::cli {
namespace {

namespace a = pice::actors;

constexpr const char* kCsvHeader =
    "mode,boards,rate,requests,completed,throughput_rps,p50_ms,p95_ms,p50_first_chunk_ms,p95_first_chunk_ms,"
    "cloud_tokens_per_request,edge_tokens_per_request,bytes_per_request,points_on_cloud,sketch_requests,"
    "decisions,wall_s,decisions_per_s,policy_s";

void write_csv_row(std::ostream& out, const a::SimResult& r) {
  auto sketched = r.paths.count("sketch") ? r.paths.at("sketch") : 0;
  out << r.mode << ',' << r.boards << ',' << r.rate << ',' << r.requests << ',' << r.completed << ','
      << r.throughput << ',' << r.p50_ms << ',' << r.p95_ms << ',' << r.p50_first_ms << ',' << r.p95_first_ms << ','
      << r.cloud_tokens_per_request << ',' << r.edge_tokens_per_request << ',' << r.bytes_per_request << ','
      << r.points_on_cloud << ',' << sketched << ',' << r.decisions << ',' << r.wall_seconds << ','
      << r.decisions_per_s() << ',' << r.policy_seconds << '\n';
}

void print_row(const a::SimResult& r) {
  std::printf("%-10s %6d %8g %9.3f %10.0f %10.0f %10.0f %8.0f %8.0f %9.0f %10.0f\n", r.mode.c_str(), r.boards, r.rate,
              r.throughput, r.p50_ms, r.p95_ms, r.p50_first_ms, r.cloud_tokens_per_request,
              r.edge_tokens_per_request, static_cast<double>(r.decisions), r.decisions_per_s());
  std::fflush(stdout);
}

a::SimSettings base_settings(const SimOptions& o) {
  a::SimSettings s;
  if (!o.config_path.empty()) s.node = config::load_file(o.config_path);
  const a::ProfileTable table = o.profile_path.empty() ? a::default_profile() : a::read_profile_csv(o.profile_path);
  s.cloud = table.get(o.cloud_engine, o.cloud_threads);
  s.edge = table.get(o.edge_engine, o.edge_threads);
  s.board_speeds = o.board_speeds;
  s.edge_cores = o.edge_cores;
  s.link.rtt_ms = o.rtt_ms;
  s.link.mbit_per_s = o.mbit_per_s;
  s.workload.requests = o.requests;
  s.workload.seed = o.seed;
  s.workload.questions = o.questions_path.empty() ? a::builtin_sim_questions() : a::read_question_file(o.questions_path);
  if (s.workload.questions.empty()) throw std::invalid_argument(o.questions_path + ": no questions in the file");
  s.workload.direct_tokens = o.direct_tokens;
  s.workload.point_tokens = o.point_tokens;
  s.workload.tokens_per_word = o.tokens_per_word;
  s.workload.prompt_tokens = o.prompt_tokens;
  s.workload.expand_prompt_tokens = o.expand_prompt_tokens;
  return s;
}

}  // namespace

int run_sim(const SimOptions& options) {
  if (options.print_profile) {
    std::cout << a::default_profile_csv();
    return kExitOk;
  }
  a::SimSettings settings;
  try {
    settings = base_settings(options);
  } catch (const std::exception& e) {
    std::cerr << "pice sim: " << e.what() << "\n";
    return kExitConfigError;
  }
  std::ofstream csv;
  if (!options.csv_path.empty()) {
    csv.open(options.csv_path);
    if (!csv) {
      std::cerr << "pice sim: cannot write " << options.csv_path << "\n";
      return kExitFailure;
    }
    csv << kCsvHeader << '\n';
  }
  std::printf("cloud %s, edge %s x speeds", settings.cloud.name.c_str(), settings.edge.name.c_str());
  for (double v : settings.board_speeds) std::printf(" %g", v);
  std::printf(", link %g ms / %g Mbit/s, %d requests per run, %zu questions\n", settings.link.rtt_ms,
              settings.link.mbit_per_s, settings.workload.requests, settings.workload.questions.size());
  std::printf("%-10s %6s %8s %9s %10s %10s %10s %8s %8s %9s %10s\n", "mode", "boards", "rate", "req/s", "p50 ms",
              "p95 ms", "first ms", "cloud tk", "edge tk", "decisions", "dec/s");
  try {
    for (const std::string& mode : options.modes)
      for (int boards : options.boards)
        for (double rate : options.rates) {
          a::SimSettings s = settings;
          s.mode = mode;
          s.boards = boards;
          s.workload.rate = rate;
          const a::SimResult r = a::simulate(s);
          print_row(r);
          if (csv.is_open()) write_csv_row(csv, r);
        }
  } catch (const std::exception& e) {
    std::cerr << "pice sim: " << e.what() << "\n";
    return kExitFailure;
  }
  return kExitOk;
}

}  // namespace pice::cli
