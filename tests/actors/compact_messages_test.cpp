// Compact messages: vocabulary hashes, tasks as prompt token ids, results as generated ids, and the
// checks that keep a mismatch from ever turning into wrong text.
#include "actors/compact_messages.hpp"

#include <gtest/gtest.h>

#include <algorithm>

#include "actors/expansion.hpp"
#include "kernels/gguf_file.hpp"
#include "kernels/synth.hpp"
#include "kernels/vocab_hash.hpp"
#include "messages/envelope.hpp"
#include "tests/common/shared_data.hpp"

namespace pice::actors {
namespace {

// Words of the synthetic vocabulary (kernels/synth_vocab.cpp), so ids are shorter than text there too.
messages::ExpansionTask sample_task() {
  messages::ExpansionTask task;
  task.question = "what are some good ways to keep the body well through the night when there is sound";
  task.sketch = {"keep the same time each night", "use white sound", "talk to the people next door",
                 "eat little before the night"};
  task.point_index = 2;
  task.point = task.sketch[1];
  task.max_tokens = 48;
  task.seed = 9;
  return task;
}

TEST(VocabHash, SameVocabSameHashAnyChangeAnother) {
  const kernels::Vocab v = kernels::synth_vocab(2000);
  EXPECT_EQ(kernels::vocab_hash(v), kernels::vocab_hash(kernels::synth_vocab(2000)));
  EXPECT_NE(kernels::vocab_hash(v), 0u);
  EXPECT_NE(kernels::vocab_hash(v), kernels::vocab_hash(kernels::synth_vocab(2001)));
  kernels::Vocab piece = v;
  piece.pieces[300] += "x";
  EXPECT_NE(kernels::vocab_hash(piece), kernels::vocab_hash(v));
  kernels::Vocab flag = v;
  flag.add_space_prefix = !flag.add_space_prefix;
  EXPECT_NE(kernels::vocab_hash(flag), kernels::vocab_hash(v));
}

class CompactMessages : public ::testing::Test {
 protected:
  TokenCodec codec{kernels::Tokenizer(kernels::synth_vocab(2000))};
  TokenCodec other{kernels::Tokenizer(kernels::synth_vocab(2100))};
};

TEST_F(CompactMessages, TaskForASharedVocabularyCarriesTheExactPromptIds) {
  const messages::ExpansionTask text = sample_task();
  messages::ExpansionTask compact = text;
  codec.compact_task(compact, codec.hash());
  EXPECT_EQ(compact.vocab_hash, codec.hash());
  EXPECT_TRUE(compact.question.empty());
  EXPECT_TRUE(compact.sketch.empty());
  EXPECT_TRUE(compact.point.empty());
  EXPECT_EQ(compact.point_index, 2);
  EXPECT_EQ(compact.prompt_ids, codec.tokenizer().encode(expansion_prompt(text), true));
  // The board reads the same prompt either way.
  EXPECT_EQ(codec.task_prompt(compact), codec.task_prompt(text));
  // And it is smaller on the wire.
  messages::Envelope a, b;
  a.body = text;
  b.body = compact;
  EXPECT_LT(messages::encode(b).size(), messages::encode(a).size());
  EXPECT_EQ(messages::decode(messages::encode(b)), b);
}

TEST_F(CompactMessages, TaskForAnotherVocabularyStaysText) {
  messages::ExpansionTask task = sample_task();
  codec.compact_task(task, other.hash());
  EXPECT_EQ(task.vocab_hash, codec.hash());  // stamped: the board learns whether to answer in ids
  EXPECT_TRUE(task.prompt_ids.empty());
  EXPECT_EQ(task.question, sample_task().question);
  codec.compact_task(task, 0);               // a board that announced no vocabulary
  EXPECT_TRUE(task.prompt_ids.empty());
}

TEST_F(CompactMessages, IdsLargerThanTheTextAreNotSent) {
  messages::ExpansionTask task = sample_task();
  task.question = "zq xj vk qz jx kv";   // a token a character in this vocabulary
  task.sketch = {"qx", "jz"};
  task.point = "jz";
  codec.compact_task(task, codec.hash());
  EXPECT_TRUE(task.prompt_ids.empty());
  EXPECT_EQ(task.question, "zq xj vk qz jx kv");
  const auto ids = codec.tokenizer().encode("zqxjvkqzjxkv", false);
  messages::ExpansionResult result;
  result.text = finish_expansion_text(codec.tokenizer().decode(ids));
  codec.compact_result(result, ids, codec.hash());
  EXPECT_TRUE(result.text_ids.empty());
  EXPECT_FALSE(result.text.empty());
}

TEST_F(CompactMessages, ABoardRefusesIdsOfAnotherVocabularyOrOutOfRange) {
  messages::ExpansionTask task = sample_task();
  codec.compact_task(task, codec.hash());
  try {
    other.task_prompt(task);
    ADD_FAILURE() << "accepted ids of another vocabulary";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("vocabulary"), std::string::npos) << e.what();
  }
  task.prompt_ids.push_back(2000);
  try {
    codec.task_prompt(task);
    ADD_FAILURE() << "accepted an id outside the vocabulary";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("id 2000, outside the vocabulary of 2000"), std::string::npos) << e.what();
  }
}

TEST_F(CompactMessages, ResultIdsRoundTripToTheSameText) {
  const auto ids = codec.tokenizer().encode("the  white sound\nkeeps most other sound out of the room", false);
  messages::ExpansionResult result;
  result.text = finish_expansion_text(codec.tokenizer().decode(ids));
  const std::string text = result.text;
  codec.compact_result(result, ids, codec.hash());
  EXPECT_TRUE(result.text.empty());
  EXPECT_EQ(result.text_ids, ids);
  EXPECT_EQ(result.vocab_hash, codec.hash());
  EXPECT_EQ(messages::decode([&] {
              messages::Envelope e;
              e.body = result;
              return messages::encode(e);
            }()).body,
            messages::Body(result));
  codec.restore_result(result);
  EXPECT_EQ(result.text, text);
  EXPECT_TRUE(result.text_ids.empty());
  EXPECT_TRUE(result.error.empty());
}

// The generated ids may run past the text (a stop string the generator cut off): the ids sent are the
// longest prefix that still decodes to exactly the text.
TEST_F(CompactMessages, AStopStringCutShortensTheIds) {
  const auto kept = codec.tokenizer().encode("talk to them with care and they will help", false);
  auto generated = kept;
  for (int32_t id : codec.tokenizer().encode_continuation("\n3. the")) generated.push_back(id);
  messages::ExpansionResult result;
  result.text = finish_expansion_text(codec.tokenizer().decode(kept));
  const std::string text = result.text;
  codec.compact_result(result, generated, codec.hash());
  ASSERT_GE(result.text_ids.size(), kept.size());
  EXPECT_LT(result.text_ids.size(), generated.size());
  EXPECT_TRUE(std::equal(result.text_ids.begin(), result.text_ids.end(), generated.begin()));
  codec.restore_result(result);
  EXPECT_EQ(result.text, text);
}

TEST_F(CompactMessages, ResultsThatWouldNotRoundTripStayText) {
  messages::ExpansionResult result;
  result.text = "something the ids do not say";
  codec.compact_result(result, codec.tokenizer().encode("other words", false), codec.hash());
  EXPECT_EQ(result.text, "something the ids do not say");
  EXPECT_TRUE(result.text_ids.empty());
  // And ids only go back to a sender that shares the vocabulary.
  const auto ids = codec.tokenizer().encode("the same words", false);
  result.text = finish_expansion_text(codec.tokenizer().decode(ids));
  codec.compact_result(result, ids, other.hash());
  EXPECT_TRUE(result.text_ids.empty());
}

TEST_F(CompactMessages, AnUnreadableResultBecomesAnError) {
  messages::ExpansionResult result;
  result.text_ids = {5, 6, 7};
  result.vocab_hash = other.hash();
  codec.restore_result(result);
  EXPECT_NE(result.error.find("unreadable token ids: vocabulary"), std::string::npos) << result.error;
  result = {};
  result.text_ids = {5, 60000};
  result.vocab_hash = codec.hash();
  codec.restore_result(result);
  EXPECT_NE(result.error.find("id 60000"), std::string::npos) << result.error;
}

// A real byte-level BPE vocabulary (GPT-2's) and a real SPM one (Llama's), where present.
TEST(CompactMessagesShared, RealVocabulariesRoundTrip) {
  for (const char* name : {"tokenizers/ggml-vocab-gpt-2.gguf", "tokenizers/ggml-vocab-llama-spm.gguf"}) {
    SCOPED_TRACE(name);
    auto path = testing::shared_file(name);
    if (!path) GTEST_SKIP() << "shared data not found: " << name;
    TokenCodec codec(kernels::Tokenizer::from_gguf(kernels::GgufFile::open(*path)));
    messages::ExpansionTask task = sample_task();
    codec.compact_task(task, codec.hash());
    EXPECT_EQ(codec.tokenizer().decode(codec.task_prompt(task)), expansion_prompt(sample_task()));
    const auto ids = codec.tokenizer().encode(" Earplugs help, and so does a fan that runs through the night (≈40 dB).", false);
    messages::ExpansionResult result;
    result.text = finish_expansion_text(codec.tokenizer().decode(ids));
    const std::string text = result.text;
    codec.compact_result(result, ids, codec.hash());
    ASSERT_FALSE(result.text_ids.empty());
    codec.restore_result(result);
    EXPECT_EQ(result.text, text);
  }
}

}  // namespace
}  // namespace pice::actors
