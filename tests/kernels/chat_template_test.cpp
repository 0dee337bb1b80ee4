// Chat templates: recognising a family from its Jinja source, rendering each family, and encoding the
// result with markers as special tokens and message text as plain text.
#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

#include "kernels/chat_template.hpp"
#include "kernels/gguf_file.hpp"
#include "kernels/tokenizer.hpp"
#include "tests/common/shared_data.hpp"

namespace pice::kernels {
namespace {

const std::vector<ChatMessage> kConversation = {
    {"system", "Be brief."}, {"user", "Hi"}, {"assistant", "Hello!"}, {"user", "Name a colour."}};

std::string render(ChatFormat format, const std::vector<ChatMessage>& messages = kConversation) {
  return join_prompt(render_chat(ChatTemplate{format, true}, messages, true));
}

TEST(ChatTemplate, RecognisesEachFamilyByItsMarkers) {
  EXPECT_EQ(ChatTemplate::recognise("{{'<|im_start|>' + message['role'] + '\\n'}}").format, ChatFormat::chatml);
  EXPECT_EQ(ChatTemplate::recognise("{{'<|start_header_id|>' + message['role'] + '<|end_header_id|>'}}").format,
            ChatFormat::llama3);
  EXPECT_EQ(ChatTemplate::recognise("{{ bos_token + '[INST] ' + content + ' [/INST]' }}").format, ChatFormat::llama2);
  EXPECT_EQ(ChatTemplate::recognise("{{'<|user|>' + '\\n' + message['content'] + '<|end|>'}}").format,
            ChatFormat::phi3);
  EXPECT_EQ(ChatTemplate::recognise("{{'<|user|>\\n' + message['content'] + eos_token}}").format, ChatFormat::zephyr);
  for (std::string_view known : {"<|im_start|>", "<|start_header_id|>", "[INST]", "<|user|><|end|>", "<|user|>"})
    EXPECT_TRUE(ChatTemplate::recognise(known).recognised) << known;
}

TEST(ChatTemplate, UnknownOrMissingTemplatesFallBackToChatmlAndSaySo) {
  ChatTemplate none = ChatTemplate::recognise("");
  EXPECT_EQ(none.format, ChatFormat::chatml);
  EXPECT_FALSE(none.recognised);
  EXPECT_EQ(none.describe(false), "chatml (fallback: no template)");
  ChatTemplate unknown = ChatTemplate::recognise("{% for m in messages %}### {{ m.role }}: {{ m.content }}{% endfor %}");
  EXPECT_FALSE(unknown.recognised);
  EXPECT_EQ(unknown.describe(true), "chatml (fallback: unknown template)");
  EXPECT_EQ(ChatTemplate::recognise("<|start_header_id|>").describe(true), "llama3");
}

TEST(ChatTemplate, RendersChatml) {
  EXPECT_EQ(render(ChatFormat::chatml),
            "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n"
            "<|im_start|>assistant\nHello!<|im_end|>\n<|im_start|>user\nName a colour.<|im_end|>\n"
            "<|im_start|>assistant\n");
}

TEST(ChatTemplate, RendersLlama3WithTrimmedContent) {
  std::vector<ChatMessage> messages = {{"user", "  Hi \n"}};
  EXPECT_EQ(render(ChatFormat::llama3, messages),
            "<|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n");
}

TEST(ChatTemplate, RendersLlama2WithTheSystemPromptInTheFirstTurn) {
  EXPECT_EQ(render(ChatFormat::llama2),
            "[INST] <<SYS>>\nBe brief.\n<</SYS>>\n\nHi [/INST] Hello! </s><s>[INST] Name a colour. [/INST]");
}

TEST(ChatTemplate, RendersPhi3AndZephyr) {
  std::vector<ChatMessage> messages = {{"user", "Hi"}};
  EXPECT_EQ(render(ChatFormat::phi3, messages), "<|user|>\nHi<|end|>\n<|assistant|>\n");
  EXPECT_EQ(render(ChatFormat::zephyr, messages), "<|user|>\nHi</s>\n<|assistant|>\n");
}

TEST(ChatTemplate, WithoutAGenerationPromptTheLastTurnStaysClosed) {
  std::vector<ChatMessage> messages = {{"user", "Hi"}};
  EXPECT_EQ(join_prompt(render_chat(ChatTemplate{ChatFormat::chatml, true}, messages, false)),
            "<|im_start|>user\nHi<|im_end|>\n");
}

TEST(ChatTemplate, AnUnknownRoleIsAnErrorNamingIt) {
  std::vector<ChatMessage> messages = {{"user", "Hi"}, {"tool", "42"}};
  try {
    render_chat(ChatTemplate{}, messages, true);
    FAIL() << "no error for role 'tool'";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("message 1"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("'tool'"), std::string::npos) << e.what();
  }
}

TEST(ChatTemplate, Phi3VocabCarriesAPhi3TemplateAndEncodesMarkersAsSpecialTokens) {
  PICE_REQUIRE_SHARED(path, "tokenizers/ggml-vocab-phi-3.gguf");
  const GgufFile file = GgufFile::open(path);
  const ChatTemplate chat_template = ChatTemplate::from_gguf(file);
  EXPECT_EQ(chat_template.format, ChatFormat::phi3);
  EXPECT_TRUE(chat_template.recognised);

  const Tokenizer tokenizer = Tokenizer::from_gguf(file);
  const int32_t user = tokenizer.find("<|user|>").value(), end = tokenizer.find("<|end|>").value();
  // A user typing the marker itself must not open a turn.
  std::vector<ChatMessage> messages = {{"user", "What does <|user|> mean?"}};
  const std::vector<int32_t> ids = encode_prompt(tokenizer, render_chat(chat_template, messages, true));
  EXPECT_EQ(ids.front(), tokenizer.bos());
  EXPECT_EQ(std::count(ids.begin(), ids.end(), user), 1);
  EXPECT_EQ(std::count(ids.begin(), ids.end(), end), 1);
  EXPECT_EQ(ids[1], user);
  EXPECT_EQ(tokenizer.decode(ids), "\nWhat does <|user|> mean?\n\n");   // markers are control tokens: they decode to nothing
}

TEST(ChatTemplate, MarkersMissingFromTheVocabAreEncodedAsTextWithTheTextAroundThem) {
  PICE_REQUIRE_SHARED(path, "tokenizers/ggml-vocab-llama-spm.gguf");
  const Tokenizer tokenizer = Tokenizer::from_gguf(GgufFile::open(path));
  ASSERT_FALSE(tokenizer.find("<|im_start|>").has_value());
  const auto parts = render_chat(ChatTemplate{ChatFormat::chatml, false}, kConversation, true);
  std::vector<int32_t> expected = tokenizer.encode(join_prompt(parts), true);
  EXPECT_EQ(encode_prompt(tokenizer, parts), expected);
}

TEST(ChatTemplate, Llama2TurnsAreSeparatedByTheVocabsEosAndBos) {
  PICE_REQUIRE_SHARED(path, "tokenizers/ggml-vocab-llama-spm.gguf");
  const Tokenizer tokenizer = Tokenizer::from_gguf(GgufFile::open(path));
  const std::vector<int32_t> ids = encode_prompt(tokenizer, render_chat(ChatTemplate{ChatFormat::llama2, true}, kConversation, true));
  EXPECT_EQ(std::count(ids.begin(), ids.end(), tokenizer.bos()), 2);   // the prompt's BOS and the second turn's
  EXPECT_EQ(std::count(ids.begin(), ids.end(), tokenizer.eos()), 1);   // after the assistant's answer
  EXPECT_EQ(tokenizer.decode(ids), "[INST] <<SYS>>\nBe brief.\n<</SYS>>\n\nHi [/INST] Hello! [INST] Name a colour. [/INST]");
}

}  // namespace
}  // namespace pice::kernels
