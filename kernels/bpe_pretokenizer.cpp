// The pre-tokenizer table (names -> published regular expressions) and splitting with PCRE2.
#define PCRE2_CODE_UNIT_WIDTH 8
#include "kernels/bpe_pretokenizer.hpp"

#include <pcre2.h>

#include <algorithm>
#include <new>

#include "kernels/tokenizer.hpp"
#include "kernels/utf8.hpp"

namespace pice::kernels {
namespace {

// The expressions, as published in each model's tokenizer.json (llama.cpp lists the same ones, some
// rewritten for std::regex; PCRE2 runs the originals). Non-ASCII characters are written as \x{...}.

// GPT-2's: contractions, letters, numbers and other symbols each with one optional leading space, and
// whitespace runs that leave their last space to the next word.
constexpr std::string_view kGpt2 = R"re('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)re";

// Llama 3 (tiktoken cl100k style): case-insensitive contractions, a letter run with one leading
// non-letter, numbers of at most three digits, newlines kept together.
constexpr std::string_view kLlama3 =
    R"re((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)re";

// Qwen 2: Llama 3's, but every digit is a word of its own.
constexpr std::string_view kQwen2 =
    R"re((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)re";

constexpr std::string_view kNewline = R"re([\r\n])re";
constexpr std::string_view kDigit = R"re(\p{N})re";
constexpr std::string_view kDigits = R"re(\p{N}+)re";
constexpr std::string_view kThreeAsciiDigits = R"re([0-9][0-9][0-9])re";
// CJK ideographs, and the blocks from U+0800 and Hangul that DeepSeek groups with them.
constexpr std::string_view kDeepseekCjk = R"re([\x{4E00}-\x{9FA5}\x{800}-\x{4E00}\x{AC00}-\x{D7FF}]+)re";

// DeepSeek LLM's letters: the cased letters of many scripts (not \p{L}: no CJK, no uncased scripts).
constexpr std::string_view kDeepseekLetters =
    R"re(\s?[A-Za-z\x{B5}\x{C0}-\x{D6}\x{D8}-\x{F6}\x{F8}-\x{1BA}\x{1BC}-\x{1BF}\x{1C4}-\x{293}\x{295}-\x{2AF})re"
    R"re(\x{370}-\x{373}\x{376}\x{377}\x{37B}-\x{37D}\x{37F}\x{386}\x{388}-\x{38A}\x{38C}\x{38E}-\x{3A1})re"
    R"re(\x{3A3}-\x{3F5}\x{3F7}-\x{481}\x{48A}-\x{52F}\x{531}-\x{556}\x{10A0}-\x{10C5}\x{13A0}-\x{13F5})re"
    R"re(\x{13F8}-\x{13FD}\x{1C90}-\x{1CBA}\x{1CBD}-\x{1CBF}\x{1D00}-\x{1D2B}\x{1D6B}-\x{1D77}\x{1D79}-\x{1D9A})re"
    R"re(\x{1E00}-\x{1F15}\x{1F18}-\x{1F1D}\x{1F20}-\x{1F45}\x{1F48}-\x{1F4D}\x{1F50}-\x{1F57}\x{1F59}\x{1F5B})re"
    R"re(\x{1F5D}\x{1F5F}-\x{1F7D}\x{1F80}-\x{1FB4}\x{1FB6}-\x{1FBC}\x{1FBE}\x{1FC2}-\x{1FC4}\x{1FC6}-\x{1FCC})re"
    R"re(\x{1FD0}-\x{1FD3}\x{1FD6}-\x{1FDB}\x{1FE0}-\x{1FEC}\x{1FF2}-\x{1FF4}\x{1FF6}-\x{1FFC}\x{2102}\x{2107})re"
    R"re(\x{210A}-\x{2113}\x{2115}\x{2119}-\x{211D}\x{2124}\x{2126}\x{2128}\x{212A}-\x{212D}\x{212F}-\x{2134})re"
    R"re(\x{2139}\x{213C}-\x{213F}\x{2145}-\x{2149}\x{214E}\x{2183}\x{2184}\x{2C00}-\x{2C7B}\x{2C7E}-\x{2CE4})re"
    R"re(\x{2CEB}-\x{2CEE}\x{2CF2}\x{2CF3}\x{A640}-\x{A66D}\x{A680}-\x{A69B}\x{A722}-\x{A76F}\x{A771}-\x{A787})re"
    R"re(\x{A78B}-\x{A78E}\x{AB70}-\x{ABBF}\x{FB00}-\x{FB06}\x{FB13}-\x{FB17}\x{FF21}-\x{FF3A}\x{FF41}-\x{FF5A})re"
    R"re(\x{10400}-\x{1044F}\x{104B0}-\x{104D3}\x{104D8}-\x{104FB}\x{10C80}-\x{10CB2}\x{10CC0}-\x{10CF2})re"
    R"re(\x{118A0}-\x{118DF}\x{1E900}-\x{1E943}]+)re";
// DeepSeek LLM's punctuation: ASCII symbols, their full-width forms, curly quotes, CJK space and stops.
constexpr std::string_view kDeepseekPunct =
    R"re(\s?[!-/:-~\x{FF01}-\x{FF0F}\x{FF1A}-\x{FF5E}\x{2018}-\x{201F}\x{3000}-\x{3002}]+)re";

// BLOOM-style: words are whatever lies between spaces and a few (also non-Latin) stops.
constexpr std::string_view kBloom = R"re( ?[^(\s|.,!?\x{2026}\x{3002}\x{FF0C}\x{3001}\x{964}\x{6D4}\x{60C})]+)re";

// Mistral's tekken and GPT-4o (o200k): letter runs split at case changes.
constexpr std::string_view kTekken =
    R"re([^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+)re"
    R"re(|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*)re"
    R"re(|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+)re";
constexpr std::string_view kGpt4o =
    R"re([^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?)re"
    R"re(|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?)re"
    R"re(|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+)re";

// DeepSeek V3: numbers of at most three digits, CJK and kana runs, then an ASCII-letter word may take
// one leading symbol.
constexpr std::string_view kDeepseekV3Cjk = R"re([\x{4E00}-\x{9FA5}\x{3040}-\x{309F}\x{30A0}-\x{30FF}]+)re";
constexpr std::string_view kDeepseekV3 =
    R"re([!"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~][A-Za-z]+|[^\r\n\p{L}\p{P}\p{S}]?[\p{L}\p{M}]+)re"
    R"re(| ?[\p{P}\p{S}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)re";

struct Spec {
  std::vector<std::string_view> names;
  std::vector<std::string_view> regexes;
  bool ignore_merges = false;
  bool adds_bos = false;
};

// Names as llama.cpp's convert_hf_to_gguf writes them into tokenizer.ggml.pre.
const std::vector<Spec>& specs() {
  static const std::vector<Spec> table = {
      {{"default"}, {R"re([\p{P}\$\+<=>\^~\|]+)re", kGpt2, kDigits, kThreeAsciiDigits}},
      {{"gpt-2", "phi-2", "mpt", "olmo", "jais", "jina-es", "jina-de", "jina-v2-es", "jina-v2-de", "gigachat",
        "exaone4", "a.x-4.0", "mellum", "trillion", "granite-docling"},
       {kGpt2}},
      {{"starcoder", "refact", "command-r", "smollm", "codeshell", "exaone", "minerva-7b"}, {kDigit, kGpt2}},
      {{"falcon"}, {R"re([\p{P}\$\+<=>\^~\|`]+)re", kGpt2, kThreeAsciiDigits}},
      {{"deepseek-llm"}, {kNewline, kDeepseekLetters, kDeepseekPunct, R"re(\s+$)re", kDeepseekCjk, kDigits}},
      {{"deepseek-coder"}, {kNewline, R"re(\s?\p{L}+)re", R"re(\s?\p{P}+)re", kDeepseekCjk, kDigit}},
      {{"deepseek-v3", "hunyuan-dense"}, {R"re(\p{N}{1,3})re", kDeepseekV3Cjk, kDeepseekV3}},
      {{"llama3", "llama-v3", "llama-bpe", "falcon3", "falcon-h1", "pixtral", "midm-2.0", "lfm2"}, {kLlama3}, true, true},
      {{"dbrx", "smaug-bpe"}, {kLlama3}},
      {{"qwen2", "deepseek-r1-qwen", "kormo", "megrez", "stablelm2", "hunyuan", "grok-2"}, {kQwen2}},
      {{"poro-chat", "bloom", "gpt3-finnish"}, {kBloom}},
      {{"viking"}, {kBloom, kDigit}},
      {{"tekken"}, {kTekken}, true, true},
      {{"gpt-4o", "llama4", "minimax-m2"}, {kGpt4o}},
  };
  return table;
}

std::string pcre2_message(int code) {
  PCRE2_UCHAR buffer[256];
  if (pcre2_get_error_message(code, buffer, sizeof buffer) < 0) return "PCRE2 error " + std::to_string(code);
  return reinterpret_cast<const char*>(buffer);
}

struct Range {
  size_t begin, end;
};

// The text PCRE2 matches: the input itself when it is well-formed UTF-8 (the usual case, no copy), else a
// copy with U+FFFD for every malformed byte and a map from its offsets back to the input's.
class Subject {
 public:
  explicit Subject(std::string_view text) : text_(text) {
    size_t pos = 0;
    while (pos < text.size()) {
      const size_t length = utf8::valid_length(text, pos);
      if (length == 0) break;
      pos += length;
    }
    if (pos == text.size()) return;
    repaired_.reserve(text.size() + 16);
    origin_.reserve(text.size() + 17);
    for (pos = 0; pos < text.size();) {
      const size_t length = utf8::valid_length(text, pos);
      if (length == 0) {
        repaired_ += "\xEF\xBF\xBD";
        origin_.insert(origin_.end(), 3, pos);
        ++pos;
      } else {
        repaired_.append(text.substr(pos, length));
        for (size_t i = 0; i < length; ++i) origin_.push_back(pos + i);
        pos += length;
      }
    }
    origin_.push_back(text.size());
    text_ = repaired_;
  }
  Subject(const Subject&) = delete;
  Subject& operator=(const Subject&) = delete;

  std::string_view text() const { return text_; }
  // The input offset of a subject offset that starts a character (or is the end).
  size_t origin(size_t offset) const { return origin_.empty() ? offset : origin_[offset]; }

 private:
  std::string_view text_;
  std::string repaired_;
  std::vector<size_t> origin_;
};

}  // namespace

struct PreTokenizer::Pattern {
  std::unique_ptr<pcre2_code, decltype(&pcre2_code_free)> code{nullptr, &pcre2_code_free};
  std::string source;

  // Cuts subject[range] into matches and the stretches between them, appending them to `out`.
  void split(std::string_view subject, Range range, pcre2_match_data* match, std::vector<Range>& out) const {
    const auto* base = reinterpret_cast<PCRE2_SPTR>(subject.data() + range.begin);
    const size_t length = range.end - range.begin;
    size_t gap = 0;   // start of the stretch not matched yet
    size_t pos = 0;
    while (pos < length) {
      // NO_UTF_CHECK: the subject is well-formed (see Subject), and checking it again on every call would
      // make splitting quadratic in the length of the text.
      const int rc = pcre2_match(code.get(), base, length, pos, PCRE2_NO_UTF_CHECK, match, nullptr);
      if (rc == PCRE2_ERROR_NOMATCH) break;
      if (rc < 0) throw TokenizerError("pre-tokenizer expression " + source + " failed: " + pcre2_message(rc));
      const PCRE2_SIZE* ovector = pcre2_get_ovector_pointer(match);
      const size_t begin = ovector[0], end = ovector[1];
      if (end == begin) {   // an empty match is no word: look again from the next character
        if (begin >= length) break;
        pos = begin + std::min(length - begin, utf8::lead_length(base[begin]));
        continue;
      }
      if (begin > gap) out.push_back({range.begin + gap, range.begin + begin});
      out.push_back({range.begin + begin, range.begin + end});
      gap = pos = end;
    }
    if (gap < length) out.push_back({range.begin + gap, range.end});
  }
};

PreTokenizer::PreTokenizer(std::string_view name) : name_(name) {
  const Spec* spec = nullptr;
  for (const Spec& s : specs()) {
    if (std::find(s.names.begin(), s.names.end(), name) != s.names.end()) spec = &s;
  }
  if (spec == nullptr) {
    std::string known;
    for (const std::string& n : known_names()) known += (known.empty() ? "" : ", ") + n;
    throw TokenizerError("unknown BPE pre-tokenizer '" + std::string(name) + "' (tokenizer.ggml.pre); known: " + known);
  }
  ignore_merges_ = spec->ignore_merges;
  adds_bos_ = spec->adds_bos;
  for (std::string_view regex : spec->regexes) {
    auto pattern = std::make_shared<Pattern>();
    pattern->source = std::string(regex);
    int error = 0;
    PCRE2_SIZE offset = 0;
    // DOLLAR_ENDONLY: '$' is the end of the piece, not also before a final newline (as in Rust and Onig).
    pattern->code.reset(pcre2_compile(reinterpret_cast<PCRE2_SPTR>(regex.data()), regex.size(),
                                      PCRE2_UTF | PCRE2_UCP | PCRE2_DOLLAR_ENDONLY, &error, &offset, nullptr));
    if (!pattern->code) {
      throw TokenizerError("pre-tokenizer '" + name_ + "': expression " + pattern->source + " does not compile at " +
                           std::to_string(offset) + ": " + pcre2_message(error));
    }
    // JIT makes matching several times faster; where it is unavailable the interpreter gives the same result.
    pcre2_jit_compile(pattern->code.get(), PCRE2_JIT_COMPLETE);
    patterns_.push_back(std::move(pattern));
  }
}

std::vector<std::string_view> PreTokenizer::split(std::string_view text) const {
  std::vector<std::string_view> words;
  if (text.empty()) return words;
  const Subject subject(text);
  std::vector<Range> pieces = {{0, subject.text().size()}};
  std::vector<Range> next;
  for (const auto& pattern : patterns_) {
    // Match data is per call, so concurrent split() calls share nothing mutable.
    std::unique_ptr<pcre2_match_data, decltype(&pcre2_match_data_free)> match(
        pcre2_match_data_create_from_pattern(pattern->code.get(), nullptr), &pcre2_match_data_free);
    if (!match) throw std::bad_alloc();
    next.clear();
    next.reserve(pieces.size() * 2);
    for (const Range& piece : pieces) pattern->split(subject.text(), piece, match.get(), next);
    pieces.swap(next);
  }
  words.reserve(pieces.size());
  for (const Range& piece : pieces) {
    const size_t begin = subject.origin(piece.begin);
    words.push_back(text.substr(begin, subject.origin(piece.end) - begin));
  }
  return words;
}

std::vector<std::string> PreTokenizer::known_names() {
  std::vector<std::string> names;
  for (const Spec& s : specs()) names.insert(names.end(), s.names.begin(), s.names.end());
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace pice::kernels
