#include "config/key_files.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zmq.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

#include "config/toml_schema.hpp"

namespace pice::config {
namespace {

constexpr size_t kKeyLength = 40;
constexpr const char* kKeyTable = "curve";


// Shows a bad value without ever echoing a whole secret: long values are cut.
std::string shown(std::string_view text) {
  return text.size() <= 12 ? std::string(text) : std::string(text.substr(0, 6)) + "...";
}

std::string key_problem(std::string_view text) {
  return "not a CURVE key: expected 40 Z85 characters, got " + std::to_string(text.size()) + " characters \"" +
         shown(text) + "\"";
}

// The owner alone may read a secret: a key pair others can read is no identity.
void check_private(const std::filesystem::path& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return;   // reading reports it
  if ((st.st_mode & 077) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 0777));
    throw ConfigError(path.string(), 0, 0, "",
                      std::string("holds a secret key but is accessible to other users (mode ") + mode +
                          "): chmod 600 " + path.string());
  }
}

// One line of a key list: a key (and perhaps a name after it), or nothing to read.
std::string_view first_word(std::string_view line) {
  const size_t start = line.find_first_not_of(" \t\r");
  if (start == std::string_view::npos) return {};
  line.remove_prefix(start);
  return line.substr(0, line.find_first_of(" \t\r"));
}

void read_key_list(const std::filesystem::path& path, std::vector<std::string>& keys) {
  const std::string text = read_config_file(path);
  std::istringstream lines(text);
  std::string line;
  uint32_t number = 0;
  while (std::getline(lines, line)) {
    ++number;
    const std::string_view word = first_word(line);
    if (word.empty()) continue;
    // '#' is a Z85 character, but the last one (84): a group starting with it exceeds 32 bits, so no
    // key starts with '#' and such a line is always a comment.
    if (word.front() == '#') continue;
    if (is_z85_key(word)) {
      keys.emplace_back(word);
      continue;
    }
    throw ConfigError(path.string(), number, static_cast<uint32_t>(line.find(word.front()) + 1), "", key_problem(word));
  }
}

int open_for_key(const std::string& name, mode_t mode, bool overwrite) {
  const int flags = O_WRONLY | O_CREAT | O_CLOEXEC | (overwrite ? O_TRUNC : O_EXCL);
  const int fd = ::open(name.c_str(), flags, mode);
  if (fd < 0) throw std::runtime_error("cannot write " + name + ": " + std::strerror(errno));
  // An overwritten file keeps its old mode: set it (a secret must not stay readable).
  if (overwrite && ::fchmod(fd, mode) != 0) {
    const int error = errno;
    ::close(fd);
    throw std::runtime_error("cannot set the mode of " + name + ": " + std::strerror(error));
  }
  return fd;
}

void write_file(const std::string& name, const std::string& text, mode_t mode, bool overwrite) {
  const int fd = open_for_key(name, mode, overwrite);
  size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const int error = errno;
      ::close(fd);
      throw std::runtime_error("cannot write " + name + ": " + std::strerror(error));
    }
    done += static_cast<size_t>(n);
  }
  if (::close(fd) != 0) throw std::runtime_error("cannot write " + name + ": " + std::strerror(errno));
}

}  // namespace

bool is_z85_key(std::string_view text) {
  if (text.size() != kKeyLength) return false;
  const std::string terminated(text);
  uint8_t decoded[32];
  return zmq_z85_decode(decoded, terminated.c_str()) != nullptr;
}

KeyPair read_key_pair(const std::filesystem::path& path) {
  const std::string name = path.string();
  const std::string text = read_config_file(path);
  check_private(path);
  toml::table root;
  try {
    root = toml::parse(text, name);
  } catch (const toml::parse_error& error) {
    const Position where = position_of(error.source());
    throw ConfigError(name, where.line, where.column, "", std::string(error.description()));
  }
  KeyPair keys;
  apply_schema(root,
               {{kKeyTable,
                 {KeyRule::text("public", &keys.public_key).required(), KeyRule::text("secret", &keys.secret_key).required()},
                 true}},
               name);
  for (auto [field, value] : {std::pair{"public", &keys.public_key}, std::pair{"secret", &keys.secret_key}}) {
    if (is_z85_key(*value)) continue;
    const std::string dotted = std::string(kKeyTable) + "." + field;
    const Position where = position_of(root.at_path(dotted).node()->source());
    // The secret's text is never shown, not even in part.
    throw ConfigError(name, where.line, where.column, dotted,
                      dotted + ": " + (value == &keys.secret_key ? "not a CURVE key (expected 40 Z85 characters)"
                                                                 : key_problem(*value)));
  }
  char derived[kKeyLength + 1] = {};
  if (zmq_curve_public(derived, keys.secret_key.c_str()) != 0)
    throw ConfigError(name, 0, 0, "", std::string("cannot check the key pair: ") + zmq_strerror(zmq_errno()));
  if (keys.public_key != derived) {
    const Position where = position_of(root.at_path("curve.public").node()->source());
    throw ConfigError(name, where.line, where.column, "curve.public",
                      "curve.public: does not belong to curve.secret (the public key of this secret is " +
                          std::string(derived) + ")");
  }
  return keys;
}

std::string read_public_key(const std::filesystem::path& path) {
  std::vector<std::string> keys;
  read_key_list(path, keys);
  if (keys.size() != 1)
    throw ConfigError(path.string(), 0, 0, "",
                      "expected exactly one public key, found " + std::to_string(keys.size()));
  return keys.front();
}

std::vector<std::string> read_public_keys(const std::filesystem::path& path) {
  std::vector<std::string> keys;
  std::error_code ec;
  if (!std::filesystem::is_directory(path, ec)) {
    read_key_list(path, keys);
    return keys;
  }
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(path, ec))
    if (entry.path().extension() == ".pub") files.push_back(entry.path());
  if (ec) throw ConfigError(path.string(), 0, 0, "", "cannot list the directory: " + ec.message());
  std::sort(files.begin(), files.end());
  for (const auto& file : files) read_key_list(file, keys);
  return keys;
}

void write_key_files(const std::string& prefix, const KeyPair& keys, bool overwrite) {
  const std::string key_file = prefix + ".key";
  const std::string pub_file = prefix + ".pub";
  if (!overwrite) {
    for (const std::string& name : {key_file, pub_file}) {
      std::error_code ec;
      if (std::filesystem::exists(name, ec) || std::filesystem::is_symlink(name, ec))
        throw std::runtime_error(name + " already exists (use --force to replace it)");
    }
  }
  write_file(key_file,
             "# PICE CURVE key pair, written by `pice keygen`. The secret is this node's identity: keep this\n"
             "# file private (mode 0600) and hand out only the .pub file.\n"
             "[curve]\n"
             "public = \"" + keys.public_key + "\"\n"
             "secret = \"" + keys.secret_key + "\"\n",
             0600, overwrite);
  write_file(pub_file, keys.public_key + "\n", 0644, overwrite);
}


std::string read_config_file(const std::filesystem::path& path) {
  const std::string name = path.string();
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) throw ConfigError(name, 0, 0, "", "cannot open: is a directory");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ConfigError(name, 0, 0, "", "cannot open: " + std::string(std::strerror(errno)));
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) throw ConfigError(name, 0, 0, "", "cannot read: " + std::string(std::strerror(errno)));
  return text.str();
}

}  // namespace pice::config
