#pragma once
// Helpers shared by the tokenizer tests: readable failure messages, tiny GGUF vocab files written on the
// spot, and llama.cpp's tokenizer vector files (.inp/.out).
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "kernels/gguf_writer.hpp"
#include "kernels/tokenizer.hpp"

namespace pice::kernels::tokenizer_testing {

// Control characters escaped, so a failing case is readable in the log.
inline std::string printable(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '\n') out += "\\n";
    else if (c == '\t') out += "\\t";
    else if (c == '\r') out += "\\r";
    else if (c == '"') out += "\\\"";
    else out += c;
  }
  return out + "\"";
}

inline std::string join(const std::vector<int32_t>& ids) {
  std::string out;
  for (int32_t id : ids) out += (out.empty() ? "" : " ") + std::to_string(id);
  return "[" + out + "]";
}

inline std::string read_all(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path.string());
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// A file removed when the test is done; the name holds the pid, so concurrent test runs never collide.
struct TempFile {
  std::filesystem::path path;
  ~TempFile() {
    std::error_code ignored;
    std::filesystem::remove(path, ignored);
  }
};

// Metadata-only GGUF files (no tensors) built fluently, enough to exercise Tokenizer::from_gguf.
class TinyGguf {
 public:
  TinyGguf& str(const std::string& key, const std::string& value) {
    w_.set_string(key, value);
    return *this;
  }
  TinyGguf& u32(const std::string& key, uint32_t value) {
    w_.set_u32(key, value);
    return *this;
  }
  TinyGguf& boolean(const std::string& key, bool value) {
    w_.set_bool(key, value);
    return *this;
  }
  TinyGguf& strings(const std::string& key, const std::vector<std::string>& values) {
    w_.set_string_array(key, values);
    return *this;
  }
  TinyGguf& floats(const std::string& key, const std::vector<float>& values) {
    w_.set_array<float>(key, values);
    return *this;
  }
  TinyGguf& i32s(const std::string& key, const std::vector<int32_t>& values) {
    w_.set_array<int32_t>(key, values);
    return *this;
  }
  TempFile write(const std::string& name) const {
    const auto path = std::filesystem::path(::testing::TempDir()) /
                      ("pice_tokenizer_" + name + "_" + std::to_string(::getpid()) + ".gguf");
    w_.write(path);
    return TempFile{path};
  }

 private:
  GgufWriter w_;
};

// A vocab the Tokenizer must refuse: `spoil` breaks a valid one, and the error must say `message`.
struct BrokenVocab {
  std::string name;
  std::function<void(Vocab&)> spoil;
  std::string message;   // part of the error text
};

// Each case spoils its own copy of `valid`; building a Tokenizer from it must throw that case's message.
inline void expect_refused(const Vocab& valid, const std::vector<BrokenVocab>& cases) {
  for (const BrokenVocab& c : cases) {
    Vocab v = valid;
    c.spoil(v);
    try {
      Tokenizer tok(std::move(v));
      ADD_FAILURE() << c.name << ": accepted";
    } catch (const TokenizerError& e) {
      EXPECT_NE(std::string(e.what()).find(c.message), std::string::npos) << c.name << ": " << e.what();
    }
  }
}

struct VectorCase {
  std::string text;
  std::vector<int32_t> ids;
};

// .inp: cases each followed by "\n__ggml_vocab_test__\n" (so a case's own trailing newlines are kept
// and an empty case is just the separator). .out: one line per case, ids separated by spaces.
inline std::vector<VectorCase> read_vectors(const std::filesystem::path& inp, const std::filesystem::path& out) {
  const std::string separator = "\n__ggml_vocab_test__\n";
  const std::string text = read_all(inp);
  std::vector<VectorCase> cases;
  for (size_t pos = 0;;) {
    const size_t next = text.find(separator, pos);
    if (next == std::string::npos) break;
    cases.push_back({text.substr(pos, next - pos), {}});
    pos = next + separator.size();
  }
  std::istringstream lines(read_all(out));
  std::string line;
  size_t index = 0;
  while (std::getline(lines, line)) {
    if (index >= cases.size()) {
      throw std::runtime_error(out.string() + " has more lines than " + inp.string() + " has cases");
    }
    std::istringstream ids(line);
    for (int32_t id; ids >> id;) cases[index].ids.push_back(id);
    ++index;
  }
  if (index != cases.size()) {
    throw std::runtime_error(out.string() + " has " + std::to_string(index) + " lines for " +
                             std::to_string(cases.size()) + " cases");
  }
  return cases;
}

}  // namespace pice::kernels::tokenizer_testing
