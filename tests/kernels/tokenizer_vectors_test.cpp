// llama.cpp's tokenizer vectors (shared/tokenizers/ggml-vocab-*.gguf.inp/.out, like its test-tokenizer-0):
// for every vocab, SPM and byte-level BPE alike, every case must encode (no BOS, specials not parsed) to
// the expected ids, and the ids must decode back to the text. Each vocab prints "N/N cases match".
#include <gtest/gtest.h>

#include <algorithm>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include "kernels/gguf_file.hpp"
#include "kernels/tokenizer.hpp"
#include "tests/common/shared_data.hpp"
#include "tests/kernels/tokenizer_test_util.hpp"

namespace {

using pice::kernels::GgufFile;
using pice::kernels::Tokenizer;
using pice::kernels::VocabKind;
using namespace pice::kernels::tokenizer_testing;

struct VocabCase {
  std::string name;
  VocabKind kind;
  std::string pre;   // tokenizer.ggml.pre for BPE vocabs
};

void PrintTo(const VocabCase& v, std::ostream* os) { *os << v.name; }

const std::vector<VocabCase> kVocabs = {
    {"llama-spm", VocabKind::spm, ""},
    {"phi-3", VocabKind::spm, ""},
    {"gpt-2", VocabKind::bpe, "gpt-2"},
    {"deepseek-coder", VocabKind::bpe, "deepseek-coder"},
    {"deepseek-llm", VocabKind::bpe, "deepseek-llm"},
    {"falcon", VocabKind::bpe, "falcon"},
    {"starcoder", VocabKind::bpe, "starcoder"},
    {"mpt", VocabKind::bpe, "mpt"},
    {"refact", VocabKind::bpe, "refact"},
};

class Vectors : public ::testing::TestWithParam<VocabCase> {};

TEST_P(Vectors, LoadsAsItsKind) {
  PICE_REQUIRE_SHARED(vocab_path, "tokenizers/ggml-vocab-" + GetParam().name + ".gguf");
  const Tokenizer tok = Tokenizer::from_gguf(GgufFile::open(vocab_path));
  EXPECT_EQ(tok.vocab().kind, GetParam().kind);
  if (GetParam().kind == VocabKind::bpe) {
    EXPECT_EQ(tok.vocab().pre, GetParam().pre);
    EXPECT_FALSE(tok.vocab().add_space_prefix);
    EXPECT_FALSE(tok.vocab().merges.empty());
  }
}

TEST_P(Vectors, EncodeMatchesLlamaCpp) {
  const std::string base = "tokenizers/ggml-vocab-" + GetParam().name + ".gguf";
  PICE_REQUIRE_SHARED(vocab_path, base);
  PICE_REQUIRE_SHARED(inp_path, base + ".inp");
  PICE_REQUIRE_SHARED(out_path, base + ".out");
  const Tokenizer tok = Tokenizer::from_gguf(GgufFile::open(vocab_path));
  const auto cases = read_vectors(inp_path, out_path);
  ASSERT_GE(cases.size(), 40u);
  size_t passed = 0;
  for (size_t i = 0; i < cases.size(); ++i) {
    const auto ids = tok.encode(cases[i].text, false);
    if (ids == cases[i].ids) {
      ++passed;
    } else {
      ADD_FAILURE() << GetParam().name << " case " << i << " " << printable(cases[i].text) << ": got " << join(ids)
                    << ", expected " << join(cases[i].ids);
    }
  }
  std::cout << "[ vectors  ] " << GetParam().name << ": " << passed << "/" << cases.size() << " cases match\n";
  RecordProperty("cases_passed", static_cast<int>(passed));
}

TEST_P(Vectors, DecodeRoundTrips) {
  const std::string base = "tokenizers/ggml-vocab-" + GetParam().name + ".gguf";
  PICE_REQUIRE_SHARED(vocab_path, base);
  PICE_REQUIRE_SHARED(inp_path, base + ".inp");
  PICE_REQUIRE_SHARED(out_path, base + ".out");
  const Tokenizer tok = Tokenizer::from_gguf(GgufFile::open(vocab_path));
  const auto cases = read_vectors(inp_path, out_path);
  for (size_t i = 0; i < cases.size(); ++i) {
    // Every byte of these (UTF-8) texts has a token, so every case survives the round trip, BOS or not.
    EXPECT_EQ(tok.decode(cases[i].ids), cases[i].text) << GetParam().name << " case " << i;
    const auto with_bos = tok.encode(cases[i].text, true);
    ASSERT_FALSE(with_bos.empty());
    EXPECT_EQ(with_bos.front(), tok.bos());
    EXPECT_EQ(tok.decode(with_bos), cases[i].text) << GetParam().name << " case " << i;
    // BPE has no space prefix, so text in mid-sequence gets the same tokens.
    if (GetParam().kind == VocabKind::bpe) {
      EXPECT_EQ(tok.encode_continuation(cases[i].text), cases[i].ids) << GetParam().name << " case " << i;
    }
  }
}

TEST_P(Vectors, ConcurrentEncodesAgree) {
  // Requests encode on many threads at once with one Tokenizer: no shared mutable state may leak between them.
  const std::string base = "tokenizers/ggml-vocab-" + GetParam().name + ".gguf";
  PICE_REQUIRE_SHARED(vocab_path, base);
  PICE_REQUIRE_SHARED(inp_path, base + ".inp");
  PICE_REQUIRE_SHARED(out_path, base + ".out");
  const Tokenizer tok = Tokenizer::from_gguf(GgufFile::open(vocab_path));
  const auto cases = read_vectors(inp_path, out_path);
  std::vector<int> mismatches(4, 0);
  std::vector<std::thread> threads;
  for (size_t t = 0; t < mismatches.size(); ++t) {
    threads.emplace_back([&, t] {
      for (int round = 0; round < 5; ++round) {
        for (size_t i = t; i < cases.size() + t; ++i) {   // each thread starts elsewhere
          const auto& c = cases[i % cases.size()];
          if (tok.encode(c.text, false) != c.ids) ++mismatches[t];
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(mismatches, std::vector<int>(mismatches.size(), 0));
}

INSTANTIATE_TEST_SUITE_P(Shared, Vectors, ::testing::ValuesIn(kVocabs), [](const auto& info) {
  std::string name = info.param.name;
  std::replace(name.begin(), name.end(), '-', '_');
  return name;
});

}  // namespace
