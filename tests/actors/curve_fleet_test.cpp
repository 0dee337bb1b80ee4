// CURVE between real processes on loopback: a cloud with an allow-list, a listed and an unlisted
// edge, clients with and without keys, and a relay in the middle that records the bytes on the wire.
#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <set>
#include <vector>
#include <sstream>

#include "actors/client.hpp"
#include "brokers/endpoints.hpp"
#include "config/key_files.hpp"
#include "messages/compression.hpp"
#include "tests/actors/cli_support.hpp"
#include "tests/actors/tcp_relay.hpp"
#include "tests/common/process.hpp"

namespace pice::testing {
namespace {

// Distinctive, so finding it in captured bytes can only mean it crossed the wire in clear.
constexpr const char* kQuestion = "What are some tips for keeping zebra-striped lighthouses quiet?";

// Whether `text` can be read from captured bytes by anyone on the path: as it is, or inside a
// compressed message frame (large envelopes travel zlib-compressed, which hides nothing). A ZMTP frame
// is a flags byte, its size (1 byte, or 8 with flag 0x02), then the body; a compressed body starts with
// the marker byte.
bool readable_on_the_wire(const std::string& wire, const std::string& text) {
  if (wire.find(text) != std::string::npos) return true;
  const auto byte = [&](size_t i) { return static_cast<unsigned char>(wire[i]); };
  for (size_t p = 9; p < wire.size(); ++p) {
    if (byte(p) != messages::kCompressedFrameMarker) continue;
    std::vector<size_t> sizes;
    if ((byte(p - 2) & ~1u) == 0) sizes.push_back(byte(p - 1));   // a short frame
    if ((byte(p - 9) & ~1u) == 2) {                                // a long frame
      uint64_t size = 0;
      for (size_t i = p - 8; i < p; ++i) size = size << 8 | byte(i);
      sizes.push_back(static_cast<size_t>(std::min<uint64_t>(size, wire.size())));
    }
    for (const size_t size : sizes) {
      if (p + size > wire.size()) continue;
      try {
        if (messages::decompress_frame(std::string_view(wire).substr(p, size), 1 << 20).find(text) != std::string::npos)
          return true;
      } catch (const messages::DecodeError&) {
        // not a frame boundary after all
      }
    }
  }
  return false;
}

class CurveFleet : public ::testing::Test {
 protected:
  void SetUp() override {
    const int ports = free_port_range(2 * brokers::kServiceEndpointCount);
    cloud_port_ = ports;
    relay_port_ = ports + brokers::kServiceEndpointCount;
    cloud_address_ = "tcp://127.0.0.1:" + std::to_string(cloud_port_);
    relay_address_ = "tcp://127.0.0.1:" + std::to_string(relay_port_);
  }

  std::string path(const std::string& name) const { return (dir_.path() / name).string(); }

  // `pice keygen`, checked: it prints the public key it wrote.
  std::string keygen(const std::string& name) {
    ChildProcess keygen("keygen-" + name, {pice_binary(), "keygen", "--out", path(name)}, dir_.path());
    EXPECT_EQ(keygen.wait(std::chrono::seconds(30)), 0) << keygen.stderr_text();
    std::string printed = keygen.stdout_text();
    while (!printed.empty() && printed.back() == '\n') printed.pop_back();
    EXPECT_EQ(printed + "\n", read_file(path(name + ".pub")));
    return printed;
  }

  void write(const std::string& name, const std::string& text) { std::ofstream(path(name)) << text; }

  void start_cloud(const std::string& security) {
    write("cloud.toml", "[node]\nrole = \"cloud\"\nid = \"cloud\"\nlisten = \"" + cloud_address_ +
                            "\"\n[llm]\nmodel = \"synth:tiny\"\n" + security);
    cloud_ = std::make_unique<ChildProcess>("cloud", std::vector<std::string>{pice_binary(), "serve", "--config", path("cloud.toml")},
                                            dir_.path());
    ASSERT_TRUE(wait_until([&] { return cloud_->stderr_text().find("serving") != std::string::npos; },
                           std::chrono::seconds(60)))
        << cloud_->stderr_text();
  }

  std::unique_ptr<ChildProcess> start_edge(const std::string& id, const std::string& connect, const std::string& security) {
    write(id + ".toml", "[node]\nrole = \"edge\"\nid = \"" + id + "\"\nconnect = \"" + connect +
                            "\"\n[slm]\nmodel = \"synth:tiny\"\n[fleet]\nheartbeat_ms = 200\n" + security);
    return std::make_unique<ChildProcess>(id, std::vector<std::string>{pice_binary(), "serve", "--config", path(id + ".toml")},
                                          dir_.path());
  }

  bool cloud_log_has(const std::string& text, std::chrono::seconds timeout = std::chrono::seconds(60)) {
    return wait_until([&] { return cloud_->stderr_text().find(text) != std::string::npos; }, timeout);
  }

  actors::Answer ask(const std::string& address, const std::optional<brokers::CurveSecurity>& security, int timeout_ms) {
    actors::GatewayClient client(brokers::derive_endpoints(address).gateway, security);
    messages::Request request;
    request.question = kQuestion;
    return client.ask(request, timeout_ms);
  }

  static brokers::CurveSecurity client_keys(const std::string& key_file, const std::string& server_pub) {
    config::KeyPair pair = config::read_key_pair(key_file);
    return {{pair.public_key, pair.secret_key}, config::read_public_key(server_pub), nullptr};
  }

  TempDir dir_;
  int cloud_port_ = 0, relay_port_ = 0;
  std::string cloud_address_, relay_address_;
  std::unique_ptr<ChildProcess> cloud_;
};

TEST_F(CurveFleet, OnlyListedKeysGetInAndNothingCrossesTheWireInClear) {
  keygen("cloud");
  const std::string listed = keygen("board-a");
  const std::string unlisted = keygen("board-b");
  const std::string client = keygen("client");
  write("allowed.txt", "# boards and clients of this cloud\n" + listed + " board-a\n" + client + " operator\n");
  start_cloud("[security]\nkey = \"cloud.key\"\nallowed_keys = \"allowed.txt\"\n");
  TcpRelay relay(relay_port_, cloud_port_, brokers::kServiceEndpointCount);

  // Board a talks to the cloud only through the relay, so its tasks cross the recorded wire.
  auto edge_a = start_edge("board-a", relay_address_, "[security]\nkey = \"board-a.key\"\nserver_key = \"cloud.pub\"\n");
  auto edge_b = start_edge("board-b", cloud_address_, "[security]\nkey = \"board-b.key\"\nserver_key = \"cloud.pub\"\n");
  ASSERT_TRUE(cloud_log_has("board 'board-a' attached")) << cloud_->stderr_text() << "\nboard-a:\n" << edge_a->stderr_text();
  ASSERT_TRUE(cloud_log_has("public key " + unlisted + " is not in security.allowed_keys")) << cloud_->stderr_text();

  // A board is attached once its heartbeat arrives; its tasks socket may still be in its handshake,
  // and a point sent before it is up goes to the cloud instead. Ask until board a expands points.
  actors::Answer answer;
  std::set<std::string> nodes;
  const bool expanded_by_board_a = wait_until(
      [&] {
        answer = ask(relay_address_, client_keys(path("client.key"), path("cloud.pub")), 120000);
        EXPECT_TRUE(answer.complete()) << answer.error << "\ncloud log:\n" << cloud_->stderr_text();
        for (const auto& point : answer.points) nodes.insert(point.node);
        return nodes.count("board-a") != 0 || !answer.complete();
      },
      std::chrono::seconds(60));
  ASSERT_TRUE(expanded_by_board_a && answer.complete()) << "cloud log:\n" << cloud_->stderr_text();
  EXPECT_EQ(nodes.count("board-b"), 0u);

  const std::string wire = relay.captured();
  EXPECT_GT(relay.connections(), 3u);   // board a's three sockets and the client's
  EXPECT_GT(wire.size(), 1000u);
  EXPECT_FALSE(readable_on_the_wire(wire, kQuestion)) << "the question crossed the wire in clear";
  EXPECT_EQ(wire.find("zebra-striped"), std::string::npos);
  for (const auto& point : answer.points) {   // long enough that a chance match in ciphertext is impossible
    if (point.text.size() >= 12) {
      EXPECT_EQ(wire.find(point.text), std::string::npos) << point.text;
    }
  }

  // The unlisted board never attached, and its refusal was logged once (it has three sockets).
  const std::string log = cloud_->stderr_text();
  EXPECT_EQ(log.find("board 'board-b' attached"), std::string::npos) << log;
  EXPECT_EQ(lines_with(log, unlisted).size(), 1u) << log;
  EXPECT_NE(lines_with(log, unlisted)[0].find("127.0.0.1"), std::string::npos) << log;
  EXPECT_TRUE(edge_b->running());
  // ...and the refused board says why in its own log.
  EXPECT_TRUE(wait_until(
      [&] { return edge_b->stderr_text().find("does not accept this node's public key " + unlisted) != std::string::npos; },
      std::chrono::seconds(30)))
      << edge_b->stderr_text();

  // The refusals are counted in the cloud's telemetry (DENIED in `pice top`).
  std::string top_out;
  const bool counted = wait_until(
      [&] {
        ChildProcess top("top", {pice_binary(), "top", "--once", "--connect", cloud_address_, "--key",
                                 path("client.key"), "--server-key", path("cloud.pub")},
                         dir_.path());
        top.wait(std::chrono::seconds(30));
        top_out = top.stdout_text();
        const auto rows = lines_with(top_out, "cloud ");
        if (rows.empty()) return false;
        std::istringstream row(rows[0]);
        std::vector<std::string> cells{std::istream_iterator<std::string>(row), {}};
        // NODE ROLE QUEUE TOK/S DONE REQS RUNNING P50MS REJECTED DENIED HEARD
        return cells.size() == 11 && std::stoull(cells[9]) >= 1;
      },
      std::chrono::seconds(60));
  EXPECT_TRUE(counted) << top_out;
  EXPECT_NE(top_out.find("DENIED"), std::string::npos) << top_out;
}

TEST_F(CurveFleet, ClientsWithoutAListedKeyGetNoAnswer) {
  keygen("cloud");
  const std::string stranger = keygen("stranger");
  write("allowed.txt", "");
  start_cloud("[security]\nkey = \"cloud.key\"\nallowed_keys = \"allowed.txt\"\n");

  const actors::Answer plain = ask(cloud_address_, std::nullopt, 3000);
  EXPECT_FALSE(plain.complete());
  const actors::Answer unlisted = ask(cloud_address_, client_keys(path("stranger.key"), path("cloud.pub")), 3000);
  EXPECT_FALSE(unlisted.complete());
  EXPECT_TRUE(cloud_log_has("public key " + stranger + " is not in security.allowed_keys")) << cloud_->stderr_text();

  // `pice ask` with the cloud's own config trusts and is trusted by that cloud (the node's own key).
  ChildProcess ask_process("ask", {pice_binary(), "ask", "--json-chunks", "--connect", cloud_address_, "--config", path("cloud.toml"),
                                   "--timeout-ms", "120000", "How do owls sleep?"},
                           dir_.path());
  ASSERT_EQ(ask_process.wait(std::chrono::seconds(150)), 0) << ask_process.stderr_text();
  EXPECT_FALSE(lines_with(ask_process.stdout_text(), "\"kind\":\"done\"").empty()) << ask_process.stdout_text();

  // Flags that cannot make a secure client are config errors.
  ChildProcess no_server("no-server", {pice_binary(), "ask", "--connect", cloud_address_, "--key", path("stranger.key"), "q"},
                         dir_.path());
  EXPECT_EQ(no_server.wait(std::chrono::seconds(30)), 2);
  EXPECT_NE(no_server.stderr_text().find("--server-key"), std::string::npos) << no_server.stderr_text();
}

TEST_F(CurveFleet, WithoutKeysTheSameCaptureShowsTheQuestion) {
  // The control: the check above could fail. Same relay, same question, no [security].
  start_cloud("");
  TcpRelay relay(relay_port_, cloud_port_, brokers::kServiceEndpointCount);
  auto edge = start_edge("board-a", relay_address_, "");
  ASSERT_TRUE(cloud_log_has("board 'board-a' attached")) << cloud_->stderr_text();
  const actors::Answer answer = ask(relay_address_, std::nullopt, 120000);
  ASSERT_TRUE(answer.complete()) << answer.error;
  EXPECT_TRUE(readable_on_the_wire(relay.captured(), kQuestion));
}

TEST(CurveConfig, ABadKeyFileStopsServeWithStatus2NamingFieldAndFile) {
  TempDir dir;
  std::ofstream(dir.path() / "board.key") << "[curve]\npublic = \"short\"\nsecret = \"short\"\n";
  std::filesystem::permissions(dir.path() / "board.key", std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  std::ofstream(dir.path() / "edge.toml") << "[node]\nrole = \"edge\"\nconnect = \"tcp://127.0.0.1:7700\"\n"
                                             "[slm]\nmodel = \"synth:tiny\"\n[security]\nkey = \"board.key\"\n"
                                             "server_key = \"cloud.pub\"\n";
  ChildProcess serve("serve", {pice_binary(), "serve", "--config", (dir.path() / "edge.toml").string()}, dir.path());
  ASSERT_EQ(serve.wait(std::chrono::seconds(30)), 2) << serve.stderr_text();
  const std::string err = serve.stderr_text();
  EXPECT_NE(err.find("edge.toml:7:7: security.key: "), std::string::npos) << err;
  EXPECT_NE(err.find((dir.path() / "board.key").string() + ":2:10: curve.public"), std::string::npos) << err;
}

}  // namespace
}  // namespace pice::testing
