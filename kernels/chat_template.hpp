#pragma once
// Chat templates: turning a list of messages into the prompt an instruction-tuned model was trained on.
//
// GGUF files carry their template as Jinja source (tokenizer.chat_template). Rather than run Jinja, we
// recognise the handful of families that nearly every downloadable model uses by their marker tokens
// and render those formats in C++; an unknown or missing template falls back to ChatML, and says so.
//
// The rendered prompt is a list of parts that keeps the template's control markers ("<|im_start|>",
// "[INST]", ...) apart from the messages' text, so that encoding turns markers into their special
// token ids while text a user typed, even "<|im_start|>", stays plain text.
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace pice::kernels {

class GgufFile;
class Tokenizer;

enum class ChatFormat { chatml, llama3, llama2, phi3, zephyr };

struct ChatMessage {
  std::string role;      // "system", "user" or "assistant"
  std::string content;
};

struct ChatTemplate {
  ChatFormat format = ChatFormat::chatml;
  bool recognised = false;   // false: the source was missing or unknown and ChatML stands in for it

  // From Jinja source text (empty: none).
  static ChatTemplate recognise(std::string_view jinja_source);
  // From a GGUF's tokenizer.chat_template.
  static ChatTemplate from_gguf(const GgufFile& file);

  // "chatml", "llama3", "llama2", "phi3", "zephyr".
  std::string_view name() const;
  // For `pice model info` and logs: "llama3", or "chatml (fallback: no template)" / "(fallback: unknown template)".
  std::string describe(bool had_source) const;
};

struct PromptPart {
  std::string text;
  bool marker = false;   // a template control marker: encoded as its special token where the vocab has one
};

// Renders messages in the template's format; with add_generation_prompt, ends with the opening of an
// assistant turn for the model to continue. Roles other than system/user/assistant throw
// std::invalid_argument naming the role and the message's index.
std::vector<PromptPart> render_chat(const ChatTemplate& chat_template, std::span<const ChatMessage> messages,
                                    bool add_generation_prompt);

// The parts joined: the prompt as text (what llama.cpp's template engine would produce, minus the BOS
// that the tokenizer adds).
std::string join_prompt(std::span<const PromptPart> parts);

// Token ids of the rendered prompt: BOS if the vocab adds one; each marker as the vocab's token of
// exactly that text when it has one (else as text); text parts encoded as text, never as special tokens.
std::vector<int32_t> encode_prompt(const Tokenizer& tokenizer, std::span<const PromptPart> parts);

}  // namespace pice::kernels
