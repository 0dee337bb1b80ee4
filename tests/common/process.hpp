#pragma once
// Real child processes for integration tests: spawned with their output in files, waited on with
// timeouts, and killed when the test ends so that no node outlives its test.
#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace pice::testing {

class ChildProcess {
 public:
  // Starts program with args; stdout and stderr go to files in log_dir named after `name`.
  ChildProcess(const std::string& name, const std::vector<std::string>& argv, const std::filesystem::path& log_dir,
               const std::vector<std::string>& extra_env = {});
  ~ChildProcess();  // SIGTERM, then SIGKILL if it lingers
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  pid_t pid() const { return pid_; }
  // The exit status once the process has ended within timeout; nullopt if it still runs.
  // A process killed by a signal reports 128 + the signal.
  std::optional<int> wait(std::chrono::milliseconds timeout);
  bool running();
  void terminate(std::chrono::milliseconds grace = std::chrono::milliseconds(5000));

  std::string stdout_text() const;
  std::string stderr_text() const;

 private:
  pid_t pid_ = -1;
  std::optional<int> status_;
  std::filesystem::path out_, err_;
};

// Polls condition every few milliseconds until it holds or timeout passes; returns whether it held.
bool wait_until(const std::function<bool()>& condition, std::chrono::milliseconds timeout);

// A base port P such that P..P+count-1 are free on 127.0.0.1 right now.
int free_port_range(int count);

std::string read_file(const std::filesystem::path& path);

// A fresh directory under the system temp dir, removed by the destructor.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

}  // namespace pice::testing
