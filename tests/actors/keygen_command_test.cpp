// `pice keygen`: the files it writes, their modes, and that it never overwrites by accident.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include "config/key_files.hpp"
#include "tests/actors/cli_support.hpp"
#include "tests/common/process.hpp"

namespace pice::testing {
namespace {

struct KeygenRun {
  int status;
  std::string out, err;
};

KeygenRun keygen(const TempDir& dir, std::vector<std::string> args) {
  args.insert(args.begin(), {pice_binary(), "keygen"});
  ChildProcess process("keygen", args, dir.path());
  auto status = process.wait(std::chrono::seconds(30));
  return {status.value_or(-1), process.stdout_text(), process.stderr_text()};
}

unsigned mode_of(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
  return st.st_mode & 0777;
}

TEST(KeygenCommand, WritesAPrivateKeyPairAndPrintsOnlyThePublicKey) {
  TempDir dir;
  const std::string prefix = (dir.path() / "board").string();
  KeygenRun run = keygen(dir, {"--out", prefix});
  ASSERT_EQ(run.status, 0) << run.err;
  EXPECT_EQ(mode_of(prefix + ".key"), 0600u);
  const std::string pub = read_file(prefix + ".pub");
  ASSERT_EQ(pub.size(), 41u) << pub;   // 40 Z85 characters and a newline
  EXPECT_TRUE(config::is_z85_key(pub.substr(0, 40)));
  EXPECT_EQ(run.out, pub);

  const config::KeyPair pair = config::read_key_pair(prefix + ".key");
  EXPECT_EQ(pair.public_key + "\n", pub);
  EXPECT_EQ(run.out.find(pair.secret_key), std::string::npos);
  EXPECT_EQ(run.err.find(pair.secret_key), std::string::npos);
  const std::string key_text = read_file(prefix + ".key");
  EXPECT_NE(key_text.find("[curve]"), std::string::npos) << key_text;
  EXPECT_NE(key_text.find("secret = \"" + pair.secret_key + "\""), std::string::npos);
}

TEST(KeygenCommand, RefusesToOverwriteUnlessForced) {
  TempDir dir;
  const std::string prefix = (dir.path() / "cloud").string();
  ASSERT_EQ(keygen(dir, {"--out", prefix}).status, 0);
  const std::string before = read_file(prefix + ".key");

  KeygenRun again = keygen(dir, {"--out", prefix});
  EXPECT_EQ(again.status, 1);
  EXPECT_NE(again.err.find(prefix + ".key already exists"), std::string::npos) << again.err;
  EXPECT_EQ(read_file(prefix + ".key"), before);

  KeygenRun forced = keygen(dir, {"--out", prefix, "--force"});
  ASSERT_EQ(forced.status, 0) << forced.err;
  EXPECT_NE(read_file(prefix + ".key"), before);
  EXPECT_EQ(forced.out, read_file(prefix + ".pub"));
  EXPECT_EQ(mode_of(prefix + ".key"), 0600u);
}

TEST(KeygenCommand, AnUnwritablePlaceIsAClearFailure) {
  TempDir dir;
  KeygenRun run = keygen(dir, {"--out", (dir.path() / "no-such-dir" / "k").string()});
  EXPECT_EQ(run.status, 1);
  EXPECT_NE(run.err.find("no-such-dir/k.key"), std::string::npos) << run.err;
  EXPECT_NE(run.err.find("No such file"), std::string::npos) << run.err;
}

}  // namespace
}  // namespace pice::testing
