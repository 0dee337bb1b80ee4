// Valid configuration files load with every value where it belongs: the three example files of
// the repository, one file per role with every key set, and the defaults of a minimal file.
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "config/node_config.hpp"

namespace pice::config {
namespace {

const std::filesystem::path kSourceDir = PICE_SOURCE_DIR;

TEST(ExampleFiles, AllInOne) {
  const NodeConfig c = load_file(kSourceDir / "config/all-in-one.toml");
  EXPECT_EQ(c.source, (kSourceDir / "config/all-in-one.toml").string());
  EXPECT_EQ(c.role, Role::all_in_one);
  EXPECT_EQ(c.listen, "inproc://pice");
  EXPECT_EQ(c.connect, "");
  EXPECT_EQ(c.local_edges, 2);
  ASSERT_TRUE(c.llm.has_value());
  ASSERT_TRUE(c.slm.has_value());
  EXPECT_EQ(c.llm->path, "synth:demo");
  EXPECT_EQ(c.slm->path, "synth:demo");
  EXPECT_EQ(c.log_level, "info");
}

TEST(ExampleFiles, Broker) {
  const NodeConfig c = load_file(kSourceDir / "config/broker.toml");
  EXPECT_EQ(c.role, Role::broker);
  EXPECT_EQ(c.node_id, "broker-1");
  EXPECT_EQ(c.listen, "tcp://127.0.0.1:7800");
  EXPECT_FALSE(c.llm.has_value());
  EXPECT_FALSE(c.slm.has_value());
}

TEST(ExampleFiles, Cloud) {
  const NodeConfig c = load_file(kSourceDir / "config/cloud.toml");
  EXPECT_EQ(c.role, Role::cloud);
  EXPECT_EQ(c.node_id, "cloud-1");
  EXPECT_EQ(c.listen, "tcp://127.0.0.1:7700");
  ASSERT_TRUE(c.llm.has_value());
  EXPECT_EQ(c.llm->path, "synth:demo");
  EXPECT_FALSE(c.slm.has_value());
}

TEST(ExampleFiles, Edge) {
  const NodeConfig c = load_file(kSourceDir / "config/edge.toml");
  EXPECT_EQ(c.role, Role::edge);
  EXPECT_EQ(c.connect, "tcp://127.0.0.1:7700");
  EXPECT_EQ(c.listen, "");
  ASSERT_TRUE(c.slm.has_value());
  EXPECT_EQ(c.slm->path, "synth:demo");
  EXPECT_FALSE(c.llm.has_value());
}

TEST(ExampleFiles, CloudAndEdgeMeet) {
  // The edge example connects to exactly where the cloud example listens.
  EXPECT_EQ(load_file(kSourceDir / "config/edge.toml").connect, load_file(kSourceDir / "config/cloud.toml").listen);
}

TEST(NodeConfig, ARemoteEngineKeepsItsModelNameAsWritten) {
  const NodeConfig c = parse("[node]\nrole = \"edge\"\nconnect = \"tcp://10.0.0.1:7700\"\n[slm]\n"
                             "url = \"http://127.0.0.1:8081/v1\"\nmodel = \"qwen2.5-0.5b\"\napi_key_env = \"BOARD_KEY\"\n",
                             "/etc/pice/edge.toml");
  ASSERT_TRUE(c.slm);
  EXPECT_EQ(c.slm->url, "http://127.0.0.1:8081/v1");
  EXPECT_EQ(c.slm->path, "qwen2.5-0.5b");   // a name on the server, not a file next to the config
  EXPECT_EQ(c.slm->api_key_env, "BOARD_KEY");
}

TEST(NodeConfig, ACloudModelCanBeARemoteEngine) {
  const NodeConfig c = parse("[node]\nrole = \"cloud\"\nlisten = \"tcp://127.0.0.1:7700\"\n[llm]\n"
                             "url = \"http://gpu:8000/v1\"\nmodel = \"Qwen/Qwen2.5-7B-Instruct\"\napi_key_env = \"VLLM_KEY\"\n",
                             "/etc/pice/cloud.toml");
  ASSERT_TRUE(c.llm);
  EXPECT_EQ(c.llm->url, "http://gpu:8000/v1");
  EXPECT_EQ(c.llm->path, "Qwen/Qwen2.5-7B-Instruct");  // the server's name, not a file next to the config
  EXPECT_EQ(c.llm->api_key_env, "VLLM_KEY");
}

TEST(NodeConfig, AllInOneWithEveryKeySet) {
  const NodeConfig c = parse(R"(
[node]
id = "aio-7"
role = "all-in-one"
listen = "tcp://0.0.0.0:9000"
local_edges = 3
[llm]
model = "synth:cloud-1.5b"
threads = 2
context = 4096
[slm]
model = "synth:edge-135m"
threads = 3
context = 512
load = "mmap"
kv_window = 256
kv_keep = 64
[sketch]
min_points = 3
max_points = 9
max_words_per_point = 4
[expand]
max_tokens = 80
[sampling]
temperature = 0.3
top_p = 0.5
seed = 1234
[fleet]
heartbeat_ms = 250
board_timeout_ms = 1000
task_deadline_ms = 9000
[log]
level = "debug"
)",
                             "aio.toml");
  EXPECT_EQ(c.source, "aio.toml");
  EXPECT_EQ(c.node_id, "aio-7");
  EXPECT_EQ(c.role, Role::all_in_one);
  EXPECT_EQ(c.listen, "tcp://0.0.0.0:9000");
  EXPECT_EQ(c.local_edges, 3);
  ASSERT_TRUE(c.llm && c.slm);
  EXPECT_EQ(c.llm->path, "synth:cloud-1.5b");
  EXPECT_EQ(c.llm->threads, 2);
  EXPECT_EQ(c.llm->context, 4096);
  EXPECT_EQ(c.slm->path, "synth:edge-135m");
  EXPECT_EQ(c.slm->threads, 3);
  EXPECT_EQ(c.slm->context, 512);
  EXPECT_EQ(c.slm->load, "mmap");
  EXPECT_EQ(c.slm->kv_window, 256);
  EXPECT_EQ(c.slm->kv_keep, 64);
  EXPECT_EQ(c.llm->load, "read");   // the default: weights read into memory
  EXPECT_EQ(c.llm->kv_window, 0);   // the default: no bound
  EXPECT_EQ(c.sketch.min_points, 3);
  EXPECT_EQ(c.sketch.max_points, 9);
  EXPECT_EQ(c.sketch.max_words_per_point, 4);
  EXPECT_EQ(c.expand.max_tokens, 80);
  EXPECT_DOUBLE_EQ(c.sampling.temperature, 0.3);
  EXPECT_DOUBLE_EQ(c.sampling.top_p, 0.5);
  EXPECT_EQ(c.sampling.seed, 1234u);
  EXPECT_EQ(c.fleet.heartbeat_ms, 250);
  EXPECT_EQ(c.fleet.board_timeout_ms, 1000);
  EXPECT_EQ(c.fleet.task_deadline_ms, 9000);
  EXPECT_EQ(c.log_level, "debug");
}

TEST(NodeConfig, CloudWithEveryKeySet) {
  const NodeConfig c = parse(R"(
[node]
id = "c"
role = "cloud"
listen = "ipc:///tmp/pice"
[llm]
model = "/models/big.gguf"
threads = 8
context = 32768
[sketch]
min_points = 1
max_points = 1
max_words_per_point = 64
[expand]
max_tokens = 8192
[sampling]
temperature = 2
top_p = 1
seed = 9223372036854775807
[fleet]
heartbeat_ms = 10
board_timeout_ms = 600000
task_deadline_ms = 3600000
[ensemble]
k = 3
wait_ms = 250
fluency_weight = 0.5
relevance_weight = 2
agreement_weight = 0
[log]
level = "error"
)",
                             "cloud.toml");
  EXPECT_EQ(c.role, Role::cloud);
  EXPECT_EQ(c.listen, "ipc:///tmp/pice");
  EXPECT_EQ(c.llm->path, "/models/big.gguf");
  EXPECT_EQ(c.llm->threads, 8);
  EXPECT_EQ(c.llm->context, 32768);
  EXPECT_EQ(c.sketch.min_points, 1);
  EXPECT_EQ(c.sketch.max_points, 1);
  EXPECT_EQ(c.sketch.max_words_per_point, 64);
  EXPECT_EQ(c.expand.max_tokens, 8192);
  EXPECT_DOUBLE_EQ(c.sampling.temperature, 2.0);   // integers are accepted for numbers
  EXPECT_DOUBLE_EQ(c.sampling.top_p, 1.0);
  EXPECT_EQ(c.sampling.seed, 9223372036854775807u);
  EXPECT_EQ(c.fleet.heartbeat_ms, 10);
  EXPECT_EQ(c.fleet.board_timeout_ms, 600000);
  EXPECT_EQ(c.fleet.task_deadline_ms, 3600000);
  EXPECT_EQ(c.ensemble.k, 3);
  EXPECT_EQ(c.ensemble.wait_ms, 250);
  EXPECT_DOUBLE_EQ(c.ensemble.fluency_weight, 0.5);
  EXPECT_DOUBLE_EQ(c.ensemble.relevance_weight, 2.0);
  EXPECT_DOUBLE_EQ(c.ensemble.agreement_weight, 0.0);
  EXPECT_EQ(c.log_level, "error");
}

TEST(NodeConfig, EdgeWithEveryKeySet) {
  const NodeConfig c = parse(R"(
[node]
id = "orin-2"
role = "edge"
connect = "tcp://10.0.0.1:7700"
[slm]
model = "synth:edge-0.5b"
threads = 6
context = 2048
[sampling]
temperature = 0.0
top_p = 0.9
seed = 5
[fleet]
heartbeat_ms = 200
[log]
level = "trace"
)",
                             "edge.toml");
  EXPECT_EQ(c.role, Role::edge);
  EXPECT_EQ(c.node_id, "orin-2");
  EXPECT_EQ(c.connect, "tcp://10.0.0.1:7700");
  EXPECT_FALSE(c.llm);
  EXPECT_EQ(c.slm->path, "synth:edge-0.5b");
  EXPECT_EQ(c.slm->threads, 6);
  EXPECT_EQ(c.slm->context, 2048);
  EXPECT_DOUBLE_EQ(c.sampling.temperature, 0.0);
  EXPECT_DOUBLE_EQ(c.sampling.top_p, 0.9);
  EXPECT_EQ(c.sampling.seed, 5u);
  EXPECT_EQ(c.fleet.heartbeat_ms, 200);
  EXPECT_EQ(c.log_level, "trace");
}

TEST(NodeConfig, MinimalFileTakesDefaults) {
  const NodeConfig c = parse("[node]\nrole = \"all-in-one\"\n[llm]\nmodel = \"synth:tiny\"\n[slm]\nmodel = \"synth:tiny\"\n",
                             "min.toml");
  const NodeConfig defaults;
  EXPECT_EQ(c.listen, "inproc://pice");
  EXPECT_EQ(c.local_edges, defaults.local_edges);
  EXPECT_EQ(c.llm->threads, ModelConfig{}.threads);
  EXPECT_EQ(c.llm->context, ModelConfig{}.context);
  EXPECT_EQ(c.sketch.min_points, defaults.sketch.min_points);
  EXPECT_EQ(c.sketch.max_points, defaults.sketch.max_points);
  EXPECT_EQ(c.sketch.max_words_per_point, defaults.sketch.max_words_per_point);
  EXPECT_EQ(c.expand.max_tokens, defaults.expand.max_tokens);
  EXPECT_EQ(c.sampling.temperature, defaults.sampling.temperature);
  EXPECT_EQ(c.sampling.top_p, defaults.sampling.top_p);
  EXPECT_EQ(c.sampling.seed, defaults.sampling.seed);
  EXPECT_EQ(c.fleet.heartbeat_ms, defaults.fleet.heartbeat_ms);
  EXPECT_EQ(c.fleet.board_timeout_ms, defaults.fleet.board_timeout_ms);
  EXPECT_EQ(c.fleet.task_deadline_ms, defaults.fleet.task_deadline_ms);
  EXPECT_EQ(c.ensemble.k, 1);   // one copy per point unless the file asks for an ensemble
  EXPECT_EQ(c.ensemble.wait_ms, defaults.ensemble.wait_ms);
  EXPECT_EQ(c.log_level, "info");
}

TEST(NodeConfig, DefaultNodeIdIsRoleHostPid) {
  const NodeConfig c = parse("[node]\nrole = \"edge\"\nconnect = \"tcp://h:1\"\n[slm]\nmodel = \"synth:tiny\"\n", "e.toml");
  char host[256] = {};
  ASSERT_EQ(gethostname(host, sizeof host - 1), 0);
  EXPECT_EQ(c.node_id, "edge-" + std::string(host) + "-" + std::to_string(getpid()));
}

TEST(NodeConfig, DottedKeysAreTheSameAsTables) {
  const NodeConfig c = parse(
      "node.role = \"cloud\"\nnode.listen = \"tcp://127.0.0.1:1\"\nllm.model = \"synth:demo\"\nsketch.max_points = 7\n",
      "dotted.toml");
  EXPECT_EQ(c.role, Role::cloud);
  EXPECT_EQ(c.sketch.max_points, 7);
}

TEST(NodeConfig, RelativeModelPathsAreRelativeToTheFile) {
  const std::string text = R"([node]
role = "all-in-one"
[llm]
model = "../models/big.gguf"
[slm]
model = "small.gguf"
)";
  const NodeConfig c = parse(text, "/etc/pice/node.toml");
  EXPECT_EQ(c.llm->path, "/etc/models/big.gguf");
  EXPECT_EQ(c.slm->path, "/etc/pice/small.gguf");
  // Without a folder in the name there is nothing to anchor to: the path stays as written.
  EXPECT_EQ(parse(text, "node.toml").slm->path, "small.gguf");
}

TEST(NodeConfig, AbsoluteAndSyntheticModelPathsStayAsWritten) {
  const NodeConfig c = parse("[node]\nrole = \"all-in-one\"\n[llm]\nmodel = \"/abs/m.gguf\"\n[slm]\nmodel = \"synth:demo\"\n",
                             "/etc/pice/node.toml");
  EXPECT_EQ(c.llm->path, "/abs/m.gguf");
  EXPECT_EQ(c.slm->path, "synth:demo");
}

TEST(NodeConfig, LoadFileResolvesAgainstTheFilesFolder) {
  const auto dir = std::filesystem::temp_directory_path() / ("pice-config-test-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir / "conf");
  const auto file = dir / "conf" / "edge.toml";
  std::ofstream(file) << "[node]\nrole = \"edge\"\nconnect = \"inproc://x\"\n[slm]\nmodel = \"models/s.gguf\"\n";
  const NodeConfig c = load_file(file);
  std::filesystem::remove_all(dir);
  EXPECT_EQ(c.source, file.string());
  EXPECT_EQ(c.slm->path, (dir / "conf" / "models" / "s.gguf").string());
}

TEST(NodeConfig, RoleNames) {
  EXPECT_EQ(role_name(Role::all_in_one), "all-in-one");
  EXPECT_EQ(role_name(Role::cloud), "cloud");
  EXPECT_EQ(role_name(Role::edge), "edge");
  EXPECT_EQ(role_name(Role::broker), "broker");
}

TEST(NodeConfig, BrokerAndCloudBehindABroker) {
  const NodeConfig broker = parse("[node]\nrole = \"broker\"\nid = \"b\"\nlisten = \"tcp://127.0.0.1:7800\"\n", "b.toml");
  EXPECT_EQ(broker.role, Role::broker);
  EXPECT_EQ(broker.listen, "tcp://127.0.0.1:7800");
  EXPECT_FALSE(broker.llm);
  EXPECT_FALSE(broker.slm);
  const NodeConfig cloud =
      parse("[node]\nrole = \"cloud\"\nconnect = \"tcp://127.0.0.1:7800\"\n[llm]\nmodel = \"synth:demo\"\n", "c.toml");
  EXPECT_EQ(cloud.role, Role::cloud);
  EXPECT_EQ(cloud.connect, "tcp://127.0.0.1:7800");
  EXPECT_TRUE(cloud.listen.empty());
}

TEST(NodeConfig, DrainTimeout) {
  const NodeConfig c = parse(
      "[node]\nrole = \"edge\"\nconnect = \"tcp://a:1\"\n[slm]\nmodel = \"synth:demo\"\n[fleet]\ndrain_timeout_ms = 2500\n", "e.toml");
  EXPECT_EQ(c.fleet.drain_timeout_ms, 2500);
  EXPECT_EQ(parse("[node]\nrole = \"edge\"\nconnect = \"tcp://a:1\"\n[slm]\nmodel = \"synth:demo\"\n", "e.toml")
                .fleet.drain_timeout_ms,
            60000);
}

}  // namespace
}  // namespace pice::config
