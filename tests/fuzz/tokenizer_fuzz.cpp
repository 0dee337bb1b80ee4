// The tokenizers on arbitrary bytes: encode any text, decode any id sequence, under the synthetic SPM
// vocab, a hand-built byte-level BPE vocab under every known pre-tokenizer, and (when ../shared is
// present) real SPM and BPE vocabs.
//
// Input: byte 0 picks the mode (bit 7: decode ids, else encode text) and the vocab slot (the rest,
// modulo the slot count); byte 1 picks the pre-tokenizer of the hand-built BPE vocab; the rest is the
// text, or the ids as little-endian int32.
//
// Properties (tokenizer.hpp's promises): only TokenizerError escapes, and only for ids outside the
// vocab; encode gives ids inside the vocab, BOS first when asked; decode(encode(s)) == s wherever the
// vocab guarantees it: any bytes for a BPE vocab with a token for every byte, valid UTF-8 for the real
// BPE vocabs, valid UTF-8 without U+2581 for SPM (which writes spaces as U+2581, so a typed U+2581
// comes back as a space).
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kernels/bpe_pretokenizer.hpp"
#include "kernels/byte_level.hpp"
#include "kernels/gguf_file.hpp"
#include "kernels/synth.hpp"
#include "kernels/tokenizer.hpp"
#include "kernels/utf8.hpp"
#include "tests/fuzz/fuzz_check.hpp"

namespace {

namespace k = pice::kernels;
using pice::fuzz::check;

enum class RoundTrip { any_bytes, valid_utf8, valid_utf8_without_spm_space };

struct Slot {
  std::shared_ptr<const k::Tokenizer> tokenizer;   // null: the vocab file is absent here
  RoundTrip round_trip;
};

// GPT-2's layout with a few words reachable through merges, a user-defined (added) token and a control
// token as BOS/EOS. Every byte has a token, so any bytes round-trip.
k::Tokenizer hand_built_bpe(const std::string& pre) {
  k::Vocab v;
  v.kind = k::VocabKind::bpe;
  v.pre = pre;
  v.add_space_prefix = false;
  v.add_bos = false;
  for (int b = 0; b < 256; ++b) v.pieces.emplace_back(k::byte_level::char_of(static_cast<unsigned char>(b)));
  const auto alphabet = [](std::string_view raw) {
    std::string out;
    k::byte_level::append_encoded(raw, out);
    return out;
  };
  // Each word grows one byte per merge, so every prefix is a piece and the word is reachable.
  for (const std::string word : {" the", " and", "ing", " a", "er", "\n\n", "   ", "123", " \xC3\xA9t\xC3\xA9"}) {
    for (size_t n = 2; n <= word.size(); ++n) {
      const std::string piece = alphabet(word.substr(0, n));
      bool known = false;
      for (const auto& p : v.pieces) known = known || p == piece;
      if (known) continue;
      v.merges.push_back(alphabet(word.substr(0, n - 1)) + " " + alphabet(word.substr(n - 1, 1)));
      v.pieces.push_back(piece);
    }
  }
  v.types.assign(v.pieces.size(), k::TokenType::normal);
  v.pieces.push_back("<|user|>");
  v.types.push_back(k::TokenType::user_defined);
  v.pieces.push_back("<|endoftext|>");
  v.types.push_back(k::TokenType::control);
  v.bos = v.eos = static_cast<int32_t>(v.pieces.size()) - 1;
  return k::Tokenizer(std::move(v));
}

std::shared_ptr<const k::Tokenizer> shared_vocab(const std::string& name) {
  const char* env = std::getenv("PICE_SHARED_DIR");
  const std::filesystem::path dir = env && *env ? env : PICE_SHARED_DIR;
  const std::filesystem::path path = dir / "tokenizers" / ("ggml-vocab-" + name + ".gguf");
  if (!std::filesystem::exists(path)) return nullptr;
  return std::make_shared<const k::Tokenizer>(k::Tokenizer::from_gguf(k::GgufFile::open(path)));
}

struct Vocabs {
  std::vector<Slot> slots;
  std::vector<std::shared_ptr<const k::Tokenizer>> bpe_by_pre;   // one per known pre-tokenizer name
};

const Vocabs& vocabs() {
  static const Vocabs all = [] {
    Vocabs v;
    k::Vocab spm = k::synth_vocab(k::synth_base_vocab_size());
    k::Vocab spm_no_prefix = spm;
    spm_no_prefix.add_space_prefix = false;
    v.slots.push_back({std::make_shared<const k::Tokenizer>(std::move(spm)), RoundTrip::valid_utf8_without_spm_space});
    v.slots.push_back(
        {std::make_shared<const k::Tokenizer>(std::move(spm_no_prefix)), RoundTrip::valid_utf8_without_spm_space});
    v.slots.push_back({nullptr, RoundTrip::any_bytes});   // the hand-built BPE: byte 1 picks from bpe_by_pre
    v.slots.push_back({shared_vocab("llama-spm"), RoundTrip::valid_utf8_without_spm_space});
    v.slots.push_back({shared_vocab("gpt-2"), RoundTrip::valid_utf8});
    v.slots.push_back({shared_vocab("mpt"), RoundTrip::valid_utf8});           // user-defined runs of spaces
    v.slots.push_back({shared_vocab("deepseek-llm"), RoundTrip::valid_utf8});
    for (const std::string& pre : k::PreTokenizer::known_names())
      v.bpe_by_pre.push_back(std::make_shared<const k::Tokenizer>(hand_built_bpe(pre)));
    return v;
  }();
  return all;
}

bool valid_utf8(std::string_view text) {
  for (size_t pos = 0; pos < text.size();) {
    const size_t n = k::utf8::valid_length(text, pos);
    if (n == 0) return false;
    pos += n;
  }
  return true;
}

bool round_trips(RoundTrip rule, std::string_view text) {
  switch (rule) {
    case RoundTrip::any_bytes: return true;
    case RoundTrip::valid_utf8: return valid_utf8(text);
    case RoundTrip::valid_utf8_without_spm_space:
      return valid_utf8(text) && text.find("\xE2\x96\x81") == std::string_view::npos;
  }
  return false;
}

std::string shown(std::string_view text) {
  std::string out;
  for (unsigned char c : text) {
    char hex[5];
    std::snprintf(hex, sizeof hex, "\\x%02x", c);
    out += (c >= 0x20 && c < 0x7f && c != '\\') ? std::string(1, static_cast<char>(c)) : hex;
  }
  return "\"" + out + "\"";
}

void check_encode(const k::Tokenizer& tok, RoundTrip rule, std::string_view text) {
  for (const bool add_bos : {false, true}) {
    const std::vector<int32_t> ids = tok.encode(text, add_bos);
    for (int32_t id : ids) check(id >= 0 && static_cast<size_t>(id) < tok.size(), "encode gave an id outside the vocab");
    if (add_bos && tok.bos() >= 0) check(!ids.empty() && ids.front() == tok.bos(), "encode(add_bos) without BOS first");
    if (round_trips(rule, text)) {
      const std::string back = tok.decode(ids);
      check(back == text, "decode(encode(s)) != s: s = " + shown(text) + ", got " + shown(back));
    }
  }
  const std::vector<int32_t> continued = tok.encode_continuation(text);
  for (int32_t id : continued) check(id >= 0 && static_cast<size_t>(id) < tok.size(), "encode_continuation: id outside");
  if (tok.vocab().kind == k::VocabKind::bpe) {
    check(continued == tok.encode(text, false), "BPE encode_continuation differs from encode without BOS");
  }
}

void check_decode(const k::Tokenizer& tok, RoundTrip rule, std::string_view payload) {
  std::vector<int32_t> ids;
  bool all_inside = true;
  const auto slots = static_cast<uint32_t>(tok.size() + 2);   // two ids past the end on purpose
  for (size_t at = 0; at + 4 <= payload.size(); at += 4) {
    uint32_t raw;
    std::memcpy(&raw, payload.data() + at, 4);
    const int32_t id = (raw >> 24) == 0xFF ? -1 - static_cast<int32_t>(raw & 0xFF) : static_cast<int32_t>(raw % slots);
    all_inside = all_inside && id >= 0 && static_cast<size_t>(id) < tok.size();
    ids.push_back(id);
  }
  std::string text;
  try {
    text = tok.decode(ids);
  } catch (const k::TokenizerError&) {
    check(!all_inside, "decode refused ids that are all inside the vocab");
    return;
  }
  check(all_inside, "decode accepted an id outside the vocab");
  // What decode writes, encode reads back to the same text (where the vocab guarantees round trips).
  if (round_trips(rule, text)) {
    const std::string again = tok.decode(tok.encode(text, false));
    check(again == text, "decode(encode(decode(ids))) != decode(ids): " + shown(text) + " -> " + shown(again));
  }
}

}  // namespace

// The vocabs are built once, before the first input: loading the four real GGUF vocabs and building 56 BPE
// tokenizers inside the first input counted against -timeout, and on a busy machine (the 600 s runs at
// nice 19 in docs/RELIABILITY.md) that one-time set-up took over 10 s and was reported as a hang.
extern "C" int LLVMFuzzerInitialize(int*, char***) {
  vocabs();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  const Vocabs& all = vocabs();
  const Slot& slot = all.slots[(data[0] & 0x7F) % all.slots.size()];
  const k::Tokenizer* tok = slot.tokenizer.get();
  if (&slot == &all.slots[2]) tok = all.bpe_by_pre[data[1] % all.bpe_by_pre.size()].get();
  if (tok == nullptr) return 0;   // a shared vocab this machine does not have
  const std::string_view payload(reinterpret_cast<const char*>(data) + 2, size - 2);
  if (data[0] & 0x80) {
    check_decode(*tok, slot.round_trip, payload);
  } else {
    check_encode(*tok, slot.round_trip, payload);
  }
  return 0;
}
