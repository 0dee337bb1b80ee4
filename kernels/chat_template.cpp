#include "kernels/chat_template.hpp"

#include <optional>
#include <stdexcept>

#include "kernels/gguf_file.hpp"
#include "kernels/tokenizer.hpp"

namespace pice::kernels {
namespace {

bool contains(std::string_view haystack, std::string_view needle) { return haystack.find(needle) != std::string_view::npos; }

std::string trim(std::string_view s) {
  const char* space = " \t\r\n";
  const size_t begin = s.find_first_not_of(space);
  if (begin == std::string_view::npos) return {};
  return std::string(s.substr(begin, s.find_last_not_of(space) - begin + 1));
}

// Collects parts, merging adjacent text so that a text run is one part.
class Parts {
 public:
  Parts& marker(std::string text) {
    parts_.push_back({std::move(text), true});
    return *this;
  }
  Parts& text(std::string_view text) {
    if (text.empty()) return *this;
    if (!parts_.empty() && !parts_.back().marker)
      parts_.back().text += text;
    else
      parts_.push_back({std::string(text), false});
    return *this;
  }
  std::vector<PromptPart> take() { return std::move(parts_); }

 private:
  std::vector<PromptPart> parts_;
};

void check_roles(std::span<const ChatMessage> messages) {
  for (size_t i = 0; i < messages.size(); ++i) {
    const std::string& role = messages[i].role;
    if (role != "system" && role != "user" && role != "assistant")
      throw std::invalid_argument("message " + std::to_string(i) + ": role must be system, user or assistant, not '" +
                                  role + "'");
  }
}

// <|im_start|>role\ncontent<|im_end|>\n
void render_chatml(Parts& out, std::span<const ChatMessage> messages, bool generation) {
  for (const ChatMessage& m : messages) out.marker("<|im_start|>").text(m.role + "\n" + m.content).marker("<|im_end|>").text("\n");
  if (generation) out.marker("<|im_start|>").text("assistant\n");
}

// <|start_header_id|>role<|end_header_id|>\n\ncontent<|eot_id|>  (content trimmed, as Meta's template does)
void render_llama3(Parts& out, std::span<const ChatMessage> messages, bool generation) {
  for (const ChatMessage& m : messages)
    out.marker("<|start_header_id|>").text(m.role).marker("<|end_header_id|>").text("\n\n" + trim(m.content)).marker("<|eot_id|>");
  if (generation) out.marker("<|start_header_id|>").text("assistant").marker("<|end_header_id|>").text("\n\n");
}

// [INST] <<SYS>>\nsystem\n<</SYS>>\n\nuser [/INST] assistant </s><s>[INST] user [/INST]
// The system prompt has no turn of its own: it opens the first user turn. The first BOS is the tokenizer's.
void render_llama2(Parts& out, std::span<const ChatMessage> messages, bool /*generation: the turn is open after [/INST]*/) {
  std::string system;
  bool first_turn = true;
  for (const ChatMessage& m : messages) {
    if (m.role == "system") {
      system = trim(m.content);
    } else if (m.role == "user") {
      if (!first_turn) out.marker("<s>");
      out.marker("[INST]").text(" ");
      if (!system.empty()) out.text("<<SYS>>\n" + system + "\n<</SYS>>\n\n");
      system.clear();
      out.text(trim(m.content) + " ").marker("[/INST]");
      first_turn = false;
    } else {
      out.text(" " + trim(m.content) + " ").marker("</s>");
    }
  }
}

// <|role|>\ncontent<END>\n with END = <|end|> (Phi-3) or </s> (Zephyr).
void render_tagged(Parts& out, std::span<const ChatMessage> messages, bool generation, const std::string& end) {
  for (const ChatMessage& m : messages) out.marker("<|" + m.role + "|>").text("\n" + m.content).marker(end).text("\n");
  if (generation) out.marker("<|assistant|>").text("\n");
}

}  // namespace

ChatTemplate ChatTemplate::recognise(std::string_view source) {
  // Ordered by how specific the markers are: Phi-3 and Zephyr share <|user|>, and only Phi-3 has <|end|>.
  if (contains(source, "<|start_header_id|>")) return {ChatFormat::llama3, true};
  if (contains(source, "<|im_start|>")) return {ChatFormat::chatml, true};
  if (contains(source, "<|user|>") && contains(source, "<|end|>")) return {ChatFormat::phi3, true};
  if (contains(source, "<|user|>")) return {ChatFormat::zephyr, true};
  if (contains(source, "[INST]")) return {ChatFormat::llama2, true};
  return {ChatFormat::chatml, false};
}

ChatTemplate ChatTemplate::from_gguf(const GgufFile& file) {
  return recognise(file.get_string_or("tokenizer.chat_template", ""));
}

std::string_view ChatTemplate::name() const {
  switch (format) {
    case ChatFormat::chatml: return "chatml";
    case ChatFormat::llama3: return "llama3";
    case ChatFormat::llama2: return "llama2";
    case ChatFormat::phi3: return "phi3";
    case ChatFormat::zephyr: return "zephyr";
  }
  return "chatml";
}

std::string ChatTemplate::describe(bool had_source) const {
  if (recognised) return std::string(name());
  return std::string(name()) + (had_source ? " (fallback: unknown template)" : " (fallback: no template)");
}

std::vector<PromptPart> render_chat(const ChatTemplate& chat_template, std::span<const ChatMessage> messages,
                                    bool add_generation_prompt) {
  check_roles(messages);
  Parts out;
  switch (chat_template.format) {
    case ChatFormat::chatml: render_chatml(out, messages, add_generation_prompt); break;
    case ChatFormat::llama3: render_llama3(out, messages, add_generation_prompt); break;
    case ChatFormat::llama2: render_llama2(out, messages, add_generation_prompt); break;
    case ChatFormat::phi3: render_tagged(out, messages, add_generation_prompt, "<|end|>"); break;
    case ChatFormat::zephyr: render_tagged(out, messages, add_generation_prompt, "</s>"); break;
  }
  return out.take();
}

std::string join_prompt(std::span<const PromptPart> parts) {
  std::string text;
  for (const PromptPart& p : parts) text += p.text;
  return text;
}

std::vector<int32_t> encode_prompt(const Tokenizer& tokenizer, std::span<const PromptPart> parts) {
  std::vector<int32_t> ids;
  if (tokenizer.vocab().add_bos && tokenizer.bos() >= 0) ids.push_back(tokenizer.bos());
  bool at_start = true;   // the first text of a prompt gets the vocab's space prefix, later text does not
  std::string run;        // text waiting to be encoded: markers the vocab lacks join the text around them
  auto flush = [&] {
    if (run.empty()) return;
    std::vector<int32_t> piece = at_start ? tokenizer.encode(run, false) : tokenizer.encode_continuation(run);
    ids.insert(ids.end(), piece.begin(), piece.end());
    run.clear();
    at_start = false;
  };
  const std::vector<TokenType>& types = tokenizer.vocab().types;
  for (const PromptPart& part : parts) {
    std::optional<int32_t> id = part.marker ? tokenizer.find(part.text) : std::nullopt;
    // Only control and user-defined tokens stand for markers; a normal piece is left to the text encoder.
    const bool special = id && !types.empty() &&
                         (types[static_cast<size_t>(*id)] == TokenType::control ||
                          types[static_cast<size_t>(*id)] == TokenType::user_defined);
    if (!special) {
      run += part.text;
      continue;
    }
    flush();
    ids.push_back(*id);
    at_start = false;
  }
  flush();
  return ids;
}

}  // namespace pice::kernels
