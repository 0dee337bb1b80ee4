// Byte-level BPE tests (llama.cpp's vectors for the real vocabs: tokenizer_vectors_test.cpp).
//  - GPT-2's byte alphabet.
//  - Hand-built vocabs: merge order by rank, ties, words, ignore_merges, added (user-defined) tokens,
//    special tokens staying text, decoding, malformed UTF-8, and a randomised comparison against a naive
//    merger.
//  - Vocab validation and from_gguf on tiny files written here.
#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "kernels/bpe_pretokenizer.hpp"
#include "kernels/byte_level.hpp"
#include "kernels/gguf_file.hpp"
#include "kernels/tokenizer.hpp"
#include "tests/kernels/tokenizer_test_util.hpp"

namespace {

using pice::kernels::GgufFile;
using pice::kernels::PreTokenizer;
using pice::kernels::Tokenizer;
using pice::kernels::TokenizerError;
using pice::kernels::TokenType;
using pice::kernels::Vocab;
using pice::kernels::VocabKind;
using namespace pice::kernels::tokenizer_testing;
namespace byte_level = pice::kernels::byte_level;

// Raw text in the byte-level alphabet, so vocabs and expectations read as in a tokenizer.json.
std::string bl(std::string_view raw) {
  std::string out;
  byte_level::append_encoded(raw, out);
  return out;
}

// GPT-2's layout: the 256 alphabet characters (id = byte value), then `pieces` (raw text, written here in
// the alphabet), then "<|endoftext|>" as BOS and EOS.
using Merges = std::vector<std::pair<std::string, std::string>>;   // raw (left, right), best first

Vocab make_bpe_vocab(const std::vector<std::string>& raw_pieces, const Merges& merges, const std::string& pre = "gpt-2") {
  Vocab v;
  v.kind = VocabKind::bpe;
  v.pre = pre;
  v.add_space_prefix = false;
  v.add_bos = false;
  for (int b = 0; b < 256; ++b) v.pieces.emplace_back(byte_level::char_of(static_cast<unsigned char>(b)));
  for (const auto& p : raw_pieces) v.pieces.push_back(bl(p));
  for (const auto& [left, right] : merges) v.merges.push_back(bl(left) + " " + bl(right));
  v.pieces.push_back("<|endoftext|>");
  v.types.assign(v.pieces.size(), TokenType::normal);
  v.types.back() = TokenType::control;
  v.bos = v.eos = static_cast<int32_t>(v.pieces.size()) - 1;
  return v;
}

// Each token as the raw text it stands for.
std::vector<std::string> pieces_of(const Tokenizer& tok, const std::vector<int32_t>& ids) {
  std::vector<std::string> out;
  for (int32_t id : ids) out.push_back(tok.piece(id));
  return out;
}

// ---------------------------------------------------------------------------------------------
// The byte alphabet

TEST(ByteLevel, AlphabetIsGpt2s) {
  EXPECT_EQ(byte_level::char_of(' '), "\xC4\xA0");    // 'Ġ' U+0120
  EXPECT_EQ(byte_level::char_of('\n'), "\xC4\x8A");   // 'Ċ' U+010A
  EXPECT_EQ(byte_level::char_of(0x00), "\xC4\x80");   // 'Ā' U+0100, the first shifted character
  EXPECT_EQ(byte_level::char_of(0x7F), "\xC4\xA1");   // 'ġ' U+0121, right after the 33 lowest bytes
  EXPECT_EQ(byte_level::char_of(0xAD), "\xC5\x83");   // 'Ń' U+0143, the 68th and last
  EXPECT_EQ(byte_level::char_of('A'), "A");
  EXPECT_EQ(byte_level::char_of(0xE9), "\xC3\xA9");   // 'é' stands for itself
  std::set<std::string> distinct;
  std::string all;
  for (int b = 0; b < 256; ++b) {
    distinct.emplace(byte_level::char_of(static_cast<unsigned char>(b)));
    all.push_back(static_cast<char>(b));
  }
  EXPECT_EQ(distinct.size(), 256u);
  EXPECT_EQ(byte_level::decode(bl(all)), all);
  // Text outside the alphabet (and malformed UTF-8) is kept as it is.
  EXPECT_EQ(byte_level::decode("\xE2\x96\x81" "a\xFF"), "\xE2\x96\x81" "a\xFF");
}

// ---------------------------------------------------------------------------------------------
// Merging on hand-built vocabs (pre-tokenizer gpt-2)

struct MergeCase {
  std::string name;
  std::vector<std::string> pieces;   // raw text
  Merges merges;
  std::string text;
  std::vector<std::string> expected;
};

const std::vector<MergeCase> kMergeCases = {
    {"lower rank merges first (right pair)", {"ab", "bc"}, {{"b", "c"}, {"a", "b"}}, "abc", {"a", "bc"}},
    {"lower rank merges first (left pair)", {"ab", "bc"}, {{"a", "b"}, {"b", "c"}}, "abc", {"ab", "c"}},
    {"equal pairs: leftmost first", {"aa"}, {{"a", "a"}}, "aaa", {"aa", "a"}},
    {"merged pieces merge again", {"aa", "aaaa"}, {{"a", "a"}, {"aa", "aa"}}, "aaaaa", {"aaaa", "a"}},
    {"a pair made by a merge can beat an older pair", {"ab", "abc", "bc"}, {{"ab", "c"}, {"a", "b"}, {"b", "c"}},
     "abc", {"abc"}},
    {"a piece is only reached by merges", {"abc"}, {}, "abc", {"a", "b", "c"}},
    {"merges stay inside words", {"a ", " b"}, {{"a", " "}, {" ", "b"}}, "a b", {"a", " b"}},
    {"whitespace uses the alphabet", {" \n"}, {{" ", "\n"}}, " \n", {" \n"}},
    {"multi-byte characters merge from bytes", {"\xC3\xA9"}, {{"\xC3", "\xA9"}}, "\xC3\xA9t\xC3\xA9",
     {"\xC3\xA9", "t", "\xC3\xA9"}},
    {"a merge result missing from the vocab falls back to bytes", {}, {{"a", "b"}}, "ab", {"a", "b"}},
};

TEST(BpeMerge, MergesByRankTable) {
  for (const MergeCase& c : kMergeCases) {
    const Tokenizer tok(make_bpe_vocab(c.pieces, c.merges));
    const auto ids = tok.encode(c.text, false);
    EXPECT_EQ(pieces_of(tok, ids), c.expected) << c.name;
    EXPECT_EQ(tok.decode(ids), c.text) << c.name;
  }
}

TEST(BpeMerge, Llama3UsesWholeWordsThatAreTokens) {
  // "abc" is a token but no merges lead to it: llama3 takes the word whole (ignore_merges), dbrx (same
  // expression, merges as usual) cannot reach it.
  const Tokenizer llama3(make_bpe_vocab({"abc", " xyz"}, {}, "llama3"));
  EXPECT_EQ(pieces_of(llama3, llama3.encode("abc xyz", false)), (std::vector<std::string>{"abc", " xyz"}));
  const Tokenizer dbrx(make_bpe_vocab({"abc", " xyz"}, {}, "dbrx"));
  EXPECT_EQ(pieces_of(dbrx, dbrx.encode("abc xyz", false)),
            (std::vector<std::string>{"a", "b", "c", " ", "x", "y", "z"}));
}

TEST(BpeMerge, Qwen2KeepsDigitsApartEvenWithMerges) {
  const Tokenizer tok(make_bpe_vocab({"12"}, {{"1", "2"}}, "qwen2"));
  EXPECT_EQ(pieces_of(tok, tok.encode("x12", false)), (std::vector<std::string>{"x", "1", "2"}));
  const Tokenizer gpt2(make_bpe_vocab({"12"}, {{"1", "2"}}, "gpt-2"));
  EXPECT_EQ(pieces_of(gpt2, gpt2.encode("x12", false)), (std::vector<std::string>{"x", "12"}));
}

TEST(BpeMerge, UserDefinedTokensAreCutOutFirst) {
  Vocab v = make_bpe_vocab({}, {});
  const auto add_user = [&v](const std::string& text) {
    v.pieces.push_back(text);   // stored as raw text, as HuggingFace's added tokens are
    v.types.push_back(TokenType::user_defined);
    return static_cast<int32_t>(v.pieces.size()) - 1;
  };
  const int32_t two = add_user("  ");
  const int32_t four = add_user("    ");
  const int32_t ab = add_user("ab");
  const int32_t bc = add_user("bc");
  const Tokenizer tok(std::move(v));
  const auto id = [&](char c) { return static_cast<int32_t>(static_cast<unsigned char>(c)); };
  // Leftmost-longest: five spaces are the four-space token, then " y" is pre-tokenized as usual.
  EXPECT_EQ(tok.encode("x     y", false), (std::vector<int32_t>{id('x'), four, id(' '), id('y')}));
  EXPECT_EQ(tok.encode("  ", false), (std::vector<int32_t>{two}));
  // Overlapping added tokens: the one starting first wins.
  EXPECT_EQ(tok.encode("abc", false), (std::vector<int32_t>{ab, id('c')}));
  EXPECT_EQ(tok.encode("xbc", false), (std::vector<int32_t>{id('x'), bc}));
  // They decode to their text.
  for (const std::string text : {"x     y", "abc", "  a  b  "}) EXPECT_EQ(tok.decode(tok.encode(text, false)), text);
}

TEST(BpeMerge, SpecialTokensStayText) {
  const Tokenizer tok(make_bpe_vocab({}, {}));
  const auto ids = tok.encode("<|endoftext|>", false);
  EXPECT_EQ(ids.size(), 13u);   // one token per byte: no merges here, and no special-token parsing
  for (int32_t id : ids) EXPECT_NE(id, tok.eos());
  EXPECT_EQ(tok.decode(ids), "<|endoftext|>");
}

TEST(BpeMerge, BosOnlyWhenAskedAndContinuationIsPlainEncoding) {
  const Tokenizer tok(make_bpe_vocab({" a"}, {{" ", "a"}}));
  EXPECT_EQ(tok.encode(" a", true), (std::vector<int32_t>{tok.bos(), 256}));
  EXPECT_EQ(tok.encode(" a", false), (std::vector<int32_t>{256}));
  EXPECT_EQ(tok.encode_continuation(" a"), tok.encode(" a", false));
  EXPECT_EQ(tok.encode_continuation("\n3. a"), tok.encode("\n3. a", false));
  EXPECT_EQ(tok.encode("", true), (std::vector<int32_t>{tok.bos()}));
  EXPECT_TRUE(tok.encode("", false).empty());
}

TEST(BpeMerge, MalformedUtf8RoundTrips) {
  const Tokenizer tok(make_bpe_vocab({"ab"}, {{"a", "b"}}));
  for (const std::string text : {"\xFF", "ab\x80" "ab", "\xE2\x96", "\xC3(", "\xF0\x9F\x9A", "a\xED\xA0\x80z"}) {
    const auto ids = tok.encode(text, false);
    EXPECT_EQ(tok.decode(ids), text) << printable(text);
  }
  EXPECT_EQ(pieces_of(tok, tok.encode("ab\x80" "ab", false)), (std::vector<std::string>{"ab", "\x80", "ab"}));
}

TEST(BpeMerge, BytesWithoutATokenBecomeTheReplacementCharacter) {
  Vocab v = make_bpe_vocab({}, {});
  v.pieces[0xFF] = "[unused]";   // like vocabs trained on UTF-8 text, which never saw the byte 0xFF
  const Tokenizer tok(std::move(v));
  EXPECT_EQ(tok.encode("a\xFF" "b", false), tok.encode("a\xEF\xBF\xBD" "b", false));
  EXPECT_EQ(tok.decode(tok.encode("a\xFF" "b", false)), "a\xEF\xBF\xBD" "b");
}

// ---------------------------------------------------------------------------------------------
// Decoding

TEST(BpeDecode, PiecesAreBytes) {
  Vocab v = make_bpe_vocab({" hello", "\n\n"}, {});
  v.pieces.push_back("<|user|>");
  v.types.push_back(TokenType::user_defined);
  v.pieces.push_back("\xE2\x96\x81x");   // not of the alphabet: kept as it is
  v.types.push_back(TokenType::normal);
  v.pieces.push_back("[PAD]");
  v.types.push_back(TokenType::unused);
  const Tokenizer tok(std::move(v));
  EXPECT_EQ(tok.piece(*tok.find(bl(" hello"))), " hello");
  EXPECT_EQ(tok.piece(*tok.find(bl("\n\n"))), "\n\n");
  EXPECT_EQ(tok.piece(*tok.find("<|user|>")), "<|user|>");
  EXPECT_EQ(tok.piece(*tok.find("\xE2\x96\x81x")), "\xE2\x96\x81x");
  EXPECT_EQ(tok.piece(*tok.find("[PAD]")), "");
  EXPECT_EQ(tok.piece(tok.bos()), "");
  EXPECT_EQ(tok.piece(0xE9), "\xE9");   // half a character: the byte itself
  // No space is stripped: byte-level BPE adds no prefix.
  EXPECT_EQ(tok.decode(std::vector<int32_t>{tok.bos(), *tok.find(bl(" hello"))}), " hello");
  EXPECT_THROW(tok.piece(static_cast<int32_t>(tok.size())), TokenizerError);
}

// ---------------------------------------------------------------------------------------------
// Randomised comparison with a naive merger: per word, scan all adjacent pairs, merge the lowest rank
// (leftmost on ties), repeat.

std::vector<int32_t> reference_encode(const Tokenizer& tok, const std::map<std::pair<std::string, std::string>, size_t>& ranks,
                                      const std::string& text) {
  std::vector<int32_t> ids;
  for (std::string_view word : PreTokenizer(tok.vocab().pre).split(text)) {
    std::vector<std::string> symbols;
    for (char c : word) symbols.emplace_back(byte_level::char_of(static_cast<unsigned char>(c)));
    for (;;) {
      size_t best = symbols.size();
      size_t best_rank = 0;
      for (size_t i = 0; i + 1 < symbols.size(); ++i) {
        const auto it = ranks.find({symbols[i], symbols[i + 1]});
        if (it != ranks.end() && (best == symbols.size() || it->second < best_rank)) {
          best = i;
          best_rank = it->second;
        }
      }
      if (best == symbols.size()) break;
      symbols[best] += symbols[best + 1];
      symbols.erase(symbols.begin() + static_cast<std::ptrdiff_t>(best) + 1);
    }
    for (const auto& s : symbols) ids.push_back(*tok.find(s));
  }
  return ids;
}

TEST(BpeMerge, MatchesNaiveReferenceOnRandomVocabs) {
  std::mt19937 rng(20240602);
  const std::vector<std::string> alphabet = {"a", "b", "c", " "};
  for (int round = 0; round < 40; ++round) {
    // Random merges of pieces made so far; results may coincide ("a"+"bc" and "ab"+"c"), as in real vocabs.
    std::vector<std::string> pieces = alphabet;
    Merges merges;
    std::set<std::pair<std::string, std::string>> seen;
    std::set<std::string> results;
    for (int i = 0; i < 40; ++i) {
      const auto pick = [&] { return pieces[std::uniform_int_distribution<size_t>(0, pieces.size() - 1)(rng)]; };
      const std::string left = pick(), right = pick();
      if (!seen.insert({left, right}).second) continue;
      merges.emplace_back(left, right);
      if (results.insert(left + right).second) pieces.push_back(left + right);
    }
    std::vector<std::string> extra;
    for (size_t i = alphabet.size(); i < pieces.size(); ++i) {
      if (pieces[i].size() > 1) extra.push_back(pieces[i]);
    }
    std::map<std::pair<std::string, std::string>, size_t> ranks;   // in the alphabet, as the reference merges
    for (size_t r = 0; r < merges.size(); ++r) ranks.emplace(std::pair{bl(merges[r].first), bl(merges[r].second)}, r);
    const Tokenizer tok(make_bpe_vocab(extra, merges, round % 2 ? "gpt-2" : "qwen2"));
    for (int t = 0; t < 50; ++t) {
      std::string text;
      const int n = std::uniform_int_distribution<int>(0, 24)(rng);
      for (int i = 0; i < n; ++i) text += alphabet[std::uniform_int_distribution<size_t>(0, alphabet.size() - 1)(rng)];
      const auto ids = tok.encode(text, false);
      ASSERT_EQ(ids, reference_encode(tok, ranks, text)) << "round " << round << " text " << printable(text);
      ASSERT_EQ(tok.decode(ids), text);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Vocab validation

TEST(BpeVocab, RejectsBrokenVocabs) {
  expect_refused(make_bpe_vocab({"ab"}, {{"a", "b"}}), {
      {"unknown pre-tokenizer", [](Vocab& v) { v.pre = "nonesuch"; }, "unknown BPE pre-tokenizer 'nonesuch'"},
      {"merge without a space", [](Vocab& v) { v.merges = {"a b", "ab"}; }, "merge 1 'ab' is not two pieces"},
      {"merge with nothing after the space", [](Vocab& v) { v.merges = {"a "}; }, "merge 0 'a ' is not two pieces"},
      {"space prefix", [](Vocab& v) { v.add_space_prefix = true; }, "byte-level BPE adds no space prefix"},
      {"BOS out of range", [](Vocab& v) { v.bos = 100000; }, "BOS token id 100000"},
  });
}

TEST(BpeVocab, CopiesShareOneImmutableTokenizer) {
  const Tokenizer tok(make_bpe_vocab({"ab"}, {{"a", "b"}}));
  const Tokenizer copy = tok;
  EXPECT_EQ(&copy.vocab(), &tok.vocab());
  EXPECT_EQ(copy.encode("abab", false), tok.encode("abab", false));
}

// ---------------------------------------------------------------------------------------------
// from_gguf on tiny files written here

TinyGguf tiny_bpe(const std::string& pre) {
  std::vector<std::string> tokens;
  for (int b = 0; b < 256; ++b) tokens.emplace_back(byte_level::char_of(static_cast<unsigned char>(b)));
  tokens.push_back(bl(" h"));
  tokens.push_back(bl(" hi"));
  tokens.push_back("<|endoftext|>");
  std::vector<int32_t> types(tokens.size(), 1);
  types.back() = 3;
  TinyGguf file;
  file.str("tokenizer.ggml.model", "gpt2")
      .strings("tokenizer.ggml.tokens", tokens)
      .i32s("tokenizer.ggml.token_type", types)
      .strings("tokenizer.ggml.merges", {bl(" ") + " h", bl(" h") + " i"});
  if (!pre.empty()) file.str("tokenizer.ggml.pre", pre);
  return file;
}

TEST(BpeGguf, ReadsVocabAndDefaults) {
  const TempFile file = tiny_bpe("gpt-2").write("bpe_defaults");
  const Tokenizer tok = Tokenizer::from_gguf(GgufFile::open(file.path));
  EXPECT_EQ(tok.vocab().kind, VocabKind::bpe);
  EXPECT_EQ(tok.vocab().pre, "gpt-2");
  EXPECT_EQ(tok.vocab().merges.size(), 2u);
  EXPECT_EQ(tok.bos(), -1);   // absent ids mean none (not llama.cpp's Falcon-era default of 11)
  EXPECT_EQ(tok.eos(), -1);
  EXPECT_FALSE(tok.vocab().add_bos);
  EXPECT_FALSE(tok.vocab().add_space_prefix);
  EXPECT_EQ(tok.encode("hi hi", true), (std::vector<int32_t>{'h', 'i', 257}));   // no BOS to add
  EXPECT_EQ(tok.decode(tok.encode("hi hi", false)), "hi hi");
}

TEST(BpeGguf, ReadsExplicitKeysAndPreTokenizerDefaults) {
  {
    const TempFile file = tiny_bpe("llama-bpe").write("bpe_llama");
    const Tokenizer tok = Tokenizer::from_gguf(GgufFile::open(file.path));
    EXPECT_TRUE(tok.vocab().add_bos);   // Llama 3 models want BOS when the file does not say
  }
  {
    const TempFile file = tiny_bpe("llama-bpe")
                              .boolean("tokenizer.ggml.add_bos_token", false)
                              .u32("tokenizer.ggml.bos_token_id", 258)
                              .u32("tokenizer.ggml.eos_token_id", 258)
                              .write("bpe_explicit");
    const Tokenizer tok = Tokenizer::from_gguf(GgufFile::open(file.path));
    EXPECT_FALSE(tok.vocab().add_bos);
    EXPECT_EQ(tok.bos(), 258);
    EXPECT_EQ(tok.encode("hi", true), (std::vector<int32_t>{258, 'h', 'i'}));
  }
  {
    const TempFile file = tiny_bpe("").write("bpe_no_pre");
    EXPECT_EQ(Tokenizer::from_gguf(GgufFile::open(file.path)).vocab().pre, "default");   // as llama.cpp
  }
}

TEST(BpeGguf, RejectsBadMetadata) {
  struct Bad {
    std::string name;
    TinyGguf file;
    std::string message;
  };
  const std::vector<Bad> cases = {
      {"unknown pre", tiny_bpe("nonesuch"), "unknown BPE pre-tokenizer 'nonesuch' (tokenizer.ggml.pre); known: "},
      {"no merges", TinyGguf().str("tokenizer.ggml.model", "gpt2").strings("tokenizer.ggml.tokens", {"a", "b"}),
       "byte-level BPE vocab without tokenizer.ggml.merges"},
      {"bad merge", TinyGguf().str("tokenizer.ggml.model", "gpt2").strings("tokenizer.ggml.tokens", {"a", "b"})
                        .strings("tokenizer.ggml.merges", {"ab"}), "merge 0 'ab' is not two pieces"},
      {"eos out of range", tiny_bpe("gpt-2").u32("tokenizer.ggml.eos_token_id", 1000), "tokenizer.ggml.eos_token_id = 1000"},
  };
  for (const Bad& c : cases) {
    const TempFile file = c.file.write("bpe_bad");
    try {
      Tokenizer::from_gguf(GgufFile::open(file.path));
      ADD_FAILURE() << c.name << ": accepted";
    } catch (const TokenizerError& e) {
      EXPECT_NE(std::string(e.what()).find(c.message), std::string::npos) << c.name << ": " << e.what();
      EXPECT_NE(std::string(e.what()).find(file.path.string()), std::string::npos) << c.name << ": " << e.what();
    }
  }
}

}  // namespace
