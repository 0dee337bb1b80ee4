#include "config/toml_text_check.hpp"

#include <cstdio>
#include <vector>

#include "config/config_error.hpp"

namespace pice::config {
namespace {

class Scanner {
 public:
  Scanner(std::string_view text, const std::string& source) : text_(text), source_(source) {}

  void run() {
    if (text_.starts_with("\xEF\xBB\xBF")) pos_ = 3;   // a UTF-8 byte order mark is allowed
    while (pos_ < text_.size()) {
      const char c = text_[pos_];
      if (c == '#') {
        skip_until_newline();
      } else if ((c == '"' || c == '\'') && token_start_) {
        string(c);
        token_start_ = false;
      } else if (static_cast<unsigned char>(c) >= 0x80) {
        fail("non-ASCII character " + character_at(pos_) +
             " outside a string or comment (TOML allows it only inside strings and comments)");
      } else {
        if (c != ' ' && c != '\t' && c != '\r') punctuation(c);
        advance();
      }
    }
  }

 private:
  // Where a quote may open a string. A quote opens one only where TOML's grammar puts a key or a value:
  // a key at the start of a line, after '{', after ',' in an inline table, after '.' in a key, in a
  // table header; a value after the '=' that ends a key, after '[' or ',' in an array. Anywhere else
  // (`1"..."`, `a = 0 = "..."`) toml++ reads the quote as part of a bad value and tests every character
  // up to the next terminator for whitespace, so what follows counts as outside a string. A mistake
  // here can only refuse a config (a quote taken for no string), never let one through.
  enum class Context { top, header, array, inline_table };
  struct Open {
    Context context;
    bool in_value = false;   // top level and inline tables: past the key's '='
  };

  void punctuation(char c) {
    Open& open = opened_.back();
    const bool key_position =
        open.context == Context::header ||
        ((open.context == Context::top || open.context == Context::inline_table) && !open.in_value);
    const bool was_token_start = token_start_;
    token_start_ = false;
    switch (c) {
      case '\n':
        if (open.context == Context::top) {
          open.in_value = false;
          token_start_ = true;
        } else {
          token_start_ = was_token_start;   // arrays span lines; a line break is only whitespace there
        }
        break;
      case '=':
        if (key_position && open.context != Context::header) {
          open.in_value = true;
          token_start_ = true;
        }
        break;
      case '.':
        token_start_ = key_position;
        break;
      case ',':
        if (open.context == Context::inline_table) open.in_value = false;
        token_start_ = open.context == Context::array || open.context == Context::inline_table;
        break;
      case '[':
        if (open.context == Context::top && !open.in_value && was_token_start) {
          opened_.push_back({Context::header});
          token_start_ = true;
        } else if (open.context == Context::header && was_token_start) {
          token_start_ = true;   // the second bracket of [[an array of tables]]
        } else if (was_token_start && !key_position) {
          opened_.push_back({Context::array});
          token_start_ = true;
        }
        break;
      case '{':
        if (was_token_start && !key_position) {
          opened_.push_back({Context::inline_table});
          token_start_ = true;
        }
        break;
      case ']':
        if (open.context == Context::array || open.context == Context::header) opened_.pop_back();
        break;
      case '}':
        if (open.context == Context::inline_table) opened_.pop_back();
        break;
      default:
        break;
    }
  }

  bool at(std::string_view s) const { return text_.substr(pos_).starts_with(s); }

  // One byte; lines and columns count characters (continuation bytes do not move the column).
  void advance() {
    const auto c = static_cast<unsigned char>(text_[pos_++]);
    if (c == '\n') {
      ++line_;
      column_ = 1;
    } else if ((c & 0xC0) != 0x80) {
      ++column_;
    }
  }

  void skip_until_newline() {
    while (pos_ < text_.size() && text_[pos_] != '\n') advance();
  }

  // A string opened by `quote` at pos_; an unterminated one ends at the newline (toml++ reports it).
  void string(char quote) {
    const std::string triple(3, quote);
    if (!at(triple)) {
      advance();
      while (pos_ < text_.size() && text_[pos_] != quote && text_[pos_] != '\n') {
        if (quote == '"' && text_[pos_] == '\\') advance();
        if (pos_ < text_.size() && text_[pos_] != '\n') advance();
      }
      if (pos_ < text_.size() && text_[pos_] == quote) advance();
      return;
    }
    for (int i = 0; i < 3; ++i) advance();
    while (pos_ < text_.size()) {
      if (at(triple)) {
        while (pos_ < text_.size() && text_[pos_] == quote) advance();   // up to two quotes may end the content
        return;
      }
      if (quote == '"' && text_[pos_] == '\\') {
        backslash_in_multiline();
      } else {
        advance();
      }
    }
  }

  // toml++ tests the character after a backslash in a multi-line basic string with its whitespace test,
  // and after spaces and tabs the next one too; that test is undefined behaviour for most non-ASCII
  // characters (it reaches an "unreachable" branch). A line-ending backslash skips the whitespace that
  // follows, across lines, and the first other character meets the same test.
  void backslash_in_multiline() {
    advance();
    const size_t after_backslash = pos_;
    while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\t')) advance();
    const bool spaced = pos_ != after_backslash;
    const bool line_ending = pos_ < text_.size() && (text_[pos_] == '\n' || text_[pos_] == '\r');
    while (line_ending && pos_ < text_.size() &&
           (text_[pos_] == ' ' || text_[pos_] == '\t' || text_[pos_] == '\r' || text_[pos_] == '\n'))
      advance();
    if (pos_ < text_.size() && static_cast<unsigned char>(text_[pos_]) >= 0x80) {
      fail("non-ASCII character " + character_at(pos_) +
           (line_ending ? " first on the line after a line-ending backslash" : " after a backslash") +
           " in a multi-line string; write it as an escape (\\uXXXX) or put another character before it");
    }
    // An ordinary escape: its letter (a quote too) is part of the string. After spaces that end no line
    // toml++ reports the backslash itself.
    if (!line_ending && !spaced && pos_ < text_.size()) advance();
  }

  // "U+00BA" for a well-formed UTF-8 sequence, else "byte 0xFF".
  std::string character_at(size_t pos) const {
    const auto byte = [&](size_t i) { return static_cast<unsigned char>(text_[pos + i]); };
    const unsigned char lead = byte(0);
    const size_t length = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 0;
    char32_t code = length == 4 ? lead & 0x07 : length == 3 ? lead & 0x0F : lead & 0x1F;
    bool valid = length != 0 && pos + length <= text_.size() && lead >= 0xC2 && lead <= 0xF4;
    for (size_t i = 1; valid && i < length; ++i) {
      valid = (byte(i) & 0xC0) == 0x80;
      code = code << 6 | (byte(i) & 0x3F);
    }
    char out[16];
    if (valid) {
      std::snprintf(out, sizeof out, "U+%04X", static_cast<unsigned>(code));
    } else {
      std::snprintf(out, sizeof out, "byte 0x%02X", static_cast<unsigned>(lead));
    }
    return out;
  }

  [[noreturn]] void fail(const std::string& message) const { throw ConfigError(source_, line_, column_, "", message); }

  std::string_view text_;
  const std::string& source_;
  size_t pos_ = 0;
  uint32_t line_ = 1;
  uint32_t column_ = 1;
  std::vector<Open> opened_{{Context::top}};   // the brackets open around pos_, innermost last
  bool token_start_ = true;   // a key or value may start here (after spaces and tabs)
};

}  // namespace

void check_toml_text(std::string_view text, const std::string& source) { Scanner(text, source).run(); }

}  // namespace pice::config
