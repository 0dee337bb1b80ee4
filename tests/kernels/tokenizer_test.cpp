// SPM tokenizer tests (byte-level BPE: tokenizer_bpe_test.cpp; llama.cpp's vectors for every vocab:
// tokenizer_vectors_test.cpp).
//  - Hand-built vocabs (no files): merge order by score, ties, byte and unknown fallback, decoding,
//    vocab validation, and a randomised comparison against a naive reference merger.
//  - Tiny GGUF files written here: from_gguf's metadata handling and errors.
//  - Real files in shared/: baichuan's vocab and the stories260K reference run.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "kernels/gguf_file.hpp"
#include "kernels/tokenizer.hpp"
#include "tests/common/shared_data.hpp"
#include "tests/kernels/tokenizer_test_util.hpp"

namespace {

using namespace pice::kernels::tokenizer_testing;

using pice::kernels::GgufFile;
using pice::kernels::Tokenizer;
using pice::kernels::TokenizerError;
using pice::kernels::TokenType;
using pice::kernels::Vocab;

const std::string kSpace = "\xE2\x96\x81";   // '▁'

// ---------------------------------------------------------------------------------------------
// Helpers

struct PieceSpec {
  std::string piece;
  float score = 0;
  TokenType type = TokenType::normal;
};

// <unk> <s> </s>, then (optionally) the 256 byte tokens <0x00>..<0xFF>, then `pieces`; like llama's layout.
Vocab make_vocab(const std::vector<PieceSpec>& pieces, bool with_bytes = true, bool add_space_prefix = true) {
  Vocab v;
  const auto add = [&v](std::string piece, float score, TokenType type) {
    v.pieces.push_back(std::move(piece));
    v.scores.push_back(score);
    v.types.push_back(type);
  };
  add("<unk>", 0, TokenType::unknown);
  add("<s>", 0, TokenType::control);
  add("</s>", 0, TokenType::control);
  v.unk = 0;
  v.bos = 1;
  v.eos = 2;
  if (with_bytes) {
    for (int b = 0; b < 256; ++b) {
      char name[8];
      std::snprintf(name, sizeof name, "<0x%02X>", b);
      add(name, 0, TokenType::byte);
    }
  }
  for (const auto& p : pieces) add(p.piece, p.score, p.type);
  v.add_space_prefix = add_space_prefix;
  return v;
}

// Spaces as '▁', so expectations read like the vocab.
std::string sp(std::string s) {
  std::string out;
  for (char c : s) out += c == '_' ? kSpace : std::string(1, c);
  return out;
}

std::vector<std::string> pieces_of(const Tokenizer& tok, const std::vector<int32_t>& ids) {
  std::vector<std::string> out;
  for (int32_t id : ids) out.push_back(tok.vocab().pieces.at(static_cast<size_t>(id)));
  return out;
}

// ---------------------------------------------------------------------------------------------
// Merging on hand-built vocabs

struct MergeCase {
  std::string name;
  std::vector<PieceSpec> pieces;
  std::string text;
  bool add_space_prefix;
  std::vector<std::string> expected;   // pieces, with '_' for '▁'
};

const std::vector<PieceSpec> kAbc = {{"a", -10}, {"b", -10}, {"c", -10}};

std::vector<PieceSpec> with(std::vector<PieceSpec> base, const std::vector<PieceSpec>& more) {
  base.insert(base.end(), more.begin(), more.end());
  return base;
}

std::vector<MergeCase> merge_cases() {
  return {
      {"higher score merges first (right pair)", with(kAbc, {{"ab", -2}, {"bc", -1}}), "abc", false, {"a", "bc"}},
      {"higher score merges first (left pair)", with(kAbc, {{"ab", -1}, {"bc", -2}}), "abc", false, {"ab", "c"}},
      {"equal scores: leftmost pair wins", with(kAbc, {{"ab", -1}, {"bc", -1}}), "abc", false, {"ab", "c"}},
      {"overlapping equal pairs: leftmost", {{"a", -10}, {"aa", -1}}, "aaa", false, {"aa", "a"}},
      {"merged pairs merge again", {{"a", -10}, {"aa", -1}, {"aaaa", -2}}, "aaaaa", false, {"aaaa", "a"}},
      {"chain of merges to a whole word",
       {{"_", -9}, {"h", -9}, {"e", -9}, {"l", -9}, {"o", -9}, {"el", -1}, {"ell", -2}, {"ello", -3},
        {"hello", -4}, {"_h", -5}, {"_hello", -0.5}},
       "hello", true, {"_hello"}},
      {"a merge needs its intermediate pieces", with(kAbc, {{"abc", -1}}), "abc", false, {"a", "b", "c"}},
      {"space prefix and spaces become _", with(kAbc, {{"_", -9}, {"_a", -1}, {"_b", -1}}), "a b", true, {"_a", "_b"}},
      {"no space prefix", with(kAbc, {{"_", -9}, {"_a", -1}, {"_b", -1}}), "a b", false, {"a", "_b"}},
      {"leading space gives a double _", with(kAbc, {{"_", -9}, {"__", -2}, {"_a", -1}}), " a", true, {"_", "_a"}},
      {"control pieces are never produced", {{"<", -9}, {"s", -9}, {">", -9}, {"<s", -1}}, "<s>", false, {"<s", ">"}},
      {"user-defined pieces are text",
       {{"<", -9}, {"|", -9}, {">", -9}, {"<|", -1}, {"<|>", -1, TokenType::user_defined}},
       "<|>", false, {"<|>"}},
      {"multi-byte characters are one symbol", {{"\xC3\xA9", -9}, {"t", -9}, {"\xC3\xA9t", -1}}, "\xC3\xA9t\xC3\xA9",
       false, {"\xC3\xA9t", "\xC3\xA9"}},
  };
}

TEST(TokenizerMerge, MergesByScoreTable) {
  for (const MergeCase& c : merge_cases()) {
    std::vector<PieceSpec> pieces = c.pieces;
    for (auto& p : pieces) p.piece = sp(p.piece);
    const Tokenizer tok(make_vocab(pieces, true, c.add_space_prefix));
    std::vector<std::string> expected;
    for (const auto& e : c.expected) expected.push_back(sp(e));
    const auto ids = tok.encode(c.text, false);
    EXPECT_EQ(pieces_of(tok, ids), expected) << "case: " << c.name << ", text " << printable(c.text);
    EXPECT_EQ(tok.decode(ids), c.text) << "case: " << c.name;
  }
}

TEST(TokenizerMerge, ByteFallbackForUnknownCharacters) {
  const Tokenizer tok(make_vocab({{"a", -1}}, true, false));
  // 'é' (C3 A9) and '🚀' (F0 9F 9A 80) are not pieces: one byte token per byte.
  const auto ids = tok.encode("a\xC3\xA9" "a\xF0\x9F\x9A\x80", false);
  EXPECT_EQ(pieces_of(tok, ids),
            (std::vector<std::string>{"a", "<0xC3>", "<0xA9>", "a", "<0xF0>", "<0x9F>", "<0x9A>", "<0x80>"}));
  EXPECT_EQ(tok.decode(ids), "a\xC3\xA9" "a\xF0\x9F\x9A\x80");
  EXPECT_EQ(tok.piece(ids[1]), "\xC3");
}

TEST(TokenizerMerge, TypedByteAndSpecialTextStaysText) {
  // "<0x41>" typed by a user must not become the byte token for 'A', nor "<s>" the BOS token.
  const Tokenizer tok(make_vocab({}, true, false));
  for (const std::string text : {"<0x41>", "<s>", "</s>", "<unk>"}) {
    const auto ids = tok.encode(text, false);
    EXPECT_EQ(ids.size(), text.size()) << text;   // every character fell back to its byte
    EXPECT_EQ(tok.decode(ids), text);
  }
}

TEST(TokenizerMerge, InvalidUtf8FallsBackToBytes) {
  const Tokenizer tok(make_vocab({{"a", -1}}, true, false));
  // A stray continuation byte is a symbol of its own; a truncated sequence ends at the end of the text.
  std::string text = "a\x80" "a\xE2\x96";
  auto ids = tok.encode(text, false);
  EXPECT_EQ(pieces_of(tok, ids), (std::vector<std::string>{"a", "<0x80>", "a", "<0xE2>", "<0x96>"}));
  EXPECT_EQ(tok.decode(ids), text);
  // As in llama.cpp, a lead byte claims the length it announces (0xFF: four bytes), swallowing the 'a'.
  text = "\xFF" "a\x80\xE2" "a";
  ids = tok.encode(text, false);
  EXPECT_EQ(pieces_of(tok, ids), (std::vector<std::string>{"<0xFF>", "<0x61>", "<0x80>", "<0xE2>", "a"}));
  EXPECT_EQ(tok.decode(ids), text);
}

TEST(TokenizerMerge, UnknownTokenWithoutByteTokens) {
  const Tokenizer tok(make_vocab({{"a", -1}}, false, false));
  // One unknown token per character that is not a piece, whatever its byte length.
  EXPECT_EQ(pieces_of(tok, tok.encode("a\xC3\xA9" "a\xF0\x9F\x9A\x80", false)),
            (std::vector<std::string>{"a", "<unk>", "a", "<unk>"}));
  EXPECT_EQ(tok.piece(tok.vocab().unk), "");
}

TEST(TokenizerMerge, NoByteTokensAndNoUnknownThrows) {
  Vocab v = make_vocab({{"a", -1}}, false, false);
  v.unk = -1;
  const Tokenizer tok(std::move(v));
  EXPECT_EQ(tok.encode("aa", false).size(), 2u);
  try {
    tok.encode("a\xC3\xA9", false);
    FAIL() << "expected TokenizerError";
  } catch (const TokenizerError& e) {
    EXPECT_NE(std::string(e.what()).find("0xC3 0xA9"), std::string::npos) << e.what();
  }
}

TEST(TokenizerMerge, EmptyText) {
  const Tokenizer tok(make_vocab({{sp("_"), -1}}));
  EXPECT_TRUE(tok.encode("", false).empty());   // no space prefix for empty text
  EXPECT_EQ(tok.encode("", true), (std::vector<int32_t>{tok.bos()}));
  EXPECT_EQ(tok.decode({}), "");
}

TEST(TokenizerMerge, BosIsPrependedOnlyWhenAsked) {
  const Tokenizer tok(make_vocab({{sp("_"), -9}, {"a", -9}, {sp("_a"), -1}}));
  EXPECT_EQ(pieces_of(tok, tok.encode("a", true)), (std::vector<std::string>{"<s>", sp("_a")}));
  EXPECT_EQ(pieces_of(tok, tok.encode("a", false)), (std::vector<std::string>{sp("_a")}));
  Vocab no_bos = make_vocab({{"a", -1}});
  no_bos.bos = -1;
  const Tokenizer without(std::move(no_bos));
  EXPECT_EQ(without.encode("a", true), without.encode("a", false));
}

TEST(TokenizerMerge, ContinuationHasNoSpacePrefixAndNoBos) {
  const Tokenizer tok(make_vocab({{sp("_"), -9}, {"3", -5}, {sp("_3"), -1}, {".", -5}, {"a", -9}, {sp("_a"), -1}}));
  // At the start of a text the prefix turns "3." into "▁3" "."; mid-sequence it must stay "3" ".".
  EXPECT_EQ(pieces_of(tok, tok.encode("3.", false)), (std::vector<std::string>{sp("_3"), "."}));
  EXPECT_EQ(pieces_of(tok, tok.encode_continuation("3.")), (std::vector<std::string>{"3", "."}));
  EXPECT_EQ(pieces_of(tok, tok.encode_continuation("\n3. a")),
            (std::vector<std::string>{"<0x0A>", "3", ".", sp("_a")}));
  EXPECT_TRUE(tok.encode_continuation("").empty());
}

// ---------------------------------------------------------------------------------------------
// Decoding

TEST(TokenizerDecode, PiecesAndLeadingSpace) {
  const Tokenizer tok(make_vocab({{sp("_"), -9},
                                  {sp("_hi"), -1},
                                  {sp("a_b"), -1},
                                  {sp("<|u|>"), -1, TokenType::user_defined},
                                  {"<pad>", 0, TokenType::unused}}));
  const int32_t hi = *tok.find(sp("_hi"));
  const int32_t ab = *tok.find(sp("a_b"));
  const int32_t user = *tok.find(sp("<|u|>"));
  const int32_t pad = *tok.find("<pad>");
  const int32_t newline = *tok.find("<0x0A>");
  EXPECT_EQ(tok.piece(hi), " hi");
  EXPECT_EQ(tok.piece(ab), "a b");
  EXPECT_EQ(tok.piece(user), sp("<|u|>"));   // verbatim, as llama.cpp
  EXPECT_EQ(tok.piece(pad), "");
  EXPECT_EQ(tok.piece(tok.bos()), "");
  EXPECT_EQ(tok.piece(tok.eos()), "");
  EXPECT_EQ(tok.piece(newline), "\n");

  // Only the first text's leading space goes, even after BOS and with more spaces behind it.
  const std::vector<int32_t> ids = {tok.bos(), hi, hi, newline, tok.eos()};
  EXPECT_EQ(tok.decode(ids), "hi hi\n");
  const int32_t space = *tok.find(sp("_"));
  EXPECT_EQ(tok.decode(std::vector<int32_t>{space, space, hi}), "  hi");
  EXPECT_EQ(tok.decode(std::vector<int32_t>{newline, hi}), "\n hi");
}

TEST(TokenizerDecode, NoSpaceStrippingWithoutPrefix) {
  const Tokenizer tok(make_vocab({{sp("_hi"), -1}}, true, false));
  EXPECT_EQ(tok.decode(std::vector<int32_t>{*tok.find(sp("_hi"))}), " hi");
}

TEST(TokenizerDecode, IdOutOfRangeThrows) {
  const Tokenizer tok(make_vocab({}));
  const auto n = static_cast<int32_t>(tok.size());
  EXPECT_THROW(tok.piece(n), TokenizerError);
  EXPECT_THROW(tok.piece(-1), TokenizerError);
  EXPECT_THROW(tok.decode(std::vector<int32_t>{1, n}), TokenizerError);
}

TEST(TokenizerDecode, FindIsExact) {
  const Tokenizer tok(make_vocab({{"ab", -1}}));
  EXPECT_EQ(tok.find("ab"), static_cast<int32_t>(tok.size()) - 1);
  EXPECT_EQ(tok.find("<s>"), 1);
  EXPECT_FALSE(tok.find("a").has_value());
  EXPECT_FALSE(tok.find("").has_value());
}

// ---------------------------------------------------------------------------------------------
// Vocab validation

TEST(TokenizerVocab, RejectsBrokenVocabs) {
  expect_refused(make_vocab({{"a", -1}}), {
      {"empty", [](Vocab& v) { v = Vocab{}; }, "no tokens"},
      {"scores size", [](Vocab& v) { v.scores.pop_back(); }, "scores for"},
      {"types size", [](Vocab& v) { v.types.push_back(TokenType::normal); }, "token types for"},
      {"NaN score", [](Vocab& v) { v.scores[5] = std::nanf(""); }, "NaN"},
      {"bad type", [](Vocab& v) { v.types[4] = static_cast<TokenType>(9); }, "unknown token type 9"},
      {"bad byte piece", [](Vocab& v) { v.pieces[3] = "<0xZZ>"; }, "<0xNN>"},
      {"BOS out of range", [](Vocab& v) { v.bos = static_cast<int32_t>(v.pieces.size()); }, "BOS token id"},
      {"EOS negative", [](Vocab& v) { v.eos = -2; }, "EOS token id -2"},
      {"unk out of range", [](Vocab& v) { v.unk = 100000; }, "unknown token id 100000"},
      {"merges in SPM", [](Vocab& v) { v.merges = {"a b"}; }, "1 merges given for an SPM vocab"},
  });
}

TEST(TokenizerVocab, OptionalArraysDefault) {
  Vocab v;
  v.pieces = {"a", "b", "ab"};
  v.add_space_prefix = false;
  const Tokenizer tok(std::move(v));
  EXPECT_EQ(tok.vocab().scores, (std::vector<float>{0, 0, 0}));
  EXPECT_EQ(tok.vocab().types.size(), 3u);
  EXPECT_EQ(tok.encode("ab", false), (std::vector<int32_t>{2}));
}

// ---------------------------------------------------------------------------------------------
// Randomised comparison with a naive merger: scan all adjacent pairs, merge the best (first on ties).

std::vector<int32_t> reference_encode(const Tokenizer& tok, const std::string& text) {
  const Vocab& v = tok.vocab();
  std::string escaped = v.add_space_prefix && !text.empty() ? kSpace : "";
  for (char c : text) escaped += c == ' ' ? kSpace : std::string(1, c);
  std::vector<std::string> symbols;
  for (size_t i = 0; i < escaped.size();) {
    const auto lead = static_cast<unsigned char>(escaped[i]);
    const size_t n = std::min(escaped.size() - i, size_t{lead < 0xC0 ? 1u : lead < 0xE0 ? 2u : lead < 0xF0 ? 3u : 4u});
    symbols.push_back(escaped.substr(i, n));
    i += n;
  }
  const auto text_id = [&](const std::string& s) -> int32_t {
    const auto id = tok.find(s);
    if (!id) return -1;
    const TokenType t = v.types[static_cast<size_t>(*id)];
    return t == TokenType::normal || t == TokenType::user_defined ? *id : -1;
  };
  for (;;) {
    int best = -1;
    float best_score = 0;
    for (size_t i = 0; i + 1 < symbols.size(); ++i) {
      const int32_t id = text_id(symbols[i] + symbols[i + 1]);
      if (id >= 0 && (best < 0 || v.scores[static_cast<size_t>(id)] > best_score)) {
        best = static_cast<int>(i);
        best_score = v.scores[static_cast<size_t>(id)];
      }
    }
    if (best < 0) break;
    symbols[static_cast<size_t>(best)] += symbols[static_cast<size_t>(best) + 1];
    symbols.erase(symbols.begin() + best + 1);
  }
  std::vector<int32_t> ids;
  for (const auto& s : symbols) {
    if (const int32_t id = text_id(s); id >= 0) {
      ids.push_back(id);
    } else {
      for (char c : s) {
        char name[8];
        std::snprintf(name, sizeof name, "<0x%02X>", static_cast<unsigned char>(c));
        ids.push_back(*tok.find(name));
      }
    }
  }
  return ids;
}

TEST(TokenizerMerge, MatchesNaiveReferenceOnRandomVocabs) {
  std::mt19937 rng(20240601);
  const std::vector<std::string> alphabet = {"a", "b", "c", " ", "\xC3\xA9"};
  const auto random_string = [&](size_t max_chars) {
    std::string s;
    const size_t n = std::uniform_int_distribution<size_t>(0, max_chars)(rng);
    for (size_t i = 0; i < n; ++i) s += alphabet[std::uniform_int_distribution<size_t>(0, alphabet.size() - 1)(rng)];
    return s;
  };
  for (int round = 0; round < 40; ++round) {
    // Real SPM vocabs have '▁' (without it a space falls back to the bytes of '▁', which decode as '▁').
    std::vector<PieceSpec> pieces = {{kSpace, -5}};
    std::set<std::string> seen = {kSpace};
    for (int i = 0; i < 30; ++i) {
      std::string p = random_string(4);
      std::replace(p.begin(), p.end(), ' ', '_');
      p = sp(p);
      if (p.empty() || !seen.insert(p).second) continue;
      // Few distinct scores, so ties are common.
      pieces.push_back({p, -static_cast<float>(std::uniform_int_distribution<int>(1, 4)(rng))});
    }
    const Tokenizer tok(make_vocab(pieces, true, round % 2 == 0));
    for (int t = 0; t < 50; ++t) {
      const std::string text = random_string(24);
      const auto ids = tok.encode(text, false);
      ASSERT_EQ(ids, reference_encode(tok, text)) << "round " << round << " text " << printable(text);
      ASSERT_EQ(tok.decode(ids), text);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// from_gguf on tiny files written here

TinyGguf tiny_spm(const std::vector<int32_t>& types = {2, 3, 3, 1, 1, 1, 1, 1, 1}) {
  return TinyGguf()
      .str("tokenizer.ggml.model", "llama")
      .strings("tokenizer.ggml.tokens", {"<unk>", "<s>", "</s>", kSpace, "h", "i", kSpace + "h", "hi", kSpace + "hi"})
      .floats("tokenizer.ggml.scores", {0, 0, 0, -9, -9, -9, -3, -2, -1})
      .i32s("tokenizer.ggml.token_type", types);
}

TEST(TokenizerGguf, ReadsVocabAndDefaults) {
  const TempFile file = tiny_spm().write("defaults");
  const Tokenizer tok = Tokenizer::from_gguf(GgufFile::open(file.path));
  EXPECT_EQ(tok.size(), 9u);
  EXPECT_EQ(tok.bos(), 1);   // llama.cpp's SPM defaults: unk 0, bos 1, eos 2
  EXPECT_EQ(tok.eos(), 2);
  EXPECT_EQ(tok.vocab().unk, 0);
  EXPECT_TRUE(tok.vocab().add_bos);
  EXPECT_TRUE(tok.vocab().add_space_prefix);
  EXPECT_EQ(tok.vocab().types[0], TokenType::unknown);
  // "hi" merges first (-2 beats -3), then "▁hi" (-1).
  EXPECT_EQ(tok.encode("hi", true), (std::vector<int32_t>{1, 8}));
  EXPECT_EQ(tok.encode("hih", false), (std::vector<int32_t>{8, 4}));
}

TEST(TokenizerGguf, ReadsExplicitKeys) {
  const TempFile file = tiny_spm()
                            .u32("tokenizer.ggml.bos_token_id", 2)
                            .u32("tokenizer.ggml.eos_token_id", 1)
                            .u32("tokenizer.ggml.unknown_token_id", 0)
                            .boolean("tokenizer.ggml.add_bos_token", false)
                            .boolean("tokenizer.ggml.add_space_prefix", false)
                            .write("explicit");
  const Tokenizer tok = Tokenizer::from_gguf(GgufFile::open(file.path));
  EXPECT_EQ(tok.bos(), 2);
  EXPECT_EQ(tok.eos(), 1);
  EXPECT_FALSE(tok.vocab().add_bos);
  EXPECT_FALSE(tok.vocab().add_space_prefix);
  EXPECT_EQ(tok.encode("hi", false), (std::vector<int32_t>{7}));
}

TEST(TokenizerGguf, OptionalScoresAndTypes) {
  const TempFile file =
      TinyGguf().str("tokenizer.ggml.model", "llama").strings("tokenizer.ggml.tokens", {"a", "b"}).write("bare");
  const Tokenizer tok = Tokenizer::from_gguf(GgufFile::open(file.path));
  EXPECT_EQ(tok.bos(), 1);
  EXPECT_EQ(tok.eos(), -1);   // default id 2 does not exist in a two-token vocab
  EXPECT_EQ(tok.vocab().types, (std::vector<TokenType>{TokenType::normal, TokenType::normal}));
}

TEST(TokenizerGguf, RejectsBadMetadata) {
  struct Bad {
    std::string name;
    TinyGguf file;
    std::string message;
  };
  const std::vector<Bad> cases = {
      {"no model", TinyGguf().strings("tokenizer.ggml.tokens", {"a"}), "tokenizer.ggml.model missing"},
      {"t5", TinyGguf().str("tokenizer.ggml.model", "t5"), "Unigram (T5) (tokenizer.ggml.model = t5) is not supported"},
      {"bert", TinyGguf().str("tokenizer.ggml.model", "bert"), "WordPiece (tokenizer.ggml.model = bert)"},
      {"bad type", tiny_spm({1, 1, 1, 1, 1, 1, 1, 1, 7}), "tokenizer.ggml.token_type[8] = 7 is not a token type"},
      {"bos out of range", tiny_spm().u32("tokenizer.ggml.bos_token_id", 9), "tokenizer.ggml.bos_token_id = 9"},
      {"scores size", TinyGguf().str("tokenizer.ggml.model", "llama").strings("tokenizer.ggml.tokens", {"a", "b"})
                          .floats("tokenizer.ggml.scores", {1}), "1 scores for 2 tokens"},
  };
  for (const Bad& c : cases) {
    const TempFile file = c.file.write("bad");
    try {
      const GgufFile gguf = GgufFile::open(file.path);
      Tokenizer::from_gguf(gguf);
      ADD_FAILURE() << c.name << ": accepted";
    } catch (const TokenizerError& e) {
      EXPECT_NE(std::string(e.what()).find(c.message), std::string::npos) << c.name << ": " << e.what();
      EXPECT_NE(std::string(e.what()).find(file.path.string()), std::string::npos) << c.name << ": " << e.what();
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Real vocabs in shared/ (their vectors: tokenizer_vectors_test.cpp)

TEST(TokenizerShared, BaichuanLoadsAndRoundTrips) {
  PICE_REQUIRE_SHARED(path, "tokenizers/ggml-vocab-baichuan.gguf");
  const Tokenizer tok = Tokenizer::from_gguf(GgufFile::open(path));
  EXPECT_GT(tok.size(), 60000u);
  const std::vector<std::string> texts = {
      "Hello world",
      "  two leading spaces and a trailing one ",
      "\xE4\xB8\xAD\xE6\x96\x87\xE5\x88\x86\xE8\xAF\x8D\xE6\xB5\x8B\xE8\xAF\x95",   // 中文分词测试
      "emoji \xF0\x9F\x9A\x80 and \xC3\xBC" "mlaut",
      "tabs\tand\nnew lines\n\n",
      "",
  };
  for (const auto& text : texts) {
    const auto ids = tok.encode(text, false);
    EXPECT_EQ(tok.decode(ids), text) << printable(text) << " -> " << join(ids);
  }
  // A vocab built for Chinese holds whole words: far fewer tokens than the 18 UTF-8 bytes.
  EXPECT_LE(tok.encode(texts[2], false).size(), 6u);
}

TEST(TokenizerShared, Stories260kDecodesTheReferenceRun) {
  PICE_REQUIRE_SHARED(model, "models/stories260K.gguf");
  PICE_REQUIRE_SHARED(ids_path, "models/stories260K.greedy200.ids.txt");
  PICE_REQUIRE_SHARED(text_path, "models/stories260K.greedy200.txt");
  const Tokenizer tok = Tokenizer::from_gguf(GgufFile::open(model));
  EXPECT_EQ(tok.size(), 512u);
  EXPECT_EQ(tok.bos(), 1);
  std::vector<int32_t> ids;
  std::istringstream in(read_all(ids_path));
  for (int32_t id; in >> id;) ids.push_back(id);
  ASSERT_EQ(ids.size(), 200u);
  const std::string text = read_all(text_path);
  EXPECT_EQ(tok.decode(ids), text);
  const auto again = tok.encode(text, true);
  EXPECT_EQ(tok.decode(again), text);
}

}  // namespace
