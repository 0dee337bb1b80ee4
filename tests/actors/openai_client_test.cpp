// A real OpenAI client against a real gateway process: the official `openai` npm package (installed
// once into the build tree's cache, never into the source tree) asks `pice serve --http` for a
// chat completion, then for a streamed one. Skipped, saying why, when Node.js or npm is missing or
// the npm registry cannot be reached.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <cstdlib>
#include <fstream>

#include "tests/actors/cli_support.hpp"
#include "tests/actors/http_test_client.hpp"
#include "tests/common/process.hpp"

namespace pice::testing {
namespace {

using nlohmann::json;

constexpr auto kInstallTimeout = std::chrono::seconds(300);
constexpr auto kClientTimeout = std::chrono::seconds(240);

// Runs a program through env (PATH lookup); its exit status, or nullopt if it did not end in time.
std::optional<int> run(const std::vector<std::string>& args, const std::filesystem::path& logs, const std::string& name,
                       std::chrono::seconds timeout, std::string* out = nullptr, std::string* err = nullptr) {
  std::vector<std::string> argv = {"/usr/bin/env"};
  argv.insert(argv.end(), args.begin(), args.end());
  ChildProcess p(name, argv, logs);
  auto status = p.wait(timeout);
  if (out) *out = p.stdout_text();
  if (err) *err = p.stderr_text();
  return status;
}

// Where the package lives: under the build tree's cache (PICE_CACHE_DIR, set by CTest), so it is
// installed once per build tree.
std::filesystem::path npm_dir() {
  const char* cache = std::getenv("PICE_CACHE_DIR");
  std::filesystem::path base = cache && *cache ? cache : std::filesystem::temp_directory_path() / "pice-test-cache";
  return base / "npm-openai";
}

// The client: one chat completion, then a streamed one; one JSON line each.
const char* kScript = R"JS(
const openai = require(process.argv[2]);
const OpenAI = openai.OpenAI || openai.default || openai;
const client = new OpenAI({ baseURL: `http://127.0.0.1:${process.argv[3]}/v1`, apiKey: 'test-key', maxRetries: 0, timeout: 200000 });
const question = [{ role: 'user', content: 'What are some tips for staying healthy and fit?' }];
(async () => {
  const whole = await client.chat.completions.create({ model: 'pice', messages: question, max_tokens: 12, seed: 3 });
  console.log(JSON.stringify({ kind: 'whole', content: whole.choices[0].message.content,
                               finish: whole.choices[0].finish_reason, usage: whole.usage, pice: whole.pice }));
  const stream = await client.chat.completions.create({ model: 'pice', messages: question, max_tokens: 12, seed: 3,
                                                        stream: true, stream_options: { include_usage: true } });
  let content = '', chunks = 0, usage = null, finish = null;
  for await (const chunk of stream) {
    chunks++;
    if (chunk.usage) usage = chunk.usage;
    const choice = chunk.choices[0];
    if (choice && choice.delta && choice.delta.content) content += choice.delta.content;
    if (choice && choice.finish_reason) finish = choice.finish_reason;
  }
  console.log(JSON.stringify({ kind: 'stream', content, chunks, usage, finish }));
})().catch((e) => { console.error(String(e && e.stack || e)); process.exit(1); });
)JS";

TEST(OpenAiClient, TheOfficialPackageGetsAnAnswerAndAStream) {
  TempDir work;
  if (run({"node", "--version"}, work.path(), "node-version", std::chrono::seconds(30)) != 0)
    GTEST_SKIP() << "Node.js (node) is not installed";
  if (run({"npm", "--version"}, work.path(), "npm-version", std::chrono::seconds(60)) != 0)
    GTEST_SKIP() << "npm is not installed";
  const std::filesystem::path dir = npm_dir();
  const std::filesystem::path package = dir / "node_modules" / "openai";
  if (!std::filesystem::exists(package / "package.json")) {
    std::filesystem::create_directories(dir);
    std::string err;
    auto installed = run({"npm", "install", "--prefix", dir.string(), "--no-audit", "--no-fund", "--loglevel=error",
                          "openai"},
                         work.path(), "npm-install", kInstallTimeout, nullptr, &err);
    if (installed != 0 || !std::filesystem::exists(package / "package.json"))
      GTEST_SKIP() << "npm could not install the openai package (is the registry reachable?): " << err;
  }

  // A real node with the HTTP API, as a user would start it.
  const int port = free_port_range(1);
  const std::filesystem::path config = work.path() / "node.toml";
  std::ofstream(config) << "[node]\nid = \"openai-aio\"\nrole = \"all-in-one\"\nlisten = \"inproc://openai\"\n"
                           "local_edges = 1\n[llm]\nmodel = \"synth:tiny\"\n[slm]\nmodel = \"synth:tiny\"\n"
                           "[sketch]\nmin_points = 2\nmax_points = 3\n"
                           // A fixed budget: the adaptive one would give the second request fewer points
                           // once the first has made the cloud look busy, and the texts would differ.
                           "[scheduler]\nadaptive_budget = false\n";
  ChildProcess serve("serve", {pice_binary(), "serve", "--config", config.string(), "--http",
                               "127.0.0.1:" + std::to_string(port)},
                     work.path(), {"PICE_API_KEY=test-key"});
  ASSERT_TRUE(wait_until_healthy(port, std::chrono::seconds(120))) << serve.stderr_text();

  const std::filesystem::path script = work.path() / "client.cjs";
  std::ofstream(script) << kScript;
  std::string out, err;
  auto status = run({"node", script.string(), package.string(), std::to_string(port)}, work.path(), "client",
                    kClientTimeout, &out, &err);
  ASSERT_EQ(status, 0) << "stdout: " << out << "\nstderr: " << err << "\nserver: " << serve.stderr_text();

  auto lines = lines_with(out, "\"kind\"");
  ASSERT_EQ(lines.size(), 2u) << out;
  json whole = json::parse(lines[0]);
  json stream = json::parse(lines[1]);
  EXPECT_EQ(whole["finish"], "stop");
  EXPECT_FALSE(whole["content"].get<std::string>().empty());
  EXPECT_GT(whole["usage"]["completion_tokens"].get<int>(), 0);
  EXPECT_EQ(whole["pice"]["mode"], "pice");  // the extension object reaches the client untouched
  EXPECT_EQ(stream["finish"], "stop");
  EXPECT_GT(stream["chunks"].get<int>(), 2);
  // The same seed and question: the stream carries the same text as the whole answer.
  EXPECT_EQ(stream["content"], whole["content"]);
  EXPECT_EQ(stream["usage"]["completion_tokens"], whole["usage"]["completion_tokens"]);
}

}  // namespace
}  // namespace pice::testing
