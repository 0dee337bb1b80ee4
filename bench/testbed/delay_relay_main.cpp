// delay_relay: the testbed's link latency. Relays TCP connections, holding every byte for --delay-ms in
// each direction (so a round trip gains twice that).
//
//   delay_relay --delay-ms 10 --route 10.10.1.2:7700=10.10.0.1:7700 --ports 5
//
// --ports N relays N consecutive ports from both addresses (a PICE node's five service ports).
#include <CLI/CLI.hpp>

#include <csignal>
#include <iostream>

#include "bench/testbed/delay_relay.hpp"

namespace {
pice::testbed::DelayRelay* running = nullptr;
void on_signal(int) {
  if (running) running->stop();
}
}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"TCP relay that delays every byte by a fixed time (testbed link latency)"};
  double delay_ms = 10;
  std::vector<std::string> routes;
  int ports = 1;
  app.add_option("--delay-ms", delay_ms, "One-way delay in milliseconds")->check(CLI::NonNegativeNumber);
  app.add_option("--route", routes, "LISTEN_HOST:PORT=TARGET_HOST:PORT (repeatable)")->required();
  app.add_option("--ports", ports, "Relay this many consecutive ports of each route")->check(CLI::Range(1, 1000));
  CLI11_PARSE(app, argc, argv);

  try {
    std::vector<pice::testbed::RelayRoute> expanded;
    for (const std::string& route : routes) {
      const size_t eq = route.find('=');
      if (eq == std::string::npos) throw std::invalid_argument("--route needs LISTEN=TARGET, got '" + route + "'");
      auto [listen_host, listen_port] = pice::testbed::parse_host_port(route.substr(0, eq));
      auto [target_host, target_port] = pice::testbed::parse_host_port(route.substr(eq + 1));
      for (int i = 0; i < ports; ++i)
        expanded.push_back({listen_host, listen_port + i, target_host, target_port + i});
    }
    pice::testbed::DelayRelay relay(expanded, std::chrono::microseconds(static_cast<int64_t>(delay_ms * 1000)));
    running = &relay;
    std::signal(SIGINT, on_signal);
    std::signal(SIGTERM, on_signal);
    std::cout << "delay_relay: " << expanded.size() << " routes, " << delay_ms << " ms each way" << std::endl;
    relay.run();
    std::cout << "delay_relay: " << relay.stats().connections << " connections, " << relay.stats().bytes
              << " bytes, " << relay.stats().refused << " refused" << std::endl;
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "delay_relay: " << e.what() << "\n";
    return 2;
  }
}
