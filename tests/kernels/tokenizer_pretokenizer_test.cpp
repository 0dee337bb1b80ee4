// BPE pre-tokenizers: words of hand-made texts, worked out by hand from each published regex (Llama 3 and
// Qwen 2 have no vector files here), the cuts that tell the pre-tokenizers apart, malformed UTF-8, and the
// invariant that the words of any text add up to the text, for every known name.
#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include "kernels/bpe_pretokenizer.hpp"
#include "kernels/tokenizer.hpp"
#include "tests/kernels/tokenizer_test_util.hpp"

namespace {

using pice::kernels::PreTokenizer;
using pice::kernels::TokenizerError;
using pice::kernels::tokenizer_testing::printable;

struct SplitCase {
  std::string pre;
  std::string text;
  std::vector<std::string> words;
};

std::vector<std::string> split(const PreTokenizer& pre, const std::string& text) {
  std::vector<std::string> words;
  for (std::string_view word : pre.split(text)) words.emplace_back(word);
  return words;
}

const std::vector<SplitCase> kCases = {
    // Llama 3: a letter run takes one leading non-letter, numbers go by three, contractions ignore case,
    // newline runs stay together with the whitespace before them.
    {"llama3", "Hello world", {"Hello", " world"}},
    {"llama3", "I'm here, you're not", {"I", "'m", " here", ",", " you", "'re", " not"}},
    {"llama3", "DON'T STOP", {"DON", "'T", " STOP"}},
    {"llama3", "word's", {"word", "'s"}},
    {"llama3", "'hello", {"'hello"}},
    {"llama3", "(hello)", {"(hello", ")"}},
    {"llama3", "$100", {"$", "100"}},
    {"llama3", "1234567", {"123", "456", "7"}},
    {"llama3", "abc123def", {"abc", "123", "def"}},
    {"llama3", "3.14", {"3", ".", "14"}},
    {"llama3", "   end  ", {"  ", " end", "  "}},
    {"llama3", "  ", {"  "}},
    {"llama3", "hello\n\nworld", {"hello", "\n\n", "world"}},
    {"llama3", "a\r\nb", {"a", "\r\n", "b"}},
    {"llama3", "x  \n  y", {"x", "  \n", " ", " y"}},
    {"llama3", "foo!!\n bar", {"foo", "!!\n", " bar"}},
    {"llama3", "\xD0\x9F\xD1\x80\xD0\xB8\xD0\xB2\xD0\xB5\xD1\x82 \xD0\xBC\xD0\xB8\xD1\x80",   // Привет мир
     {"\xD0\x9F\xD1\x80\xD0\xB8\xD0\xB2\xD0\xB5\xD1\x82", " \xD0\xBC\xD0\xB8\xD1\x80"}},
    {"llama3", "\xE4\xBD\xA0\xE5\xA5\xBD\xE4\xB8\x96\xE7\x95\x8C", {"\xE4\xBD\xA0\xE5\xA5\xBD\xE4\xB8\x96\xE7\x95\x8C"}},
    {"llama3", "\xF0\x9F\xA6\x99\xF0\x9F\xA6\x99 ok", {"\xF0\x9F\xA6\x99\xF0\x9F\xA6\x99", " ok"}},   // 🦙🦙 ok
    // The other names of the same pre-tokenizer.
    {"llama-bpe", "1234567", {"123", "456", "7"}},
    {"dbrx", "DON'T", {"DON", "'T"}},

    // Qwen 2: Llama 3's rules, but every digit is a word.
    {"qwen2", "Hello world", {"Hello", " world"}},
    {"qwen2", "1234567", {"1", "2", "3", "4", "5", "6", "7"}},
    {"qwen2", "abc123def", {"abc", "1", "2", "3", "def"}},
    {"qwen2", "v2.0", {"v", "2", ".", "0"}},
    {"qwen2", "I'M here", {"I", "'M", " here"}},
    {"qwen2", "x  \n  y", {"x", "  \n", " ", " y"}},
    {"qwen2", "(hello)", {"(hello", ")"}},

    // GPT-2: lower-case contractions only, one optional space before any run, whole numbers.
    {"gpt-2", "Hello world", {"Hello", " world"}},
    {"gpt-2", "I'M", {"I", "'", "M"}},
    {"gpt-2", "I'm", {"I", "'m"}},
    {"gpt-2", "   Hello", {"  ", " Hello"}},
    {"gpt-2", "1234567", {"1234567"}},
    {"gpt-2", "(hello)", {"(", "hello", ")"}},
    {"gpt-2", "hello\n\nworld", {"hello", "\n", "\n", "world"}},

    // The sequences of several expressions.
    {"falcon", "12345", {"123", "45"}},
    {"falcon", "a+=b", {"a", "+=", "b"}},
    {"starcoder", "x 42", {"x", " ", "4", "2"}},
    {"deepseek-coder", "x=10", {"x", "=", "1", "0"}},
    {"deepseek-llm", "hello   world", {"hello", "  ", " world"}},
    {"deepseek-llm", "abc123", {"abc", "123"}},
    {"deepseek-llm", "\xE6\x88\x91\xE6\x83\xB3" "apple\xE5\xB7\xA5\xE4\xBD\x9C",   // 我想apple工作
     {"\xE6\x88\x91\xE6\x83\xB3", "apple", "\xE5\xB7\xA5\xE4\xBD\x9C"}},
    {"bloom", "Hello, world!", {"Hello", ",", " world", "!"}},

    // Malformed UTF-8 is matched as U+FFFD (a symbol, not a letter) but keeps its bytes.
    {"gpt-2", "a\xFF" "b", {"a", "\xFF", "b"}},
    {"llama3", "ab\x80\x80 cd", {"ab", "\x80\x80", " cd"}},
    {"qwen2", "\xE2\x96", {"\xE2\x96"}},
};

TEST(PreTokenizer, SplitsHandMadeCases) {
  for (const SplitCase& c : kCases) {
    const PreTokenizer pre(c.pre);
    EXPECT_EQ(split(pre, c.text), c.words) << c.pre << " on " << printable(c.text);
  }
}

TEST(PreTokenizer, EmptyTextHasNoWords) {
  for (const std::string& name : PreTokenizer::known_names()) EXPECT_TRUE(PreTokenizer(name).split("").empty()) << name;
}

TEST(PreTokenizer, WordsAddUpToTheTextForEveryName) {
  const std::vector<std::string> alphabet = {"a", "Z", "7", " ", "  ", "\n", "\r\n", "\t", "!", "'s", "'T", "\xC3\xA9",
                                             "\xE4\xB8\xAD", "\xF0\x9F\xA6\x99", "\xFF", "\x80", "$", "\xE3\x80\x80"};
  std::mt19937 rng(7);
  for (const std::string& name : PreTokenizer::known_names()) {
    const PreTokenizer pre(name);
    for (int round = 0; round < 60; ++round) {
      std::string text;
      const int n = std::uniform_int_distribution<int>(1, 30)(rng);
      for (int i = 0; i < n; ++i) text += alphabet[std::uniform_int_distribution<size_t>(0, alphabet.size() - 1)(rng)];
      std::string joined;
      for (std::string_view word : pre.split(text)) {
        EXPECT_FALSE(word.empty()) << name << " on " << printable(text);
        joined += word;
      }
      ASSERT_EQ(joined, text) << name;
    }
  }
}

TEST(PreTokenizer, KnowsTheNamesOfTheSharedVocabsAndTheCommonFamilies) {
  const std::vector<std::string> names = PreTokenizer::known_names();
  for (const char* name : {"default", "gpt-2", "deepseek-coder", "deepseek-llm", "falcon", "starcoder", "mpt",
                           "refact", "llama3", "llama-bpe", "qwen2", "smollm", "tekken"}) {
    EXPECT_TRUE(std::binary_search(names.begin(), names.end(), name)) << name;
  }
  EXPECT_TRUE(PreTokenizer("llama-bpe").ignore_merges());
  EXPECT_TRUE(PreTokenizer("llama-bpe").adds_bos());
  EXPECT_FALSE(PreTokenizer("qwen2").ignore_merges());
  EXPECT_FALSE(PreTokenizer("gpt-2").adds_bos());
}

TEST(PreTokenizer, UnknownNameThrowsListingTheKnownOnes) {
  try {
    PreTokenizer pre("nonesuch");
    FAIL() << "accepted";
  } catch (const TokenizerError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("unknown BPE pre-tokenizer 'nonesuch' (tokenizer.ggml.pre)"), std::string::npos) << what;
    EXPECT_NE(what.find("llama3"), std::string::npos) << what;
    EXPECT_NE(what.find("qwen2"), std::string::npos) << what;
    EXPECT_NE(what.find("deepseek-coder"), std::string::npos) << what;
  }
  EXPECT_THROW(PreTokenizer(""), TokenizerError);
}

}  // namespace
