#pragma once
// Compact messages (after CE-LSLM): where the cloud and a board share a vocabulary, checked by its
// hash (kernels/vocab_hash.hpp), an expansion task carries its whole prompt as token ids instead of
// question, sketch and point, and the board's result carries the generated ids instead of the text.
// Ids travel as varints (messages/wire.hpp): about 2 bytes a token against about 4 bytes of text, and
// the board skips tokenizing the prompt. Anything that would not round-trip exactly stays text.
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "kernels/tokenizer.hpp"
#include "messages/bodies.hpp"

namespace pice::actors {

class TokenCodec {
 public:
  explicit TokenCodec(kernels::Tokenizer tokenizer);

  uint64_t hash() const { return hash_; }
  const kernels::Tokenizer& tokenizer() const { return tokenizer_; }

  // Sender of a task: stamps this side's hash on the task; when the receiving board's vocabulary
  // (board_hash, from its heartbeat) is the same, replaces question, sketch and point by prompt_ids,
  // unless the ids would take more bytes than the text (small vocabularies).
  void compact_task(messages::ExpansionTask& task, uint64_t board_hash) const;

  // Receiver of a task: the prompt's token ids, from prompt_ids (checked: same vocabulary, ids in
  // range) or by encoding the text. Throws std::runtime_error saying what does not match.
  std::vector<int32_t> task_prompt(const messages::ExpansionTask& task) const;

  // Receiver of a task, after generating: when the task's sender shares this vocabulary, replaces
  // result.text by the ids that decode to exactly that text (a prefix of `generated`: a stop string
  // may have cut the text short). Leaves the text when no prefix does, or when it is the smaller.
  void compact_result(messages::ExpansionResult& result, std::span<const int32_t> generated,
                      uint64_t sender_hash) const;

  // Receiver of a result: text_ids back to text (checked: same vocabulary, ids in range); a result
  // that cannot be read becomes an error result naming why.
  void restore_result(messages::ExpansionResult& result) const;

 private:
  kernels::Tokenizer tokenizer_;
  uint64_t hash_;
};

// The text of an expansion as it is shown: valid UTF-8 on one line (what expand_point makes of the
// generated text). compact_result uses the same function so ids and text always agree.
std::string finish_expansion_text(std::string_view generated);

}  // namespace pice::actors
