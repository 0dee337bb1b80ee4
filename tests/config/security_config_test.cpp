// [security] and the CURVE key files it names: paths relative to the config file, key lists as a file
// or a directory, and every bad file reported at the key that names it.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <zmq.h>

#include <filesystem>
#include <fstream>

#include "config/key_files.hpp"
#include "config/node_config.hpp"
#include "tests/common/process.hpp"

namespace pice::config {
namespace {

namespace fs = std::filesystem;
using pice::testing::TempDir;

KeyPair fresh_pair() {
  char public_key[41], secret_key[41];
  EXPECT_EQ(zmq_curve_keypair(public_key, secret_key), 0);
  return {public_key, secret_key};
}

void write(const fs::path& path, const std::string& text, fs::perms perms = fs::perms::owner_read | fs::perms::owner_write) {
  std::ofstream(path) << text;
  fs::permissions(path, perms);
}

const std::string kCloud = "[node]\nrole = \"cloud\"\nlisten = \"tcp://127.0.0.1:7700\"\n[llm]\nmodel = \"synth:tiny\"\n";
const std::string kEdge = "[node]\nrole = \"edge\"\nconnect = \"tcp://127.0.0.1:7700\"\n[slm]\nmodel = \"synth:tiny\"\n";

// Parses `toml` as DIR/node.toml and returns the error it must raise.
ConfigError error_of(const TempDir& dir, const std::string& toml) {
  try {
    parse(toml, (dir.path() / "node.toml").string());
  } catch (const ConfigError& e) {
    return e;
  }
  ADD_FAILURE() << "accepted:\n" << toml;
  return ConfigError("", 0, 0, "", "");
}

class SecurityConfig : public ::testing::Test {
 protected:
  void SetUp() override {
    write_key_files((dir_.path() / "cloud").string(), cloud_, false);
    write_key_files((dir_.path() / "board").string(), board_, false);
  }
  TempDir dir_;
  KeyPair cloud_ = fresh_pair();
  KeyPair board_ = fresh_pair();
};

TEST_F(SecurityConfig, AbsentMeansPlainTcp) { EXPECT_FALSE(parse(kCloud, "cloud.toml").security.has_value()); }

TEST_F(SecurityConfig, ACloudReadsItsKeyPairAndAllowListRelativeToTheFile) {
  write(dir_.path() / "boards.txt", "# boards of the lab\n\n" + board_.public_key + "  orin-1\n   # retired:\n");
  auto c = parse(kCloud + "[security]\nkey = \"cloud.key\"\nallowed_keys = \"boards.txt\"\n", (dir_.path() / "cloud.toml").string());
  ASSERT_TRUE(c.security.has_value());
  EXPECT_EQ(c.security->key_file, (dir_.path() / "cloud.key").string());
  EXPECT_EQ(c.security->public_key, cloud_.public_key);
  EXPECT_EQ(c.security->secret_key, cloud_.secret_key);
  EXPECT_EQ(c.security->allowed_keys, std::vector<std::string>{board_.public_key});
  EXPECT_TRUE(c.security->server_key.empty());
}

TEST_F(SecurityConfig, AnAllowListMayBeADirectoryOfPubFiles) {
  fs::create_directory(dir_.path() / "boards");
  const KeyPair other = fresh_pair();
  write(dir_.path() / "boards" / "a.pub", board_.public_key + "\n");
  write(dir_.path() / "boards" / "b.pub", other.public_key + "\n");
  write(dir_.path() / "boards" / "notes.txt", "not a key\n");   // only *.pub are read
  auto c = parse(kCloud + "[security]\nkey = \"cloud.key\"\nallowed_keys = \"boards\"\n", (dir_.path() / "cloud.toml").string());
  ASSERT_TRUE(c.security.has_value());
  EXPECT_EQ(c.security->allowed_keys, (std::vector<std::string>{board_.public_key, other.public_key}));
}

TEST_F(SecurityConfig, NoKeyStartsWithHashSoSuchLinesAreComments) {
  // '#' is Z85's last character: a 5-character group starting with it is over 32 bits.
  EXPECT_FALSE(is_z85_key("#" + board_.public_key.substr(1)));
  write(dir_.path() / "boards.txt", "#" + board_.public_key.substr(1) + "\n" + board_.public_key + "\n");
  auto c = parse(kCloud + "[security]\nkey = \"cloud.key\"\nallowed_keys = \"boards.txt\"\n", (dir_.path() / "cloud.toml").string());
  EXPECT_EQ(c.security->allowed_keys, std::vector<std::string>{board_.public_key});
}

TEST_F(SecurityConfig, AnEdgeReadsTheServerKey) {
  auto c = parse(kEdge + "[security]\nkey = \"board.key\"\nserver_key = \"cloud.pub\"\n", (dir_.path() / "edge.toml").string());
  ASSERT_TRUE(c.security.has_value());
  EXPECT_EQ(c.security->public_key, board_.public_key);
  EXPECT_EQ(c.security->server_key, cloud_.public_key);
}

TEST_F(SecurityConfig, RoleRulesAreNamed) {
  ConfigError e = error_of(dir_, kEdge + "[security]\nkey = \"board.key\"\n");
  EXPECT_EQ(e.key(), "security.server_key") << e.what();
  e = error_of(dir_, kEdge + "[security]\nkey = \"board.key\"\nserver_key = \"cloud.pub\"\nallowed_keys = \"x\"\n");
  EXPECT_EQ(e.key(), "security.allowed_keys") << e.what();
  EXPECT_EQ(e.line(), 9u) << e.what();
  e = error_of(dir_, kCloud + "[security]\nkey = \"cloud.key\"\nserver_key = \"cloud.pub\"\n");
  EXPECT_EQ(e.key(), "security.server_key") << e.what();
  e = error_of(dir_, kCloud + "[security]\nallowed_keys = \"x\"\n");
  EXPECT_EQ(e.key(), "security.key") << e.what();
  EXPECT_NE(std::string(e.what()).find("missing required key"), std::string::npos) << e.what();
}

TEST_F(SecurityConfig, AMissingKeyFileNamesTheFieldAndTheFile) {
  ConfigError e = error_of(dir_, kCloud + "[security]\nkey = \"absent.key\"\n");
  EXPECT_EQ(e.key(), "security.key");
  EXPECT_EQ(e.line(), 7u);
  const std::string what = e.what();
  EXPECT_NE(what.find((dir_.path() / "absent.key").string()), std::string::npos) << what;
  EXPECT_NE(what.find("No such file"), std::string::npos) << what;
}

TEST_F(SecurityConfig, AMalformedKeyPairIsReportedAtItsLineWithoutShowingTheSecret) {
  std::string text = pice::testing::read_file(dir_.path() / "cloud.key");
  const std::string broken = cloud_.secret_key.substr(0, 30) + "~~~~~~~~~~";   // '~' is not Z85
  text.replace(text.find(cloud_.secret_key), cloud_.secret_key.size(), broken);
  write(dir_.path() / "cloud.key", text);
  ConfigError e = error_of(dir_, kCloud + "[security]\nkey = \"cloud.key\"\n");
  EXPECT_EQ(e.key(), "security.key");
  const std::string what = e.what();
  EXPECT_NE(what.find("cloud.key:5:"), std::string::npos) << what;
  EXPECT_NE(what.find("curve.secret"), std::string::npos) << what;
  EXPECT_EQ(what.find(cloud_.secret_key.substr(0, 6)), std::string::npos) << "the secret leaked: " << what;
}

TEST_F(SecurityConfig, APublicKeyThatIsNotTheSecretsIsRefused) {
  std::string text = pice::testing::read_file(dir_.path() / "cloud.key");
  text.replace(text.find(cloud_.public_key), cloud_.public_key.size(), board_.public_key);
  write(dir_.path() / "cloud.key", text);
  ConfigError e = error_of(dir_, kCloud + "[security]\nkey = \"cloud.key\"\n");
  EXPECT_NE(std::string(e.what()).find("does not belong to curve.secret"), std::string::npos) << e.what();
}

TEST_F(SecurityConfig, AKeyPairOthersCanReadIsRefused) {
  fs::permissions(dir_.path() / "cloud.key", fs::perms::group_read | fs::perms::others_read, fs::perm_options::add);
  ConfigError e = error_of(dir_, kCloud + "[security]\nkey = \"cloud.key\"\n");
  EXPECT_EQ(e.key(), "security.key");
  EXPECT_NE(std::string(e.what()).find("chmod 600"), std::string::npos) << e.what();
}

TEST_F(SecurityConfig, ABadLineInTheAllowListIsNamedWithItsLine) {
  write(dir_.path() / "boards.txt", "# boards\n" + board_.public_key + "\nnot-a-key\n");
  ConfigError e = error_of(dir_, kCloud + "[security]\nkey = \"cloud.key\"\nallowed_keys = \"boards.txt\"\n");
  EXPECT_EQ(e.key(), "security.allowed_keys");
  const std::string what = e.what();
  EXPECT_NE(what.find("boards.txt:3:1"), std::string::npos) << what;
  EXPECT_NE(what.find("not-a-key"), std::string::npos) << what;
}

TEST_F(SecurityConfig, AServerKeyFileMustHoldExactlyOneKey) {
  write(dir_.path() / "two.pub", cloud_.public_key + "\n" + board_.public_key + "\n");
  ConfigError e = error_of(dir_, kEdge + "[security]\nkey = \"board.key\"\nserver_key = \"two.pub\"\n");
  EXPECT_EQ(e.key(), "security.server_key");
  EXPECT_NE(std::string(e.what()).find("exactly one public key, found 2"), std::string::npos) << e.what();
}

TEST(KeyFiles, WritesASecretOnlyTheOwnerCanReadAndRefusesToOverwrite) {
  TempDir dir;
  const std::string prefix = (dir.path() / "node").string();
  const KeyPair pair = fresh_pair();
  write_key_files(prefix, pair, false);
  struct stat st {};
  ASSERT_EQ(::stat((prefix + ".key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(pice::testing::read_file(prefix + ".pub"), pair.public_key + "\n");
  const KeyPair read = read_key_pair(prefix + ".key");
  EXPECT_EQ(read.public_key, pair.public_key);
  EXPECT_EQ(read.secret_key, pair.secret_key);

  const KeyPair other = fresh_pair();
  EXPECT_THROW(write_key_files(prefix, other, false), std::runtime_error);
  EXPECT_EQ(read_key_pair(prefix + ".key").secret_key, pair.secret_key);   // untouched
  fs::permissions(prefix + ".key", fs::perms::others_read, fs::perm_options::add);
  write_key_files(prefix, other, true);
  ASSERT_EQ(::stat((prefix + ".key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);   // an overwritten secret does not keep a looser mode
  EXPECT_EQ(read_key_pair(prefix + ".key").secret_key, other.secret_key);
  EXPECT_EQ(read_public_key(prefix + ".pub"), other.public_key);
}

TEST(KeyFiles, Z85KeysAreRecognised) {
  const KeyPair pair = fresh_pair();
  EXPECT_TRUE(is_z85_key(pair.public_key));
  EXPECT_FALSE(is_z85_key(pair.public_key.substr(1)));
  EXPECT_FALSE(is_z85_key(pair.public_key.substr(1) + "~"));
  EXPECT_FALSE(is_z85_key(""));
}

}  // namespace
}  // namespace pice::config
