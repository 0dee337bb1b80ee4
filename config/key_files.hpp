#pragma once
// CURVE keys on disk, as `pice keygen` writes them and nodes and clients read them. Every key is the
// Z85 text of a 32-byte CURVE key (40 characters).
//
//   PREFIX.key   the key pair; TOML, mode 0600 (a .key readable by others is refused, like ssh does):
//                  [curve]
//                  public = "..."
//                  secret = "..."
//   PREFIX.pub   the public key alone on one line: what others list or name as server key
//   key lists    (security.allowed_keys) one public key per line; blank lines and lines starting with
//                '#' are ignored, text after a key (a name) too; or a directory whose *.pub files are
//                read the same way
//
// Readers throw ConfigError naming the file, and the line and column for a bad key.
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "config/config_error.hpp"

namespace pice::config {

struct KeyPair {
  std::string public_key;   // Z85
  std::string secret_key;   // Z85; never logged or printed
};

// 40 characters of the Z85 alphabet that decode to 32 bytes.
bool is_z85_key(std::string_view text);

// A .key file; also checks that its public key belongs to its secret key.
// The whole text of a file a config names (or the config itself); ConfigError "FILE: cannot open: ..."
// for a directory or an unreadable file.
std::string read_config_file(const std::filesystem::path& path);
KeyPair read_key_pair(const std::filesystem::path& path);
// A file holding exactly one public key (a .pub file).
std::string read_public_key(const std::filesystem::path& path);
// A key list, or a directory of .pub files. An empty list is not an error here.
std::vector<std::string> read_public_keys(const std::filesystem::path& path);

// Writes PREFIX.key (mode 0600, created so) and PREFIX.pub. Refuses, touching nothing, when either
// exists unless overwrite. Throws std::runtime_error naming the file.
void write_key_files(const std::string& prefix, const KeyPair& keys, bool overwrite);

}  // namespace pice::config
