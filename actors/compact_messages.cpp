#include "actors/compact_messages.hpp"

#include <stdexcept>

#include "actors/expansion.hpp"
#include "actors/text.hpp"
#include "kernels/vocab_hash.hpp"

namespace pice::actors {
namespace {

// A stop string ("\n3.", "\n\n") is a few tokens at most; past this many the ids are not worth searching.
constexpr size_t kMaxTrimmedTokens = 8;

std::string hex(uint64_t value) {
  char text[20];
  std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(value));
  return text;
}

// Bytes of the ids as messages/wire.cpp writes them (LEB128 varints).
size_t varint_bytes(std::span<const int32_t> ids) {
  size_t bytes = 0;
  for (const int32_t id : ids) {
    auto v = static_cast<uint32_t>(id);
    do {
      ++bytes;
      v >>= 7;
    } while (v);
  }
  return bytes;
}

size_t text_bytes(const messages::ExpansionTask& task) {
  size_t bytes = task.question.size() + task.point.size();
  for (const auto& point : task.sketch) bytes += point.size();
  return bytes;
}

void check_ids(std::span<const int32_t> ids, size_t vocab_size, const char* what) {
  for (size_t i = 0; i < ids.size(); ++i)
    if (ids[i] < 0 || static_cast<size_t>(ids[i]) >= vocab_size)
      throw std::runtime_error(std::string(what) + " token " + std::to_string(i) + " is id " + std::to_string(ids[i]) +
                               ", outside the vocabulary of " + std::to_string(vocab_size));
}

}  // namespace

std::string finish_expansion_text(std::string_view generated) { return one_line(sanitize_text(generated)); }

TokenCodec::TokenCodec(kernels::Tokenizer tokenizer)
    : tokenizer_(std::move(tokenizer)), hash_(kernels::vocab_hash(tokenizer_.vocab())) {}

void TokenCodec::compact_task(messages::ExpansionTask& task, uint64_t board_hash) const {
  task.vocab_hash = hash_;
  if (board_hash != hash_) return;
  std::vector<int32_t> ids = tokenizer_.encode(expansion_prompt(task), true);
  // A small vocabulary spends more bytes on ids than the text takes (a character a token).
  if (varint_bytes(ids) >= text_bytes(task)) return;
  task.prompt_ids = std::move(ids);
  task.question.clear();
  task.sketch.clear();
  task.point.clear();
}

std::vector<int32_t> TokenCodec::task_prompt(const messages::ExpansionTask& task) const {
  if (task.prompt_ids.empty()) return tokenizer_.encode(expansion_prompt(task), true);
  if (task.vocab_hash != hash_)
    throw std::runtime_error("the task's prompt is token ids of vocabulary " + hex(task.vocab_hash) +
                             ", this model's is " + hex(hash_));
  check_ids(task.prompt_ids, tokenizer_.size(), "prompt");
  return task.prompt_ids;
}

void TokenCodec::compact_result(messages::ExpansionResult& result, std::span<const int32_t> generated,
                                uint64_t sender_hash) const {
  if (sender_hash != hash_ || result.text.empty() || !result.error.empty()) return;
  const size_t shortest = generated.size() > kMaxTrimmedTokens ? generated.size() - kMaxTrimmedTokens : 0;
  for (size_t n = generated.size(); n > shortest; --n) {
    if (finish_expansion_text(tokenizer_.decode(generated.first(n))) != result.text) continue;
    if (varint_bytes(generated.first(n)) >= result.text.size()) return;
    result.text_ids.assign(generated.begin(), generated.begin() + static_cast<std::ptrdiff_t>(n));
    result.vocab_hash = hash_;
    result.text.clear();
    return;
  }
}

void TokenCodec::restore_result(messages::ExpansionResult& result) const {
  if (result.text_ids.empty()) return;
  try {
    if (result.vocab_hash != hash_)
      throw std::runtime_error("vocabulary " + hex(result.vocab_hash) + ", this node's is " + hex(hash_));
    check_ids(result.text_ids, tokenizer_.size(), "result");
    result.text = finish_expansion_text(tokenizer_.decode(result.text_ids));
  } catch (const std::exception& e) {
    result.error = std::string("unreadable token ids: ") + e.what();
  }
  result.text_ids.clear();
}

}  // namespace pice::actors
