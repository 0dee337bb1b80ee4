#include "actors/text.hpp"

#include <gtest/gtest.h>

namespace pice::actors {
namespace {

const std::string kReplacement = "\xEF\xBF\xBD";

TEST(SanitizeText, KeepsValidUtf8) {
  EXPECT_EQ(sanitize_text("plain ascii"), "plain ascii");
  EXPECT_EQ(sanitize_text("caf\xC3\xA9 \xE2\x96\x81 \xF0\x9F\x98\x80"), "caf\xC3\xA9 \xE2\x96\x81 \xF0\x9F\x98\x80");
}

TEST(SanitizeText, ReplacesInvalidSequences) {
  EXPECT_EQ(sanitize_text("a\xC3"), "a" + kReplacement);              // truncated
  EXPECT_EQ(sanitize_text("\x80x"), kReplacement + "x");              // stray continuation
  EXPECT_EQ(sanitize_text("\xC0\xAF"), kReplacement + kReplacement);  // overlong '/'
  EXPECT_EQ(sanitize_text("\xED\xA0\x80"), kReplacement + kReplacement + kReplacement);  // surrogate
  EXPECT_EQ(sanitize_text("\xF4\x90\x80\x80").substr(0, 3), kReplacement);               // past U+10FFFF
}

TEST(SanitizeText, ControlCharactersBecomeSpaces) {
  EXPECT_EQ(sanitize_text(std::string("a\x01""b\x7f", 4)), "a b ");
  EXPECT_EQ(sanitize_text("tab\tand\nnewline"), "tab\tand\nnewline");
}

TEST(OneLine, CollapsesAndTrims) {
  EXPECT_EQ(one_line("  first\nsecond\r\n "), "first second");
  EXPECT_EQ(one_line(" \n\t "), "");
}

}  // namespace
}  // namespace pice::actors
