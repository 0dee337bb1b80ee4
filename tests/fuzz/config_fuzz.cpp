// config::parse on arbitrary text: the TOML parser (compiled in, instrumented) and the schema and
// cross-key rules behind it.
//
// Properties: only ConfigError escapes, its message starts with the source name (every error names
// the file), and a config that parses satisfies the cross-key rules the loader promises.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "config/config_error.hpp"
#include "config/node_config.hpp"
#include "tests/fuzz/fuzz_check.hpp"

using pice::fuzz::check;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    const pice::config::NodeConfig config = pice::config::parse(text, "fuzz.toml");
    using pice::config::Role;
    check(!config.node_id.empty(), "a parsed config without a node id");
    check(config.sketch.min_points <= config.sketch.max_points, "sketch.min_points > sketch.max_points");
    check(config.fleet.board_timeout_ms > config.fleet.heartbeat_ms, "board timeout within one heartbeat");
    check(config.llm.has_value() == (config.role != Role::edge), "[llm] present iff the role runs it");
    check(config.slm.has_value() == (config.role != Role::cloud), "[slm] present iff the role runs it");
    check(config.role != Role::edge || !config.connect.empty(), "an edge without node.connect");
    check(config.role != Role::cloud || !config.listen.empty(), "a cloud without node.listen");
  } catch (const pice::config::ConfigError& error) {
    check(std::string_view(error.what()).starts_with("fuzz.toml"),
          std::string("a config error that does not name the file: ") + error.what());
  }
  return 0;
}
