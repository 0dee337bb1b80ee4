// The Debian package, built with CPack from this build tree: what it holds, and an edge node run from
// its files (unpacked with dpkg -x into a fresh tree, as on a board) serving a cloud node.
#include <gtest/gtest.h>

#include <filesystem>
#include <map>

#include "actors/client.hpp"
#include "brokers/endpoints.hpp"
#include "tests/actors/cli_support.hpp"
#include "tests/common/process.hpp"

namespace pice::testing {
namespace {

namespace fs = std::filesystem;

// Runs a command to completion and returns its standard output; fails the test on a non-zero status.
std::string run(const std::string& name, const std::vector<std::string>& argv, const fs::path& logs) {
  ChildProcess child(name, argv, logs);
  auto status = child.wait(std::chrono::seconds(240));
  EXPECT_TRUE(status.has_value()) << name << " did not finish";
  EXPECT_EQ(status.value_or(-1), 0) << name << " failed:\n" << child.stderr_text() << child.stdout_text();
  return child.stdout_text();
}

class DebPackage : public ::testing::Test {
 protected:
  void SetUp() override {
    run("cpack", {PICE_CPACK_COMMAND, "-G", "DEB", "--config", PICE_CPACK_CONFIG, "-B", out_.path().string()},
        out_.path());
    for (const auto& entry : fs::directory_iterator(out_.path()))
      if (entry.path().extension() == ".deb") deb_ = entry.path();
    ASSERT_FALSE(deb_.empty()) << "cpack wrote no .deb into " << out_.path();
  }

  std::string field(const std::string& name) {
    std::string value = run("dpkg-deb-field", {"/usr/bin/dpkg-deb", "--field", deb_.string(), name}, out_.path());
    while (!value.empty() && value.back() == '\n') value.pop_back();
    return value;
  }

  TempDir out_;
  fs::path deb_;
};

TEST_F(DebPackage, HoldsTheBinaryTheConfigsAndTheServiceUnit) {
  std::string contents = run("dpkg-deb-contents", {"/usr/bin/dpkg-deb", "--contents", deb_.string()}, out_.path());
  for (const char* path : {"./usr/bin/pice", "./etc/pice/edge.toml", "./usr/lib/systemd/system/pice@.service",
                           "./usr/share/pice/examples/cloud.toml", "./usr/share/pice/examples/edge.toml",
                           "./usr/share/doc/pice/DEPLOY.md"})
    EXPECT_NE(contents.find(path), std::string::npos) << path << " missing from the package:\n" << contents;

  EXPECT_EQ(field("Package"), "pice");
  EXPECT_EQ(field("Architecture"), "amd64");
  // Shared libraries are found by dpkg-shlibdeps from the binary, so a board's apt pulls them in.
  std::string depends = field("Depends");
  for (const char* library : {"libzmq5", "libcaf-core", "adduser"})
    EXPECT_NE(depends.find(library), std::string::npos) << library << " missing from Depends: " << depends;

  // The edge config survives upgrades as a conffile; postinst makes the user the unit runs as.
  TempDir control;
  run("dpkg-deb-control", {"/usr/bin/dpkg-deb", "--control", deb_.string(), control.path().string()}, out_.path());
  EXPECT_NE(read_file(control.path() / "conffiles").find("/etc/pice/edge.toml"), std::string::npos);
  std::string postinst = read_file(control.path() / "postinst");
  EXPECT_NE(postinst.find("adduser --system"), std::string::npos) << postinst;
  EXPECT_TRUE((fs::status(control.path() / "postinst").permissions() & fs::perms::owner_exec) != fs::perms::none);
}

TEST_F(DebPackage, UnitRunsTheNodeAsItsOwnUserAndRestartsOnFailure) {
  TempDir root;
  run("dpkg-x", {"/usr/bin/dpkg", "-x", deb_.string(), root.path().string()}, out_.path());
  std::string unit = read_file(root.path() / "usr/lib/systemd/system/pice@.service");
  EXPECT_NE(unit.find("ExecStart=/usr/bin/pice serve --config /etc/pice/%i.toml"), std::string::npos) << unit;
  EXPECT_NE(unit.find("Restart=on-failure"), std::string::npos) << unit;
  EXPECT_NE(unit.find("User=pice"), std::string::npos) << unit;
  // systemd's own checker, when the machine has it: unknown keys or a malformed line fail here.
  if (fs::exists("/usr/bin/systemd-analyze")) {
    ChildProcess verify("systemd-analyze",
                        {"/usr/bin/systemd-analyze", "verify", "--man=no",
                         (root.path() / "usr/lib/systemd/system/pice@.service").string()},
                        out_.path());
    ASSERT_TRUE(verify.wait(std::chrono::seconds(60)).has_value());
    // verify also complains that /usr/bin/pice is not on this machine; only syntax errors matter here.
    std::string complaints = verify.stderr_text();
    EXPECT_EQ(complaints.find("Unknown key"), std::string::npos) << complaints;
    EXPECT_EQ(complaints.find("Invalid"), std::string::npos) << complaints;
    EXPECT_EQ(complaints.find("bad-setting"), std::string::npos) << complaints;
  }
}

TEST_F(DebPackage, EdgeNodeFromTheUnpackedPackageExpandsTheCloudsPoints) {
  TempDir root;
  run("dpkg-x", {"/usr/bin/dpkg", "-x", deb_.string(), root.path().string()}, out_.path());
  const fs::path packaged_pice = root.path() / "usr/bin/pice";
  ASSERT_TRUE(fs::exists(packaged_pice));

  const std::string address = "tcp://127.0.0.1:" + std::to_string(free_port_range(brokers::kServiceEndpointCount));
  ChildProcess cloud("cloud",
                     {pice_binary(), "serve", "--config", source_path("config/cloud.toml"), "--listen", address,
                      "--node-id", "cloud"},
                     out_.path());
  // The packaged binary with the packaged config: only the address differs on a real board.
  ChildProcess edge("packaged-edge",
                    {packaged_pice.string(), "serve", "--config", (root.path() / "etc/pice/edge.toml").string(),
                     "--connect", address, "--node-id", "packaged-edge"},
                    out_.path());
  ASSERT_TRUE(wait_until(
      [&] { return cloud.stderr_text().find("board 'packaged-edge' attached") != std::string::npos; },
      std::chrono::seconds(90)))
      << "cloud log:\n" << cloud.stderr_text() << "\nedge log:\n" << edge.stderr_text();

  actors::GatewayClient client(brokers::derive_endpoints(address).gateway);
  messages::Request request;
  request.question = "What are some tips for keeping houseplants healthy?";
  actors::Answer answer = client.ask(request, 240000);
  ASSERT_TRUE(answer.complete()) << answer.error << "\ncloud log:\n" << cloud.stderr_text();
  ASSERT_FALSE(answer.points.empty());
  for (const auto& point : answer.points) EXPECT_EQ(point.node, "packaged-edge") << point.text;
  EXPECT_TRUE(edge.running()) << edge.stderr_text();
}

}  // namespace
}  // namespace pice::testing
